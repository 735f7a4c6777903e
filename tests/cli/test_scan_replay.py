"""A scan whose inputs are unchanged is replayed from the cache: the same bytes and exit code, and nothing else.

Real scans in subprocesses on a copy of a fixture repository; files are dated a minute back, as an unchanged
checkout is (a file changed within seconds of a scan is never trusted, see scan_replay.RACY_SECONDS)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_git_repo

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "churn-pilot"


def _age(root: Path, seconds: float = 60.0) -> None:
    past = time.time() - seconds
    for directory, _, files in os.walk(root):
        for name in (*files, "."):
            os.utime(os.path.join(directory, name), (past, past), follow_symlinks=False)


def _scan(repo: Path, cache: Path, *extra: str) -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "pfa_policy", "scan", str(repo), "--cache-dir", str(cache), "--no-progress", *extra],
        capture_output=True, text=True, cwd=repo.parent, check=False)
    return completed.returncode, completed.stdout, completed.stderr


def _file_cache_entries(cache: Path) -> set[str]:
    """The per-file results: recreated by a scan that runs, untouched by one that is replayed."""
    return {str(p.relative_to(cache)) for p in cache.rglob("*.json") if p.parts[len(cache.parts)] != "scans"}


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "churn-pilot"
    shutil.copytree(FIXTURE, copy)
    _age(copy)
    return copy


def _replayed(repo: Path, cache: Path, *extra: str) -> bool:
    """Whether this scan was answered by the replay: it reads no per-file result and writes none."""
    for entry in _file_cache_entries(cache):
        (cache / entry).unlink()
    _scan(repo, cache, *extra)
    return not _file_cache_entries(cache)


def test_unchanged_scan_is_replayed_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sarif, text = tmp_path / "out.sarif", tmp_path / "out.txt"
    first = _scan(repo, cache, "--format", "sarif", "-o", str(sarif), "--format", f"text:{text}",
                  "--fail-on", "warning", "--select", "PFA-CI-*,PFA-OP-006")
    first_sarif, first_text = sarif.read_bytes(), text.read_bytes()
    sarif.unlink()
    text.unlink()
    assert first[0] == 1 and "PFA-OP-006" in first[2]  # a finding at the gate, and a warning on stderr

    for entry in _file_cache_entries(cache):
        (cache / entry).unlink()
    second = _scan(repo, cache, "--format", "sarif", "-o", str(sarif), "--format", f"text:{text}",
                   "--fail-on", "warning", "--select", "PFA-CI-*,PFA-OP-006")
    assert not _file_cache_entries(cache), "the scan ran instead of being replayed"
    assert second == first
    assert sarif.read_bytes() == first_sarif and text.read_bytes() == first_text


def test_stdout_report_is_replayed(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _scan(repo, cache, "--format", "json")
    assert _replayed(repo, cache, "--format", "json")
    assert _scan(repo, cache, "--format", "json") == first


@pytest.mark.parametrize("change", ["edit", "add", "remove", "config"])
def test_a_changed_input_is_scanned_again(repo: Path, tmp_path: Path, change: str) -> None:
    cache = tmp_path / "cache"
    _, before, _ = _scan(repo, cache, "--format", "json")
    app = next(repo.rglob("*.py"))
    if change == "edit":
        app.write_text(app.read_text() + "\nimport requests\nrequests.get('http://example.com/x')\n")
    elif change == "add":
        (repo / "serve_mock.py").write_text("from unittest import mock\nclient = mock.MagicMock()\n")
    elif change == "remove":
        app.unlink()
    else:
        (repo / ".pfa-policy.yaml").write_text("extends: strict\n")
    _age(repo)
    assert not _replayed(repo, cache, "--format", "json")
    _, after, _ = _scan(repo, cache, "--format", "json")
    assert after != before
    _, uncached, _ = _scan(repo, tmp_path / "fresh", "--format", "json")
    assert after == uncached


def test_other_options_are_another_scan(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _scan(repo, cache, "--format", "json")
    assert not _replayed(repo, cache, "--format", "json", "--policy", "strict")
    assert _replayed(repo, cache, "--format", "json", "--policy", "strict")


def test_files_changed_just_now_are_not_trusted(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    app = next(repo.rglob("*.py"))
    app.write_text(app.read_text() + "\n")  # dated now: within the racy window
    _scan(repo, cache, "--format", "json")
    assert not (cache / "scans").exists() or not any((cache / "scans").iterdir())
    assert not _replayed(repo, cache, "--format", "json")


def test_verbose_and_diff_scans_always_run(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, _, stderr = _scan(repo, cache, "--format", "json", "-v")
    assert "load" in stderr  # the stage timings: this scan ran
    assert not (cache / "scans").exists()


def test_a_new_commit_is_a_new_scan(tmp_path: Path) -> None:
    """SARIF names the commit: committing, even with no file changed, must not replay the old log."""
    work = tmp_path / "repo"
    git_repo = make_git_repo(work, {"train.py": "import pandas as pd\ndf = pd.read_csv('data/train.csv')\n"})
    git_repo.create_remote("origin", "https://github.com/acme/churn.git")  # SARIF's provenance needs one
    _age(work)
    cache, sarif = tmp_path / "cache", tmp_path / "out.sarif"
    _scan(work, cache, "--format", "sarif", "-o", str(sarif))
    first = sarif.read_text()
    assert git_repo.head.commit.hexsha in first
    git_repo.index.commit("an empty commit")
    assert not _replayed(work, cache, "--format", "sarif", "-o", str(sarif))
    assert git_repo.head.commit.hexsha in sarif.read_text()
