"""The test suite needs nothing outside the repository: a user's clone has no sibling folders."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest

from tests.conftest import REPO_ROOT, SARIF_SCHEMA

# The digest OASIS publishes the schema under (tests/data/sarif/README.md): the shipped copy is unmodified.
_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
# Tests that read the SARIF schema: run again in a lonely copy of the checkout.
_SCHEMA_TESTS = ("tests/reporters/test_sarif.py", "tests/cli/test_ci_formats.py")
_UPWARD = (os.pardir + "/", os.pardir + "\\")


def test_shipped_sarif_schema_is_the_official_one() -> None:
    assert SARIF_SCHEMA.is_relative_to(REPO_ROOT)
    assert hashlib.sha256(SARIF_SCHEMA.read_bytes()).hexdigest() == _SCHEMA_SHA256


def _outside_references(source: Path) -> list[str]:
    """String literals and `REPO_ROOT.parent` expressions that reach above the repository."""
    found = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(_UPWARD):
            found.append(f"{source.name}:{node.lineno}: {node.value!r}")
        if (isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Name)
                and node.value.id == "REPO_ROOT"):
            found.append(f"{source.name}:{node.lineno}: REPO_ROOT.parent")
    return found


def test_no_test_reaches_outside_the_repository() -> None:
    offenders = [hit for path in sorted((REPO_ROOT / "tests").rglob("*.py")) for hit in _outside_references(path)]
    assert offenders == []


def _checkout_files() -> list[str]:
    """What a clone holds (tracked files) plus work not committed yet, so the copy tests this tree."""
    listing = git.Repo(REPO_ROOT).git.ls_files("-z", "--cached", "--others", "--exclude-standard")
    return [p for p in listing.split("\0") if p and (REPO_ROOT / p).is_file()]


@pytest.mark.skipif(not (REPO_ROOT / ".git").exists(), reason="needs the git checkout to copy")
def test_sarif_validation_passes_in_a_lonely_copy_of_the_checkout(tmp_path: Path) -> None:
    # The copy sits alone in an empty directory: no `shared/` or any other sibling of the project.
    copy = tmp_path / "lonely" / "pfa-policy"
    for relative in _checkout_files():
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / relative, target)
    assert sorted(p.name for p in copy.parent.iterdir()) == ["pfa-policy"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PFA_POLICY_"))}
    environment["PYTHONPATH"] = str(copy)  # the copy's package, not the installed one
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_SCHEMA_TESTS],
        cwd=copy, env=environment, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert " passed" in completed.stdout and "skipped" not in completed.stdout
    imported = subprocess.run([sys.executable, "-c", "import pfa_policy; print(pfa_policy.__file__)"],
                              cwd=copy, env=environment, capture_output=True, text=True, check=True)
    assert Path(imported.stdout.strip()).is_relative_to(copy)
