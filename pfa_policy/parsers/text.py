"""Bytes to text for every scanned file: binary detection, encodings and newline normalisation."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass

from pfa_policy.model import ParseError

# Git's own heuristic: a NUL byte near the start means binary.
BINARY_PROBE_BYTES = 8192

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


class BinaryFileError(ParseError):
    def __init__(self) -> None:
        super().__init__("binary file")


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str  # newlines normalised to "\n"
    encoding: str  # a Python codec name: "utf-8", "utf-8-sig" (a BOM was stripped), "iso-8859-1" ...
    warning: str | None = None


def decode_source(data: bytes, *, python: bool) -> DecodedText:
    """Decode a file; text never fails, falling back to Latin-1 (which accepts any byte) with a warning."""
    if b"\x00" in data[:BINARY_PROBE_BYTES]:
        raise BinaryFileError()
    default = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    encoding = default
    warning: str | None = None
    if python:
        try:
            # The cookie must be on line 1 or 2; detect_encoding only splits lines on "\n".
            encoding, _ = tokenize.detect_encoding(io.BytesIO(_LINE_BREAK.sub(b"\n", data[:2048])).readline)
        except SyntaxError as exc:
            # An unknown codec or a cookie contradicting the BOM; a first line that is not UTF-8 (with no
            # cookie) also lands here and is reported by the UTF-8 attempt below.
            if not exc.msg.startswith("invalid or missing"):
                warning = f"ignored the coding cookie ({exc.msg})"
    try:
        text, encoding, warning = _decode(data, encoding, warning)
    except LookupError:  # a codec that does not turn bytes into text, e.g. "rot13"
        warning = f"ignored the coding cookie ({encoding} is not a text encoding)"
        text, encoding, warning = _decode(data, default, warning)
    return DecodedText(text.replace("\r\n", "\n").replace("\r", "\n"), encoding, warning)


def _decode(data: bytes, encoding: str, warning: str | None) -> tuple[str, str, str | None]:
    """Decode with `encoding`, else as Latin-1 with a warning saying where the first bad byte is."""
    try:
        return data.decode(encoding), encoding, warning
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        fallback = f"not valid {name} (first bad byte at line {line}, column {column}); decoded as Latin-1"
        return data.decode("iso-8859-1"), "iso-8859-1", f"{warning}; {fallback}" if warning else fallback


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and byte column of `offset`, counting any kind of line break."""
    breaks = list(_LINE_BREAK.finditer(data, 0, offset))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, offset - line_start + 1
