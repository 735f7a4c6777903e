"""Repository-level rules: conditions over the files present and the facts other files contributed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfa_policy.engine.globs import path_matches
from pfa_policy.model import FILE_START, REPOSITORY_ANCHOR, FactOccurrence, Hit
from pfa_policy.parsers.tree import Document
from pfa_policy.parsers.yaml_doc import parse_yaml

if TYPE_CHECKING:
    from pfa_policy.engine.loader import RepositoryMatch

# Where a finding about the repository as a whole points: the first of these at the root.
_ROOT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "README.md", "README.rst", "README.txt",
               "README", "Dockerfile")
# A project template's files (cookiecutter / copier placeholders, a templates directory) describe other projects.
_TEMPLATE = re.compile(r"\{\{|\{%|(?:^|/)_?templates?/")


@dataclass(frozen=True, slots=True)
class RepoFile:
    path: str
    size: int
    scope: str
    kinds: frozenset[str]

    @property
    def name(self) -> str:
        """The file name: repository predicates ask it of every file, so no PurePosixPath per file."""
        return self.path.rpartition("/")[2]

    @property
    def directory(self) -> str:
        """The directory the file is in ("" at the root)."""
        return self.path.rpartition("/")[0]


@dataclass
class RepoContext:
    """What repository-level rules and predicates may look at. Files are read only on demand."""

    root: Path
    files: tuple[RepoFile, ...]
    facts: tuple[FactOccurrence, ...]
    # How a file's text is read: from `root` by default; a merge-base context reads the base's blobs.
    reader: Callable[[str], str] | None = None
    _by_name: dict[str, list[FactOccurrence]] = field(default_factory=dict)
    _matching: dict[tuple[str, ...], list[RepoFile]] = field(default_factory=dict)
    _by_directory: dict[str, list[RepoFile]] | None = None

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
        found = self._matching.get(patterns)
        if found is None:  # many rules ask for the same globs; each answer costs a pass over every file
            found = self._matching[patterns] = [f for f in self.files if path_matches(f.path, patterns)]
        return found

    def files_in(self, directory: str) -> list[RepoFile]:
        """The files directly in `directory` ("" for the root)."""
        if self._by_directory is None:
            self._by_directory = {}
            for repo_file in self.files:
                self._by_directory.setdefault(repo_file.directory, []).append(repo_file)
        return self._by_directory.get(directory, [])

    def files_of_kind(self, kind: str) -> list[RepoFile]:
        return [f for f in self.files if kind in f.kinds]

    def has_kinds(self, kinds: frozenset[str], scopes: frozenset[str]) -> bool:
        """Whether a file in one of the scopes is of one of the kinds."""
        return any(f.scope in scopes and not kinds.isdisjoint(f.kinds) for f in self.files)

    def read_text(self, path: str) -> str:
        return self.reader(path) if self.reader is not None else read_text(self.root, path)

    def root_file(self) -> str:
        """Where a finding about the repository as a whole points: the root manifest or README; without one, the
        least nested production file outside project templates (any file, failing that)."""
        at_root = {f.path for f in self.files_in("")}
        for candidate in _ROOT_FILES:
            if candidate in at_root:
                return candidate
        ranked = sorted(self.files, key=lambda f: (_TEMPLATE.search(f.path) is not None, f.scope != "production",
                                                   f.path.count("/"), f.path))
        return ranked[0].path if ranked else ""


@lru_cache(maxsize=4096)
def yaml_documents(text: str) -> tuple[Document, ...]:
    """YAML documents of a file a repository predicate reads. Several predicates, and the head and merge-base
    views of a diff scan, read the same manifests: each text is parsed once. Callers must not modify them."""
    return tuple(parse_yaml(text))


def read_text(root: Path, path: str) -> str:
    try:
        return (root / path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# A repository predicate yields (path, hit) pairs.
RepositoryPredicate = Callable[[RepoContext, Mapping[str, Any], frozenset[str]], Iterator[tuple[str, Hit]]]
# Whether a repository predicate has something to judge: its precondition, without the judgement.
RepositoryApplies = Callable[[RepoContext, Mapping[str, Any], frozenset[str]], bool]


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
        occurrences = context.occurrences(match.report_fact, scopes)
        for occurrence in _one_per_module(occurrences) if match.report_per_module else occurrences:
            anchor = f"fact:{occurrence.name}:{occurrence.value}"
            yield occurrence.path, Hit(occurrence.span, (*values, ("name", occurrence.value)), anchor)
        return
    anchor = context.root_file()
    if anchor:
        yield anchor, Hit(FILE_START, values, REPOSITORY_ANCHOR)


def _one_per_module(occurrences: list[FactOccurrence]) -> list[FactOccurrence]:
    """One occurrence per Python module, its first: a module serves one app however many ways it says so (a
    FastAPI app and the `@serve.deployment` class that ingresses it, a KServe model class and its Ray Serve
    decorator). Manifests keep every occurrence: each document there is a workload of its own."""
    seen: set[str] = set()
    kept = []
    for occurrence in sorted(occurrences, key=lambda o: (o.path, o.span.line, o.span.column)):
        if occurrence.path.endswith((".py", ".ipynb")):
            if occurrence.path in seen:
                continue
            seen.add(occurrence.path)
        kept.append(occurrence)
    return kept


def applies(match: RepositoryMatch, scopes: frozenset[str], context: RepoContext, params: Mapping[str, Any],
            preconditions: Mapping[str, RepositoryApplies]) -> bool:
    """Whether the repository gives the rule something to judge: its `fact` and `files` conditions hold (what
    it is about is there; the `no_` conditions are the judgement), and its predicate's precondition."""
    positive = [c for c in match.require if "fact" in c or "files" in c]
    if not all(_holds(c, scopes, context, []) for c in positive):
        return False
    return not match.predicate or preconditions[match.predicate](context, params, scopes)


def _holds(condition: Mapping[str, Any], scopes: frozenset[str], context: RepoContext,
           looked_for: list[str]) -> bool:
    condition_scopes = frozenset(condition.get("scopes", scopes))
    if "fact" in condition:
        return bool(context.occurrences(condition["fact"], condition_scopes))
    if "no_fact" in condition:
        found = context.occurrences(condition["no_fact"], condition_scopes)
        if "except_files" in condition:  # evidence these files give does not count (dev / test requirements)
            found = [o for o in found if not path_matches(o.path, condition["except_files"])]
        ignored_when = condition.get("ignored_when")
        if found and ignored_when and not context.occurrences(ignored_when["fact"], condition_scopes) \
                and context.occurrences(ignored_when["fact"], frozenset(ignored_when["scopes"])):
            # the evidence is for those scopes only: a library declared for the tests that only tests import
            found = []
        return not found
    if "files" in condition:
        return bool(context.files_matching(condition["files"]))
    looked_for.extend(condition["no_files"])
    return not context.files_matching(condition["no_files"])
