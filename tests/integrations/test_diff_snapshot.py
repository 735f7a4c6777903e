"""`--diff-base` against a cached snapshot of the merge-base tree: only the changed files are scanned, and the
report is the one the whole-tree path (both trees scanned, no cache) gives, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import git
import pytest
from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.engine.runner import ScanOptions, scan
from pfa_policy.integrations.diffscan import diff_scan, introduced
from pfa_policy.policy import prepare
from tests.conftest import REPO_ROOT

FIXTURE = REPO_ROOT / "fixtures" / "fraud-service"
READ_LOCAL_CSV = "import pandas as pd\n\n\ndef load() -> pd.DataFrame:\n    return pd.read_csv('data/extra.csv')\n"


def _repository(tmp_path: Path) -> tuple[git.Repo, Path]:
    root = tmp_path / "fraud-service"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test Author")
        config.set_value("user", "email", "author@example.com")
        config.set_value("commit", "gpgsign", "false")
    repo.git.add("-A")
    repo.index.commit("fraud service")
    repo.git.checkout("-b", "feature")
    return repo, root


def _scan(root: Path, *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["scan", str(root), "--format", "json", "-j", "1", "--fail-on", "never",
                                       *options])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _change(repo: git.Repo, root: Path) -> None:
    """One change of every shape: an edit with a new violation, a rename, an addition, deletions that take
    repository-level evidence away (the CI workflow, the audit module, a DVC pointer), an untracked file."""
    features = root / "fraud" / "features.py"
    features.write_text(features.read_text() + "\n\ndef fetch(url: str) -> bytes:\n"
                        "    import requests\n\n    return requests.get(url).content\n")
    repo.git.mv("serving/app.py", "serving/api.py")
    (root / "fraud" / "extra.py").write_text(READ_LOCAL_CSV)
    for path in (".github/workflows/ci.yml", "fraud/audit.py", "data/transactions.dvc"):
        repo.git.rm(path)
    repo.git.add("-A")
    repo.index.commit("change")
    (root / "scratch.py").write_text(READ_LOCAL_CSV)


def test_a_snapshot_diff_scans_the_changed_files_only_and_reports_the_same(tmp_path: Path) -> None:
    repo, root = _repository(tmp_path)
    cache = tmp_path / "cache"
    repo.git.checkout("main")
    full = _scan(root, "--cache-dir", str(cache))  # a clean checkout: stores the snapshot of main's tree
    assert full["summary"]["files_scanned"] == 41
    assert len(list((cache / "trees").glob("*.json"))) == 1
    repo.git.checkout("feature")
    _change(repo, root)

    fast = _scan(root, "--diff-base", "main", "--cache-dir", str(cache))
    whole = _scan(root, "--diff-base", "main", "--no-cache")
    assert fast["findings"] == whole["findings"]
    assert fast["notifications"] == whole["notifications"]
    # 4 files differ from main (edit, rename, addition, untracked): only they were scanned.
    assert (fast["summary"]["files_scanned"], whole["summary"]["files_scanned"]) == (4, 40)
    assert {(f["rule_id"], f["path"]) for f in fast["findings"]} == {
        ("PFA-OP-003", "fraud/features.py"),  # file-level, on the added lines
        # repository-level: deleting ci.yml leaves only the deploy workflow, which runs no tests and not on
        # pull requests; the new local reads are not tracked by DVC (the base's DVC pointer is gone too)
        ("PFA-CI-002", ".github/workflows/deploy.yml"), ("PFA-CI-009", ".github/workflows/deploy.yml"),
        ("PFA-DG-001", "fraud/extra.py"), ("PFA-DG-001", "scratch.py"),
    }


def test_a_damaged_or_foreign_snapshot_is_not_trusted(tmp_path: Path) -> None:
    repo, root = _repository(tmp_path)
    cache = tmp_path / "cache"
    repo.git.checkout("main")
    _scan(root, "--cache-dir", str(cache))
    repo.git.checkout("feature")
    _change(repo, root)
    expected = _scan(root, "--diff-base", "main", "--no-cache")
    (entry,) = (cache / "trees").glob("*.json")
    for damage in ('{"key": "another", "files": [], "facts": [], "charts": []}', '{"key": tru'):
        entry.write_text(damage)
        again = _scan(root, "--diff-base", "main", "--cache-dir", str(cache))
        assert again["findings"] == expected["findings"]
        assert again["summary"]["files_scanned"] == 40  # fell back to the whole tree


@pytest.mark.parametrize("dirty", ["modified", "untracked"])
def test_no_snapshot_of_a_dirty_work_tree(tmp_path: Path, dirty: str) -> None:
    repo, root = _repository(tmp_path)
    if dirty == "modified":
        (root / "README.md").write_text("edited\n")
    else:
        (root / "notes.py").write_text("x = 1\n")
    cache = tmp_path / "cache"
    _scan(root, "--cache-dir", str(cache))
    assert not (cache / "trees").exists()
    repo.git.stash("--include-untracked")
    _scan(root, "--cache-dir", str(cache))
    assert len(list((cache / "trees").glob("*.json"))) == 1


def _expected_repository_findings(root: Path, base_checkout: Path) -> list[Any]:
    """What the change introduces at repository level, from two whole scans of two checkouts."""
    catalog, policy = prepare(root)
    head = scan(catalog, policy, ScanOptions(root, jobs=1))
    base = scan(catalog, policy, ScanOptions(base_checkout, jobs=1))
    is_repository = {rule_id: rule.is_repository_rule for rule_id, rule in catalog.rules.items()}
    expected = introduced([(f, "") for f in head.findings if is_repository[f.rule_id]],
                          [f for f in base.findings if is_repository[f.rule_id]])
    return sorted((f for f, _ in expected), key=lambda f: (f.path, f.span.line, f.span.column, f.rule_id, f.message))


def test_the_facts_only_path_agrees_with_two_whole_scans(tmp_path: Path) -> None:
    """No snapshot: the merge-base's repository findings come from the head's facts plus the changed files'
    base versions. They must be the ones a whole scan of a checkout of the merge-base gives."""
    repo, root = _repository(tmp_path)
    base_checkout = tmp_path / "base"
    git.Repo.clone_from(str(root), str(base_checkout), branch="main")
    _change(repo, root)
    catalog, policy = prepare(root)
    result, _ = diff_scan(catalog, policy, ScanOptions(root, jobs=1), "main")
    is_repository = {rule_id: rule.is_repository_rule for rule_id, rule in catalog.rules.items()}
    expected = _expected_repository_findings(root, base_checkout)
    assert [f for f in result.findings if is_repository[f.rule_id]] == expected
    assert expected  # the change does introduce some: the comparison is not vacuous
    file_level = {(f.rule_id, f.path) for f in result.findings if not is_repository[f.rule_id]}
    assert ("PFA-OP-003", "fraud/features.py") in file_level


def test_a_new_helm_chart_takes_the_worktree_path(tmp_path: Path) -> None:
    """Adding a Chart.yaml turns the values files beside it into Helm values: the head's facts of unchanged
    files no longer describe the base, so both trees are scanned whole (the base in a temporary worktree)."""
    repo, root = _repository(tmp_path)
    base_checkout = tmp_path / "base"
    git.Repo.clone_from(str(root), str(base_checkout), branch="main")
    (root / "deploy" / "k8s" / "Chart.yaml").write_text("apiVersion: v2\nname: fraud\nversion: 0.1.0\n")
    (root / ".github" / "workflows" / "ci.yml").unlink()
    repo.git.add("-A")
    repo.index.commit("chart, and no CI workflow")
    catalog, policy = prepare(root)
    result, _ = diff_scan(catalog, policy, ScanOptions(root, jobs=1), "main")
    is_repository = {rule_id: rule.is_repository_rule for rule_id, rule in catalog.rules.items()}
    expected = _expected_repository_findings(root, base_checkout)
    assert expected and [f for f in result.findings if is_repository[f.rule_id]] == expected
    assert repo.git.worktree("list").count("\n") == 0  # the temporary worktree is gone
