"""Regular expressions that backtrack exponentially, found before a rule is used.

Python's `re` backtracks: `(a+)+$` against 30 `a`s and a `b` tries every way to split the `a`s among the
group's iterations, 2**30 of them. The shape behind it is a repeated part whose every iteration can be taken
by a repetition inside it (`(a+)+`, `(a*)*`, `(\\w+\\s?)*`, `(?:x|y+)+`): then the inner and the outer repetition
share the input in exponentially many ways. A repetition separated by something required (`(\\d+\\.)+`,
`(?:\\s*,\\s*\\w+)*`) is not that shape and is accepted. Other slow patterns (overlapping alternatives such as
`(a|aa)+`) are not caught here; the per-file time budget stops those and names the rule that was running.
"""

from __future__ import annotations

import re

# The parser `re` itself compiles from (private, but stable in shape since Python 3.11).
from re import _constants as constants
from re import _parser as parser
from typing import TYPE_CHECKING, Any

from pfa_policy.lazy import lazy_module

if TYPE_CHECKING:
    import jsonschema
else:
    jsonschema = lazy_module("jsonschema")  # executed on first use: a warm scan validates no schema


# Possessive repeats and atomic groups never give back what they matched: nothing to backtrack into.
_BACKTRACKING_REPEATS = (constants.MAX_REPEAT, constants.MIN_REPEAT)
_REPEATS = (*_BACKTRACKING_REPEATS, constants.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (constants.AT, constants.ASSERT, constants.ASSERT_NOT)


def exponential_risk(pattern: str) -> str | None:
    """Why `pattern` can take exponential time on a line that does not match, or None when it cannot
    (by this check). A pattern that does not compile is not judged here."""
    try:
        tree = parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    if _nested_repeat(list(tree)):
        return ("it repeats a part whose every iteration can be taken by a repetition inside it (like `(a+)+` "
                "or `(\\w+\\s?)*`), so a long line that does not match backtracks exponentially; repeat the inner "
                "part only, or separate the iterations by something they must match")
    return None


def _nested_repeat(items: list[tuple[Any, Any]]) -> bool:
    for op, value in items:
        if op in _BACKTRACKING_REPEATS and value[1] != 1 and _taken_by_repeat(list(value[2])):
            return True
        if any(_nested_repeat(inner) for inner in _children(op, value)):
            return True
    return False


def _children(op: Any, value: Any) -> list[list[tuple[Any, Any]]]:
    """The sub-sequences inside a repeat, group, alternation or assertion (not an atomic group's)."""
    if op in _BACKTRACKING_REPEATS:
        return [list(value[2])]
    if op == constants.SUBPATTERN:
        return [list(value[-1])]
    if op == constants.BRANCH:
        return [list(branch) for branch in value[1]]
    if op in (constants.ASSERT, constants.ASSERT_NOT):
        return [list(value[1])]
    return []


def _taken_by_repeat(items: list[tuple[Any, Any]]) -> bool:
    """Whether a sequence can be matched by one unbounded repetition in it alone, the rest matching nothing:
    its only required part is such a repetition, or nothing is required and one of its parts is."""
    required = [(op, value) for op, value in items if not _can_be_empty(op, value)]
    if len(required) > 1:
        return False
    return any(_repeat_like(op, value) for op, value in (required or items))


def _repeat_like(op: Any, value: Any) -> bool:
    if _unbounded(op, value):
        return True
    if op == constants.SUBPATTERN:
        return _taken_by_repeat(list(value[-1]))
    if op == constants.BRANCH:
        return any(_taken_by_repeat(list(branch)) for branch in value[1])
    if op in _BACKTRACKING_REPEATS and value[1] == 1:  # `(?:x+)?`
        return _taken_by_repeat(list(value[2]))
    return False


def _unbounded(op: Any, value: Any) -> bool:
    return op in _BACKTRACKING_REPEATS and value[1] == constants.MAXREPEAT


def _can_be_empty(op: Any, value: Any) -> bool:
    if op in _ZERO_WIDTH:
        return True
    if op in _REPEATS:
        return value[0] == 0 or all(_can_be_empty(*item) for item in value[2])
    if op == constants.SUBPATTERN:
        return all(_can_be_empty(*item) for item in value[-1])
    if op == constants.BRANCH:
        return any(all(_can_be_empty(*item) for item in branch) for branch in value[1])
    return False


def format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks, its `regex` also refusing patterns that backtrack exponentially; the error's
    cause says why."""
    checker = jsonschema.FormatChecker()
    checker.checks("regex", raises=(re.error, ValueError, OverflowError))(_safe_regex)  # a{1,99999999999}
    return checker


def _safe_regex(value: object) -> bool:
    if isinstance(value, str):
        re.compile(value)
        risk = exponential_risk(value)
        if risk is not None:
            raise ValueError(risk)
    return True


def format_problem(error: jsonschema.ValidationError) -> str | None:
    """`'(a+)+$' is not a valid regex: <why>` for a failed format check that has a cause."""
    if error.validator != "format" or error.cause is None:
        return None
    return f"{error.instance!r} is not a valid {error.validator_value}: {error.cause}"
