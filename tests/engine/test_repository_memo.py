"""Repository-level results are kept between runs and never outlive a change to what they were computed from."""

from __future__ import annotations

import shutil
from pathlib import Path

from pfa_policy.engine.loader import Catalog
from pfa_policy.model import ScanResult
from tests.conftest import REPO_ROOT, scan_tree, write_tree

_WORKFLOW = """name: ci
on: [push, pull_request]
permissions: {contents: read}
jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - run: make verify
"""
_RUNS_TESTS = "verify:\n\tpytest -q tests\n"
_RUNS_NOTHING = "verify:\n\techo skip -q...\n"  # the same size: only the text tells them apart


def _summary(result: ScanResult) -> tuple[object, ...]:
    findings = tuple((f.rule_id, f.path, f.span, f.message, f.severity, f.anchor, f.suppression, f.related)
                     for f in result.findings)
    return findings, result.notifications, result.coverage


def _repository_entries(cache: Path) -> list[Path]:
    return sorted((cache / "repository").glob("*.json"))


def test_a_repository_rule_result_is_reused_only_while_the_files_it_read_are_unchanged(
        tmp_path: Path, catalog: Catalog) -> None:
    root = write_tree(tmp_path / "repo", {
        "serving/app.py": "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5).json()\n",
        "tests/test_app.py": "def test_fetch():\n    assert True\n",
        ".github/workflows/ci.yml": _WORKFLOW,
        "Makefile": _RUNS_TESTS,
    })
    cache = tmp_path / "cache"
    first = _summary(scan_tree(root, catalog, cache_dir=cache))
    assert len(_repository_entries(cache)) == 1
    assert _summary(scan_tree(root, catalog, cache_dir=cache)) == first == _summary(scan_tree(root, catalog))
    assert len(_repository_entries(cache)) == 1  # the same view: the entry was reused, not replaced

    # The Makefile has no file-level check and keeps its size: only the recorded read notices the edit.
    (root / "Makefile").write_text(_RUNS_NOTHING)
    edited = _summary(scan_tree(root, catalog, cache_dir=cache))
    assert edited == _summary(scan_tree(root, catalog))
    assert edited != first
    assert "PFA-CI-002" in {f[0] for f in edited[0]} - {f[0] for f in first[0]}  # tests that no CI job runs


def test_fixtures_keep_their_findings_through_the_memo_across_edits(tmp_path: Path, catalog: Catalog) -> None:
    root = tmp_path / "churn-pilot"
    shutil.copytree(REPO_ROOT / "fixtures" / "churn-pilot", root)
    cache = tmp_path / "cache"
    edits = [
        lambda: None,
        lambda: (root / "README.md").write_text("# churn pilot\n"),
        lambda: shutil.rmtree(root / ".github", ignore_errors=True),
        lambda: write_tree(root, {"deploy/Chart.yaml": "apiVersion: v2\nname: churn\nversion: 0.1.0\n"}),
    ]
    for number, edit in enumerate(edits):
        edit()
        assert _summary(scan_tree(root, catalog, cache_dir=cache)) == _summary(scan_tree(root, catalog)), number


def test_a_damaged_entry_is_recomputed(tmp_path: Path, catalog: Catalog) -> None:
    root = write_tree(tmp_path / "repo", {".github/workflows/ci.yml": _WORKFLOW, "Makefile": _RUNS_TESTS,
                                          "serving/app.py": "import os\n"})
    cache = tmp_path / "cache"
    expected = _summary(scan_tree(root, catalog, cache_dir=cache))
    for entry in _repository_entries(cache):
        entry.write_text('{"key": "' + entry.stem + '", "reads": {}, "hits": [["PFA-X", 1]]}')
    assert _summary(scan_tree(root, catalog, cache_dir=cache)) == expected
