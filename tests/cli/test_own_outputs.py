"""pfa-policy never scans what it writes: the baseline, the reports and the cache inside the scanned tree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
from click.testing import CliRunner, Result

from pfa_policy.cli import main
from tests.conftest import REPO_ROOT

_BASELINE = ".pfa-policy-baseline.json"


def _pilot_repository(tmp_path: Path) -> Path:
    """A copy of the sample pilot as a git repository with one commit, as a team would have it."""
    root = tmp_path / "churn-pilot"
    shutil.copytree(REPO_ROOT / "fixtures" / "churn-pilot", root)
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test Author")
        config.set_value("user", "email", "author@example.com")
        config.set_value("commit", "gpgsign", "false")
    repo.git.add(A=True)
    repo.index.commit("pilot")
    return root


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "-j", "2"], catch_exceptions=False)


def _json_findings(result: Result) -> list[tuple[str, str]]:
    return [(f["rule_id"], f["path"]) for f in json.loads(result.stdout)["findings"]]


def test_the_readme_baseline_walkthrough_passes_on_its_own_baseline(tmp_path: Path) -> None:
    root = _pilot_repository(tmp_path)
    baseline = root / _BASELINE
    created = _run("baseline", "create", str(root), "--output", str(baseline))
    assert created.exit_code == 0, created.output
    accepted = json.loads(baseline.read_text())
    assert accepted["count"] > 50 and all(e["path"] != _BASELINE for e in accepted["findings"])
    repo = git.Repo(root)
    repo.index.add([_BASELINE])
    repo.index.commit("pfa-policy: accept existing findings")

    gated = _run("scan", "--baseline", str(baseline), str(root), "--no-cache", "--format", "json")
    assert (gated.exit_code, _json_findings(gated)) == (0, [])
    # Created again over the committed file: the file itself still does not count.
    again = _run("baseline", "create", str(root), "--output", str(baseline))
    assert again.output == created.output and json.loads(baseline.read_text()) == accepted
    ratchet = _run("baseline", "ratchet", str(baseline), str(root))
    assert ratchet.output == f"{baseline}: 0 fixed finding(s) removed, {accepted['count']} remain\n"


def test_reports_written_into_the_repository_are_not_scanned_the_next_time(tmp_path: Path) -> None:
    root = _pilot_repository(tmp_path)
    outputs = ("--output", str(root / "pfa-report.txt"), "--output-sarif", str(root / "reports/pfa.sarif"),
               "--format", f"json:{root / 'reports/pfa.json'}", "--format", f"markdown:{root / 'summary.md'}")
    first = _run("scan", str(root), "--no-cache", "--format", "json:" + str(tmp_path / "first.json"), *outputs)
    assert first.exit_code == 1
    second = _run("scan", str(root), "--no-cache", "-v", *outputs)
    assert second.exit_code == 1
    assert json.loads((root / "reports/pfa.json").read_text())["findings"] == json.loads(
        (tmp_path / "first.json").read_text())["findings"]
    assert [line for line in second.stderr.splitlines() if "own output" in line] == [
        "pfa-policy: skipped pfa-report.txt: pfa-policy's own output",
        "pfa-policy: skipped reports/pfa.json: pfa-policy's own output",
        "pfa-policy: skipped reports/pfa.sarif: pfa-policy's own output",
        "pfa-policy: skipped summary.md: pfa-policy's own output",
    ]


def test_a_cache_directory_inside_the_repository_is_not_scanned(tmp_path: Path) -> None:
    root = _pilot_repository(tmp_path)
    cache = root / "ci-cache"
    cold = _run("scan", str(root), "--cache-dir", str(cache), "--format", "json")
    warm = _run("scan", str(root), "--cache-dir", str(cache), "--format", "json", "-v")
    assert any(cache.rglob("*.json"))  # untracked and not ignored: git lists the entries
    assert _json_findings(warm) == _json_findings(cold)
    skipped = [line for line in warm.stderr.splitlines() if line.startswith("pfa-policy: skipped ci-cache/")]
    assert skipped and all(line.endswith(": pfa-policy's own output") for line in skipped)
