"""A small JSON parser that records positions: the stdlib json module gives none.

A compiled regex tokenizer does the character work in C; the parser itself is an explicit-stack loop, so deep
nesting cannot hit Python's recursion limit; documents deeper than MAX_DEPTH are refused all the same, because
the matchers that walk the tree are recursive. Spans are 1-based with an exclusive end column.
Speed (one core of the development machine): a 4.9 MB notebook with large base64 outputs parses in ~0.03 s.
"""

from __future__ import annotations

import gc
import json
import re

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.tree import MAX_DEPTH, Node, Scalar

# One token after optional whitespace. Groups: 1 whitespace, 2 string body, 3 number, 4 literal, 5 punctuation.
# The string alternative refuses raw control characters, as JSON does; the unrolled form is linear even
# on multi-megabyte base64 strings.
_TOKEN = re.compile(
    r'([ \t\n\r]*)(?:"([^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*)"'
    r"|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(true|false|null)"
    r"|([{}\[\],:]))"
)
_SPACE = re.compile(r"[ \t\n\r]*")
_LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None}

# What the parser expects next; the first two are the states that accept a value.
_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON, _COMMA_OR_CLOSE = range(6)


def parse_json(text: str) -> Node:
    """Parse one JSON value; every Node has its span, and object members their key_span."""
    text = text.removeprefix("\ufeff")
    # The tree has no reference cycles, so collector passes over the growing heap are pure overhead
    # (they doubled the time on token-dense files).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Parser(text).parse()
    finally:
        if collecting:
            gc.enable()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, reason: str, offset: int) -> ParseError:
        line_start = self.text.rfind("\n", 0, offset) + 1
        return ParseError(reason, self.text.count("\n", 0, offset) + 1, offset - line_start + 1)

    def parse(self) -> Node:
        text = self.text
        match = _TOKEN.match
        find = text.find
        # Open containers with the line and column they start at; object keys waiting for their value.
        stack: list[tuple[Node, int, int]] = []
        keys: list[tuple[str, Span]] = []
        expect = _VALUE
        pos = 0
        # Tokens never contain a raw newline, so lines only advance in the whitespace before a token:
        # tracking them here is cheaper than a lookup per position.
        line, line_start = 1, 0
        while True:
            m = match(text, pos)
            if m is None:
                raise self._bad_token(pos)
            start = m.end(1)
            if start != pos and find("\n", pos, start) >= 0:
                line += text.count("\n", pos, start)
                line_start = text.rfind("\n", pos, start) + 1
            group = m.lastindex
            pos = m.end()
            column = start - line_start + 1
            end_column = pos - line_start + 1
            if group == 5:
                char = text[start]
                in_object = bool(stack) and isinstance(stack[-1][0].value, dict)
                if char in "[{" and expect <= _VALUE_OR_CLOSE:
                    if len(stack) >= MAX_DEPTH:
                        raise self.error(f"JSON nesting exceeds {MAX_DEPTH} levels", start)
                    container = Node({} if char == "{" else [], Span(line, column))
                    self._attach(container, stack, keys)
                    stack.append((container, line, column))
                    expect = _KEY_OR_CLOSE if char == "{" else _VALUE_OR_CLOSE
                elif (char == "]" and not in_object and expect in (_VALUE_OR_CLOSE, _COMMA_OR_CLOSE)) or (
                    char == "}" and in_object and expect in (_KEY_OR_CLOSE, _COMMA_OR_CLOSE)
                ):
                    container, open_line, open_column = stack.pop()
                    container.span = Span(open_line, open_column, line, end_column)
                    if not stack:
                        return self._finish(container, pos)
                    expect = _COMMA_OR_CLOSE
                elif char == "," and expect == _COMMA_OR_CLOSE:
                    expect = _KEY if in_object else _VALUE
                elif char == ":" and expect == _COLON:
                    expect = _VALUE
                else:
                    raise self._unexpected(start, expect, in_object)
                continue
            value: Scalar
            if group == 2:
                body = m.group(2)
                value = self._decode(body, start) if "\\" in body else body
                if expect in (_KEY, _KEY_OR_CLOSE):
                    keys.append((value, Span(line, column, line, end_column)))
                    expect = _COLON
                    continue
            elif group == 3:
                number = m.group(3)
                value = float(number) if ("." in number or "e" in number or "E" in number) else _integer(number)
            else:
                value = _LITERALS[m.group(4)]
            if expect > _VALUE_OR_CLOSE:
                raise self._unexpected(start, expect, bool(stack) and isinstance(stack[-1][0].value, dict))
            node = Node(value, Span(line, column, line, end_column))
            if not stack:
                return self._finish(node, pos)
            self._attach(node, stack, keys)
            expect = _COMMA_OR_CLOSE

    def _finish(self, root: Node, pos: int) -> Node:
        space = _SPACE.match(self.text, pos)
        end = space.end() if space is not None else pos
        if end != len(self.text):
            raise self.error("trailing data after the JSON value", end)
        return root

    @staticmethod
    def _attach(node: Node, stack: list[tuple[Node, int, int]], keys: list[tuple[str, Span]]) -> None:
        if not stack:
            return
        parent = stack[-1][0].value
        if isinstance(parent, dict):
            key, key_span = keys.pop()
            node.key_span = key_span
            parent[key] = node  # duplicate member names: the last wins, as with json.loads
        elif isinstance(parent, list):
            parent.append(node)

    def _decode(self, body: str, start: int) -> str:
        try:
            decoded: str = json.loads(f'"{body}"')
        except json.JSONDecodeError as exc:
            raise self.error(exc.msg.lower(), start + exc.pos) from None
        return decoded

    def _bad_token(self, pos: int) -> ParseError:
        space = _SPACE.match(self.text, pos)
        start = space.end() if space is not None else pos
        if start >= len(self.text):
            return self.error("unexpected end of data", start)
        if self.text[start] != '"':
            return self.error(f"unexpected character {self.text[start]!r}", start)
        # A string the token pattern refused: find why.
        index = start + 1
        while index < len(self.text):
            char = self.text[index]
            if char == "\\":
                index += 2
                continue
            if char == '"':
                break
            if char == "\n":
                break  # JSON strings cannot span lines: the string was never closed
            if char < " ":
                return self.error("invalid control character in string", index)
            index += 1
        return self.error("unterminated string", start)

    def _unexpected(self, start: int, expect: int, in_object: bool) -> ParseError:
        closer = "}" if in_object else "]"
        wanted = {
            _VALUE: "a value",
            _VALUE_OR_CLOSE: "a value or ']'",
            _KEY: "a string key",
            _KEY_OR_CLOSE: "a string key or '}'",
            _COLON: "':'",
            _COMMA_OR_CLOSE: f"',' or '{closer}'",
        }[expect]
        return self.error(f"expected {wanted}", start)


def _integer(number: str) -> int | float:
    try:
        return int(number)
    except ValueError:  # beyond Python's int-from-string digit limit
        return float(number)
