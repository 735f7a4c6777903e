"""What the runner hands to workers, and what a worker hands back: plain, picklable data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pfa_policy import __version__
from pfa_policy.engine.compiled import FileMatcher
from pfa_policy.engine.suppressions import InlineSuppression
from pfa_policy.model import FactOccurrence, Hit, Notification
from pfa_policy.resources import code_digest


@dataclass(frozen=True, slots=True)
class Check:
    """A rule or a fact as a worker runs it."""

    key: str  # rule id, or "fact:<name>"
    targets: frozenset[str]
    scopes: frozenset[str] | None  # None: every scope (facts)
    params: Mapping[str, Any]
    matcher: FileMatcher
    files: tuple[str, ...] = ()  # facts only: a path glob that is itself an occurrence


@dataclass(frozen=True)
class WorkPlan:
    checks: tuple[Check, ...]
    charts: frozenset[str]
    digest: str  # identifies the rule set and parameters, for caching
    # Unused-suppression reporting needs the comments of every readable file, checked or not.
    collect_suppressions: bool = False


def plan_digest(parts: list[Any]) -> str:
    text = json.dumps([__version__, code_digest(), parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FileTask:
    path: str
    size: int
    scope: str
    # Only the facts repository rules need (an unchanged file in a diff-aware scan): no rule is run on it.
    facts_only: bool = False


@dataclass(frozen=True, slots=True)
class FileOutcome:
    path: str
    scope: str
    kinds: frozenset[str]
    hits: tuple[tuple[str, Hit], ...] = ()
    facts: tuple[FactOccurrence, ...] = ()
    notifications: tuple[Notification, ...] = ()
    suppressions: tuple[InlineSuppression, ...] = ()
