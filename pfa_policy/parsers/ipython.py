"""IPython cell syntax as plain Python, line for line.

Magics, shell escapes and help requests become placeholder statements with the line's indentation, so a cell
parses as Python and every other position in it is unchanged; a magic whose argument is Python
(`%time model.fit(X)`) keeps that Python at its own column. As in IPython, only a line that starts a logical line
can be IPython syntax: `% b` continuing a bracketed expression and the lines of a triple-quoted string stay as
they are.
"""

from __future__ import annotations

import re

from pfa_policy.parsers.python import cpython_parse

# Cell magics whose body is Python run in the kernel: only their first line is replaced.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "python", "python3", "px"})
# Line magics whose argument is a Python statement: their flag options and the options that take a value.
_PYTHON_LINE_MAGICS = {"time": ("", ""), "timeit": ("tcqo", "nrp"), "prun": ("rq", "lsTD")}
# What IPython runs as a magic without the `%` (automagic): its built-in line magics, shell aliases and the
# magics of the autoreload extension.
AUTOMAGICS = frozenset({
    "aimport", "alias", "alias_magic", "autoawait", "autocall", "automagic", "autoreload", "autosave",
    "bookmark", "cat", "cd", "clear", "colors", "conda", "config", "connect_info", "cp", "debug", "dhist",
    "dirs", "doctest_mode", "ed", "edit", "env", "gui", "hist", "history", "killbgscripts", "ldir", "less",
    "lf", "lk", "ll", "load", "load_ext", "loadpy", "logoff", "logon", "logstart", "logstate", "logstop", "ls",
    "lsmagic", "lx", "macro", "magic", "mamba", "man", "matplotlib", "micromamba", "mkdir", "more", "mv",
    "notebook", "page", "pastebin", "pdb", "pdef", "pdoc", "pfile", "pinfo", "pinfo2", "pip", "popd", "pprint",
    "precision", "prun", "psearch", "psource", "pushd", "pwd", "pycat", "pylab", "qtconsole", "quickref",
    "recall", "rehashx", "reload_ext", "rep", "rerun", "reset", "reset_selective", "rm", "rmdir", "run", "save",
    "sc", "set_env", "store", "sx", "system", "tb", "time", "timeit", "unalias", "unload_ext", "who", "who_ls",
    "whos", "xdel", "xmode"
})

_PLACEHOLDER = "pass  # magic"
_WRAPPER = "if 1:"  # keeps a magic's Python argument where it stands: `%time f(x)` -> `if 1: f(x)`
# IPython's escapes at the start of a logical line: `!ls`, `%pip install x`, `?obj`, and autocall `/f x`, `,f a`.
_ESCAPE = re.compile(r"[ \t]*[!%?/,;]")
_HELP = re.compile(r"[ \t]*[\w.*]+\?\??[ \t]*$")  # `obj?`, `obj.attr??`, `np.*load*?`
# `files = !ls`, `out = %sx cmd`: the names stay assigned.
_CAPTURE = re.compile(r"([ \t]*)([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)[ \t]*=[ \t]*[!%]")
_CELL_MAGIC = re.compile(r"[ \t]*%%([\w.-]*)")
# `%time f(x)`, `pip install x`: indentation, the escape if any, the magic's name.
_LINE_MAGIC = re.compile(r"([ \t]*)(%?)(\w+)(?:[ \t]+|$)")
_OPTION = re.compile(r"-(\S+)(?:[ \t]+|$)")
_WORD = re.compile(r"\S+(?:[ \t]+|$)")
# What moves a logical line on: strings, comments, brackets and a backslash at the end of the line.
_LEXEME = re.compile(r"\"\"\"|'''|[\"'#()\[\]{}]|\\(?=\r?$)")
_STRING_END = {quote: re.compile(r"(?:\\.|[^\\])*?" + quote) for quote in ('"', "'", '"""', "'''")}


