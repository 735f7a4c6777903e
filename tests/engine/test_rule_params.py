"""A rule file declares its parameters (a JSON schema each, with description and default) and fills only the
placeholders its match provides; both checked at load, naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.engine.loader import load_catalog
from pfa_policy.model import PfaError
from tests.conftest import REPO_ROOT

_RULE = """\
id: TEAM-OPS-001
name: no-print
pillar: operability
severity: warning
targets: [python]
message: "`{name}` in {path}: use the logger ({param.logger})"
fix: Use logging.
params:
  logger:
    description: The logger to use instead.
    type: string
    default: structlog
docs: {what: a, why: b, example: c, instead: d}
match:
  python:
    - call: [print]
examples:
  invalid:
    - path: job.py
      code: "print(1)\\n"
      lines: [1]
      params: {logger: logging}
  valid:
    - path: ok.py
      code: ""
"""


def _load(tmp_path: Path, text: str) -> PfaError | None:
    path = tmp_path / "TEAM-OPS-001.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_catalog([path])
    except PfaError as error:
        return error
    return None


def test_a_declared_parameter_has_its_default(tmp_path: Path) -> None:
    path = tmp_path / "TEAM-OPS-001.yaml"
    path.write_text(_RULE, encoding="utf-8")
    rule = load_catalog([path]).rules["TEAM-OPS-001"]
    assert rule.params == {"logger": "structlog"} and rule.params_schema["logger"]["type"] == "string"
    assert rule.render_message({"name": "print", "path": "job.py"}, rule.params) == (
        "`print` in job.py: use the logger (structlog)")


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ('"`{name}` in {path}', '"`{nme}` in {path}', 6,
     "at 'message': unknown placeholder {nme} (did you mean name?); a python rule's message can use {module}, {name}, "
     "{param.logger}, {path}, {value}"),
    ("({param.logger})", "({param.loger})", 6, "at 'message': unknown placeholder {param.loger} (did you mean "
     "param.logger?)"),
    ("    default: structlog\n", "    default: 3\n", 12,
     "at 'params.logger.default': expected a string, got an integer 3"),
    ("    type: string\n", "    type: text\n", 11, "at 'params.logger.type': "),
    ("    description: The logger to use instead.\n", "", 9, "at 'params.logger': 'description' is a required "
     "property"),
    ("  logger:\n    description: The logger to use instead.\n    type: string\n    default: structlog\n",
     "  logger: structlog\n", 9, "at 'params.logger': expected a mapping, got a string 'structlog'"),
    ("params: {logger: logging}", "params: {loger: logging}", 22, "at 'examples.invalid[0].params.loger': TEAM-OPS-001 "
     "has no parameter 'loger' (did you mean logger?)"),
    ("params: {logger: logging}", "params: {logger: [logging]}", 22, "at 'examples.invalid[0].params.logger': "
     "expected a string, got a list"),
    ("    type: string\n", "    type: string\n    pattern: '('\n", 12, "at 'params.logger.pattern': not a JSON schema"),
])
def test_bad_declarations_and_placeholders_are_refused(tmp_path: Path, old: str, new: str, line: int,
                                                      message: str) -> None:
    assert old in _RULE
    error = _load(tmp_path, _RULE.replace(old, new))
    assert error is not None and error.line == line and error.path == str(tmp_path / "TEAM-OPS-001.yaml")
    assert error.message.startswith(message), error.message


def test_a_value_condition_names_a_declared_parameter(tmp_path: Path) -> None:
    text = _RULE.replace("    - call: [print]", "    - call: [print]\n      positional: {'0': {param_one_of: loggers}}")
    error = _load(tmp_path, text)
    assert error is not None and error.line == 17
    assert error.message == ("at 'match.python[0].positional.0.param_one_of': 'loggers' is not a parameter of "
                             "TEAM-OPS-001 (did you mean logger?) (declared: logger)")


def test_each_kind_of_match_has_its_placeholders(tmp_path: Path) -> None:
    text = _RULE.replace("targets: [python]", "targets: [dockerfile]").replace(
        "    - call: [print]", "    - {instruction: [FROM]}").replace("{name}", "{instruction}").replace(
        "  python:", "  dockerfile:")
    assert _load(tmp_path, text) is None
    error = _load(tmp_path, text.replace("targets: [dockerfile]", "targets: [text]").replace(
        "    - {instruction: [FROM]}", "    - {line: {matches: x}}").replace("  dockerfile:", "  text:"))
    assert error is not None and error.message.startswith("at 'message': unknown placeholder {instruction}")


def test_built_in_rule_files_declare_every_parameter(tmp_path: Path) -> None:
    catalog = load_catalog()
    declared = {rule_id: rule for rule_id, rule in catalog.rules.items() if rule.params}
    assert declared and all(set(rule.params) == set(rule.params_schema) for rule in declared.values())
    assert all(schema["description"] for rule in declared.values() for schema in rule.params_schema.values())


def test_rules_test_reports_a_predicate_placeholder_left_unfilled(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO_ROOT / "rules" / "authentic-integrations" / "PFA-AI-017.yaml").read_text())
    data.update(id="TEAM-AI-017", name="team-placeholder-model", message="`{name}` {verdict} in serving code")
    data["examples"]["invalid"] = data["examples"]["invalid"][:1]
    rule = tmp_path / "TEAM-AI-017.yaml"
    rule.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["rules", "test", str(rule)])  # a predicate: loads, then fails its examples
    assert result.exit_code == 1
    assert "FAIL  TEAM-AI-017/invalid-0: " in result.output and "placeholder {verdict} left unfilled" in result.output


def test_rules_test_takes_a_built_in_rule_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)  # a relative path to a file the built-in catalogue loads too
    result = CliRunner().invoke(main, ["rules", "test", "rules/operability/PFA-OP-003.yaml"])
    assert result.exit_code == 0 and "ok    PFA-OP-003/invalid-0" in result.output


def test_a_repository_rule_or_fact_glob_that_cannot_match_is_refused(tmp_path: Path) -> None:
    rule = tmp_path / "TEAM-CI-001.yaml"
    rule.write_text(
        "id: TEAM-CI-001\nname: no-ci\npillar: cicd\nseverity: warning\ntargets: [repository]\n"
        "message: 'no CI ({looked_for})'\nfix: add CI\ndocs: {what: a, why: b, example: c, instead: d}\n"
        "match:\n  repository:\n    require:\n      - files: ['**/*.py']\n      - no_files: ['ci/[z-a]/*.yml']\n"
        "examples:\n  invalid: [{path: a.py, code: 'x = 1', lines: [1]}]\n  valid: [{path: b.txt, code: ''}]\n")
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--rules", str(rule)])
    assert (result.exit_code, result.output) == (2, f"pfa-policy: error: {rule}:13: at "
                                                    "'match.repository.require[1].no_files[0]': bad glob "
                                                    "'ci/[z-a]/*.yml': bad character range z-a\n")
    facts = tmp_path / "team.facts.yaml"
    facts.write_text("facts:\n  ci-config:\n    description: CI.\n    targets: [yaml]\n    files: ['/ci/*.yml']\n")
    result = CliRunner().invoke(main, ["rules", "list", "--rules", str(facts)])
    assert result.output.startswith(f"pfa-policy: error: {facts}:5: at 'facts.ci-config.files[0]': bad glob "
                                    "'/ci/*.yml'")


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("    - call: [print]", "    - string: {matches: 'a{1,99999999999}'}", 16,
     "at 'match.python[0].string.matches': 'a{1,99999999999}' is not a valid regex: the repetition number is too "
     "large"),
])
def test_match_values_found_by_the_fuzz_test(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    error = _load(tmp_path, _RULE.replace(old, new))
    assert error is not None and (error.line, error.message) == (line, message)


def test_an_unknown_for_each_macro_is_refused_at_load(tmp_path: Path) -> None:
    rule = tmp_path / "TEAM-AC-001.yaml"
    rule.write_text(
        "id: TEAM-AC-001\nname: privileged\npillar: access-control\nseverity: error\ntargets: [kubernetes]\n"
        "message: '{resource}'\nfix: f\ndocs: {what: a, why: b, example: c, instead: d}\n"
        "match:\n  document:\n    - for_each: $container\n      where: [{path: x, exists: true}]\n"
        "examples:\n  invalid: [{path: a.yaml, code: 'kind: Pod', lines: [1]}]\n  valid: [{path: b.txt, code: ''}]\n")
    error = None
    try:
        load_catalog([rule])
    except PfaError as failure:
        error = failure
    assert error is not None and error.line == 11
    assert error.message == ("at 'match.document[0]': invalid match: unknown for_each macro '$container' (the "
                             "macros are $pod_specs, $containers, $all_containers, $env, $iam_statements)")
