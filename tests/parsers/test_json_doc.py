from __future__ import annotations

import base64
import json

import pytest

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.json_doc import parse_json
from pfa_policy.parsers.tree import MAX_DEPTH

DOCUMENT = """\
{
  "name": "demo",
  "values": [1, -2.5, 3e2, true, false, null],
  "nested": {"escaped": "a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00", "empty": {}},
  "list": []
}
"""


def test_values_match_the_stdlib() -> None:
    assert parse_json(DOCUMENT).to_python() == json.loads(DOCUMENT)


def test_value_and_key_positions() -> None:
    root = parse_json(DOCUMENT)
    assert root.span == Span(1, 1, 6, 2)
    name = root.get("name")
    assert name is not None
    assert name.key_span == Span(2, 3, 2, 9)
    assert name.span == Span(2, 11, 2, 17)
    values = root.get("values")
    assert values is not None
    assert values.span == Span(3, 13, 3, 46)
    assert [element.span.column for element in values.elements()] == [14, 17, 23, 28, 34, 41]
    assert list(values.elements())[2].span == Span(3, 23, 3, 26)
    nested = root.get("nested")
    assert nested is not None
    escaped = nested.get("escaped")
    assert escaped is not None
    assert escaped.key_span == Span(4, 14, 4, 23)
    assert escaped.span == Span(4, 25, 4, 54)
    assert escaped.value == 'a"b\\c\né\U0001f600'
    empty = nested.get("empty")
    assert empty is not None and empty.span == Span(4, 65, 4, 67)


def test_scalar_root_and_bom() -> None:
    root = parse_json("\ufeff  42 \n")
    assert root.value == 42
    assert root.span == Span(1, 3, 1, 5)
    assert parse_json('"x"').value == "x"


def test_duplicate_member_last_wins() -> None:
    root = parse_json('{"a": 1, "a": 2}')
    assert root.to_python() == {"a": 2}
    member = root.get("a")
    assert member is not None and member.key_span == Span(1, 10, 1, 13)


def test_nesting_up_to_the_limit_parses_and_deeper_is_refused_without_recursing() -> None:
    root = parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert sum(1 for _ in root.walk()) == MAX_DEPTH
    depth = 100_000  # far beyond Python's recursion limit: the parser must refuse it, not overflow
    with pytest.raises(ParseError) as raised:
        parse_json('{"a": ' + "[" * depth + "]" * depth + "}")
    assert (raised.value.reason, raised.value.line, raised.value.column) == (
        f"JSON nesting exceeds {MAX_DEPTH} levels", 1, 7 + MAX_DEPTH - 1)


@pytest.mark.parametrize(
    ("text", "reason", "line", "column"),
    [
        ("", "unexpected end of data", 1, 1),
        ('{\n  "a": 1\n', "unexpected end of data", 3, 1),
        ('{\n  "a": 1\n  "b": 2\n}', "expected ',' or '}'", 3, 3),
        ("[1 2]", "expected ',' or ']'", 1, 4),
        ('{"a" 1}', "expected ':'", 1, 6),
        ('{"a": 1,}', "expected a string key", 1, 9),
        ("{1: 2}", "expected a string key or '}'", 1, 2),
        ("[1,]", "expected a value", 1, 4),
        ("[}", "expected a value or ']'", 1, 2),
        ('{\n "a": "never closed\n}', "unterminated string", 2, 7),
        ('["tab\there"]', "invalid control character in string", 1, 6),
        ('["bad \\x escape"]', "invalid \\escape", 1, 7),
        ("[tru]", "unexpected character 't'", 1, 2),
        ("{} {}", "trailing data after the JSON value", 1, 4),
        ("01", "trailing data after the JSON value", 1, 2),
    ],
)
def test_errors(text: str, reason: str, line: int, column: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_json(text)
    assert caught.value.reason == reason
    assert (caught.value.line, caught.value.column) == (line, column)


def test_large_notebook_with_base64_outputs() -> None:
    payload = base64.b64encode(bytes(range(256)) * 80).decode()  # ~27 KB per image
    cells = [
        {
            "cell_type": "code",
            "source": [f"x = {index}\n", "plot(x)\n"],
            "outputs": [{"data": {"image/png": payload, "text/plain": ["<Figure>"]}}],
        }
        for index in range(200)
    ]
    text = json.dumps({"cells": cells, "nbformat": 4}, indent=1)
    assert len(text) > 5_000_000
    root = parse_json(text)
    assert root.to_python() == json.loads(text)
    cells_node = root.get("cells")
    assert cells_node is not None
    source = list(cells_node.elements())[-1].get("source")
    assert source is not None
    first_line = next(source.elements())
    expected_line = text[: text.index('"x = 199\\n"')].count("\n") + 1
    assert first_line.span == Span(expected_line, 5, expected_line, 16)
