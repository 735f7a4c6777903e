"""The command line: exit codes, error messages that name file, line and key, and the info commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from pfa_policy import __version__
from pfa_policy.cli import main
from tests.conftest import write_tree

_VIOLATION = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_version_and_module_entry_point() -> None:
    assert _run("--version").output.strip() == f"pfa-policy, version {__version__}"
    completed = subprocess.run([sys.executable, "-m", "pfa_policy", "--version"], capture_output=True, text=True,
                               check=True)
    assert __version__ in completed.stdout


def _only_timeout_rule(tmp_path: Path, base: str) -> str:
    policy = tmp_path / f"only-{base}.yaml"
    policy.write_text(f"name: only-{base}\nextends: {base}\nrules:\n  include: [PFA-OP-003]\n")
    return str(policy)


def test_exit_codes_follow_fail_on(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"serving/app.py": _VIOLATION})
    # PFA-OP-003 is a warning: the production gate (error) passes, a warning gate fails.
    production, strict, pilot = (_only_timeout_rule(tmp_path, p) for p in ("production", "strict", "pilot"))
    assert _run("scan", str(repo), "--policy", production).exit_code == 0
    assert _run("scan", str(repo), "--policy", production, "--fail-on", "warning").exit_code == 1
    assert _run("scan", str(repo), "--policy", strict).exit_code == 1
    assert _run("scan", str(repo), "--policy", pilot, "--fail-on", "warning").exit_code == 1
    assert _run("scan", str(repo), "--policy", pilot).exit_code == 0


def test_text_report_groups_by_file_with_fix_hint(tmp_path: Path) -> None:
    write_tree(tmp_path, {"serving/app.py": _VIOLATION})
    output = _run("scan", str(tmp_path)).output
    assert "serving/app.py\n" in output
    assert "5:12  warning  PFA-OP-003" in output
    assert "fix: Pass `timeout=`" in output
    assert "\x1b[" not in output  # no colour when not a terminal


def test_invalid_policy_names_file_line_and_key(tmp_path: Path) -> None:
    policy = tmp_path / "team-policy.yaml"
    policy.write_text("name: team\nextends: production\nfail_on: error\nseverity:\n  PFA-OP-003: fatal\n")
    result = _run("scan", str(tmp_path), "--policy", str(policy))
    assert result.exit_code == 2
    assert f"{policy}:5:" in result.output and "severity.PFA-OP-003" in result.output
    assert "'fatal' is not one of" in result.output
    assert "Traceback" not in result.output


def test_unknown_key_and_yaml_syntax_errors_in_policy(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("name: team\nfail_on: error\nexeptions: []\n")
    result = _run("policy", "validate", str(policy))
    assert result.exit_code == 2 and f"{policy}:" in result.output and "exeptions" in result.output
    policy.write_text("name: team\nrules:\n  include: [\n")
    result = _run("policy", "validate", str(policy))
    assert result.exit_code == 2 and "invalid YAML" in result.output


def test_exception_without_justification_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / ".pfa-policy.yaml"
    config.write_text("policy: production\nexceptions:\n  - rules: [PFA-OP-003]\n    paths: [legacy/**]\n")
    result = _run("scan", str(tmp_path))
    assert result.exit_code == 2
    assert f"{config}:3:" in result.output and "'justification' is a required property" in result.output


def test_invalid_rule_file_names_file_line_and_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    bad = rules / "team-rule.yaml"
    bad.write_text(
        "id: TEAM-OPS-001\nname: no-print\npillar: operability\nseverity: warning\ntargets: [python]\n"
        "message: m\nfix: f\ndocs: {what: a, why: b, example: c, instead: d}\n"
        "match:\n  python:\n    - cal: [print]\n"
        "examples:\n  invalid: [{path: a.py, code: 'print(1)', lines: [1]}]\n  valid: [{path: b.py, code: ''}]\n"
    )
    result = _run("scan", str(tmp_path), "--rules", str(rules))
    assert result.exit_code == 2
    assert f"{bad}:11:" in result.output and "match.python[0]" in result.output and "cal" in result.output


def test_custom_rule_file_is_loaded(tmp_path: Path) -> None:
    rules = write_tree(tmp_path / "rules", {"team.yaml": (
        "id: TEAM-OPS-001\nname: no-print\npillar: operability\nseverity: error\ntargets: [python]\n"
        "message: \"print() in {path}\"\nfix: use logging\ndocs: {what: a, why: b, example: c, instead: d}\n"
        "match:\n  python:\n    - call: [print]\n"
        "examples:\n  invalid: [{path: a.py, code: 'print(1)', lines: [1]}]\n  valid: [{path: b.py, code: ''}]\n"
    )})
    repo = write_tree(tmp_path / "repo", {"job.py": "print('training')\n"})
    result = _run("scan", str(repo), "--rules", str(rules), "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.output)["findings"]
    team = [(f["rule_id"], f["line"], f["message"]) for f in findings if f["rule_id"].startswith("TEAM-")]
    assert team == [("TEAM-OPS-001", 1, "print() in job.py")]


def test_unknown_policy_and_rule(tmp_path: Path) -> None:
    result = _run("scan", str(tmp_path), "--policy", "nonexistent")
    assert result.exit_code == 2 and "unknown policy 'nonexistent'" in result.output
    result = _run("rules", "explain", "PFA-XX-999")
    assert result.exit_code == 2 and "no rule PFA-XX-999" in result.output


def test_rules_list_explain_and_config(tmp_path: Path) -> None:
    listing = json.loads(_run("rules", "list", "--format", "json").output)
    assert listing["count"] == len(listing["rules"]) and listing["per_pillar"]["operability"] >= 1
    only = json.loads(_run("rules", "list", "--format", "json", "--pillar", "operability").output)
    assert {r["pillar"] for r in only["rules"]} == {"operability"}
    explained = _run("rules", "explain", "pfa-op-003").output
    for section in ("What it does", "Why it matters", "Example", "Do this instead", "References"):
        assert section in explained
    config = json.loads(_run("config", str(tmp_path), "--policy", "pilot").output)
    assert config["policy"] == "pilot" and config["fail_on"] == "never"


def test_project_configuration_from_pyproject(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "pyproject.toml": '[project]\nname = "churn"\n\n[tool.pfa-policy]\npolicy = "strict"\nexclude = ["legacy/**"]\n'
                          '[tool.pfa-policy.severity]\n"PFA-OP-003" = "error"\n',
        "legacy/old.py": _VIOLATION,
        "serving/app.py": _VIOLATION,
    })
    config = json.loads(_run("config", str(tmp_path)).output)
    assert config["policy"] == "strict" and config["severity"] == {"PFA-OP-003": "error"}
    result = _run("scan", str(tmp_path), "--format", "json")
    findings = json.loads(result.output)["findings"]
    assert [(f["path"], f["severity"]) for f in findings if f["rule_id"] == "PFA-OP-003"] == [
        ("serving/app.py", "error")
    ]


def test_builtin_policies_validate() -> None:
    root = Path(__file__).resolve().parents[2] / "policies"
    result = _run("policy", "validate", *(str(p) for p in sorted(root.glob("*.yaml"))))
    assert result.exit_code == 0, result.output
    assert result.output.count(": valid") == 3
