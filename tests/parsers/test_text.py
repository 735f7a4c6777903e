from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.model import ParseError
from pfa_policy.parsers.text import BinaryFileError, DecodedText, decode_source


def test_plain_utf8_with_mixed_newlines(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("naïve\r\nline\rlast\n".encode())
    assert decode_source(path.read_bytes(), python=False) == DecodedText("naïve\nline\nlast\n", "utf-8", None)


def test_bom_is_stripped() -> None:
    decoded = decode_source(b"\xef\xbb\xbfkey: value\n", python=False)
    assert decoded == DecodedText("key: value\n", "utf-8-sig", None)
    assert decode_source(b"\xef\xbb\xbfx = 1\n", python=True).text == "x = 1\n"


def test_latin1_fallback_reports_the_first_bad_byte() -> None:
    decoded = decode_source(b"a = 1\r\nname = 'caf\xe9'\n", python=False)
    assert decoded.text == "a = 1\nname = 'café'\n"
    assert decoded.encoding == "iso-8859-1"
    assert decoded.warning == "not valid UTF-8 (first bad byte at line 2, column 12); decoded as Latin-1"


def test_python_coding_cookie_is_honoured() -> None:
    decoded = decode_source(b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n", python=True)
    assert decoded.text.endswith("name = 'café'\n")
    assert decoded.encoding == "iso-8859-1"
    assert decoded.warning is None


def test_cookie_is_ignored_for_non_python_files() -> None:
    decoded = decode_source(b"# coding: latin-1\nx: '\xe9'\n", python=False)
    assert decoded.encoding == "iso-8859-1"
    assert decoded.warning is not None and decoded.warning.startswith("not valid UTF-8 (first bad byte at line 2")


def test_cookie_with_carriage_return_newlines() -> None:
    decoded = decode_source(b"# coding: cp1252\rs = '\x80'\r", python=True)
    assert decoded == DecodedText("# coding: cp1252\ns = '€'\n", "cp1252", None)


@pytest.mark.parametrize(
    ("data", "warning"),
    [
        (b"# coding: no-such-codec\nx = 1\n", "ignored the coding cookie (unknown encoding: no-such-codec)"),
        (b"# coding: rot13\nx = 1\n", "ignored the coding cookie (rot13 is not a text encoding)"),
    ],
)
def test_unusable_cookie_falls_back_with_a_warning(data: bytes, warning: str) -> None:
    decoded = decode_source(data, python=True)
    assert decoded.text == data.decode()
    assert decoded.encoding == "utf-8"
    assert decoded.warning == warning


def test_unknown_cookie_then_bad_bytes_combines_warnings() -> None:
    decoded = decode_source(b"# coding: bogus\nx = '\xff'\n", python=True)
    assert decoded.encoding == "iso-8859-1"
    assert decoded.warning == (
        "ignored the coding cookie (unknown encoding: bogus); "
        "not valid UTF-8 (first bad byte at line 2, column 6); decoded as Latin-1"
    )


def test_non_utf8_first_line_without_cookie() -> None:
    decoded = decode_source(b"# caf\xe9\nx = 1\n", python=True)
    assert decoded.encoding == "iso-8859-1"
    assert decoded.warning == "not valid UTF-8 (first bad byte at line 1, column 6); decoded as Latin-1"


def test_binary_files(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(BinaryFileError) as caught:
        decode_source(path.read_bytes(), python=False)
    assert isinstance(caught.value, ParseError)
    assert caught.value.reason == "binary file"


def test_nul_after_the_probe_is_not_binary() -> None:
    data = b"x" * 9000 + b"\x00"
    assert decode_source(data, python=False).text == "x" * 9000 + "\x00"
