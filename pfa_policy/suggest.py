"""'Did you mean ...?' for a mistyped rule id, name or choice."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest choice, or '' when none is close. A number written with other
    zero padding is the same number: PFA-AI-01 and PFA-AI-1 mean PFA-AI-001."""
    options = list(choices)
    close = _same_number(word, options) or difflib.get_close_matches(word, options, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _same_number(word: str, choices: list[str]) -> list[str]:
    prefix, _, number = word.rpartition("-")
    if not number.isdigit():
        return []
    return [c for c in choices if c.rpartition("-")[0] == prefix and c.rpartition("-")[2].isdigit()
            and int(c.rpartition("-")[2]) == int(number)][:1]
