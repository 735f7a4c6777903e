"""Inline suppressions: `# pfa-policy: ignore[RULE-ID, ...] reason` on the line or on comment lines above it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = "pfa-policy:"
_COMMENT = re.compile(r"#\s*pfa-policy:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class InlineSuppression:
    line: int  # where the comment is
    applies_to: int  # the code line it silences
    rule_ids: tuple[str, ...]
    reason: str


def find_suppressions(text: str) -> tuple[InlineSuppression, ...]:
    if _MARKER not in text:
        return ()
    lines = text.split("\n")
    found = []
    for number, line in enumerate(lines, start=1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        rule_ids = tuple(part.strip() for part in match.group(1).split(",") if part.strip())
        reason = match.group(2).strip().rstrip('",').strip()  # notebooks keep comments inside JSON strings
        reason = reason.removesuffix("\\n").strip()
        target = number
        if _comment_only(line):
            target = _next_code_line(lines, number)
        found.append(InlineSuppression(number, target, rule_ids, reason))
    return tuple(found)


def _comment_only(line: str) -> bool:
    stripped = line.strip().lstrip('"').lstrip()
    return stripped.startswith("#")


def _next_code_line(lines: list[str], number: int) -> int:
    for following in range(number, len(lines)):
        if lines[following].strip() and not _comment_only(lines[following]):
            return following + 1
    return number
