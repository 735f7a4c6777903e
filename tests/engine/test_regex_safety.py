"""A user rule's regular expression cannot hang a scan: exponential shapes are refused at load, anything slower
than the per-file budget is stopped and named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pfa_policy.engine.regex_safety import exponential_risk
from tests.conftest import write_tree

_RULE = """id: TEAM-TX-001
name: slow-pattern
pillar: operability
severity: warning
targets: [text, python]
message: "a line of a's"
fix: "Write fewer a's."
docs: {{what: Flags lines of a's., why: Testing., example: aaaa, instead: b}}
match:
  text:
    - line:
        matches: "{pattern}"
examples:
  invalid:
    - path: notes.txt
      code: "aaaa\\n"
      lines: [1]
  valid:
    - path: notes.txt
      code: "b\\n"
"""


@pytest.mark.parametrize("pattern", [
    r"(a+)+$", r"(a*)*b", r"(\w+\s?)*$", r"(?:x|y+)+z", r"^(\s*)*$", r"(a+b*)+c", r"((a+))+", r"(?:(?:\d+)?)+x",
    r"(?=(a+)+)", r"(a?b*)*c", r"(?i)^(?:[a-z0-9]+\.?)+$",
])
def test_exponential_shapes_are_found(pattern: str) -> None:
    assert exponential_risk(pattern) is not None


@pytest.mark.parametrize("pattern", [
    r"(\d+\.){3}\d+", r"(?:\s*,\s*\w+)*", r"a+$", r"(a|b)*", r"(?:\w+)", r"(?>a+)+", r"(a++)+", r"(ab?)*",
    r"(a+)?", r"(?:a+){1}", r"\b(password|secret)\s*=\s*['\"][^'\"]{8,}", r"(?i)foo(?:bar)?", "[unclosed",
    r"^(?:[a-z0-9]+\.)+[a-z]+$",
])
def test_linear_shapes_are_accepted(pattern: str) -> None:
    assert exponential_risk(pattern) is None


def _scan(root: Path, rules: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pfa_policy", "scan", str(root), "--rules", str(rules),
                           "--format", "json", "--no-cache", "--select", "TEAM-TX-001,PFA-OP-003", *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PFA_POLICY_DEBUG": ""})


def test_an_exponential_pattern_is_rejected_with_file_line_and_key(tmp_path: Path) -> None:
    rules = write_tree(tmp_path / "rules", {"TEAM-TX-001.yaml": _RULE.format(pattern="(a+)+$")})
    root = write_tree(tmp_path / "repo", {"notes.txt": "a" * 40 + "!\n"})
    completed = _scan(root, rules)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.startswith(f"pfa-policy: error: {rules / 'TEAM-TX-001.yaml'}:12: at "
                                       "'match.text[0].line.matches': '(a+)+$' is not a valid regex: it repeats a part")
    assert len(completed.stderr.splitlines()) == 1


def test_a_slow_pattern_the_check_cannot_see_is_stopped_and_named(tmp_path: Path) -> None:
    # Overlapping alternatives backtrack exponentially too (fib(40) ways here); the shape check leaves them to
    # the time budget.
    rules = write_tree(tmp_path / "rules", {"TEAM-TX-001.yaml": _RULE.format(pattern="^(a|aa)+$")})
    root = write_tree(tmp_path / "repo", {
        "notes.txt": "a" * 40 + "!\n",
        "serving/app.py": "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n",
    })
    completed = _scan(root, rules, "--file-timeout", "1")
    assert completed.returncode in (0, 1), completed.stderr
    report = json.loads(completed.stdout)
    assert [(n["path"], n["message"]) for n in report["notifications"]] == [
        ("notes.txt", "not analysed: the analysis took longer than 1 s in TEAM-TX-001 (the per-file budget; raise "
                      "it with --file-timeout); the rest of the scan is complete")]
    assert [(f["rule_id"], f["path"]) for f in report["findings"]] == [("PFA-OP-003", "serving/app.py")]
