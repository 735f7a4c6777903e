"""The files pfa-policy writes: checked before a scan (not after it), and never scanned themselves."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pfa_policy.model import PfaError


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pfa-policy"

def check_writable(path: Path) -> None:
    """A PfaError when a file cannot be written at `path` (missing parent directories are created later)."""
    if path.is_dir():
        raise PfaError(f"cannot write {path}: it is a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise PfaError(f"cannot write {path}: permission denied")
        return
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise PfaError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PfaError(f"cannot write {path}: permission denied in {parent}")


def inside(root: Path, paths: Iterable[Path | None]) -> frozenset[str]:
    """The root-relative POSIX form of those `paths` (files or directories) that lie below `root`."""
    found = set()
    for path in paths:
        if path is None:
            continue
        try:
            relative = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
        if relative != ".":
            found.add(relative)
    return frozenset(found)
