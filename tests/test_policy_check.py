"""Policy and configuration values the schema cannot judge alone: each refused with file, line, key, exit 2 and
one line (with the closest rule id when there is one); `policy validate` lists every problem of a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pfa_policy.cli import main


def _validate(tmp_path: Path, text: str, name: str = "team.yaml") -> tuple[Path, Result]:
    policy = tmp_path / name
    policy.write_text(text, encoding="utf-8")
    return policy, CliRunner().invoke(main, ["policy", "validate", str(policy)])


def _one_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize(("body", "line", "message"), [
    ("rules:\n  include: [PFA-OP-03]\n", 3,
     "at 'rules.include[0]': unknown rule id PFA-OP-03 (did you mean PFA-OP-003?)"),
    ("rules:\n  exclude:\n    - PFA-OP-003\n    - PFA-AC-9*\n", 5,
     "at 'rules.exclude[1]': no rule id matches 'PFA-AC-9*'"),
    ("rules:\n  extend_include: ['pillar:telemetri']\n", 3, "at 'rules.extend_include[0]': unknown pillar 'telemetri' "
     "(did you mean telemetry?)"),
    ("rules:\n  exclude: ['tag:strict-onli']\n", 3, "at 'rules.exclude[0]': no rule has the tag 'strict-onli' "
     "(did you mean strict-only?)"),
    ("severity:\n  PFA-OP-0003: error\n", 3, "at 'severity.PFA-OP-0003': unknown rule id PFA-OP-0003 "
     "(did you mean PFA-OP-003?)"),
    ("params:\n  PFA-DG-02: {max_size_mb: 5}\n", 3, "at 'params.PFA-DG-02': unknown rule id PFA-DG-02 "
     "(did you mean PFA-DG-002?)"),
    ("params:\n  PFA-DG-002:\n    max_size_kb: 5\n", 4, "at 'params.PFA-DG-002.max_size_kb': PFA-DG-002 has no "
     "parameter 'max_size_kb' (did you mean max_size_mb?); its parameters are max_size_mb, extensions"),
    ("params:\n  PFA-DG-002:\n    max_size_mb: big\n", 4, "at 'params.PFA-DG-002.max_size_mb': expected a number, "
     "got a string 'big'"),
    ("params:\n  PFA-DG-002:\n    extensions: .csv\n", 4, "at 'params.PFA-DG-002.extensions': expected a list, got a "
     "string '.csv'"),
    ("params:\n  PFA-DG-002:\n    extensions: [.csv, 3]\n", 4, "at 'params.PFA-DG-002.extensions[1]': expected a "
     "string, got an integer 3"),
    ("params:\n  PFA-OP-003: {timeout: 3}\n", 3, "at 'params.PFA-OP-003': PFA-OP-003 takes no parameters"),
    ("extends: prodution\n", 2, "at 'extends': unknown policy 'prodution' (did you mean production?)"),
    ("extends: ./missing.yaml\n", 2, "at 'extends': policy file not found"),
    (f"extends: ./{'a' * 300}.yaml\n", 2, "at 'extends': policy file cannot be read: ./aaaa"),
    ("severity:\n  pfa-op-003: error\n", 3, "at 'severity.pfa-op-003': unknown rule id pfa-op-003 (rule ids are upper "
     "case: PFA-OP-003)"),
    ("rules:\n  include: [' PFA-OP-003']\n", 3, "at 'rules.include[0]': unknown rule id  PFA-OP-003"),
    ("exclude: ['legacy/[].py']\n", 2, "at 'exclude[0]': bad glob 'legacy/[].py': unterminated character set"),
    ("exclude: ['/legacy/**']\n", 2, "at 'exclude[0]': bad glob '/legacy/**': paths are relative to the repository "
     "root, drop the leading '/'"),
    ("scopes:\n  test: ['qa\\**']\n", 3, "at 'scopes.test[0]': bad glob 'qa\\**': write paths with '/', not '\\'"),
    ("exclude: legacy/**\n", 2, "at 'exclude': expected a list, got a string 'legacy/**'"),
    ("fail_on: [error]\n", 2, "at 'fail_on': ['error'] is not one of error, warning, note, never"),
    ("severity:\n  PFA-OP-003: null\n", 3, "at 'severity.PFA-OP-003': None is not one of error, warning, note"),
    ("exeptions: []\n", 2, "at 'exeptions': unknown key 'exeptions' (did you mean exceptions?); the keys are"),
    ("fail_on: error\nfail_on: never\n", 3, "invalid YAML: key 'fail_on' given twice (first at line 2)"),
])
def test_each_problem_is_one_line_with_file_line_and_key(tmp_path: Path, body: str, line: int, message: str) -> None:
    policy, result = _validate(tmp_path, "name: team\n" + body)
    assert _one_error(result).startswith(f"pfa-policy: error: {policy}:{line}: {message}")


_EXCEPTION = ("exceptions:\n  - rules: [{rules}]\n    paths: [{paths}]\n"
              "    justification: Legacy batch job until the Q1 migration\n    expires: {expires}\n")


@pytest.mark.parametrize(("fields", "line", "message"), [
    ({"rules": "PFA-AC-0001"}, 3,
     "at 'exceptions[0].rules[0]': unknown rule id PFA-AC-0001 (did you mean PFA-AC-001?)"),
    ({"rules": "pfa-ac-001"}, 3, "at 'exceptions[0].rules[0]': unknown rule id pfa-ac-001 (rule ids are upper case: "
     "PFA-AC-001)"),
    ({"paths": "'deploy/[z-a]/**'"}, 4, "at 'exceptions[0].paths[0]': bad glob 'deploy/[z-a]/**': bad character range"),
    ({"expires": "2025-02-30"}, 6, "at 'exceptions[0].expires': '2025-02-30' is not a real date"),
    ({"expires": "31/03/2027"}, 6, "at 'exceptions[0].expires': '31/03/2027' is not a date written YYYY-MM-DD"),
    ({"expires": "2027-3-31"}, 6, "at 'exceptions[0].expires': '2027-3-31' is not a date written YYYY-MM-DD"),
    ({"expires": "[2027-03-31]"}, 6, "at 'exceptions[0].expires': expected a string, got a list"),
])
def test_exception_problems(tmp_path: Path, fields: dict[str, str], line: int, message: str) -> None:
    values = {"rules": "PFA-AC-001", "paths": "deploy/**", "expires": "2027-03-31", **fields}
    policy, result = _validate(tmp_path, "name: team\n" + _EXCEPTION.format(**values))
    assert _one_error(result).startswith(f"pfa-policy: error: {policy}:{line}: {message}")


def test_parity_waivers_name_known_rules(tmp_path: Path) -> None:
    policy, result = _validate(tmp_path, "name: team\nparity:\n  waivers:\n    - key: 'component:*'\n"
                               "      rules: [PFA-OP-2001]\n      justification: staging has no add-ons (ML-1)\n")
    assert _one_error(result).startswith(f"pfa-policy: error: {policy}:5: at 'parity.waivers[0].rules[0]': unknown "
                                         "rule id PFA-OP-2001 (did you mean PFA-OP-201?)")


def test_every_problem_of_a_file_is_listed(tmp_path: Path) -> None:
    policy, result = _validate(tmp_path, "severity:\n  PFA-OP-03: error\n  PFA-AC-01: note\nexclude: ['/x']\n")
    assert result.exit_code == 2
    assert [line.split(": at ")[0] for line in result.output.splitlines()] == [
        f"pfa-policy: error: {policy}:2", f"pfa-policy: error: {policy}:3", f"pfa-policy: error: {policy}:4"]


def test_scan_refuses_the_same_problems(tmp_path: Path) -> None:
    (tmp_path / ".pfa-policy.yaml").write_text("policy: production\nseverity:\n  PFA-OP-03: error\n")
    result = CliRunner().invoke(main, ["scan", str(tmp_path)])
    assert _one_error(result) == (f"pfa-policy: error: {tmp_path / '.pfa-policy.yaml'}:3: at 'severity.PFA-OP-03': "
                                  "unknown rule id PFA-OP-03 (did you mean PFA-OP-003?)")


def test_a_problem_in_what_a_policy_extends_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("name: base\nextends: production\nseverity:\n  PFA-OP-03: error\n")
    _, result = _validate(tmp_path, "name: team\nextends: ./base.yaml\n")
    assert _one_error(result).startswith(f"pfa-policy: error: {tmp_path / 'base.yaml'}:4: at 'severity.PFA-OP-03'")


def test_exclude_option_globs_are_checked(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--exclude", "data/[]"])
    assert _one_error(result) == "pfa-policy: error: --exclude: bad glob 'data/[]': unterminated character set"


_PYPROJECT = '''\
[project]
name = "churn"

[tool.pfa-policy]
policy = "production"
exclude = [
  "legacy/**",
  "/vendor/**",
]

[tool.pfa-policy.severity]
"PFA-OP-003" = "fatal"

[tool.pfa-policy.params.PFA-DG-002]
max_size_mb = "ten"

[[tool.pfa-policy.exceptions]]
rules = ["PFA-AC-001"]
justification = "Legacy batch image runs as root until Q1"
expires = 2027-03-31

[[tool.pfa-policy.exceptions]]
rules = ["PFA-AC-01"]
justification = "Legacy batch image runs as root until Q1"
'''


def test_pyproject_is_validated_with_real_lines(tmp_path: Path) -> None:
    _, result = _validate(tmp_path, _PYPROJECT.replace('"fatal"', '"error"').replace('"ten"', "10"),
                          "pyproject.toml")
    path = tmp_path / "pyproject.toml"
    assert result.exit_code == 2 and result.output.splitlines() == [
        f"pfa-policy: error: {path}:8: at 'tool.pfa-policy.exclude[1]': bad glob '/vendor/**': paths are relative to "
        "the repository root, drop the leading '/'",
        f"pfa-policy: error: {path}:23: at 'tool.pfa-policy.exceptions[1].rules[0]': unknown rule id PFA-AC-01 "
        "(did you mean PFA-AC-001?)",
    ]
    _, result = _validate(tmp_path, _PYPROJECT, "pyproject.toml")
    assert result.output.splitlines() == [
        f"pfa-policy: error: {path}:12: at 'tool.pfa-policy.severity.PFA-OP-003': 'fatal' is not one of error, "
        "warning, note",
    ]


def test_pyproject_toml_dates_and_syntax_errors(tmp_path: Path) -> None:
    path, result = _validate(tmp_path, _PYPROJECT.replace('"fatal"', '"error"').replace('"ten"', "10")
                             .replace("2027-03-31", "2027-02-30"), "pyproject.toml")
    assert _one_error(result).startswith(f"pfa-policy: error: {path}:20: invalid TOML: Invalid date or datetime")
    _, result = _validate(tmp_path, '[project]\nname = "x"\n', "pyproject.toml")
    assert _one_error(result) == f"pfa-policy: error: {path}: no [tool.pfa-policy] table"
    _, result = _validate(tmp_path, '[tool.pfa-policy]\npolicy = "strict"\n', "pyproject.toml")
    assert (result.exit_code, result.output) == (0, f"{path}: valid\n")


def test_built_in_packs_are_valid() -> None:
    packs = sorted((Path(__file__).resolve().parent.parent / "policies").glob("*.yaml"))
    result = CliRunner().invoke(main, ["policy", "validate", *map(str, packs)])
    assert result.exit_code == 0 and result.output.count(": valid") == len(packs) == 3


def test_a_flood_of_problems_is_cut_short(tmp_path: Path) -> None:
    values = ", ".join(["1"] * 200)
    policy, result = _validate(tmp_path, f"exclude: &a [{values}]\nscopes: {{test: *a}}\n")
    lines = result.output.splitlines()
    assert result.exit_code == 2 and len(lines) == 51
    assert lines[-1] == f"pfa-policy: error: {policy}: 350 more problem(s)"
