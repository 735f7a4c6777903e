"""Inline suppressions: `# pfa-policy: ignore[RULE-ID, ...] reason` on the line or on comment lines above it.

Rule ids are case-insensitive (`ignore[pfa-op-003]` is `ignore[PFA-OP-003]`); they are kept upper-case.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from pfa_policy.model import Notification
from pfa_policy.suggest import did_you_mean

_MARKER = "pfa-policy:"
# `#` comments, and `//` for Terraform (HCL has both).
_COMMENT = re.compile(r"(?:#|//)\s*pfa-policy:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$")


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
        rule_ids = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
        reason = match.group(2).strip().rstrip('",').strip()  # notebooks keep comments inside JSON strings
        reason = reason.removesuffix("\\n").strip()
        target = number
        if _comment_only(line):
            target = _next_code_line(lines, number)
        found.append(InlineSuppression(number, target, rule_ids, reason))
    return tuple(found)


def unknown_rules(known: Collection[str],
                  inline: Mapping[str, tuple[InlineSuppression, ...]]) -> Iterator[Notification]:
    """A warning for every id in a suppression that names no rule: a typo silences nothing."""
    for path, comments in inline.items():
        for comment in comments:
            for rule_id in comment.rule_ids:
                if rule_id not in known:
                    yield Notification("warning", f"unknown rule {rule_id} in suppression"
                                       f"{did_you_mean(rule_id, known)}", path, comment.line)


def _comment_only(line: str) -> bool:
    stripped = line.strip().lstrip('"').lstrip()
    return stripped.startswith(("#", "//"))


def _next_code_line(lines: list[str], number: int) -> int:
    for following in range(number, len(lines)):
        if lines[following].strip() and not _comment_only(lines[following]):
            return following + 1
    return number
