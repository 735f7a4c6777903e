"""Colour and width decisions of the text report, as ruff and most CLIs make them."""

from __future__ import annotations

import pytest

from pfa_policy.terminal import text_width, use_color


@pytest.mark.parametrize(("choice", "to_terminal", "environ", "to_file", "expected"), [
    ("auto", True, {}, False, True),
    ("auto", False, {}, False, False),
    ("auto", True, {"NO_COLOR": "1"}, False, False),
    ("auto", True, {"NO_COLOR": ""}, False, True),  # an empty value does not count (no-color.org)
    ("auto", False, {"FORCE_COLOR": "1"}, False, True),
    ("auto", False, {"FORCE_COLOR": ""}, False, False),
    ("auto", False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ("auto", True, {"FORCE_COLOR": "1"}, True, False),  # never into an --output file by itself
    ("always", False, {"NO_COLOR": "1"}, True, True),
    ("never", True, {"FORCE_COLOR": "1"}, False, False),
])
def test_use_color(choice: str, to_terminal: bool, environ: dict[str, str], to_file: bool, expected: bool) -> None:
    assert use_color(choice, to_terminal, environ, to_file) is expected


def test_text_width() -> None:
    assert text_width(False, {}) is None
    assert text_width(False, {"COLUMNS": "72"}) == 72
    assert text_width(False, {"COLUMNS": "wide"}) is None
    assert text_width(False, {"COLUMNS": "0"}) is None
