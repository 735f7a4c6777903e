"""A self-contained test policy for integration tests, so they don't depend on the evolving rule catalogue.

- TEST-PY-001 (error): a call of `os.system` in production code.
- TEST-REPO-001 (warning, repository-level): Python code but no OWNERS file (exists in every test repo).
- TEST-REPO-002 (error, repository-level): a notebook in the repository and no NOTEBOOKS.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import REPO_ROOT, write_tree

_DOCS = """docs:
  what: test rule
  why: test rule
  example: test
  instead: test
"""

RULES: dict[str, str] = {
    "TEST-PY-001.yaml": f"""id: TEST-PY-001
name: os-system-call
pillar: operability
severity: error
targets: [python]
message: "`{{name}}` runs a shell command"
fix: Use subprocess.run with a list of arguments.
{_DOCS}match:
  python:
    - call: [os.system]
examples:
  invalid:
    - path: app.py
      code: "import os\\nos.system('ls')\\n"
      lines: [2]
  valid:
    - path: app.py
      code: "import subprocess\\n"
""",
    "TEST-REPO-001.yaml": f"""id: TEST-REPO-001
name: missing-owners-file
pillar: access-control
severity: warning
targets: [repository]
message: "No OWNERS file (looked for {{looked_for}})"
fix: Add an OWNERS file.
{_DOCS}match:
  repository:
    require:
      - files: ["**/*.py"]
      - no_files: [OWNERS]
examples:
  invalid:
    - path: app.py
      code: "x = 1\\n"
      lines: [1]
  valid:
    - path: OWNERS
      code: "me\\n"
""",
    "TEST-REPO-002.yaml": f"""id: TEST-REPO-002
name: notebooks-undocumented
pillar: data-governance
severity: error
targets: [repository]
message: "Notebooks but no NOTEBOOKS.md (looked for {{looked_for}})"
fix: Add NOTEBOOKS.md.
{_DOCS}match:
  repository:
    require:
      - files: ["**/*.ipynb"]
      - no_files: [NOTEBOOKS.md]
examples:
  invalid:
    - path: a.ipynb
      code: "{{}}"
      lines: [1]
  valid:
    - path: app.py
      code: "x = 1\\n"
""",
}

POLICY = """name: integration-test
description: Only the three test rules.
fail_on: error
rule_paths: [rules]
rules:
  include: [TEST-PY-001, TEST-REPO-001, TEST-REPO-002]
"""


def write_policy(directory: Path) -> Path:
    """The test rules and a policy selecting only them, outside any scanned repository; returns the policy."""
    write_tree(directory, {f"rules/{name}": text for name, text in RULES.items()})
    write_tree(directory, {"policy.yaml": POLICY})
    return directory / "policy.yaml"


def violation_module(count: int, lead: str = "") -> str:
    """A module with `count` os.system calls, each in its own function, after `lead`."""
    body = [lead, "import os", ""] if lead else ["import os", ""]
    for index in range(count):
        body += [f"def task_{index}() -> None:", f"    os.system('echo {index}')", ""]
    return "\n".join(body) + "\n"


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for running `python -m pfa_policy` from this checkout in a subprocess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), env.get("PYTHONPATH", ""))))
    for name in [n for n in env if n.startswith("GITHUB_")]:
        del env[name]
    env.update(extra or {})
    return env


PYTHON = sys.executable
