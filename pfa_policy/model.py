"""Plain, frozen data shared by every part of the engine.

Positions are 1-based lines and columns everywhere in pfa-policy; parsers convert at their boundary.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PfaError(Exception):
    """A user-facing error: bad configuration, policy or rule file. The CLI exits with code 2."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class ParseError(Exception):
    """A scanned file could not be parsed; the scan reports it and goes on."""

    def __init__(self, reason: str, line: int = 1, column: int = 1) -> None:
        self.reason = reason
        self.line = max(1, line)
        self.column = max(1, column)
        super().__init__(f"{self.line}:{self.column}: {reason}")


class Severity(enum.IntEnum):
    """Ordered so that comparisons express 'at or above'."""

    NOTE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


PILLARS: tuple[str, ...] = (
    "authentic-integrations",
    "telemetry",
    "audit-logging",
    "encryption",
    "cicd",
    "data-governance",
    "access-control",
    "operability",
)

SCOPES: tuple[str, ...] = ("production", "test", "example", "notebook", "dev", "vendored")


@dataclass(frozen=True, slots=True, order=True)
class Span:
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)
        if self.end_line == self.line and self.end_column < self.column:
            object.__setattr__(self, "end_column", self.column)


FILE_START = Span(1, 1, 1, 1)
# Seconds one file's analysis may take before its worker is stopped and the file reported (--file-timeout).
DEFAULT_FILE_TIMEOUT = 30.0
# Anchor prefix of findings about something absent from the repository; their location is only a pointer.
REPOSITORY_ANCHOR = "repository"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a finding involves (a SARIF related location), e.g. the pilot side of a parity difference."""

    path: str
    span: Span
    message: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """What a matcher found in one file, before the engine turns it into a finding."""

    span: Span
    values: tuple[tuple[str, str], ...] = ()
    # The normalised matched code or key path: stable under line shifts, used for fingerprints.
    anchor: str = ""
    related: tuple[Related, ...] = ()


@dataclass(frozen=True, slots=True)
class Suppression:
    """A justified exception that silenced a finding: an inline comment or a policy exception."""

    kind: str  # "inSource" (comment) or "external" (policy exception)
    justification: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    path: str
    span: Span
    message: str
    severity: Severity
    anchor: str = ""
    suppression: Suppression | None = None
    related: tuple[Related, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    """A tool message that is not a finding: a file that failed to parse, an expired exception..."""

    level: str  # "error" | "warning" | "note"
    message: str
    path: str | None = None
    line: int = 1
    column: int = 1


@dataclass(frozen=True, slots=True)
class FactOccurrence:
    """A named fact one file contributes to repository-level rules, e.g. 'serving-app' at app.py:12."""

    name: str
    path: str
    scope: str
    span: Span
    value: str = ""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the scanned tree gives the selected rules to judge."""

    applicable: frozenset[str]  # the rule ids whose targets (files, facts) the tree contains
    artefacts: bool  # whether it holds any ML or production artefact (code, notebook, container, manifest...)

    @property
    def assessable(self) -> bool:
        return self.artefacts and bool(self.applicable)


@dataclass(frozen=True, slots=True)
class DiffBase:
    """What a diff-aware scan compared against."""

    ref: str  # as the user named it, e.g. origin/main
    merge_base: str  # the commit
    changed_files: int


@dataclass(frozen=True)
class ScanResult:
    root: str
    findings: tuple[Finding, ...]
    notifications: tuple[Notification, ...]
    files_scanned: int
    rule_ids: tuple[str, ...]
    extras: dict[str, object] = field(default_factory=dict)
    coverage: Coverage | None = None  # None: unknown, every selected rule counts as applicable
    diff: DiffBase | None = None  # set on diff-aware scans
    # Why the findings are only part of the tree's: "files" (given files only), "diff", "baseline".
    partial: tuple[str, ...] = ()
