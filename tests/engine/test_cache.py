"""Caching and parallelism never change what a scan finds."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.loader import Catalog
from pfa_policy.model import ScanResult
from tests.conftest import REPO_ROOT, scan_tree, write_tree

_VIOLATION = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"


def _summary(result: ScanResult) -> list[tuple[object, ...]]:
    return [(f.rule_id, f.path, f.span, f.message, f.severity, f.anchor, f.suppression) for f in result.findings]


def _repo(tmp_path: Path) -> Path:
    # Enough files for the process pool to start (it is skipped below 64 files).
    files = {f"serving/module_{i:03}.py": _VIOLATION if i % 3 == 0 else "import os\n\nVALUE = 1\n"
             for i in range(90)}
    return write_tree(tmp_path / "repo", files)


def test_findings_identical_with_and_without_cache_and_across_jobs(tmp_path: Path, catalog: Catalog) -> None:
    root = _repo(tmp_path)
    cache = tmp_path / "cache"
    plain = _summary(scan_tree(root, catalog))
    cold = _summary(scan_tree(root, catalog, cache_dir=cache))
    warm = _summary(scan_tree(root, catalog, cache_dir=cache))
    parallel = _summary(scan_tree(root, catalog, cache_dir=None, jobs=2))
    assert plain == cold == warm == parallel
    assert len([f for f in plain if f[0] == "PFA-OP-003"]) == 30
    assert len(list(cache.rglob("*.json"))) >= 90


def test_fixture_findings_identical_across_jobs_and_cache(tmp_path: Path, catalog: Catalog) -> None:
    for fixture in sorted(p for p in (REPO_ROOT / "fixtures").glob("*") if p.is_dir()):
        one = _summary(scan_tree(fixture, catalog, jobs=1))
        two = _summary(scan_tree(fixture, catalog, jobs=2, cache_dir=tmp_path / fixture.name))
        again = _summary(scan_tree(fixture, catalog, jobs=2, cache_dir=tmp_path / fixture.name))
        assert one == two == again, fixture.name


def test_corrupt_or_foreign_cache_entries_are_recomputed(tmp_path: Path, catalog: Catalog) -> None:
    root = write_tree(tmp_path / "repo", {"serving/app.py": _VIOLATION})
    cache = tmp_path / "cache"
    expected = _summary(scan_tree(root, catalog, cache_dir=cache))
    entries = list(cache.rglob("*.json"))
    assert entries
    for number, entry in enumerate(entries):
        entry.write_text(["{truncated", '{"key": "someone else", "outcome": {}}', "[]"][number % 3])
    assert _summary(scan_tree(root, catalog, cache_dir=cache)) == expected


def test_edited_file_is_rescanned(tmp_path: Path, catalog: Catalog) -> None:
    root = write_tree(tmp_path / "repo", {"serving/app.py": _VIOLATION})
    cache = tmp_path / "cache"
    assert [f.span.line for f in scan_tree(root, catalog, cache_dir=cache).findings if f.rule_id == "PFA-OP-003"] \
        == [5]
    (root / "serving" / "app.py").write_text("\n\n" + _VIOLATION)
    assert [f.span.line for f in scan_tree(root, catalog, cache_dir=cache).findings if f.rule_id == "PFA-OP-003"] \
        == [7]
