"""Repository-level rules: conditions over the files present and the facts other files contributed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfa_policy.engine.globs import path_matches
from pfa_policy.model import FILE_START, REPOSITORY_ANCHOR, FactOccurrence, Hit

if TYPE_CHECKING:
    from pfa_policy.engine.loader import RepositoryMatch

# Where an absence finding points when nothing more relevant exists, in order of preference.
_FALLBACK_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "README.md", "README.rst",
                   "Dockerfile")


@dataclass(frozen=True, slots=True)
class RepoFile:
    path: str
    size: int
    scope: str
    kinds: frozenset[str]


@dataclass
class RepoContext:
    """What repository-level rules and predicates may look at. Files are read only on demand."""

    root: Path
    files: tuple[RepoFile, ...]
    facts: tuple[FactOccurrence, ...]
    _by_name: dict[str, list[FactOccurrence]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for occurrence in self.facts:
            self._by_name.setdefault(occurrence.name, []).append(occurrence)

    def occurrences(self, name: str, scopes: Iterable[str] | None = None) -> list[FactOccurrence]:
        found = self._by_name.get(name, [])
        if scopes is None:
            return found
        allowed = frozenset(scopes)
        return [o for o in found if o.scope in allowed]

    def files_matching(self, globs: Iterable[str]) -> list[RepoFile]:
        patterns = tuple(globs)
        return [f for f in self.files if path_matches(f.path, patterns)]

    def files_of_kind(self, kind: str) -> list[RepoFile]:
        return [f for f in self.files if kind in f.kinds]

    def read_text(self, path: str) -> str:
        try:
            return (self.root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def fallback_file(self) -> str:
        present = {f.path for f in self.files}
        for candidate in _FALLBACK_FILES:
            if candidate in present:
                return candidate
        return self.files[0].path if self.files else ""


# A repository predicate yields (path, hit) pairs.
RepositoryPredicate = Callable[[RepoContext, Mapping[str, Any], frozenset[str]], Iterator[tuple[str, Hit]]]


def evaluate(match: RepositoryMatch, scopes: frozenset[str], context: RepoContext, params: Mapping[str, Any],
             predicates: Mapping[str, RepositoryPredicate]) -> Iterator[tuple[str, Hit]]:
    looked_for: list[str] = []
    for condition in match.require:
        if not _holds(condition, scopes, context, looked_for):
            return
    if match.predicate:
        yield from predicates[match.predicate](context, params, scopes)
        return
    values = (("looked_for", ", ".join(looked_for)),) if looked_for else ()
    if match.report_fact:
        for occurrence in context.occurrences(match.report_fact, scopes):
            anchor = f"fact:{occurrence.name}:{occurrence.value}"
            yield occurrence.path, Hit(occurrence.span, (*values, ("name", occurrence.value)), anchor)
        return
    for candidate in match.report_files:
        matching = context.files_matching([candidate])
        if matching:
            yield matching[0].path, Hit(FILE_START, values, REPOSITORY_ANCHOR)
            return
    fallback = context.fallback_file()
    if fallback:
        yield fallback, Hit(FILE_START, values, REPOSITORY_ANCHOR)


def _holds(condition: Mapping[str, Any], scopes: frozenset[str], context: RepoContext,
           looked_for: list[str]) -> bool:
    condition_scopes = frozenset(condition.get("scopes", scopes))
    if "fact" in condition:
        return bool(context.occurrences(condition["fact"], condition_scopes))
    if "no_fact" in condition:
        return not context.occurrences(condition["no_fact"], condition_scopes)
    if "files" in condition:
        return bool(context.files_matching(condition["files"]))
    looked_for.extend(condition["no_files"])
    return not context.files_matching(condition["no_files"])
