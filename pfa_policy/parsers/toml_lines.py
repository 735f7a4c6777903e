"""Line numbers for a TOML document, which tomllib does not give.

`tomllib` parses and validates; afterwards the text is scanned once more, knowing it is valid TOML, for the
lines of table headers (`[a.b]`, `[[a.b]]`), keys (`a.b = ...`, quoted or dotted, inline tables too) and
array elements. The result feeds a Node tree, so that a configuration error in pyproject.toml names its line
like one in YAML does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tomllib
from collections.abc import Mapping
from typing import Any

from pfa_policy.model import Span
from pfa_policy.parsers.tree import Node

KeyPath = tuple[str | int, ...]
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Malformed(Exception):
    """The text is not what valid TOML looks like here: stop and keep the lines found so far."""


def toml_lines(text: str) -> dict[KeyPath, int]:
    """The 1-based line of every table, key and array element, by key path ([[x]] elements by index)."""
    scanner = _Scanner(text)
    with contextlib.suppress(_Malformed, IndexError, tomllib.TOMLDecodeError, RecursionError):
        scanner.document()
    return scanner.lines


def toml_tree(data: Mapping[str, Any], lines: Mapping[KeyPath, int], at: KeyPath) -> Node:
    """A Node tree of `data` (the table found at key path `at`) whose keys and elements carry their lines;
    a value whose line is unknown takes its parent's. Dates and times become ISO text, as YAML keeps them."""
    return _node(data, lines, at, lines.get(at, 1))


def plain(value: Any) -> Any:
    """`value` with TOML dates and times as ISO text (what a YAML configuration holds for them)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def _node(value: Any, lines: Mapping[KeyPath, int], path: KeyPath, line: int) -> Node:
    if isinstance(value, dict):
        children: dict[str, Node] = {}
        for key, item in value.items():
            key_line = lines.get((*path, key), line)
            child = _node(item, lines, (*path, key), key_line)
            child.key_span = Span(key_line)
            children[key] = child
        return Node(children, Span(line))
    if isinstance(value, list):
        return Node([_node(item, lines, (*path, i), lines.get((*path, i), line)) for i, item in enumerate(value)],
                    Span(line))
    return Node(value, Span(line))


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}  # [[x]] tables: how many elements so far

    def document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if self.i >= len(self.text):
                return
            line = self.line
            if self.text.startswith("[[", self.i):
                self._advance(2)
                keys = self._keys()
                self._expect("]]")
                table = self._array_table(keys, line)
            elif self.text.startswith("[", self.i):
                self._advance(1)
                keys = self._keys()
                self._expect("]")
                table = self._resolve(keys, line)
            else:
                self._key_value(table)

    def _resolve(self, keys: list[str], line: int) -> KeyPath:
        """A header's key path, with the current element's index after every [[array]] it passes through; a
        table first met in a header ([tool.x.y] without [tool.x]) takes that header's line."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            self.lines.setdefault(path, line)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def _array_table(self, keys: list[str], line: int) -> KeyPath:
        path = (*self._resolve(keys[:-1], line), keys[-1])
        self.lines.setdefault(path, line)
        index = self.arrays.get(path, 0)
        self.arrays[path] = index + 1
        element = (*path, index)
        self.lines[element] = line
        return element

    def _key_value(self, table: KeyPath) -> None:
        line = self.line
        path = table
        for key in self._keys():
            path = (*path, key)
            self.lines.setdefault(path, line)
        self._expect("=")
        self._skip(newlines=False)
        self._value(path)

    def _keys(self) -> list[str]:
        """A dotted key: bare, "basic" or 'literal' parts, spaces around the dots."""
        keys = []
        while True:
            self._skip(newlines=False)
            keys.append(self._simple_key())
            self._skip(newlines=False)
            if not self.text.startswith(".", self.i):
                return keys
            self._advance(1)

    def _simple_key(self) -> str:
        start = self.i
        if self.text.startswith('"', start):
            self._basic_string()
            decoded = tomllib.loads(f"k = {self.text[start:self.i]}")["k"]
            return str(decoded)
        if self.text.startswith("'", start):
            end = self.text.index("'", start + 1)
            self._advance(end + 1 - start)
            return self.text[start + 1:end]
        while self.i < len(self.text) and self.text[self.i] in _BARE:
            self.i += 1
        if self.i == start:
            raise _Malformed
        return self.text[start:self.i]

    def _value(self, path: KeyPath) -> None:
        text = self.text
        if text.startswith('"""', self.i) or text.startswith("'''", self.i):
            self._multiline_string(text[self.i])
        elif text.startswith('"', self.i):
            self._basic_string()
        elif text.startswith("'", self.i):
            end = text.index("'", self.i + 1)
            self._advance(end + 1 - self.i)
        elif text.startswith("[", self.i):
            self._array(path)
        elif text.startswith("{", self.i):
            self._inline_table(path)
        else:  # a number, boolean or date: up to the next separator
            end = self.i
            while end < len(text) and text[end] not in ",]}\n#":
                end += 1
            if end == self.i:
                raise _Malformed
            self._advance(end - self.i)

    def _array(self, path: KeyPath) -> None:
        self._advance(1)
        index = 0
        while True:
            self._skip(newlines=True)
            if self.text.startswith("]", self.i):
                self._advance(1)
                return
            self.lines.setdefault((*path, index), self.line)
            self._value((*path, index))
            self._skip(newlines=True)
            if self.text.startswith(",", self.i):
                self._advance(1)
                index += 1
            elif not self.text.startswith("]", self.i):
                raise _Malformed

    def _inline_table(self, path: KeyPath) -> None:
        self._advance(1)
        while True:
            self._skip(newlines=True)
            if self.text.startswith("}", self.i):
                self._advance(1)
                return
            self._key_value(path)
            self._skip(newlines=True)
            if self.text.startswith(",", self.i):
                self._advance(1)
            elif not self.text.startswith("}", self.i):
                raise _Malformed

    def _basic_string(self) -> None:
        end = self.i + 1
        while self.text[end] != '"':
            end += 2 if self.text[end] == "\\" else 1
        self._advance(end + 1 - self.i)

    def _multiline_string(self, quote: str) -> None:
        delimiter = quote * 3
        end = self.i + 3
        while not self.text.startswith(delimiter, end):
            end += 2 if quote == '"' and self.text[end] == "\\" else 1
            if end >= len(self.text):
                raise _Malformed
        end += 3
        # Up to two quotes right before the delimiter belong to the string: """a""""" is 'a""'.
        for _ in range(2):
            if end < len(self.text) and self.text[end] == quote:
                end += 1
        self._advance(end - self.i)

    def _skip(self, *, newlines: bool) -> None:
        """Spaces, tabs and comments (and line breaks when `newlines`)."""
        text = self.text
        while self.i < len(text):
            char = text[self.i]
            if char in " \t\r" or (newlines and char == "\n"):
                self._advance(1)
            elif char == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end == -1 else end
            else:
                return

    def _expect(self, token: str) -> None:
        self._skip(newlines=False)
        if not self.text.startswith(token, self.i):
            raise _Malformed
        self._advance(len(token))

    def _advance(self, count: int) -> None:
        self.line += self.text.count("\n", self.i, self.i + count)
        self.i += count
