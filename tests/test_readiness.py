"""Readiness: only applicable checks count, nothing to assess is said so, levels mean what the README says,
and partial (diff, baseline) scores say that they are partial."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.engine.loader import Catalog
from pfa_policy.model import Coverage, Finding, Severity, Span
from pfa_policy.readiness import readiness
from tests.conftest import make_git_repo, scan_tree, write_tree

_SERVICE = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5).json()\n"


def _finding(rule_id: str, severity: Severity) -> Finding:
    return Finding(rule_id, "app.py", Span(1), "m", severity)


def _json(root: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["scan", str(root), "--format", "json", "--no-cache", "-j", "1",
                                       "--fail-on", "never", *extra])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_checks_the_repository_gives_nothing_to_judge_do_not_count() -> None:
    pillars = {"E1": "encryption", "E2": "encryption", "W1": "operability", "N1": "operability"}
    severities = {"E1": Severity.ERROR, "E2": Severity.ERROR, "W1": Severity.WARNING, "N1": Severity.NOTE}
    findings = [_finding("W1", Severity.WARNING)]
    everything = readiness(pillars, severities, findings)
    assert (everything.overall, everything.level) == (84.6, "not ready")  # 11 of 13: E2 passes by absence
    scored = readiness(pillars, severities, findings, Coverage(frozenset({"E1", "N1"}), True))
    # E1 (5) and N1 (1) pass, W1 (2) fails and counts although coverage missed it, E2 does not count.
    assert (scored.overall, scored.level) == (75.0, "not ready")  # operability at 33.3 %
    encryption, operability = (p for p in scored.pillars if p.checks)
    assert (encryption.pillar, encryption.checks, encryption.not_applicable, encryption.score) == (
        "encryption", 1, 1, 100.0)
    assert (operability.checks, operability.failing, operability.score) == (2, 1, 33.3)
    assert [p.label() for p in scored.pillars if not p.checks] == ["n/a"] * 6


def test_levels() -> None:
    pillars = {f"R{i}": "cicd" for i in range(20)} | {"X": "telemetry"}
    severities = {r: Severity.ERROR for r in pillars}

    def level(*failing: str) -> tuple[float | None, str]:
        result = readiness(pillars, severities, [_finding(r, Severity.ERROR) for r in failing])
        return result.overall, result.level

    assert level() == (100.0, "production-ready")
    assert level("R0") == (95.2, "pilot-ready")  # one blocker of 21 error checks
    assert level("R0", "R1") == (90.5, "pilot-ready")  # 19 of 21 error checks pass: 90.5 %
    assert level("R0", "R1", "R2") == (85.7, "not ready")  # blockers are no longer isolated
    assert level("X") == (95.2, "not ready")  # the one telemetry check fails: a pillar at 0 %


def test_a_python_repository_is_not_scored_on_manifests_or_pipelines_it_does_not_have(catalog: Catalog,
                                                                                      tmp_path: Path) -> None:
    write_tree(tmp_path, {"serving/app.py": _SERVICE, "README.md": "# svc\n"})
    coverage = scan_tree(tmp_path, catalog).coverage
    assert coverage is not None and coverage.artefacts
    assert {"PFA-OP-003", "PFA-CI-001", "PFA-CI-003", "PFA-DG-002"} <= coverage.applicable
    # CloudFormation, Kubernetes, Dockerfile and workflow rules; CI-002 needs a pipeline and tests to judge,
    # DG-003 training code.
    absent = {"PFA-AU-006", "PFA-AC-001", "PFA-AC-002", "PFA-CI-007", "PFA-CI-002", "PFA-DG-003"}
    assert not absent & coverage.applicable


def test_azure_ml_specifications_are_deployment_artefacts(catalog: Catalog, tmp_path: Path) -> None:
    write_tree(tmp_path, {"deploy/blue.yml": (
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
        "name: blue\nendpoint_name: churn\nmodel: azureml:churn:7\ninstance_type: Standard_DS3_v2\n"
        "instance_count: 1\n")})
    result = scan_tree(tmp_path, catalog)
    assert result.coverage is not None and result.coverage.artefacts
    assert "PFA-OP-018" in result.coverage.applicable
    assert not any(n.message.startswith("nothing to assess") for n in result.notifications)


def test_an_empty_or_non_ml_tree_has_nothing_to_assess(tmp_path: Path) -> None:
    write_tree(tmp_path / "web", {"README.md": "# site\n", "package.json": "{}\n", "src/index.js": "x = 1\n",
                                  ".github/workflows/ci.yml": "on: push\njobs: {}\n"})
    (tmp_path / "empty").mkdir()
    for root in (tmp_path / "web", tmp_path / "empty"):
        document = _json(root)
        assert document["summary"]["readiness"]["overall"] is None
        assert document["summary"]["readiness"]["level"] == "nothing to assess"
        assert {"level": "warning", "message": "nothing to assess: no code, notebook, container or deployment "
                "manifest outside tests, docs and dev setups, so no readiness score", "path": None, "line": 1,
                "column": 1} in document["notifications"]
    text = CliRunner(env={"COLUMNS": None}).invoke(main, ["scan", str(tmp_path / "empty"), "--no-cache"]).stdout
    assert "Readiness: nothing to assess — authentic-integrations n/a, telemetry n/a" in text
    markdown = CliRunner().invoke(main, ["scan", str(tmp_path / "empty"), "--format", "markdown",
                                         "--no-cache"]).stdout
    assert "0 file(s) scanned. Readiness nothing to assess." in markdown
    assert "| telemetry | n/a | none apply |" in markdown


def test_diff_and_baseline_scores_say_they_are_partial(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = make_git_repo(root, {"serving/app.py": _SERVICE, "README.md": "# svc\n"})
    repo.git.checkout("-b", "feature")
    write_tree(root, {"serving/extra.py": "import requests\nrequests.get('https://api.example.com')\n"})
    repo.git.add("-A")
    repo.index.commit("a call without a timeout")

    whole = _json(root)
    assert (whole["diff"], whole["summary"]["readiness"]["partial"]) == (None, [])
    diff = _json(root, "--diff-base", "main")
    assert diff["summary"]["readiness"]["partial"] == ["diff"]
    assert diff["diff"] == {"ref": "main", "merge_base": repo.git.rev_parse("main"), "changed_files": 1}
    text = CliRunner(env={"COLUMNS": None}).invoke(main, ["scan", str(root), "--no-cache", "--fail-on", "never",
                                                          "--diff-base", "main"]).stdout
    assert "), partial score: only what the change introduces counts — " in text
    markdown = CliRunner().invoke(main, ["scan", str(root), "--no-cache", "--format", "markdown", "--diff-base",
                                         "main"]).stdout
    assert (f"Diff scan against `main` (merge-base `{repo.git.rev_parse('main')[:12]}`, 1 file(s) changed): only "
            "findings on added or changed lines, and the repository-level findings the change introduces.") in markdown
    assert "(partial score: only what the change introduces counts)." in markdown

    baseline = tmp_path / "baseline.json"
    assert CliRunner().invoke(main, ["baseline", "create", str(root), "-o", str(baseline)]).exit_code == 0
    accepted = _json(root, "--baseline", str(baseline))
    assert accepted["summary"]["readiness"]["partial"] == ["baseline"]
    assert accepted["findings"] == []
    both = _json(root, "--baseline", str(baseline), "--diff-base", "main")
    assert both["summary"]["readiness"]["partial"] == ["diff", "baseline"]