def to_python(lines: list[str]) -> list[str]:
    """The lines of one cell with its IPython syntax replaced, one line for one line."""
    first = next((line for line in lines if line.strip()), "")
    cell_magic = _CELL_MAGIC.match(first)
    if cell_magic and cell_magic.group(1) not in PYTHON_CELL_MAGICS:
        return ["" for _ in lines]  # another language (%%bash, %%sql, %%writefile ...): nothing here is Python
    lexer = _Lexer()
    result: list[str] = []
    in_magic = False  # the previous line is a magic that continues with a backslash
    for line in lines:
        replaced = "" if in_magic else _replacement(line) if lexer.at_statement else None
        if replaced is None:
            lexer.feed(line)
            result.append(line)
        else:
            result.append(replaced)
            in_magic = line.rstrip().endswith("\\")
    return result


class _Lexer:
    """Just enough of Python's tokenizer to tell where logical lines start."""

    def __init__(self) -> None:
        self.depth = 0  # open brackets
        self.quote = ""  # the delimiter of a string still open at the end of the last line
        self.continued = False  # the last line ended with a backslash

    @property
    def at_statement(self) -> bool:
        return not (self.depth or self.quote or self.continued)

    def feed(self, line: str) -> None:
        self.continued = False
        position = self._close(line, 0) if self.quote else 0
        while not self.quote and (lexeme := _LEXEME.search(line, position)):
            token = lexeme.group()
            position = lexeme.end()
            if token == "#":
                return
            if token == "\\":
                self.continued = True
            elif token in "([{":
                self.depth += 1
            elif token in ")]}":
                self.depth = max(self.depth - 1, 0)
            else:
                self.quote = token
                position = self._close(line, position)

    def _close(self, line: str, position: int) -> int:
        end = _STRING_END[self.quote].match(line, position)
        if end is not None:
            self.quote = ""
            return end.end()
        if len(self.quote) == 1:  # a one-line string ends with its line; a backslash carries it to the next
            self.quote = ""
            self.continued = line.rstrip("\r").endswith("\\")
        return len(line)


def _replacement(line: str) -> str | None:
    """The placeholder for a line that starts a logical line, or None when the line is Python."""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if capture := _CAPTURE.match(line):
        return f"{capture.group(1)}{capture.group(2)} = None  # magic"
    magic = _LINE_MAGIC.match(line)
    if magic and (magic.group(2) or _automagic(line, magic)):
        return _python_argument(line, magic) or indent + _PLACEHOLDER
    if _ESCAPE.match(line) or _HELP.match(line):
        return indent + _PLACEHOLDER
    return None


def _automagic(line: str, magic: re.Match[str]) -> bool:
    """`pip install x`, `cd ..`: an automagic name and an argument on a line that cannot be Python (`ls` alone
    and `cd /tmp` are Python as written, and stay so)."""
    if magic.group(3) not in AUTOMAGICS or magic.end() == len(line) or magic.end() == magic.end(3):
        return False
    alone = _Lexer()
    alone.feed(line)
    return alone.at_statement and not _parses(line.strip())


def _python_argument(line: str, magic: re.Match[str]) -> str | None:
    """`%time f(x)` as `if 1: f(x)`: the statement stays at its column, its options (`%timeit -n 10`) go."""
    options = _PYTHON_LINE_MAGICS.get(magic.group(3))
    if options is None:
        return None
    indent = magic.group(1)
    start = _options_end(line, magic.end(), *options)
    width = start - len(indent)
    statement = line[start:]
    if width < len(_WRAPPER) or not statement.strip():
        return None
    candidate = _WRAPPER + " " * (width - len(_WRAPPER)) + statement
    return indent + candidate if _parses(candidate) else None


def _options_end(line: str, start: int, flags: str, valued: str) -> int:
    """Where the statement starts after the options, read as getopt does: `-q -n 10`, `-qn 10`, `-n10`."""
    while option := _OPTION.match(line, start):
        word = option.group(1)
        for index, letter in enumerate(word):
            if letter in valued:
                needs_value = index == len(word) - 1
                break
            if letter not in flags:
                return start  # not an option: `%time -x + 1` times Python
        else:
            needs_value = False
        start = option.end()
        if needs_value and (value := _WORD.match(line, start)):
            start = value.end()
    return start


def _parses(source: str) -> bool:
    try:
        cpython_parse(source)
    except (SyntaxError, ValueError):
        return False
    return True
