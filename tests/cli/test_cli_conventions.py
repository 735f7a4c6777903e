"""The conventions ruff and semgrep users expect: --select/--ignore, --statistics, -q, -v, --color, grouping and
wrapping of the text report, one-line errors with exit 2, and `rules test`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pfa_policy.cli import main
from pfa_policy.policy import prepare
from tests.conftest import make_git_repo, write_tree

_APP = ("import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n\n\n"
        "def ping(url):\n    return requests.get(url).ok\n")
_DOCKERFILE = 'FROM python\nCMD ["python", "-m", "serving"]\n'
_THREE = "PFA-OP-003,PFA-AC-002,PFA-DG-007"  # the file-level rules the repository below breaks
_NO_ENV = {"COLUMNS": None, "NO_COLOR": None, "FORCE_COLOR": None}

_AC002 = "The image runs as root: its final stage sets no USER"
_AC002_FIX = "fix: Create an unprivileged user in the final stage and end with `USER <name>` (e.g. `USER 10001`)."
_DG007 = "`FROM python` is untagged (no tag, no digest): the image is rebuilt on whatever base was pushed last"
_DG007_FIX = "fix: Pin the base image to a version tag and digest: `FROM python:3.11.9-slim@sha256:<digest>`."
_OP003 = ("`requests.get` is called without a timeout (or with `timeout=None`): a slow dependency can hang this worker "
          "forever")
_OP003_FIX = "fix: Pass `timeout=` (connect and read seconds), e.g. `requests.get(url, timeout=(3.05, 30))`."


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", {"serving/app.py": _APP, "Dockerfile": _DOCKERFILE})


def _run(*args: str, **env: str | None) -> Result:
    return CliRunner(env={**_NO_ENV, **env}).invoke(main, list(args))


def _scan(repo: Path, *args: str, **env: str | None) -> Result:
    return _run("scan", str(repo), "--no-cache", "-j", "1", *args, **env)


def _rules(result: Result) -> list[str]:
    return sorted({f["rule_id"] for f in json.loads(result.stdout)["findings"]})


def test_select_and_ignore_take_ids_globs_pillars_and_tags(repo: Path) -> None:
    assert _rules(_scan(repo, "--format", "json")) == [
        "PFA-AC-002", "PFA-CI-001", "PFA-CI-003", "PFA-DG-007", "PFA-OP-003"]
    assert _rules(_scan(repo, "--format", "json", "--select", "pfa-op-003")) == ["PFA-OP-003"]
    assert _rules(_scan(repo, "--format", "json", "--select", "PFA-AC-*,pfa-dg-*")) == ["PFA-AC-002", "PFA-DG-007"]
    assert _rules(_scan(repo, "--format", "json", "--select", "pillar:operability", "--select", "pillar:cicd",
                        "--ignore", "PFA-CI-003")) == ["PFA-CI-001", "PFA-OP-003"]
    assert _rules(_scan(repo, "--format", "json", "--select", _THREE, "--ignore", "tag:docker")) == [
        "PFA-DG-007", "PFA-OP-003"]


def test_a_selector_that_names_no_rule_is_an_error(repo: Path) -> None:
    result = _scan(repo, "--select", "PFA-OP-03")
    assert (result.exit_code, result.output) == (
        2, "pfa-policy: error: --select PFA-OP-03: no rule matches (did you mean PFA-OP-003?)\n")
    result = _scan(repo, "--ignore", "tag:dockr")
    assert (result.exit_code, result.output) == (
        2, "pfa-policy: error: --ignore tag:dockr: no rule matches (did you mean tag:docker?)\n")
    result = _scan(repo, "--select", "pillar:telemetri")
    assert result.exit_code == 2 and result.output.startswith(
        "pfa-policy: error: unknown pillar in selector 'pillar:telemetri' (known: authentic-integrations,")
    assert result.output.count("\n") == 1


def test_selecting_only_rules_the_policy_leaves_out_warns(repo: Path) -> None:
    result = _scan(repo, "--select", "tag:strict-only")
    assert result.exit_code == 0
    assert result.stderr == "pfa-policy: --select tag:strict-only matches no rule the policy production enables\n"
    assert _scan(repo, "--select", "tag:strict-only", "-q").stderr == ""


def test_statistics_count_findings_per_rule(repo: Path) -> None:
    result = _scan(repo, "--statistics", "-q")
    assert (result.exit_code, result.stdout) == (1, (
        "      2  PFA-OP-003  warning  http-call-without-timeout\n"
        "      1  PFA-AC-002  error    dockerfile-runs-as-root\n"
        "      1  PFA-CI-001  error    no-ci-pipeline\n"
        "      1  PFA-CI-003  error    no-automated-tests\n"
        "      1  PFA-DG-007  warning  dockerfile-base-image-not-pinned\n"
        "\n"))
    summary = _scan(repo, "--statistics").stdout.splitlines()
    assert summary[-2] == ("3 error(s), 3 warning(s), 0 note(s), 0 suppressed in 2 file(s); policy production, "
                           "fail-on error")
    result = _scan(repo, "--statistics", "--format", "json")
    assert (result.exit_code, result.output) == (
        2, "pfa-policy: error: --statistics is a text report; write the other formats with --format FMT:FILE\n")


def test_each_fix_hint_once_per_file_and_quiet_prints_only_findings(repo: Path) -> None:
    result = _scan(repo, "--select", _THREE, "-q")
    assert (result.exit_code, result.stdout) == (1, (
        "Dockerfile\n"
        f"       1:1  error    PFA-AC-002  {_AC002}\n"
        f"                                 {_AC002_FIX}\n"
        f"       1:1  warning  PFA-DG-007  {_DG007}\n"
        f"                                 {_DG007_FIX}\n"
        "\n"
        "serving/app.py\n"
        f"      5:12  warning  PFA-OP-003  {_OP003}\n"
        f"                                 {_OP003_FIX}\n"
        f"      9:12  warning  PFA-OP-003  {_OP003}\n"
        "\n"))
    assert result.stderr == ""
    loud = _scan(repo, "--select", _THREE).stdout
    assert loud.startswith(result.stdout)
    assert loud[len(result.stdout):].startswith("1 error(s), 3 warning(s), 0 note(s), 0 suppressed in 2 file(s)")


def test_group_by_rule_and_by_severity(repo: Path) -> None:
    assert _scan(repo, "--select", _THREE, "-q", "--group-by", "rule").stdout == (
        "PFA-AC-002 dockerfile-runs-as-root (1 error)\n"
        f"  Dockerfile:1:1  {_AC002}\n"
        f"                  {_AC002_FIX}\n"
        "\n"
        "PFA-DG-007 dockerfile-base-image-not-pinned (1 warning)\n"
        f"  Dockerfile:1:1  {_DG007}\n"
        f"                  {_DG007_FIX}\n"
        "\n"
        "PFA-OP-003 http-call-without-timeout (2 warnings)\n"
        f"  serving/app.py:5:12  {_OP003}\n"
        f"                       {_OP003_FIX}\n"
        f"  serving/app.py:9:12  {_OP003}\n"
        "\n")
    assert _scan(repo, "--select", _THREE, "-q", "--group-by", "severity").stdout == (
        "1 error\n"
        f"  PFA-AC-002  Dockerfile:1:1  {_AC002}\n"
        f"                              {_AC002_FIX}\n"
        "\n"
        "3 warnings\n"
        f"  PFA-DG-007  Dockerfile:1:1  {_DG007}\n"
        f"                              {_DG007_FIX}\n"
        f"  PFA-OP-003  serving/app.py:5:12  {_OP003}\n"
        f"                                   {_OP003_FIX}\n"
        f"  PFA-OP-003  serving/app.py:9:12  {_OP003}\n"
        "\n")


def test_lines_are_wrapped_to_the_width_and_never_on_a_pipe(repo: Path) -> None:
    wrapped = _scan(repo, "--select", "PFA-OP-003", "--group-by", "rule", COLUMNS="60").stdout
    assert wrapped.startswith(
        "PFA-OP-003 http-call-without-timeout (2 warnings)\n"
        "  serving/app.py:5:12  `requests.get` is called without a\n"
        "                       timeout (or with `timeout=None`): a\n"
        "                       slow dependency can hang this worker\n"
        "                       forever\n"
        "                       fix: Pass `timeout=` (connect and\n"
        "                       read seconds), e.g.\n"
        "                       `requests.get(url, timeout=(3.05,\n"
        "                       30))`.\n")
    assert max(len(line) for line in wrapped.splitlines()) <= 60
    narrow = _scan(repo, "--select", "PFA-OP-003", COLUMNS="50").stdout
    assert "      5:12  warning  PFA-OP-003  `requests.get` is\n    called without a timeout" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 50
    piped = _scan(repo, "--select", "PFA-OP-003").stdout
    assert f"      5:12  warning  PFA-OP-003  {_OP003}\n" in piped


def test_color_follows_the_option_then_no_color_then_force_color(repo: Path, tmp_path: Path) -> None:
    red = "\x1b[31merror  \x1b[0m"
    args = ("--select", "PFA-AC-002", "-q")
    assert red in _scan(repo, *args, "--color", "always").stdout
    assert red in _scan(repo, *args, "--color", "always", NO_COLOR="1").stdout
    assert red in _scan(repo, *args, FORCE_COLOR="1").stdout
    assert "\x1b[" not in _scan(repo, *args).stdout  # auto: stdout is not a terminal
    assert "\x1b[" not in _scan(repo, *args, NO_COLOR="1", FORCE_COLOR="1").stdout
    assert "\x1b[" not in _scan(repo, *args, "--color", "never", FORCE_COLOR="1").stdout
    report = tmp_path / "report.txt"
    _scan(repo, *args, "--output", str(report), FORCE_COLOR="1")
    assert "\x1b[" not in report.read_text()


def test_silent_prints_nothing_and_still_writes_files(repo: Path, tmp_path: Path) -> None:
    result = _scan(repo, "-qq", "--fail-on", "warning")
    assert (result.exit_code, result.output) == (1, "")
    report = tmp_path / "out" / "report.json"
    result = _scan(repo, "-qq", "--format", "json", "--output", str(report))
    assert (result.exit_code, result.output) == (1, "")
    assert len(json.loads(report.read_text())["findings"]) == 6
    result = _scan(repo, "-q", "-v")
    assert (result.exit_code, result.output) == (2, "pfa-policy: error: --quiet and --verbose cannot be combined\n")


def test_verbose_tells_the_rules_the_skipped_files_and_the_stage_timings(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_git_repo(repo, {"serving/app.py": _APP, "LICENSE": "MIT\n", "build/gen.py": "", "data/blob.py": b"\0\1\0"})
    catalog, policy = prepare(repo)
    result = _scan(repo, "-v", "--select", "pillar:operability", "--exclude", "data/**", "--format", "json")
    enabled = len([r for r in policy.rule_ids if catalog.rules[r].pillar == "operability"])
    lines = result.stderr.splitlines()
    assert lines[:5] == [
        f"pfa-policy: configuration: {policy.config_note}",
        f"pfa-policy: policy production: {enabled} of {len(catalog.rules)} rules enabled "
        f"({len(policy.rule_ids)} before --select/--ignore)",
        "pfa-policy: skipped LICENSE: no rule applies",
        "pfa-policy: skipped build/gen.py: excluded by build",
        "pfa-policy: skipped data/blob.py: excluded by data/**",
    ]
    assert re.fullmatch(r"pfa-policy: timings: load \d+\.\d\d s, discover \d+\.\d\d s, analyse \d+\.\d\d s, "
                        r"repository rules \d+\.\d\d s, report \d+\.\d\d s", lines[5])
    assert len(lines) == 6
    binary = _scan(repo, "-v", "--select", "PFA-OP-003", "--format", "json").stderr
    assert "pfa-policy: skipped data/blob.py: binary content\n" in binary


@pytest.mark.parametrize("option", ["--output", "--output-sarif", "--format"])
def test_a_bad_output_path_fails_before_the_scan(repo: Path, tmp_path: Path, option: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for target, problem in ((tmp_path, "it is a directory"), (blocker / "r.json", f"{blocker} is not a directory")):
        value = f"json:{target}" if option == "--format" else str(target)
        # An unknown policy would fail the scan: the output path is checked first.
        result = _scan(repo, option, value, "--policy", "no-such-pack")
        assert (result.exit_code, result.output) == (2, f"pfa-policy: error: cannot write {target}: {problem}\n")
    result = _run("baseline", "create", str(repo), "--output", str(tmp_path))
    assert (result.exit_code, result.output) == (2, f"pfa-policy: error: cannot write {tmp_path}: it is a directory\n")


def test_usage_errors_are_one_line() -> None:
    result = _run("rules", "list", "--pillar", "telemetri")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("pfa-policy: error: Invalid value for '--pillar': 'telemetri' is not one of")
    assert result.output.endswith(" (see `pfa-policy rules list --help`)\n")
    result = _run("scna")
    assert (result.exit_code, result.output) == (
        2, "pfa-policy: error: No such command 'scna'. Did you mean 'scan'? (see `pfa-policy --help`)\n")


def test_rules_list_names_the_valid_targets() -> None:
    result = _run("rules", "list", "--target", "kubernets")
    assert result.exit_code == 2
    assert result.output.startswith("pfa-policy: error: no rule checks target 'kubernets' (did you mean kubernetes?);"
                                    " the targets are azure-pipelines, azureml, bentofile, bitbucket-pipelines,")
    assert result.output.count("\n") == 1
    assert _run("rules", "list", "--target", "nope").output.startswith(
        "pfa-policy: error: no rule checks target 'nope'; the targets are ")


def test_rules_explain_takes_a_name_and_suggests_a_close_id() -> None:
    by_id = _run("rules", "explain", "PFA-AI-001")
    by_name = _run("rules", "explain", "mocking-library-in-production-code")
    assert by_name.exit_code == 0 and by_name.output == by_id.output
    assert by_name.output.startswith("PFA-AI-001 mocking-library-in-production-code\n")
    result = _run("rules", "explain", "pfa-ai-01")
    assert (result.exit_code, result.output) == (2, "pfa-policy: error: no rule pfa-ai-01 (did you mean PFA-AI-001?)\n")
    result = _run("rules", "explain", "mocking-library-in-prod")
    assert (result.exit_code, result.output) == (
        2, "pfa-policy: error: no rule mocking-library-in-prod (did you mean mocking-library-in-production-code?)\n")


_USER_RULE = """id: TEAM-PY-001
name: no-os-system
pillar: operability
severity: error
targets: [python]
message: "`os.system` runs a shell"
fix: "Use subprocess.run with a list of arguments."
docs:
  what: Reports os.system calls.
  why: A shell command string is an injection risk.
  example: os.system("ls")
  instead: subprocess.run(["ls"], check=True)
