"""Replaying a scan whose inputs have not changed, as make and git's index do: by file metadata.

A warm scan of an unchanged repository still loads the catalogue, hashes every file, answers from the per-file
cache and renders every report, to write the bytes it wrote last time. When the engine, the options, the
environment the reports read and the metadata (size, mtime, ctime, inode) of every input are those an earlier
scan recorded, that scan's reports, diagnostics and exit code are given again instead.

The inputs: every file discovery lists under the root (before the policy's own excludes, so a superset), the
files the configuration search looks at from the root up to the git root, the policy files and rule files the
scan used, the baseline, and git's HEAD, refs and config (SARIF names the commit and branch). A scan with
`--diff-base` (it reads history) or `--verbose` (it reports timings) is never recorded. The input metadata is
read before the scan starts, so a file changed while it runs no longer matches; a file changed within
RACY_SECONDS before that is not trusted at all (a coarse file-system clock could hide a second change), and
no entry is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy import __version__
from pfa_policy.resources import code_digest
from pfa_policy.terminal import text_width

_FORMAT = 1
RACY_SECONDS = 2.0
KEPT_ENTRIES = 32  # per cache directory: one per combination of options a user alternates between
# Every environment variable the scan or its reports read (colours, widths, links to GitHub, the cache, git).
_ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA",
                "GITHUB_WORKSPACE", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
                "XDG_CACHE_HOME", "HOME")
_CONFIG_NAMES = (".pfa-policy.yaml", ".pfa-policy.yml", "pyproject.toml", ".git")

Signature = tuple[int, int, int, int] | None  # size, mtime_ns, ctime_ns, inode; None: absent


@dataclass(frozen=True, slots=True)
class Emitted:
    """One report as written: to a file (`target`), or to stdout (`target` None)."""

    target: str | None
    text: str
    color: bool = False


@dataclass(frozen=True, slots=True)
class Recording:
    emitted: tuple[Emitted, ...]
    diagnostics: tuple[str, ...]  # the lines written on stderr
    exit_code: int


def signature(path: str | Path) -> Signature:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def request_key(options: Mapping[str, Any], root: Path, environ: Mapping[str, str]) -> str:
    """What decides the reports besides the files: the engine, the options, where it runs and for whom."""
    to_terminal = sys.stdout.isatty()
    described = {
        "format": _FORMAT,
        "version": __version__,
        "engine": code_digest(),
        "python": sys.version,
        "options": {name: _plain(value) for name, value in sorted(options.items())},
        "root": str(root),
        "cwd": os.getcwd(),
        "environment": {name: environ.get(name) for name in _ENVIRONMENT},
        "terminal": [to_terminal, text_width(to_terminal, environ)],  # the width the text report wraps to
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (frozenset, set)) else items
    return value


class ScanReplay:
    """The recorded scan of one request, checked against the inputs as they are now."""

    def __init__(self, cache_dir: Path, key: str, inputs: dict[str, Signature], git_dir: Path | None) -> None:
        self.entry = cache_dir / "scans" / f"{key}.json"
        self.inputs = inputs
        self.git_dir = git_dir
        self.started = time.time()

    @classmethod
    def observe(cls, cache_dir: Path, key: str, root: Path, excludes: Sequence[str], own_outputs: Iterable[str],
                config: Path | None) -> ScanReplay:
        """The inputs a scan of `root` reads, as they are before it starts."""
        from pfa_policy.engine.discovery import discover

        found = discover(root, excludes, frozenset(own_outputs))
        inputs = {f"repo:{entry.path}": signature(root / entry.path) for entry in found.files}
        searched = [config] if config is not None else _config_candidates(root)
        inputs.update((f"file:{path}", signature(path)) for path in searched)
        git_dir = _git_dir(found.git_root) if found.git_root is not None else None
        if git_dir is not None:
            inputs.update((f"file:{path}", signature(path)) for path in _git_files(git_dir))
        return cls(cache_dir, key, inputs, git_dir)

    def recorded(self) -> Recording | None:
        """The earlier scan's outputs, when every input it recorded is unchanged."""
        try:
            data = json.loads(self.entry.read_text(encoding="utf-8"))
            if data["format"] != _FORMAT:
                return None
            recorded = {name: _signature_of(value) for name, value in data["inputs"].items()}
            repository = {name for name in recorded if name.startswith("repo:")}
            if repository != {name for name in self.inputs if name.startswith("repo:")}:
                return None  # a file added or removed
            for name, expected in recorded.items():
                now = self.inputs[name] if name in self.inputs else signature(name.removeprefix("file:"))
                if now != expected:
                    return None
            return Recording(tuple(Emitted(e["target"], e["text"], e["color"]) for e in data["emitted"]),
                             tuple(data["diagnostics"]), int(data["exit_code"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no entry, or one this version cannot read: scan

    def record(self, recording: Recording, used: Iterable[Path]) -> None:
        """Keep this scan for the next identical one. `used`: the policy, rule and baseline files it read; a
        directory stands for itself, its subdirectories (a file added changes their mtime) and its files."""
        inputs = dict(self.inputs)
        inputs.update((f"file:{path}", signature(path)) for path in _expanded(used))
        newest = max((s[1] for s in inputs.values() if s is not None), default=0)
        if newest >= (self.started - RACY_SECONDS) * 1e9:
            return  # changed just before the scan: the clock may not show the next change
        data = {
            "format": _FORMAT,
            "inputs": {name: list(value) if value else None for name, value in sorted(inputs.items())},
            "emitted": [{"target": e.target, "text": e.text, "color": e.color} for e in recording.emitted],
            "diagnostics": list(recording.diagnostics),
            "exit_code": recording.exit_code,
        }
        from pfa_policy.engine.cache import write_json_atomically

        try:
            write_json_atomically(self.entry, data)
            _prune(self.entry.parent)
        except OSError:
            pass  # a read-only or full cache costs the next scan its shortcut, nothing else


def _expanded(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        yield path
        if path.is_dir():
            for directory, _, files in os.walk(path):
                yield Path(directory)
                yield from (Path(directory, name) for name in files)


def _signature_of(value: Any) -> Signature:
    return None if value is None else (int(value[0]), int(value[1]), int(value[2]), int(value[3]))


def _config_candidates(root: Path) -> list[Path]:
    """Where the configuration search (layers.discover) looks: each directory from the root up to the one
    holding `.git`, else up to the file-system root."""
    candidates: list[Path] = []
    for directory in (root, *root.parents):
        candidates.extend(directory / name for name in _CONFIG_NAMES)
        if (directory / ".git").exists():
            break
    return candidates


def _git_dir(work_tree: Path) -> Path | None:
    """The git directory of a work tree: `.git`, or where a worktree's `.git` file points."""
    dot_git = work_tree / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        pointer = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not pointer.startswith("gitdir:"):
        return None
    return (work_tree / pointer.removeprefix("gitdir:").strip()).resolve()


def _git_files(git_dir: Path) -> list[Path]:
    """What the commit, branch and remote of SARIF's provenance come from."""
    common = git_dir
    with contextlib.suppress(OSError):  # a linked worktree names the repository's own directory
        common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    files = [git_dir / "HEAD", git_dir / "config", common / "config", common / "packed-refs"]
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return files
    if head.startswith("ref:"):
        files.append(common / head.removeprefix("ref:").strip())
    return files


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for stale in entries[KEPT_ENTRIES:]:
        stale.unlink(missing_ok=True)
