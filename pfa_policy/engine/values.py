"""Conditions on literal values, shared by every matcher: equals, one_of, matches, numeric comparisons."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

# A value the matcher could not evaluate statically (a variable, a call...). No condition holds on it.
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()

VALUE_KEYS = frozenset(
    {"equals", "one_of", "matches", "not_matches", "param_one_of", "not_param_one_of", "gt", "ge", "lt", "le"}
)

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def as_text(value: object) -> str:
    """The text form a regex sees: YAML spelling for booleans and null."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class ValueCondition:
    """A compiled value condition; every given key must hold."""

    spec: Mapping[str, Any]
    regex: str | None  # compiled on first use (`_regex`): a scan answered from the cache tests no value
    not_regex: str | None

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> ValueCondition:
        return cls({k: v for k, v in spec.items() if k in VALUE_KEYS}, spec.get("matches"), spec.get("not_matches"))

    def found(self, text: str) -> re.Match[str] | None:
        """Where the `matches` regex matches `text` (None without one)."""
        return _regex(self.regex).search(text) if self.regex is not None else None

    def all_found(self, text: str) -> Iterator[re.Match[str]]:
        """Every match of the `matches` regex in `text` (none without one)."""
        return _regex(self.regex).finditer(text) if self.regex is not None else iter(())

    def holds(self, value: object, params: Mapping[str, Any]) -> bool:
        if value is UNKNOWN or isinstance(value, (dict, list)):
            return False
        spec = self.spec
        if "equals" in spec and not _equal(value, spec["equals"]):
            return False
        if "one_of" in spec and not any(_equal(value, v) for v in spec["one_of"]):
            return False
        if "param_one_of" in spec and not _in_param(value, params.get(spec["param_one_of"])):
            return False
        if "not_param_one_of" in spec and _in_param(value, params.get(spec["not_param_one_of"])):
            return False
        if self.regex is not None and not _regex(self.regex).search(as_text(value)):
            return False
        if self.not_regex is not None and _regex(self.not_regex).search(as_text(value)):
            return False
        for key, compare in _NUMERIC.items():
            if key in spec:
                number = _as_number(value)
                if number is None or not compare(number, float(spec[key])):
                    return False
        return True


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _equal(value: object, expected: object) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    return value == expected


def _in_param(value: object, allowed: object) -> bool:
    if not isinstance(allowed, (list, tuple)):
        return False
    return any(_equal(value, item) for item in allowed)
