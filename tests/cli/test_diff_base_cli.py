"""`pfa-policy scan --diff-base REF` on real git repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
from click.testing import CliRunner

from pfa_policy.cli import main
from tests.conftest import make_git_repo, write_tree
from tests.integrations.policykit import violation_module, write_policy

NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _repo(tmp_path: Path) -> tuple[git.Repo, Path, Path]:
    policy = write_policy(tmp_path / "policy")
    root = tmp_path / "repo"
    # No OWNERS file: the repository-level finding TEST-REPO-001 exists on the base already.
    repo = make_git_repo(root, {"app.py": violation_module(3), "README.md": "demo\n"})
    repo.git.checkout("-b", "feature")
    return repo, root, policy


def _scan(root: Path, policy: Path, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(main, ["scan", str(root), "--policy", str(policy), "--format", "json", "-j", "1",
                                       *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["findings"], result.output


def _commit(repo: git.Repo, message: str) -> None:
    repo.git.add("-A")
    repo.index.commit(message)


def test_only_the_new_violation_is_reported(tmp_path: Path) -> None:
    repo, root, policy = _repo(tmp_path)
    head = violation_module(3, lead="# shifted\n# twice") + "def new() -> None:\n    os.system('whoami')\n"
    write_tree(root, {"app.py": head, "other.py": "x = 1\n"})
    _commit(repo, "add a violation")

    code, findings, _ = _scan(root, policy, "--diff-base", "main")
    new_line = head.splitlines().index("    os.system('whoami')") + 1
    assert code == 1
    assert [(f["rule_id"], f["path"], f["line"]) for f in findings] == [("TEST-PY-001", "app.py", new_line)]

    code, findings, _ = _scan(root, policy)  # a full scan still sees everything
    assert {f["rule_id"] for f in findings} == {"TEST-PY-001", "TEST-REPO-001"} and len(findings) == 5
    assert repo.git.worktree("list").count("\n") == 0  # the temporary base worktree is gone


def test_a_change_without_new_violations_passes(tmp_path: Path) -> None:
    repo, root, policy = _repo(tmp_path)
    write_tree(root, {"app.py": "# comment\n" + violation_module(3), "pyproject.toml": "[project]\nname = 'x'\n"})
    _commit(repo, "shift lines, add pyproject (moves where the absence finding points)")
    code, findings, _ = _scan(root, policy, "--diff-base", "main")
    assert (code, findings) == (0, [])


def test_repository_level_findings_the_change_introduces(tmp_path: Path) -> None:
    repo, root, policy = _repo(tmp_path)
    write_tree(root, {"analysis.ipynb": NOTEBOOK})
    _commit(repo, "add a notebook")
    code, findings, _ = _scan(root, policy, "--diff-base", "main")
    assert code == 1
    assert [f["rule_id"] for f in findings] == ["TEST-REPO-002"]


def test_uncommitted_and_untracked_work_is_part_of_the_change(tmp_path: Path) -> None:
    _, root, policy = _repo(tmp_path)
    write_tree(root, {"scratch.py": violation_module(1)})
    code, findings, _ = _scan(root, policy, "--diff-base", "main")
    assert code == 1 and [(f["path"], f["line"]) for f in findings] == [("scratch.py", 4)]


def test_merge_base_not_the_tip_of_the_base_branch(tmp_path: Path) -> None:
    repo, root, policy = _repo(tmp_path)
    write_tree(root, {"feature.py": "x = 1\n"})
    _commit(repo, "feature work, no violation")
    repo.git.checkout("main")
    write_tree(root, {"main_only.py": violation_module(2)})
    _commit(repo, "violations land on main after the branch point")
    repo.git.checkout("feature")
    code, findings, _ = _scan(root, policy, "--diff-base", "main")
    assert (code, findings) == (0, [])


def test_an_unknown_base_is_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    _, root, policy = _repo(tmp_path)
    result = CliRunner().invoke(main, ["scan", str(root), "--policy", str(policy), "--diff-base", "origin/nope"])
    assert result.exit_code == 2
    assert "cannot resolve git reference 'origin/nope'" in result.output
    assert "Traceback" not in result.output


def test_diff_base_outside_git_is_exit_2(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy")
    root = write_tree(tmp_path / "plain", {"app.py": "x = 1\n"})
    result = CliRunner().invoke(main, ["scan", str(root), "--policy", str(policy), "--diff-base", "main"])
    assert result.exit_code == 2 and "not inside a git repository" in result.output
