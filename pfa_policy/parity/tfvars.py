"""Terraform variable files read without an HCL library: top-level `name = value` scalars with exact positions."""

from __future__ import annotations

import re

from pfa_policy.model import Span
from pfa_policy.parity.located import Val

_TFVAR_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*(.+?)\s*$")


def parse_tfvars(path: str, text: str) -> dict[str, Val]:
    """Top-level `name = value` assignments with scalar values (strings, numbers, booleans); blocks, lists and
    expressions are left out. Positions are exact."""
    values: dict[str, Val] = {}
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0] if not line.lstrip().startswith(("#", "//")) else ""
        match = _TFVAR_LINE.match(stripped) if depth == 0 else None
        if match is not None:
            name, raw = match.groups()
            column = line.index(name) + 1
            key = Span(number, column, number, column + len(name))
            scalar = _tf_scalar(raw)
            if scalar is not None:
                values[name] = Val(scalar, path, Span(number, line.index(raw) + 1), key)
        depth += stripped.count("{") + stripped.count("[") - stripped.count("}") - stripped.count("]")
        depth = max(depth, 0)
    return values


def _tf_scalar(raw: str) -> str | bool | int | float | None:
    raw = raw.split("//", 1)[0].strip() if not raw.startswith('"') else raw
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return None
