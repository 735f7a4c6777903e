from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence

import pytest

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.notebook import NotebookCode, parse_notebook


def notebook(cells: Sequence[Mapping[str, object]], metadata: Mapping[str, object] | None = None) -> str:
    return json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def file_line(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def code(source: object) -> dict[str, object]:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": []}


def test_code_cells_joined_with_a_blank_line_and_mapped_to_file_lines() -> None:
    text = notebook(
        [
            code(["import os\n", "x = 1"]),
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
            code(["def f():\n", "    return x\n"]),
        ]
    )
    result = parse_notebook(text)
    assert result.source == "import os\nx = 1\n\ndef f():\n    return x\n"
    import_line = file_line(text, '"import os')
    def_line = file_line(text, '"def f')
    assert result.line_map == (import_line, import_line + 1, import_line + 1, def_line, def_line + 1)
    ast.parse(result.source)


def test_to_file_span_maps_lines_and_columns() -> None:
    text = notebook([code(["import os\n", "password = 'x'\n"])])
    result = parse_notebook(text)
    line = file_line(text, '"password')
    column = text.split("\n")[line - 1].index('"password') + 2  # 1-based, after the quote
    assert result.to_file_span(Span(2, 1, 2, 9)) == Span(line, column, line, column + 8)


def test_single_string_source_maps_every_line_to_the_string() -> None:
    text = notebook([code("a = 1\nb = 2\n")])
    result = parse_notebook(text)
    line = file_line(text, '"a = 1')
    assert result.source == "a = 1\nb = 2\n"
    assert result.line_map == (line, line)
    # The second line starts mid-string: its column cannot be placed, so the source column is kept.
    assert result.to_file_span(Span(2, 3)) == Span(line, 3)


def test_piece_without_newline_continues_the_line() -> None:
    text = notebook([code(["x = (\n", "1", ")\n", "\n", "y = 2\n"])])
    result = parse_notebook(text)
    assert result.source == "x = (\n1)\n\ny = 2\n"
    first = file_line(text, '"x = (')
    assert result.line_map == (first, first + 1, first + 3, first + 4)


def test_magics_and_shell_escapes_keep_line_count() -> None:
    text = notebook(
        [
            code(
                [
                    "%pip install torch\n",
                    "import os\n",
                    "if os.name:\n",
                    "    !ls -l \\\n",
                    "        /tmp\n",
                    "files = !ls\n",
                    "os.path?\n",
                    "?os\n",
                    "%matplotlib inline\n",
                    "print(files)",
                ]
            ),
            code(["%%time\n", "total = sum(range(10))\n"]),
            code(["%%bash\n", "echo hi\n", "ls\n"]),
        ]
    )
    result = parse_notebook(text)
    assert result.source.split("\n") == [
        "pass  # magic",
        "import os",
        "if os.name:",
        "    pass  # magic",
        "",
        "files = None  # magic",
        "pass  # magic",
        "pass  # magic",
        "pass  # magic",
        "print(files)",
        "",
        "pass  # magic",
        "total = sum(range(10))",
        "",
        "",
        "",
        "",
        "",
    ]
    ast.parse(result.source)
    assert len(result.line_map) == 17
    bash_line = file_line(text, '"%%bash')
    assert result.line_map[-3:] == (bash_line, bash_line + 1, bash_line + 2)


@pytest.mark.parametrize(
    "metadata",
    [
        {"kernelspec": {"language": "R", "name": "ir"}},
        {"language_info": {"name": "julia"}},
    ],
)
def test_non_python_kernels_give_no_code(metadata: Mapping[str, object]) -> None:
    result = parse_notebook(notebook([code(["x <- 1\n"])], metadata))
    assert result == NotebookCode("", ())


def test_python_kernel_and_other_language_cells() -> None:
    metadata = {"kernelspec": {"language": "python", "name": "python3"}, "language_info": {"name": "python"}}
    sql_cell = {"cell_type": "code", "metadata": {"vscode": {"languageId": "sql"}}, "source": ["SELECT 1\n"]}
    result = parse_notebook(notebook([sql_cell, code(["y = 2\n"])], metadata))
    assert result.source == "y = 2\n"


def test_empty_notebook() -> None:
    result = parse_notebook(notebook([]))
    assert result.source == ""
    assert result.to_file_span(Span(1, 1)) == Span(1, 1)


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ('{"metadata": {}}', "not a notebook: no 'cells' list", 1),
        ('{"cells": {}}', "not a notebook: no 'cells' list", 1),
        ('{\n "cells": [\n}', "expected a value or ']'", 3),
    ],
)
def test_invalid_notebooks(text: str, reason: str, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_notebook(text)
    assert caught.value.reason == reason
    assert caught.value.line == line
