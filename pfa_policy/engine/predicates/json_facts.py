"""Facts whose value is a JSON object: what one document says, computed and cached with its file, and joined
across the repository by a repository predicate (scaling evidence, Terraform module roles, Kubernetes exposure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pfa_policy.engine.repository import RepoContext
from pfa_policy.model import FactOccurrence, Hit, Span


def json_fact(span: Span, anchor: str, value: Mapping[str, Any]) -> Hit:
    """A fact occurrence carrying `value` (keys sorted: the same document gives the same bytes)."""
    return Hit(span, (("name", json.dumps(value, sort_keys=True)),), anchor)


def json_facts(context: RepoContext, name: str, scopes: Iterable[str] | None, key: str
               ) -> list[tuple[FactOccurrence, dict[str, Any]]]:
    """The fact's occurrences in the scopes (None: all) with their values: JSON objects holding a string `key`.
    Anything else was not written by `json_fact` and is left out."""
    found = []
    for occurrence in context.occurrences(name, scopes):
        try:
            value = json.loads(occurrence.value)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get(key), str):
            found.append((occurrence, value))
    return found
