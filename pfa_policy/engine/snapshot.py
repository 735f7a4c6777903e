"""Tree snapshots: what repository-level rules saw in a committed tree (files, kinds, facts), cached by tree id.

A full scan of a clean checkout stores one; a diff-aware scan loads the merge-base tree's and then only needs the
changed files: the head's repository view is the base's with the changed files' outcomes swapped in. Like the
per-file cache, a snapshot is JSON checked on load, never trusted: anything unexpected reads as "no snapshot".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy.engine.cache import fact_of_list, fact_to_list, write_json_atomically
from pfa_policy.engine.repository import RepoFile
from pfa_policy.model import FactOccurrence

_FORMAT = 1


@dataclass(frozen=True)
class TreeSnapshot:
    files: tuple[RepoFile, ...]
    facts: tuple[FactOccurrence, ...]
    charts: frozenset[str]

    def by_path(self) -> dict[str, RepoFile]:
        return {f.path: f for f in self.files}


def snapshot_key(plan_digest: str, scope_rules: object, excludes: tuple[str, ...], tree: str) -> str:
    """Rules, scopes and excludes decide what a snapshot holds; the tree id decides the files."""
    text = json.dumps([_FORMAT, plan_digest, repr(scope_rules), list(excludes), tree])
    return hashlib.sha256(text.encode()).hexdigest()


def _entry(directory: Path, key: str) -> Path:
    return directory / "trees" / f"{key}.json"


def save(directory: Path, key: str, snapshot: TreeSnapshot) -> None:
    write_json_atomically(_entry(directory, key), {
        "key": key,
        "files": [[f.path, f.size, f.scope, sorted(f.kinds)] for f in snapshot.files],
        "facts": [fact_to_list(f) for f in snapshot.facts],
        "charts": sorted(snapshot.charts),
    })


def load(directory: Path, key: str) -> TreeSnapshot | None:
    try:
        raw: Any = json.loads(_entry(directory, key).read_text(encoding="utf-8"))
        if raw.get("key") != key:
            return None
        files = tuple(RepoFile(str(path), int(size), str(scope), frozenset(str(k) for k in kinds))
                      for path, size, scope, kinds in raw["files"])
        facts = tuple(fact_of_list(f) for f in raw["facts"])
        return TreeSnapshot(files, facts, frozenset(str(c) for c in raw["charts"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, truncated or tampered: the caller scans instead
