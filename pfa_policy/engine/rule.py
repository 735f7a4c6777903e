"""The in-memory form of a rule file, after schema validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pfa_policy.model import Severity

# Kinds whose files hold Python code.
PYTHON_KINDS = frozenset({"python", "notebook"})


@dataclass(frozen=True, slots=True)
class Docs:
    what: str
    why: str
    example: str
    instead: str


@dataclass(frozen=True, slots=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Example:
    path: str
    code: str
    lines: tuple[int, ...]
    files: tuple[tuple[str, str], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    pillar: str
    severity: Severity
    targets: frozenset[str]
    scopes: frozenset[str]
    message: str
    fix: str
    docs: Docs
    match: Mapping[str, Any]
    confidence: str = "high"
    security_severity: float | None = None
    tags: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)  # the defaults
    params_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> its JSON schema
    invalid_examples: tuple[Example, ...] = ()
    valid_examples: tuple[Example, ...] = ()
    source: str = ""

    @property
    def match_type(self) -> str:
        return next(iter(self.match))

    @property
    def is_repository_rule(self) -> bool:
        return self.match_type == "repository"

    @property
    def is_security(self) -> bool:
        return self.security_severity is not None

    def render_message(self, values: Mapping[str, str], params: Mapping[str, Any]) -> str:
        merged: dict[str, str] = {f"param.{k}": _param_text(v) for k, v in params.items()}
        merged.update(values)
        # A plain substitution, not str.format: placeholders hold dots and an unknown one stays visible.
        return _PLACEHOLDER.sub(lambda m: merged.get(m.group(1), m.group(0)), self.message)


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def placeholders(message: str) -> list[str]:
    """The `{name}` placeholders of a message, in order (other braces are text)."""
    return _PLACEHOLDER.findall(message)


def _param_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class FactDefinition:
    """A named fact that files contribute to repository-level rules."""

    name: str
    description: str
    targets: frozenset[str]
    match: Mapping[str, Any]  # the same vocabulary as a rule's match, minus 'repository'
    files: tuple[str, ...] = ()
    source: str = ""
