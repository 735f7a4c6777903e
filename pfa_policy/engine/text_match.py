"""Line patterns over plain text: requirements files, generic configuration, key material in any file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pfa_policy.engine.values import ValueCondition
from pfa_policy.model import Hit, Span


@dataclass(frozen=True, slots=True)
class TextPattern:
    line: ValueCondition
    skip_comments: bool

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> TextPattern:
        return cls(ValueCondition.compile(spec["line"]), bool(spec.get("skip_comments", False)))


def match_text(patterns: tuple[TextPattern, ...], text: str, params: Mapping[str, Any]) -> Iterator[Hit]:
    lines = text.split("\n")
    for pattern in patterns:
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped or (pattern.skip_comments and stripped.startswith("#")):
                continue
            if pattern.line.holds(stripped, params):
                column = len(line) - len(line.lstrip()) + 1
                yield Hit(Span(number, column, number, len(line) + 1), (("value", stripped[:200]),),
                          f"line:{stripped[:200]}")
