"""Repository-level results kept between runs, like a build system keeps outputs: with the files they read.

Repository rules judge the tree's repository view (every file's path, size, scope and kinds, and the facts the
file checks found) and whatever file texts their predicates read through `RepoContext.read_text`. An entry is
keyed by the rules, their parameters, the engine's source and that view, and records a digest of each text read;
it is used only while every one of those texts still has its digest. A warm scan of an unchanged tree then
runs no repository predicate (nor imports them). Like the other caches, entries are JSON checked on load: a bad
one reads as "no entry".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pfa_policy.engine.cache import fact_to_list, hit_of_plain, hit_to_plain, write_json_atomically
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.repository import RepoContext
from pfa_policy.model import Coverage, Hit
from pfa_policy.policy import EffectivePolicy

_FORMAT = 1
RepositoryHits = list[tuple[str, str, Hit]]


class RecordingReader:
    """Reads through `read` and remembers the digest of every text it handed out."""

    def __init__(self, read: Callable[[str], str]) -> None:
        self._read = read
        self.digests: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        text = self._read(path)
        self.digests[path] = _digest(text)
        return text


def memo_key(catalog: Catalog, policy: EffectivePolicy, plan_digest: str, context: RepoContext) -> str:
    """The rules (definitions, targets, scopes, parameters; `plan_digest` holds the engine's source) and the
    repository view they judge."""
    rules = [[rule_id, catalog.rules[rule_id].match, sorted(catalog.rules[rule_id].targets),
              sorted(catalog.rules[rule_id].scopes or ()), policy.params.get(rule_id, {})]
             for rule_id in policy.rule_ids]
    view = [[f.path, f.size, f.scope, sorted(f.kinds)] for f in context.files]
    facts = [fact_to_list(f) for f in context.facts]
    text = json.dumps([_FORMAT, plan_digest, rules, view, facts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load(directory: Path, key: str, read: Callable[[str], str]) -> tuple[RepositoryHits, Coverage] | None:
    """The kept hits and coverage, if every text they were computed from is unchanged."""
    try:
        raw: Any = json.loads(_entry(directory, key).read_text(encoding="utf-8"))
        if raw.get("key") != key:
            return None
        if any(_digest(read(str(path))) != digest for path, digest in raw["reads"].items()):
            return None
        hits = [(str(rule_id), str(path), hit_of_plain(hit)) for rule_id, path, hit in raw["hits"]]
        covered = Coverage(frozenset(str(r) for r in raw["applicable"]), bool(raw["artefacts"]))
        return hits, covered
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, truncated or tampered: the rules run again


def save(directory: Path, key: str, hits: RepositoryHits, covered: Coverage, reads: dict[str, str]) -> None:
    write_json_atomically(_entry(directory, key), {
        "key": key,
        "reads": dict(sorted(reads.items())),
        "hits": [[rule_id, path, hit_to_plain(hit)] for rule_id, path, hit in hits],
        "applicable": sorted(covered.applicable),
        "artefacts": covered.artefacts,
    })


def _entry(directory: Path, key: str) -> Path:
    return directory / "repository" / f"{key}.json"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

