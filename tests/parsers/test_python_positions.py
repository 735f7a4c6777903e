"""The fast position path agrees with libcst's position pass on every node it answers for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.python import PythonFile, parse_python, statement_spans
from tests.conftest import REPO_ROOT

_SOURCES = sorted((REPO_ROOT / "fixtures").rglob("*.py")) + sorted((REPO_ROOT / "pfa_policy" / "engine").glob("*.py"))


class _Collect(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Call, cst.Arg, cst.Attribute, cst.Name, cst.SimpleString, cst.Import,
                             cst.ImportFrom, cst.FormattedString, cst.ConcatenatedString, cst.Decorator,
                             cst.DictElement, cst.ExceptHandler, cst.Subscript)):
            self.nodes.append(node)
        return True


def _parsed(source: str) -> tuple[PythonFile, Callable[[cst.CSTNode], Span]]:
    """The file, and libcst's own position pass as the reference every faster path must agree with."""
    module = parse_python(source)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def expect(node: cst.CSTNode) -> Span:
        where = positions[node]
        return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)

    return PythonFile(module, source), expect


@pytest.mark.parametrize("path", _SOURCES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_fast_positions_match_libcst(path: Path) -> None:
    file, expect = _parsed(path.read_text(encoding="utf-8"))
    collector = _Collect()
    file.module.visit(collector)
    answered = 0
    for node in collector.nodes:
        fast = file._unique_occurrence(node)
        if fast is None:
            continue
        answered += 1
        assert fast == expect(node), file.code_of(node)
    assert answered > 0 or not collector.nodes


@pytest.mark.parametrize("path", _SOURCES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_statement_positions_from_ast_match_libcst(path: Path) -> None:
    file, expect = _parsed(path.read_text(encoding="utf-8"))
    spans = statement_spans(file)
    nodes: list[cst.CSTNode] = list(file.index.import_statements)
    nodes += [node for node, _ in file.index.handlers]
    for definition, _, _ in [*file.index.classes, *file.index.functions]:
        nodes.append(definition.name)
    for node in nodes:
        assert spans[id(node)] == expect(node), file.code_of(node)


def test_statement_positions_handle_non_ascii_and_main_guards() -> None:
    source = ('"""Modèle — prévision."""\nimport os\n\nif __name__ == "__main__":\n    import sys\nelse:\n'
              '    import json\n\ntry:\n    x = "é" ; import re\nexcept ValueError:\n    pass\n')
    file, expect = _parsed(source)
    spans = statement_spans(file)
    for node in [*file.index.import_statements, *(h for h, _ in file.index.handlers)]:
        assert spans[id(node)] == expect(node)


@pytest.mark.parametrize(
    ("source", "reason", "line", "column"),
    [
        ("def train(epochs:\n    return epochs\n", "'(' was never closed", 1, 10),
        ("def f(:\n    pass\n", "invalid syntax", 1, 7),
        ('import os\nprint "starting"\n', "Missing parentheses in call to 'print'. Did you mean print(...)?", 2, 1),
        ('label = "é" +* 2\n', "invalid syntax", 1, 14),
        ("if ready:\ntrain()\n", "expected an indented block after 'if' statement on line 1", 2, 1),
    ],
)
def test_syntax_errors_point_at_the_mistake(source: str, reason: str, line: int, column: int) -> None:
    # libcst alone puts most of these a token or a line later (`def f(:` at the start of line 2).
    with pytest.raises(ParseError) as caught:
        parse_python(source)
    assert (caught.value.reason, caught.value.line, caught.value.column) == (f"Python syntax error: {reason}",
                                                                             line, column)
