"""`pfa-policy baseline create / ratchet` and `scan --baseline`, through the real CLI and engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pfa_policy.cli import main
from tests.conftest import write_tree
from tests.integrations.policykit import violation_module, write_policy


def _setup(tmp_path: Path, count: int = 10) -> tuple[Path, Path, Path]:
    policy = write_policy(tmp_path / "policy")
    repo = write_tree(tmp_path / "repo", {"app.py": violation_module(count), "OWNERS": "team\n"})
    return repo, policy, tmp_path / "baseline.json"


def _scan(repo: Path, policy: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(main, ["scan", str(repo), "--policy", str(policy), "--format", "json", "-j", "1",
                                       *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["findings"]


def _create(repo: Path, policy: Path, baseline: Path) -> None:
    result = CliRunner().invoke(main, ["baseline", "create", str(repo), "--output", str(baseline),
                                       "--policy", str(policy), "-j", "1"])
    assert result.exit_code == 0, result.output


def test_line_shifts_and_one_new_violation_report_exactly_the_new_one(tmp_path: Path) -> None:
    repo, policy, baseline = _setup(tmp_path)
    _create(repo, policy, baseline)
    data = json.loads(baseline.read_text())
    assert data["version"] == 1 and data["count"] == 10
    assert {(e["rule_id"], e["path"]) for e in data["findings"]} == {("TEST-PY-001", "app.py")}
    assert all(e["message"] and len(e["fingerprint"]) == 32 for e in data["findings"])

    # Every line moves down by three, and one new violation arrives at the end.
    shifted = violation_module(10, lead='"""Tasks."""\n# reviewed\n')
    shifted += "def fresh() -> None:\n    os.system('rm -rf /tmp/cache')\n"
    write_tree(repo, {"app.py": shifted})
    code, findings = _scan(repo, policy, "--baseline", str(baseline))
    assert code == 1
    assert [(f["rule_id"], f["line"]) for f in findings] == [("TEST-PY-001", shifted.splitlines().index(
        "    os.system('rm -rf /tmp/cache')") + 1)]

    code, findings = _scan(repo, policy)
    assert code == 1 and len(findings) == 11  # without the baseline everything is back


def test_an_identical_new_finding_is_not_hidden_by_the_accepted_one(tmp_path: Path) -> None:
    repo, policy, baseline = _setup(tmp_path, count=1)
    _create(repo, policy, baseline)
    # The same call, byte for byte, in a second function after the accepted one.
    write_tree(repo, {"app.py": violation_module(1) + "def again() -> None:\n    os.system('echo 0')\n"})
    code, findings = _scan(repo, policy, "--baseline", str(baseline))
    assert code == 1
    assert [(f["rule_id"], f["line"]) for f in findings] == [("TEST-PY-001", 7)]


def test_an_identical_new_finding_added_above_the_accepted_one_is_reported_where_it_is(tmp_path: Path) -> None:
    repo, policy, baseline = _setup(tmp_path, count=1)
    _create(repo, policy, baseline)
    # The same call in a new function *before* the accepted one: fingerprints carry the enclosing function,
    # so the new call is the one reported, not the accepted one whose ordinal shifted.
    accepted = violation_module(1)
    head, _, tail = accepted.partition("def ")
    changed = head + "def before() -> None:\n    os.system('echo 0')\n\n\ndef " + tail
    write_tree(repo, {"app.py": changed})
    _, findings = _scan(repo, policy, "--baseline", str(baseline))
    assert [(f["rule_id"], f["line"]) for f in findings] == [
        ("TEST-PY-001", changed.splitlines().index("    os.system('echo 0')") + 1)]


def test_an_identical_finding_in_another_file_is_new(tmp_path: Path) -> None:
    repo, policy, baseline = _setup(tmp_path, count=1)
    _create(repo, policy, baseline)
    write_tree(repo, {"copy.py": violation_module(1)})
    _, findings = _scan(repo, policy, "--baseline", str(baseline))
    assert [(f["path"], f["line"]) for f in findings] == [("copy.py", 4)]


def test_ratchet_only_shrinks(tmp_path: Path) -> None:
    repo, policy, baseline = _setup(tmp_path, count=5)
    _create(repo, policy, baseline)
    before = json.loads(baseline.read_text())["findings"]
    # Fix two of the five (tasks 0 and 1), add a brand-new one: the ratchet drops two and adds nothing.
    source = violation_module(5).replace("os.system('echo 0')", "pass").replace("os.system('echo 1')", "pass")
    write_tree(repo, {"app.py": source + "def later() -> None:\n    os.system('date')\n"})
    result = CliRunner().invoke(main, ["baseline", "ratchet", str(baseline), str(repo), "--policy", str(policy),
                                       "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "2 fixed finding(s) removed, 3 remain" in result.output
    after = json.loads(baseline.read_text())["findings"]
    assert len(after) == 3 and all(entry in before for entry in after)
    assert after == sorted(after, key=lambda e: (e["path"], e["rule_id"], e["message"], e["fingerprint"]))
    _, findings = _scan(repo, policy, "--baseline", str(baseline))
    assert [f["line"] for f in findings] == [source.count("\n") + 2]


def test_a_broken_baseline_is_a_usage_error(tmp_path: Path) -> None:
    repo, policy, baseline = _setup(tmp_path, count=1)
    for content, message in (("{not json", "not a JSON baseline"), ('{"tool": "other"}', "not a pfa-policy baseline"),
                             ('{"tool": "pfa-policy", "version": 9, "findings": []}', "unsupported baseline version")):
        baseline.write_text(content)
        result = CliRunner().invoke(main, ["scan", str(repo), "--policy", str(policy), "--baseline", str(baseline)])
        assert result.exit_code == 2, result.output
        assert message in result.output
    result = CliRunner().invoke(main, ["scan", str(repo), "--baseline", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "baseline file not found" in result.output
