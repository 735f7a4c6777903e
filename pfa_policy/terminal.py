"""Colour and width of the text output, decided as ruff and most CLIs do (NO_COLOR, FORCE_COLOR, COLUMNS)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping

COLOR_CHOICES = ("auto", "always", "never")
GROUPINGS = ("file", "rule", "severity")  # how the text report groups findings


def use_color(choice: str, to_terminal: bool, environ: Mapping[str, str], to_file: bool = False) -> bool:
    """`always`/`never` win; `auto`: never into a file, not with NO_COLOR, then always with FORCE_COLOR, else on
    a terminal. (Both variables count when set to a non-empty value, as no-color.org and force-color.org say.)"""
    if choice != "auto":
        return choice == "always"
    if to_file or environ.get("NO_COLOR"):
        return False
    return bool(environ.get("FORCE_COLOR")) or to_terminal


def text_width(to_terminal: bool, environ: Mapping[str, str]) -> int | None:
    """The columns to wrap to: COLUMNS when set, else the terminal's; None (no wrapping) for pipes and files,
    so that each finding stays one line for grep."""
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return shutil.get_terminal_size().columns if to_terminal else None
