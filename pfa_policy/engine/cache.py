"""A content-addressed cache of per-file results, safe under concurrent runs and corruption.

An entry is keyed by the rule set (plan digest), the file's path, scope and path kind, and the SHA-256 of its
bytes: everything that decides which checks run on the file and what they see.
Entries are JSON, never pickle: a cache directory is not trusted, so a bad entry is recomputed, not loaded.
Writes go to a temporary file renamed into place, so a reader sees a whole entry or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pfa_policy.engine.plan import FileOutcome
from pfa_policy.engine.suppressions import InlineSuppression
from pfa_policy.model import FactOccurrence, Hit, Notification, Related, Span

_FORMAT = 2  # 2: hits keep their related locations


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def key(self, digest: str, path: str, scope: str, kind: str, data: bytes) -> str:
        content = hashlib.sha256(data).hexdigest()
        return hashlib.sha256(f"{_FORMAT}\0{digest}\0{path}\0{scope}\0{kind}\0{content}".encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> FileOutcome | None:
        try:
            raw = json.loads(self._entry(key).read_text(encoding="utf-8"))
            if raw.get("key") != key:
                return None
            return _outcome(raw["outcome"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, truncated or tampered: recompute

    def put(self, key: str, outcome: FileOutcome) -> None:
        write_json_atomically(self._entry(key), {"key": key, "outcome": _plain(outcome)})


def write_json_atomically(target: Path, data: Any) -> None:
    """Write to a temporary file renamed into place: a concurrent reader sees the whole file or none. A
    read-only or full disk only costs speed, so it is not an error."""
    temporary = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, separators=(",", ":"))
        os.replace(temporary, target)
    except OSError:
        if temporary:
            Path(temporary).unlink(missing_ok=True)


def span_to_list(span: Span) -> list[int]:
    return [span.line, span.column, span.end_line, span.end_column]


def hit_to_plain(hit: Hit) -> dict[str, Any]:
    return {"span": span_to_list(hit.span), "values": [list(v) for v in hit.values], "anchor": hit.anchor,
            "related": [[r.path, span_to_list(r.span), r.message] for r in hit.related]}


def fact_to_list(fact: FactOccurrence) -> list[Any]:
    return [fact.name, fact.path, fact.scope, span_to_list(fact.span), fact.value]


def fact_of_list(values: list[Any]) -> FactOccurrence:
    name, path, scope, span, value = values
    return FactOccurrence(str(name), str(path), str(scope), span_of_list(span), str(value))


def _plain(outcome: FileOutcome) -> dict[str, Any]:
    return {
        "path": outcome.path,
        "scope": outcome.scope,
        "kinds": sorted(outcome.kinds),
        "hits": [[rule_id, hit_to_plain(hit)] for rule_id, hit in outcome.hits],
        "facts": [fact_to_list(f) for f in outcome.facts],
        "notifications": [[n.level, n.message, n.path, n.line, n.column] for n in outcome.notifications],
        "suppressions": [[s.line, s.applies_to, list(s.rule_ids), s.reason] for s in outcome.suppressions],
    }


def span_of_list(values: list[int]) -> Span:
    line, column, end_line, end_column = (int(v) for v in values)
    return Span(line, column, end_line, end_column)


def hit_of_plain(raw: dict[str, Any]) -> Hit:
    values = tuple((str(k), str(v)) for k, v in raw["values"])
    related = tuple(Related(str(path), span_of_list(span), str(message)) for path, span, message in raw["related"])
    return Hit(span_of_list(raw["span"]), values, str(raw["anchor"]), related)


def _outcome(raw: dict[str, Any]) -> FileOutcome:
    return FileOutcome(
        path=str(raw["path"]),
        scope=str(raw["scope"]),
        kinds=frozenset(str(k) for k in raw["kinds"]),
        hits=tuple((str(rule_id), hit_of_plain(hit)) for rule_id, hit in raw["hits"]),
        facts=tuple(fact_of_list(f) for f in raw["facts"]),
        notifications=tuple(Notification(str(level), str(message), path, int(line), int(column))
                            for level, message, path, line, column in raw["notifications"]),
        suppressions=tuple(InlineSuppression(int(line), int(target), tuple(str(r) for r in ids), str(reason))
                           for line, target, ids, reason in raw["suppressions"]),
    )
