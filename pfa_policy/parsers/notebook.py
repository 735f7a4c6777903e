"""Jupyter notebooks: the Python code cells as one text, with a map back to positions in the .ipynb file.

Cells are joined with a blank line and their IPython syntax is replaced line for line (`parsers.ipython`), so
the text parses as Python and every line keeps its number. Both nbformat 4 (`cells`, `source`) and nbformat 3
(`worksheets`, `input`) are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.ipython import to_python
from pfa_policy.parsers.json_doc import parse_json
from pfa_policy.parsers.tree import Node

# One decoded character of a JSON string body (a surrogate pair is one), or a run of unescaped ones.
_CHARACTER = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\.|[^\\]+")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_NEWLINE_ESCAPES = frozenset({"n", "u000a", "u000A"})


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a source line as the .ipynb file spells it: the JSON-escaped `raw`, which starts at `line` and
    `column` of the file and decodes to `length` characters."""

    line: int
    column: int
    raw: str
    length: int

    def column_of(self, offset: int) -> int:
        """The file column of decoded character `offset` (`length`: just past the piece)."""
        if "\\" not in self.raw:
            return self.column + offset
        for character in _CHARACTER.finditer(self.raw):
            decoded = 1 if character.group().startswith("\\") else len(character.group())
            if offset < decoded:
                return self.column + character.start() + offset
            offset -= decoded
        return self.column + len(self.raw) + offset


@dataclass(frozen=True, slots=True)
class NotebookCode:
    """`lines[i]` holds the pieces of the file that spell source line i + 1, usually one: a line whose text
    continues in the next string of a `source` list has more."""

    source: str
    lines: tuple[tuple[Piece, ...], ...] = ()

    def to_file_span(self, span: Span) -> Span:
        """Map a span in `source` to the .ipynb file."""
        if not self.lines:
            return span
        line, column = self._position(span.line, span.column, end=False)
        end_line, end_column = self._position(span.end_line, span.end_column, end=True)
        return Span(line, column, end_line, end_column)

    def _position(self, line: int, column: int, end: bool) -> tuple[int, int]:
        *before, last = self.lines[min(max(line, 1), len(self.lines)) - 1]
        offset = max(column, 1) - 1
        for piece in before:
            # Between two pieces, a start belongs to the next one and an end to the one it closes.
            if offset < piece.length or (end and offset == piece.length):
                return piece.line, piece.column_of(offset)
            offset -= piece.length
        return last.line, last.column_of(offset)


def parse_notebook(text: str) -> NotebookCode:
    root = parse_json(text)
    if not _is_python(root.get("metadata")):
        return NotebookCode("")
    file_lines = text.removeprefix("\ufeff").split("\n")
    lines: list[str] = []
    pieces: list[tuple[Piece, ...]] = []
    for cell in _cells(root):
        if not _is_python_code_cell(cell):
            continue
        cell_lines, cell_pieces = _cell_source(cell.get("source") or cell.get("input"), file_lines)
        if not cell_lines:
            continue
        if lines:
            # The separating blank line stands at the end of the previous cell's last line.
            last = pieces[-1][-1]
            lines.append("")
            pieces.append((Piece(last.line, last.column + len(last.raw), "", 0),))
        lines.extend(to_python(cell_lines))
        pieces.extend(cell_pieces)
    source = "\n".join(lines) + "\n" if lines else ""
    return NotebookCode(source, tuple(pieces))


def _cells(root: Node) -> list[Node]:
    cells = root.get("cells")
    if cells is not None and cells.is_sequence:
        return list(cells.elements())
    worksheets = root.get("worksheets")  # nbformat 3
    if cells is None and worksheets is not None and worksheets.is_sequence:
        return [cell for sheet in worksheets.elements() if (sheet_cells := sheet.get("cells")) is not None
                for cell in sheet_cells.elements()]
    raise ParseError("not a notebook: no 'cells' list", root.span.line, root.span.column)


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
    # VS Code and polyglot notebooks mark other-language cells in the cell's own metadata; nbformat 3 in the cell.
    metadata = cell.get("metadata")
    vscode = metadata.get("vscode") if metadata else None
    language = _text(vscode.get("languageId") if vscode else None) or _text(cell.get("language"))
    return language is None or _python_name(language)


def _cell_source(source: Node | None, file_lines: list[str]) -> tuple[list[str], list[tuple[Piece, ...]]]:
    """The cell's lines and, for each, the pieces of the file that spell it."""
    if source is None:
        return [], []
    strings = list(source.elements()) if source.is_sequence else [source]
    lines: list[str] = []
    pieces: list[list[Piece]] = []
    open_line = False  # the last line has no newline yet: the next string continues it
    for string in strings:
        if not isinstance(string.value, str) or not string.value:
            continue
        parts = string.value.split("\n")
        for index, piece in enumerate(_pieces(string, parts, file_lines)):
            if index == 0 and open_line:
                lines[-1] += parts[0]
                pieces[-1].append(piece)
            elif index == len(parts) - 1 and index > 0 and not parts[index]:
                break  # the string ends with a newline: the next line starts in the next string
            else:
                lines.append(parts[index])
                pieces.append([piece])
        open_line = not string.value.endswith("\n")
    return lines, [tuple(line) for line in pieces]


def _pieces(string: Node, parts: list[str], file_lines: list[str]) -> list[Piece]:
    """Where each of `parts`, the lines of a JSON string, is in the file (a JSON string holds no raw newline)."""
    line, column = string.span.line, string.span.column + 1  # the first character follows the quote
    raw = file_lines[line - 1][column - 1 : string.span.end_column - 2]
    pieces: list[Piece] = []
    start = 0
    for newline in _ESCAPE.finditer(raw):
        if newline.group(1) in _NEWLINE_ESCAPES:
            pieces.append(Piece(line, column + start, raw[start : newline.start()], len(parts[len(pieces)])))
            start = newline.end()
    pieces.append(Piece(line, column + start, raw[start:], len(parts[len(pieces)])))
    return pieces
