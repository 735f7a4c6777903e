from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence

import pytest

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.notebook import NotebookCode, parse_notebook


def notebook(cells: Sequence[Mapping[str, object]], metadata: Mapping[str, object] | None = None,
             ensure_ascii: bool = False) -> str:
    """The file as Jupyter's nbformat writes it: sorted keys, one-space indent, UTF-8 as it is."""
    document = {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=ensure_ascii) + "\n"


def code(source: object) -> dict[str, object]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def position(text: str, fragment: str) -> tuple[int, int]:
    """The 1-based line and column of `fragment` in the file."""
    offset = text.index(fragment)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def file_lines(result: NotebookCode) -> list[int]:
    return [result.to_file_span(Span(line)).line for line in range(1, result.source.count("\n") + 1)]


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
    import_line, _ = position(text, '"import os')
    def_line, _ = position(text, '"def f')
    assert file_lines(result) == [import_line, import_line + 1, import_line + 1, def_line, def_line + 1]
    # The blank line between two cells stands at the end of the first cell's code.
    end = position(text, '"x = 1"')[1] + len('"x = 1')
    assert result.to_file_span(Span(3, 1)) == Span(import_line + 1, end, import_line + 1, end)
    ast.parse(result.source)


def test_to_file_span_maps_lines_and_columns() -> None:
    text = notebook([code(["import os\n", "password = 'x'\n"])])
    result = parse_notebook(text)
    line, column = position(text, "password")
    assert result.to_file_span(Span(2, 1, 2, 9)) == Span(line, column, line, column + 8)


@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["utf-8", "ascii-escaped"])
def test_columns_count_the_characters_json_escapes(ensure_ascii: bool) -> None:
    call = 'requests.get("https://café.example/\tapi", headers={"X-Tag": "🚀"}, verify=False)'
    text = notebook([code(["import requests\n", f"r = {call}\n"])], ensure_ascii=ensure_ascii)
    result = parse_notebook(text)
    source_line = result.source.split("\n")[1]
    start, end = source_line.index("verify") + 1, len(source_line)
    line, column = position(text, "verify=False")
    assert result.to_file_span(Span(2, start, 2, end)) == Span(line, column, line, column + len("verify=False"))


def test_single_string_source_maps_every_line_into_the_string() -> None:
    text = notebook([code("a = 1\nb = 2")])
    result = parse_notebook(text)
    assert result.source == "a = 1\nb = 2\n"
    line, column = position(text, "b = 2")
    assert file_lines(result) == [line, line]
    assert result.to_file_span(Span(2, 5, 2, 6)) == Span(line, column + 4, line, column + 5)


def test_a_string_without_newline_continues_the_line_in_the_next() -> None:
    text = notebook([code(["x = (\n", "1", ")\n", "\n", "y = 2\n"])])
    result = parse_notebook(text)
    assert result.source == "x = (\n1)\n\ny = 2\n"
    first, _ = position(text, '"x = (')
    assert file_lines(result) == [first, first + 1, first + 3, first + 4]
    one, paren = position(text, '"1"')[1] + 1, position(text, '")')[1] + 1
    assert result.to_file_span(Span(2, 1, 2, 3)) == Span(first + 1, one, first + 2, paren + 1)
    assert result.to_file_span(Span(2, 2, 2, 3)) == Span(first + 2, paren, first + 2, paren + 1)


def test_magics_and_shell_escapes_keep_every_line_in_place() -> None:
    text = notebook(
        [
            code(["%pip install torch==2.3.1\n", "!pip install -q transformers"]),
            code(["%%bash\n", "nvidia-smi\n", "ls data\n"]),
            code(["import os\n", "%matplotlib inline\n", "files = !ls data\n", "os.path?\n", "cd data\n",
                  "%time model.fit(X)\n", "print(files)"]),
            code(["%%capture out\n", "!nvidia-smi\n", "total = sum(range(10))\n"]),
        ]
    )
    result = parse_notebook(text)
    assert result.source.split("\n") == [
        "pass  # magic",
        "pass  # magic",
        "",
        "",
        "",
        "",
        "",
        "import os",
        "pass  # magic",
        "files = None  # magic",
        "pass  # magic",
        "pass  # magic",
        "if 1: model.fit(X)",
        "print(files)",
        "",
        "pass  # magic",
        "pass  # magic",
        "total = sum(range(10))",
        "",
    ]
    ast.parse(result.source)
    pip_line, _ = position(text, '"%pip')
    bash_line, _ = position(text, '"%%bash')
    import_line, _ = position(text, '"import os')
    capture_line, _ = position(text, '"%%capture')
    assert file_lines(result) == [pip_line, pip_line + 1, pip_line + 1, bash_line, bash_line + 1, bash_line + 2,
                                  bash_line + 2, *range(import_line, import_line + 7), import_line + 6,
                                  capture_line, capture_line + 1, capture_line + 2]
    # The Python a magic carries is where the file has it.
    line, column = position(text, "model.fit(X)")
    assert result.to_file_span(Span(13, 7, 13, 19)) == Span(line, column, line, column + 12)


def test_cells_without_python() -> None:
    text = notebook(
        [
            {"cell_type": "markdown", "metadata": {}, "source": "import this_is_prose"},
            {"cell_type": "raw", "metadata": {}, "source": ["!pip install x\n"]},
            code([]),
            code(""),
            code(["x = 1\n"]),
        ]
    )
    result = parse_notebook(text)
    assert result.source == "x = 1\n"
    assert file_lines(result) == [position(text, '"x = 1')[0]]


def test_nbformat_3_worksheets() -> None:
    document = {
        "metadata": {"name": "eda"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["EDA"]},
                    {"cell_type": "code", "collapsed": False, "input": ["%pylab inline\n", "import pandas as pd"],
                     "language": "python", "metadata": {}, "outputs": []},
                    {"cell_type": "code", "input": ["SELECT 1"], "language": "sql", "metadata": {}, "outputs": []},
                ],
                "metadata": {},
            }
        ],
    }
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    result = parse_notebook(text)
    assert result.source == "pass  # magic\nimport pandas as pd\n"
    line, _ = position(text, '"%pylab')
    assert file_lines(result) == [line, line + 1]


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
