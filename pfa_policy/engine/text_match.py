"""Line patterns over plain text: requirements files, generic configuration, key material in any file."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pfa_policy.engine.placeholders import says_placeholder
from pfa_policy.engine.values import ValueCondition
from pfa_policy.model import Hit, Span

_SHOWN = 200


@dataclass(frozen=True, slots=True)
class TextPattern:
    line: ValueCondition
    skip_comments: bool
    # A line holds only when one of the `matches` regex's matches (its `secret` group when it has one) does not
    # spell a conventional placeholder (`ghp_sampleSample…`, `sk-your_key_here…`: pfa_policy.engine.placeholders).
    skip_placeholders: bool = False

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> TextPattern:
        return cls(ValueCondition.compile(spec["line"]), bool(spec.get("skip_comments", False)),
                   bool(spec.get("skip_placeholders", False)))

    def holds(self, stripped: str, params: Mapping[str, Any]) -> bool:
        if self.skip_comments and stripped.startswith("#"):
            return False
        if not self.line.holds(stripped, params):
            return False
        return not self.skip_placeholders or self.found(stripped) is not None

    def found(self, stripped: str) -> re.Match[str] | None:
        """The match a hit shows: the first one that is not a placeholder when placeholders are skipped."""
        if self.skip_placeholders:
            return next((m for m in self.line.all_found(stripped) if not says_placeholder(_credential(m))), None)
        return self.line.found(stripped)


def _credential(found: re.Match[str]) -> str:
    return (found.group("secret") if "secret" in found.re.groupindex else None) or found.group(0)


@dataclass(frozen=True, slots=True)
class _Lines:
    lines: list[str]
    numbers: dict[str, list[int]]  # each distinct non-empty stripped line -> the numbers of the lines it is


@lru_cache(maxsize=2)
def _lines(text: str) -> _Lines:
    """A file's lines by their stripped text, once per file for all its text rules (the string's hash is
    cached by Python, so every rule after the first finds it at once)."""
    lines = text.split("\n")
    numbers: dict[str, list[int]] = {}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped:
            numbers.setdefault(stripped, []).append(number)
    return _Lines(lines, numbers)


def match_text(patterns: tuple[TextPattern, ...], text: str, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Each pattern's hits in line order. A pattern is tried once per distinct line: manifests repeat lines,
    and a blanked API schema is hundreds of thousands of identical `#` lines."""
    indexed = _lines(text)
    for pattern in patterns:
        held = [number for stripped, numbers in indexed.numbers.items() if pattern.holds(stripped, params)
                for number in numbers]
        for number in sorted(held):
            line = indexed.lines[number - 1]
            stripped = line.strip()
            column = len(line) - len(line.lstrip()) + 1
            values, shown = _values(pattern.found(stripped), stripped)
            yield Hit(Span(number, column, number, len(line) + 1), values, f"line:{shown}")


def _values(found: re.Match[str] | None, line: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The line (cut at 200 characters, never through the match) and what the regex matched: its `secret`
    group when it has one, which a secret rule masks (pfa_policy.engine.masking)."""
    if found is None:
        return (("value", line[:_SHOWN]),), line[:_SHOWN]
    shown = line[:max(_SHOWN, found.end())] if found.start() < _SHOWN else line[:_SHOWN]
    return (("value", shown), ("match", _credential(found))), shown