match:
  python:
    - call: [os.system]
examples:
  invalid:
    - path: app.py
      code: |
        import os

        os.system("ls")
      lines: [3]
  valid:
    - path: app.py
      code: |
        import subprocess
        subprocess.run(["ls"], check=True)
"""


def test_rules_test_runs_a_user_rule_files_examples(tmp_path: Path) -> None:
    rule = tmp_path / "rules" / "TEAM-PY-001.yaml"
    write_tree(tmp_path, {"rules/TEAM-PY-001.yaml": _USER_RULE})
    result = _run("rules", "test", str(rule))
    assert (result.exit_code, result.output) == (0, (
        "ok    TEAM-PY-001/invalid-0\n"
        "ok    TEAM-PY-001/valid-0\n"
        "\n2 example(s): 2 passed, 0 failed\n"))
    wrong = _USER_RULE.replace("      lines: [3]", "      lines: [2]") + (
        "    - path: tool.py\n      code: |\n        import os\n        os.system('x')\n")
    rule.write_text(wrong)
    result = _run("rules", "test", str(tmp_path / "rules"))
    assert (result.exit_code, result.output) == (1, (
        "FAIL  TEAM-PY-001/invalid-0: expected app.py:2; reported app.py:3\n"
        "ok    TEAM-PY-001/valid-0\n"
        "FAIL  TEAM-PY-001/valid-1: expected nothing; reported tool.py:2\n"
        "\n3 example(s): 1 passed, 2 failed\n"))


def test_rules_test_exits_2_on_an_invalid_rule_file(tmp_path: Path) -> None:
    rule = tmp_path / "TEAM-PY-001.yaml"
    rule.write_text(_USER_RULE.replace("    - call: [os.system]", "    - call: os.system"))
    result = _run("rules", "test", str(rule))
    assert (result.exit_code, result.output) == (
        2, f"pfa-policy: error: {rule}:15: at 'match.python[0].call': expected a list, got a string 'os.system'\n")
    facts_only = tmp_path / "empty"
    facts_only.mkdir()
    result = _run("rules", "test", str(facts_only))
    assert (result.exit_code, result.output) == (2, f"pfa-policy: error: {facts_only}: no rule defined here\n")
