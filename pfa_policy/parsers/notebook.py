"""Jupyter notebooks: the Python code cells as one text, with a map back to lines of the .ipynb file.

IPython syntax (magics, shell escapes, help) is replaced line for line by placeholders, so the text parses as
Python and every line keeps its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.json_doc import parse_json
from pfa_policy.parsers.tree import Node

# Cell magics whose body is still Python run in the kernel: only their first line is replaced.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "python", "python3", "px"})

# `!ls`, `%pip install x`, `?obj` (and `%%magic` lines not at a cell start).
_MAGIC_LINE = re.compile(r"[ \t]*[!%?]")
# `obj?`, `obj.attr??`
_HELP_LINE = re.compile(r"[ \t]*[\w.]+\?\??[ \t]*$")
# `files = !ls`, `out = %sx cmd`: keep the assignment so the names stay defined.
_MAGIC_ASSIGNMENT = re.compile(r"([ \t]*)([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)[ \t]*=[ \t]*[!%]")
_CELL_MAGIC = re.compile(r"[ \t]*%%([\w.-]*)")


@dataclass(frozen=True, slots=True)
class NotebookCode:
    """`line_map[i]` is the .ipynb line of source line i + 1.

    `column_map[i]` is the .ipynb column of the first character of source line i + 1 when that line starts a
    JSON string (the usual one-line-per-element layout), else 0. Columns after it are exact as long as the
    line contains no character that JSON escapes (quotes, backslashes, tabs).
    """

    source: str
    line_map: tuple[int, ...]
    column_map: tuple[int, ...] = ()

    def to_file_span(self, span: Span) -> Span:
        """Map a span in `source` to the .ipynb file (columns stay source columns where unknown)."""
        if not self.line_map:
            return span
        line = self._line(span.line)
        end_line = self._line(span.end_line)
        column = self._column(span.line, span.column)
        end_column = self._column(span.end_line, span.end_column)
        return Span(line, column, end_line, end_column)

    def _line(self, line: int) -> int:
        return self.line_map[min(max(line, 1), len(self.line_map)) - 1]

    def _column(self, line: int, column: int) -> int:
        if not 1 <= line <= len(self.column_map) or self.column_map[line - 1] == 0:
            return column
        return self.column_map[line - 1] + column - 1


def parse_notebook(text: str) -> NotebookCode:
    root = parse_json(text)
    cells = root.get("cells")
    if cells is None or not isinstance(cells.value, list):
        raise ParseError("not a notebook: no 'cells' list", root.span.line, root.span.column)
    if not _is_python(root.get("metadata")):
        return NotebookCode("", ())
    lines: list[str] = []
    line_map: list[int] = []
    column_map: list[int] = []
    for cell in cells.elements():
        if not _is_python_code_cell(cell):
            continue
        cell_lines, cell_map, cell_columns = _cell_source(cell.get("source"))
        if not cell_lines:
            continue
        if lines:
            # The separating blank line belongs to the end of the previous cell.
            lines.append("")
            line_map.append(line_map[-1])
            column_map.append(0)
        lines.extend(_neutralise_ipython(cell_lines))
        line_map.extend(cell_map)
        column_map.extend(cell_columns)
    source = "\n".join(lines) + "\n" if lines else ""
    return NotebookCode(source, tuple(line_map), tuple(column_map))


def _text(node: Node | None) -> str | None:
    if node is not None and isinstance(node.value, str):
        return node.value
    return None


def _is_python(metadata: Node | None) -> bool:
    if metadata is None:
        return True
    kernelspec = metadata.get("kernelspec")
    language_info = metadata.get("language_info")
    for name in (_text(kernelspec.get("language") if kernelspec else None),
                 _text(language_info.get("name") if language_info else None)):
        if name is not None and not _python_name(name):
            return False
    return True


def _python_name(name: str) -> bool:
    return name.strip().lower().startswith(("python", "ipython"))


def _is_python_code_cell(cell: Node) -> bool:
    if _text(cell.get("cell_type")) != "code":
        return False
    # VS Code and polyglot notebooks mark other-language cells in the cell's own metadata.
    metadata = cell.get("metadata")
    vscode = metadata.get("vscode") if metadata else None
    language = _text(vscode.get("languageId") if vscode else None)
    return language is None or _python_name(language)


def _cell_source(source: Node | None) -> tuple[list[str], list[int], list[int]]:
    """The cell's lines with, for each, the .ipynb line and column where it starts (0: mid-string)."""
    if source is None:
        return [], [], []
    pieces = list(source.elements()) if isinstance(source.value, list) else [source]
    lines: list[str] = []
    line_map: list[int] = []
    column_map: list[int] = []
    open_line = False  # the last line has no newline yet: the next piece continues it
    for piece in pieces:
        if not isinstance(piece.value, str) or not piece.value:
            continue
        parts = piece.value.split("\n")
        for index, part in enumerate(parts):
            if index == 0 and open_line:
                lines[-1] += part
            elif index == len(parts) - 1 and index > 0 and not part:
                break  # the piece ends with a newline: the next line starts in the next piece
            else:
                lines.append(part)
                line_map.append(piece.span.line)
                # +1: the first character follows the opening quote; later lines start mid-string.
                column_map.append(piece.span.column + 1 if index == 0 else 0)
        open_line = not piece.value.endswith("\n")
    return lines, line_map, column_map


def _neutralise_ipython(lines: list[str]) -> list[str]:
    first = next((line for line in lines if line.strip()), "")
    cell_magic = _CELL_MAGIC.match(first)
    if cell_magic and cell_magic.group(1) not in PYTHON_CELL_MAGICS:
        # Another language (%%bash, %%sql, %%writefile ...): nothing here is Python.
        return ["" for _ in lines]
    result: list[str] = []
    continued = False  # the previous magic line ended with a backslash
    for line in lines:
        if continued:
            result.append("")
        elif assignment := _MAGIC_ASSIGNMENT.match(line):
            result.append(f"{assignment.group(1)}{assignment.group(2)} = None  # magic")
        elif _MAGIC_LINE.match(line) or _HELP_LINE.match(line):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            result.append(f"{indent}pass  # magic")
        else:
            result.append(line)
            continue
        continued = line.rstrip().endswith("\\")
    return result
