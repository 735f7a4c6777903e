"""Python source through CPython's own parser: one `ast.parse`, one walk builds an index of what the patterns
look at.

The index and the places it reports are those libcst gave before (findings and their fingerprints are
unchanged): the walk visits what libcst's walk visited, in libcst's field order, and a reported node's text is
what libcst's `code_for_node` spelled - an expression with its own parentheses, an argument with its comma and
the whitespace after it, a decorator with its `@`, an import with its `;`. `ast` positions are UTF-8 byte
offsets: `ast_column` turns them into the character columns findings carry.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.names import NameTable

_NEWLINE = re.compile("\n")
_BLOCKS = ("body", "orelse", "finalbody")
_ANY_NEWLINE = re.compile("\r\n|\r|\n")

# CPython's own limit on open brackets (its tokenizer's MAXLEVEL). Deeper source is refused before the parser
# sees it: its recursion guard raises, but a few thousand levels are cheaper to count than to parse.
MAX_BRACKET_DEPTH = 200
# What can hold a bracket that is not one: comments and string literals (prefixes are irrelevant here).
_BRACKET_TOKENS = re.compile("|".join((
    r"#[^\n]*",
    r"'''(?:\\.|[^\\])*?'''",
    r'"""(?:\\.|[^\\])*?"""',
    r"'(?:\\.|[^'\\\n])*'",
    r'"(?:\\.|[^"\\\n])*"',
    r"[()\[\]{}]",
)), re.DOTALL)  # `"""\` and a backslash before a line break inside a string: escapes too


def cpython_parse(source: str) -> ast.Module:
    """`ast.parse` without its warnings (invalid escapes and the like: not a finding of ours)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def parse_python(text: str) -> ast.Module:
    """The module's tree; a ParseError (with CPython's line and column) for invalid source or source nested
    beyond Python's own limits, never a crash."""
    refuse_too_deep(text, parse=False)
    try:
        module = cpython_parse(text)
    except SyntaxError as error:
        raise ParseError(f"Python syntax error: {error.msg}", error.lineno or 1, max(error.offset or 1, 1)) from None
    except (RecursionError, MemoryError):
        raise ParseError("expression nested too deeply for Python's own parser; not parsed") from None
    except ValueError as error:  # null bytes
        raise ParseError(f"Python source could not be parsed: {error}") from None
    module.pfa_source = text  # type: ignore[attr-defined]  # what positions index into
    return module


def refuse_too_deep(text: str, *, parse: bool = True) -> None:
    """Raise ParseError for source nested deeper than CPython accepts: brackets counted outside strings and
    comments, then (`parse`) CPython's parser, which guards its own recursion, for long operator chains."""
    depth = 0
    for token in _BRACKET_TOKENS.finditer(text):
        char = token.group()
        if char in "([{":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                raise ParseError(f"brackets nested more than {MAX_BRACKET_DEPTH} levels deep (Python's own limit); "
                                 "not parsed", line, token.start() - text.rfind("\n", 0, token.start()))
        elif char in ")]}":
            depth = max(0, depth - 1)
    if not parse:
        return
    try:
        cpython_parse(text)
    except (RecursionError, MemoryError):
        raise ParseError("expression nested too deeply for Python's own parser; not parsed") from None
    except (SyntaxError, ValueError):
        pass  # not too deep: invalid, which the caller reports


def ast_column(lines: list[str], line: int, byte_offset: int) -> int:
    """1-based character column from ast's 0-based UTF-8 byte offset."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return byte_offset + 1
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore")) + 1


def ast_span(node: ast.AST, lines: list[str]) -> Span:
    line, end_line = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
    return Span(line, ast_column(lines, line, node.col_offset),  # type: ignore[attr-defined]
                end_line, ast_column(lines, end_line, node.end_col_offset or 0))  # type: ignore[attr-defined]


def dotted_name(node: ast.AST | None) -> str | None:
    """`a.b.c` for attribute chains, `f()` suffix for calls in the chain; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    if isinstance(node, ast.Call):
        base = dotted_name(node.func)
        return None if base is None else f"{base}()"
    if _is_named_constant(node):
        return repr(node.value)  # type: ignore[union-attr]
    return None


def _is_named_constant(node: ast.AST | None) -> bool:
    """`True`, `False` and `None`: names in libcst's tree, and so in the index (references like any other)."""
    return isinstance(node, ast.Constant) and (node.value is None or node.value is True or node.value is False)


def literal_value(node: ast.AST | None) -> Any:
    """The statically known value of a literal expression, else UNKNOWN. An f-string is its static text with
    `{}` for each field, as written (escapes and doubled braces kept)."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bytes):
            return value.decode("latin-1")
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return UNKNOWN
    if isinstance(node, ast.JoinedStr):
        return formatted_text(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = literal_value(node.operand)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner
    return UNKNOWN


def formatted_text(node: ast.JoinedStr) -> Any:
    """An f-string's static text with `{}` where expressions go: enough to see a URL's scheme and host. The
    text as written is recorded when the index walks the f-string; UNKNOWN for an implicit concatenation (`"a"
    f"{b}"`), which has no single text."""
    text = getattr(node, "pfa_text", None)
    if text is not None:
        return text  # the text as written, or UNKNOWN for a concatenation
    # Not walked by the index (an annotation, documentation): CPython's decoded parts, braces doubled back.
    return "".join(part.value.replace("{", "{{").replace("}", "}}")
                   if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}"
                   for part in node.values)


_STRINGS_AND_COMMENTS = re.compile("|".join((
    r"#[^\n]*",
    r"'''(?:\\.|[^\\])*?'''",
    r'"""(?:\\.|[^\\])*?"""',
    r"'(?:\\.|[^'\\\n])*'",
    r'"(?:\\.|[^"\\\n])*"',
)), re.DOTALL)
_PREFIX = re.compile(r"[A-Za-z]*")


def _annotate(file: PythonFile, node: ast.AST) -> Any:
    """The literal value of a node, an f-string's text read off the source first (once)."""
    if isinstance(node, ast.JoinedStr) and not hasattr(node, "pfa_text"):
        text = _fstring_text(file.source[slice(*file._extent(node))])
        node.pfa_text = UNKNOWN if text is None else text  # type: ignore[attr-defined]
    return literal_value(node)


def _fstring_text(token: str) -> str | None:
    """The static text of one f-string token (`f"a{b!r:>{w}}c"` -> `a{}c`); None when the token is followed
    by another (an implicit concatenation)."""
    prefix = _PREFIX.match(token)
    start = prefix.end() if prefix else 0
    quote = token[start:start + 3] if token[start:start + 3] in ('"""', "'''") else token[start:start + 1]
    i = start + len(quote)
    parts: list[str] = []
    text_start = i
    n = len(token)
    while i < n:
        if token.startswith(quote, i):
            parts.append(token[text_start:i])
            rest = token[i + len(quote):].strip()
            return "".join(parts) if not rest else None
        char = token[i]
        if (char == "\\" and len(quote) == 1) or char == "\\":
            i += 2
            continue
        if char == "{":
            if token.startswith("{{", i):
                i += 2
                continue
            parts.append(token[text_start:i])
            parts.append("{}")
            i = _field_end(token, i + 1)
            text_start = i
            continue
        if char == "}" and token.startswith("}}", i):
            i += 2
            continue
        i += 1
    return None


def _field_end(token: str, i: int) -> int:
    """The index after the `}` closing a replacement field whose body starts at `i`."""
    depth = 1
    n = len(token)
    while i < n:
        char = token[i]
        if char in "'\"":
            close = token.find(char, i + 1)
            i = n if close < 0 else close + 1
            continue
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


class Arg(ast.AST):
    """A call's (or a class's) argument as libcst has it: `value`, its `keyword` or None, `star` ("", "*",
    "**"). `node` is the ast node that holds its position (`ast.keyword`, `ast.Starred`, or the value)."""

    _fields = ("value",)

    def __init__(self, value: ast.expr, keyword: str | None, star: str, node: ast.AST, owner: ast.AST) -> None:
        super().__init__()
        self.value = value
        self.keyword = keyword
        self.star = star
        self.node = node
        self.owner = owner  # the ast.Call or ast.ClassDef
        self.lineno = node.lineno  # type: ignore[attr-defined]
        self.col_offset = node.col_offset  # type: ignore[attr-defined]


class Decorator(ast.AST):
    """A decorator as libcst has it: the `@` line (and the comment lines before it, after the previous
    decorator) around the expression `decorator`."""

    _fields = ("decorator",)

    def __init__(self, decorator: ast.expr, previous: Decorator | None) -> None:
        super().__init__()
        self.decorator = decorator
        self.previous = previous


class DictElement(ast.AST):
    """`key: value` of a dict display, a node of its own as in libcst (`key` None for `**value`)."""

    _fields = ("key", "value")

    def __init__(self, key: ast.expr | None, value: ast.expr) -> None:
        super().__init__()
        self.key = key
        self.value = value


@dataclass(slots=True)
class CallSite:
    node: ast.Call
    raw: str
    keywords: dict[str, Arg]
    positional: list[Arg]
    has_star: bool  # *args or **kwargs: keyword absence cannot be proven
    in_main_guard: bool


@dataclass(slots=True)
class Assignment:
    report: ast.AST
    target: str
    value: ast.expr
    in_main_guard: bool


@dataclass(slots=True)
class PythonIndex(NameTable):
    """Everything one walk of a module collects."""

    imports: list[tuple[ast.Import | ast.ImportFrom, str, bool]] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    references: list[tuple[ast.AST, str, bool]] = field(default_factory=list)
    strings: list[tuple[ast.AST, str, bool]] = field(default_factory=list)
    classes: list[tuple[ast.ClassDef, list[str], bool]] = field(default_factory=list)
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[str], bool]] = field(default_factory=list)
    decorators: list[tuple[Decorator, str, bool]] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    handlers: list[tuple[ast.ExceptHandler, bool]] = field(default_factory=list)
    import_statements: list[ast.Import | ast.ImportFrom] = field(default_factory=list)  # all, in source order
    branch_tests: list[ast.expr] = field(default_factory=list)  # conditions of `if` and `x if c else y`
    scopes: dict[int, str] = field(default_factory=dict)  # id(node) -> enclosing `Class.function`
    all_calls: list[ast.Call] = field(default_factory=list)  # every call walked, for their parentheses
    decorators_of: dict[int, list[Decorator]] = field(default_factory=dict)  # id(def) -> its decorators
    args_of: dict[int, list[Arg]] = field(default_factory=dict)  # id(call or class) -> its arguments
    # Nodes made for the walk (dict elements): kept alive, as `scopes` is keyed by id.
    made: list[ast.AST] = field(default_factory=list)

    def imported_modules(self) -> Iterator[str]:
        for _, module, _ in self.imports:
            yield module


class PythonFile:
    """A parsed module plus its index; positions and texts on demand."""

    def __init__(self, module: ast.Module, source: str | None = None) -> None:
        self.module = module
        self.source = getattr(module, "pfa_source", "") if source is None else source
        self.lines = self.source.split("\n")
        self._line_starts: list[int] | None = None
        self._comments: dict[int, int] | None = None  # line -> offset of its comment
        self._syntax_parens: set[int] | None = None
        self._long_strings: list[tuple[int, int]] = []
        self._statements: list[tuple[int, int, str]] | None = None
        self._ast_lines: tuple[list[int], list[str]] | None = None
        self.index = build_index(self)

    # -- offsets ------------------------------------------------------------------------------------------
    def offset(self, line: int, byte_column: int) -> int:
        """The character offset in the source of an ast position."""
        starts, lines = self._starts(), self.lines
        if "\r" in self.source:  # CPython breaks lines at a lone carriage return too; spans count "\n" only
            if self._ast_lines is None:
                breaks = [match.end() for match in _ANY_NEWLINE.finditer(self.source)]
                self._ast_lines = ([0, *breaks], _ANY_NEWLINE.split(self.source))
            starts, lines = self._ast_lines
        if line - 1 >= len(starts):
            return len(self.source)
        return starts[line - 1] + ast_column(lines, line, byte_column) - 1

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0]
            self._line_starts.extend(match.end() for match in _NEWLINE.finditer(self.source))
        return self._line_starts

    def _position(self, offset: int) -> tuple[int, int]:
        starts = self._starts()
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def _extent(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                self.offset(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    # -- what libcst's tree would own -----------------------------------------------------------------------
    def _scan(self) -> None:
        """Comments and strings across lines (a regular expression over the source, once), and the parentheses
        that belong to calls and class definitions rather than to an expression."""
        comments: dict[int, int] = {}
        strings: list[tuple[int, int]] = []  # string literals across lines
        source = self.source
        starts = self._starts()
        for token in _STRINGS_AND_COMMENTS.finditer(source):
            text = token.group()
            if text[0] == "#":
                comments[bisect.bisect_right(starts, token.start()) - 1] = token.start()  # 0-based line
            elif "\n" in text:
                strings.append((token.start(), token.end()))
        self._comments, self._long_strings = comments, strings
        parens: set[int] = set()
        n = len(source)
        for call in self.index.all_calls:
            opening = self._next_code(self._extent(call.func)[1])
            while opening < n and source[opening] == ")":  # the function's own parentheses: `(f)(x)`
                opening = self._next_code(opening + 1)
            if opening < n and source[opening] == "(":
                parens.add(opening)
        for statement in self.index.classes:
            node = statement[0]
            if node.bases or node.keywords:
                keyword = re.compile(rf"class\s+{re.escape(node.name)}").search(
                    source, self.offset(node.lineno, node.col_offset))
                if keyword is not None:
                    opening = self._next_code(keyword.end())
                    if opening < n and source[opening] == "(":
                        parens.add(opening)
        self._syntax_parens = parens

    def _next_code(self, offset: int) -> int:
        """The offset of the first character of code at or after `offset` (whitespace, line continuations and
        comments skipped)."""
        source = self.source
        n = len(source)
        while offset < n:
            char = source[offset]
            if char in " \t\f\r\n":
                offset += 1
            elif char == "\\" and source.startswith("\n", offset + 1):
                offset += 2
            elif char == "\\" and source.startswith("\r\n", offset + 1):
                offset += 3
            elif char == "#":
                end = source.find("\n", offset)
                offset = n if end < 0 else end
            else:
                return offset
        return n

    def _previous_code(self, offset: int) -> int:
        """The offset of the last character of code before `offset`; -1 at the start of the source."""
        source = self.source
        if self._comments is None:
            self._scan()
        assert self._comments is not None
        offset -= 1
        while offset >= 0:
            char = source[offset]
            if char == "\n":
                line = bisect.bisect_right(self._starts(), offset) - 1  # 0-based line that `offset` ends
                comment = self._comments.get(line)
                offset = (comment if comment is not None else offset) - 1
                if offset >= 0 and source[offset] == "\\":
                    offset -= 1
            elif char in " \t\f\r":
                offset -= 1
            else:
                return offset
        return -1

    def _own_parens(self, start: int, end: int) -> tuple[int, int]:
        """The extent of an expression with the parentheses libcst gives it (`(x)` in `f((x))`: not the call's).
        A `(` right before a whole expression and a `)` right after it can only be a pair."""
        if self._syntax_parens is None:
            self._scan()
        syntax = self._syntax_parens
        assert syntax is not None
        source = self.source
        while True:
            before = self._previous_code(start)
            if before < 0 or source[before] != "(" or before in syntax:
                return start, end
            after = self._next_code(end)
            if after >= len(source) or source[after] != ")":
                return start, end
            start, end = before, after + 1

    def _inner(self, node: ast.AST, start: int, end: int) -> tuple[int, int]:
        """Inside a tuple's or generator's own parentheses, which `ast` counts as part of it (libcst does not)."""
        source = self.source
        if source[start] != "(" or source[end - 1] != ")":
            return start, end
        if isinstance(node, ast.Tuple) and node.elts:
            first = self._own_parens(*self._expression_extent(node.elts[0]))[0]
            if first <= start:
                return start, end  # `(a), b`: the parentheses are the first element's
        inner_start = self._next_code(start + 1)
        inner_end = self._previous_code(end - 1) + 1
        return inner_start, max(inner_end, inner_start)

    def _text_extent(self, node: ast.AST) -> tuple[int, int]:
        """Where libcst's `code_for_node` of the node starts and ends."""
        if isinstance(node, Arg):
            start = self._arg_extent(node)[0]
            return start, self._arg_text_end(node)
        if isinstance(node, Decorator):
            return self._decorator_text(node)
        start, end = self._extent(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            after = self._next_code(end)
            if after < len(self.source) and self.source[after] == ";":
                return start, after + 1  # libcst's small statement owns its `;`
            return start, end
        return self._own_parens(*self._expression_extent(node))

    def _arg_extent(self, arg: Arg) -> tuple[int, int]:
        if arg.node is arg.value:
            return self._own_parens(*self._expression_extent(arg.value))
        return self._extent(arg.node)

    def _expression_extent(self, node: ast.AST) -> tuple[int, int]:
        """The ast extent, without the parentheses of a call a generator is the only argument of."""
        start, end = self._extent(node)
        if isinstance(node, ast.GeneratorExp) and self.source[start] == "(":
            if self._syntax_parens is None:
                self._scan()
            assert self._syntax_parens is not None
            if start in self._syntax_parens:  # `f(x for x in y)`
                return self._inner(node, start, end)
        return start, end

    def _arg_text_end(self, arg: Arg) -> int:
        """An argument's text runs to the next argument (its comma and the whitespace after it are its own), or
        to the closing parenthesis."""
        siblings = self.index.args_of.get(id(arg.owner), [])
        position = next((i for i, other in enumerate(siblings) if other is arg), -1)
        if 0 <= position < len(siblings) - 1:
            return self._arg_extent(siblings[position + 1])[0]
        end = self._arg_extent(arg)[1]
        after = self._next_code(end)
        if after < len(self.source) and self.source[after] == ",":
            after = self._next_code(after + 1)
        return after

    def _arg_comma_free_end(self, arg: Arg) -> int:
        end = self._arg_extent(arg)[1]
        after = self._next_code(end)
        if after < len(self.source) and self.source[after] == ",":
            return after
        return self._arg_text_end(arg)

    def _decorator_text(self, decorator: Decorator) -> tuple[int, int]:
        expression_start, expression_end = self._own_parens(*self._extent(decorator.decorator))
        at_line = self._position(expression_start)[0]
        line_text = self.lines[at_line - 1]
        indent = line_text[:len(line_text) - len(line_text.lstrip())]
        at = self._starts()[at_line - 1] + len(indent)
        if self.source[at] != "@":
            at = self.source.rfind("@", 0, expression_start)
        end_line = self._position(expression_end)[0]
        starts = self._starts()
        end = starts[end_line] if end_line < len(starts) else len(self.source)
        return at, end

    def _decorator_leading(self, decorator: Decorator) -> str:
        """The lines between the previous decorator and this one, without the block's indentation."""
        if decorator.previous is None:
            return ""
        previous_end = self._decorator_text(decorator.previous)[1]
        at = self._decorator_text(decorator)[0]
        at_line = self._position(at)[0]
        first_line = self._position(previous_end)[0] if previous_end < len(self.source) else at_line
        line_text = self.lines[at_line - 1]
        indent = line_text[:len(line_text) - len(line_text.lstrip())]
        leading = []
        for number in range(first_line, at_line):
            text = self.lines[number - 1]
            leading.append((text[len(indent):] if text.startswith(indent) else text) + "\n")
        return "".join(leading)

    def text_of(self, node: ast.AST) -> str:
        """The node's code as libcst's `code_for_node` gave it: lines continued inside brackets lose the
        indentation of the statement's block, which libcst generates from its state, not from the node."""
        if isinstance(node, ast.ExceptHandler):
            return self._handler_text(node)
        start, end = self._text_extent(node)
        text = self._without_block_indent(start, end, self._text_anchor(node, start, end))
        if isinstance(node, Decorator):
            text = self._decorator_leading(node) + text
        return text

    def _text_anchor(self, node: ast.AST, start: int, end: int) -> tuple[int, int]:
        """The extent that places a text in its block: an import's own, not with its `;`."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return self._extent(node)
        return start, end

    def _handler_text(self, node: ast.ExceptHandler) -> str:
        """`except ...:` and its body to the end of its last line, as libcst generates it: the body indented
        relative to the handler. (A nested handler's text can so equal a shallower copy's, which libcst's
        occurrence search then took for its place: kept, as findings must not move.)"""
        start, own_end = self._extent(node)
        last = node.end_lineno or node.lineno
        end = self._starts()[last] - 1 if last < len(self._starts()) else len(self.source)
        return self._without_block_indent(start, end, (start, own_end))

    def _without_block_indent(self, start: int, end: int, within: tuple[int, int] | None = None) -> str:
        """The text from `start` to `end` as libcst generates it; `within`: the extent whose statement's block
        the text is in (the node's own, when the text runs past it: a trailing comment, a `;`)."""
        source = self.source
        first_break = source.find("\n", start, end)
        if first_break < 0:
            return source[start:end]
        indent = self._block_indent(*(within or (start, end)))
        if not indent:
            return source[start:end]
        if self._syntax_parens is None:
            self._scan()
        pieces: list[str] = []
        position = start
        line_start = first_break + 1
        strings = self._long_strings
        while line_start < end:
            inside = bisect.bisect_right(strings, (line_start, len(source))) - 1
            in_string = inside >= 0 and strings[inside][0] < line_start < strings[inside][1]
            if not in_string and source.startswith(indent, line_start) and line_start + len(indent) <= end:
                pieces.append(source[position:line_start])
                position = line_start + len(indent)
            following = source.find("\n", line_start, end)
            if following < 0:
                break
            line_start = following + 1
        pieces.append(source[position:end])
        return "".join(pieces)

    def _block_indent(self, start: int, end: int) -> str:
        """The indentation of the innermost statement holding the extent."""
        if self._statements is None:
            found = []
            blocks: list[list[ast.stmt]] = [self.module.body]
            while blocks:  # statements only: their blocks, never their expressions
                for statement in blocks.pop():
                    first, last = self._extent(statement)
                    text = self.lines[statement.lineno - 1]
                    decorators = getattr(statement, "decorator_list", None)
                    if decorators:  # a definition starts at its first decorator
                        first = min(first, self._starts()[min(d.lineno for d in decorators) - 1])
                    found.append((first, last, text[:len(text) - len(text.lstrip())]))
                    for name in _BLOCKS:
                        block = getattr(statement, name, None)
                        if block:
                            blocks.append(block)
                    for inner in getattr(statement, "handlers", ()) or getattr(statement, "cases", ()):
                        blocks.append(inner.body)
            found.sort()
            self._statements = found
        statements = self._statements
        position = bisect.bisect_right(statements, (start, len(self.source) + 1, "")) - 1
        while position >= 0:
            first, last, indent = statements[position]
            if first <= start and end <= last:
                return indent
            position -= 1
        return ""  # at the module's level

    # -- positions ----------------------------------------------------------------------------------------
    def span_of(self, node: ast.AST) -> Span:
        """The node's position. A node whose code occurs once in the source is located by that occurrence;
        statements by `ast`, expressions by `ast` without their parentheses."""
        found = self._unique_occurrence(node)
        if found is not None:
            return found
        if isinstance(node, Arg):
            start, end = self._arg_extent(node)
        elif isinstance(node, Decorator):
            start = self._decorator_text(node)[0]
            end = self._own_parens(*self._extent(node.decorator))[1]
        elif isinstance(node, (ast.stmt, ast.ExceptHandler)):
            return ast_span(node, self.lines)
        else:
            start, end = self._extent(node)
            if isinstance(node, (ast.Tuple, ast.GeneratorExp)):
                start, end = self._inner(node, start, end)
        return Span(*self._position(start), *self._position(end))

    def _unique_occurrence(self, node: ast.AST) -> Span | None:
        # A text that occurs only once in the file can only be the node itself. Compound statements are
        # re-indented by libcst: never located this way.
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
                             ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match)):
            return None
        if isinstance(node, Arg):
            start = self._arg_extent(node)[0]
            code = self._without_block_indent(start, self._arg_comma_free_end(node)).strip()
        else:
            code = self.text_of(node).strip()
        return self._occurrence(code)

    def _occurrence(self, code: str) -> Span | None:
        if len(code) < 4:
            return None
        start = self.source.find(code)
        if start < 0 or self.source.find(code, start + 1) >= 0:
            return None
        return Span(*self._position(start), *self._position(start + len(code)))

    def name_span(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Span:
        """Where a class's or function's name is: by its only occurrence, else on the definition's line."""
        found = self._occurrence(node.name)
        if found is not None:
            return found
        line = node.lineno
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        start = ast_column(self.lines, line, node.col_offset) - 1
        match = re.compile(rf"\b(?:def|class)\s+({re.escape(node.name)})\b").search(text, start)
        if match is not None:
            return Span(line, match.start(1) + 1, line, match.end(1) + 1)
        offset = self.offset(line, node.col_offset)
        found_at = re.compile(rf"\b(?:def|class)\s+({re.escape(node.name)})\b").search(self.source, offset)
        if found_at is None:
            return ast_span(node, self.lines)
        return Span(*self._position(found_at.start(1)), *self._position(found_at.end(1)))

    def body_code(self, node: ast.ExceptHandler) -> str:
        """`code_of` a handler's block as libcst has it: after the header's colon (its comment included) to the
        end of the last statement's line, and the comment lines after it indented deeper than the handler."""
        if not node.body:
            return ""
        first = self._extent(node.body[0])[0]
        if self._syntax_parens is None:
            self._scan()
        colon = self._previous_code(first)
        last = node.body[-1].end_lineno or node.body[-1].lineno
        starts = self._starts()
        end = starts[last] if last < len(starts) else len(self.source)
        pieces = [self.source[colon + 1:end]]
        column = ast_column(self.lines, node.lineno, node.col_offset) - 1
        for text in self.lines[last:]:
            stripped = text.lstrip()
            if not stripped:
                continue
            if not stripped.startswith("#") or len(text) - len(stripped) <= column:
                break
            pieces.append(stripped)
        return "".join("".join(pieces).split())[:200]

    def code_of(self, node: ast.AST) -> str:
        """The node's code without any whitespace: stable when the code is only reformatted."""
        return "".join(self.text_of(node).split())[:200]

    def scope_of(self, node: ast.AST) -> str:
        """The enclosing `Class.function` of a node (empty at module level): anchors stay put when code moves."""
        return self.index.scopes.get(id(node), "")

    def decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[Decorator]:
        return self.index.decorators_of.get(id(node), [])

    def arguments(self, node: ast.Call | ast.ClassDef) -> list[Arg]:
        """A call's arguments in source order (a class's bases and keywords)."""
        found = self.index.args_of.get(id(node))
        if found is None:
            found = self.index.args_of[id(node)] = _arguments(node)
        return found


# -- the walk -----------------------------------------------------------------------------------------------

_Entry = tuple[ast.AST, bool, str]


def _arguments(node: ast.Call | ast.ClassDef) -> list[Arg]:
    found: list[Arg] = []
    for positional in (node.args if isinstance(node, ast.Call) else node.bases):
        if isinstance(positional, ast.Starred):
            found.append(Arg(positional.value, None, "*", positional, node))
        else:
            found.append(Arg(positional, None, "", positional, node))
    for keyword in node.keywords:
        found.append(Arg(keyword.value, keyword.arg, "" if keyword.arg else "**", keyword, node))
    if node.keywords and (node.args if isinstance(node, ast.Call) else node.bases):
        found.sort(key=lambda arg: (arg.lineno, arg.col_offset))
    return found


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    strings = {s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)}
    return names == {"__name__"} and strings == {"__main__"}


def _parameters(arguments: ast.arguments) -> list[ast.AST]:
    """Annotations and defaults in libcst's order: parameters, `*args`, keyword-only ones, `**kwargs`, then
    positional-only ones."""
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: dict[int, ast.expr] = {}
    for i, default in enumerate(arguments.defaults):
        defaults[id(positional[len(positional) - len(arguments.defaults) + i])] = default
    children: list[ast.AST] = []

    def param(arg: ast.arg | None, default: ast.expr | None) -> None:
        if arg is None:
            return
        if arg.annotation is not None:
            children.append(arg.annotation)
        if default is not None:
            children.append(default)

    for arg in arguments.args:
        param(arg, defaults.get(id(arg)))
    param(arguments.vararg, None)
    for arg, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        param(arg, kw_default)
    param(arguments.kwarg, None)
    for arg in arguments.posonlyargs:
        param(arg, defaults.get(id(arg)))
    return children


# Fields that never hold a node worth walking: Load/Store/Del markers and operators (a third of all nodes).
_MARKER_FIELDS = frozenset({"ctx", "op", "ops"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(name for name in node._fields if name not in _MARKER_FIELDS)
    children: list[ast.AST] = []
    for name in names:
        value = getattr(node, name, None)
        if isinstance(value, list):
            children.extend([item for item in value if isinstance(item, ast.AST)])
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


class _Walk:
    __slots__ = ("file", "index", "stack", "star_handlers")

    def __init__(self, file: PythonFile) -> None:
        self.file = file
        self.index = PythonIndex()
        self.stack: list[_Entry] = [(file.module, False, "")]
        self.star_handlers: set[int] = set()

    def run(self) -> PythonIndex:
        index = self.index
        scopes = index.scopes
        stack = self.stack
        handlers = _HANDLERS
        while stack:
            node, guard, scope = stack.pop()
            if scope:
                scopes[id(node)] = scope
            handler = handlers.get(type(node))
            children = handler(self, node, guard, scope) if handler is not None else None
            if children is None:
                children = _children(node)
            elif children is _STOP:
                continue
            stack.extend([(child, guard, scope) for child in reversed(children)])
        return index

    def push(self, children: list[ast.AST], guard: bool, scope: str) -> list[ast.AST]:
        self.stack.extend([(child, guard, scope) for child in reversed(children)])
        return _STOP

    # -- statements -----------------------------------------------------------------------------------------
    def body(self, statements: list[ast.stmt]) -> list[ast.AST]:
        """A block's statements, without documentation: a string alone on its line (libcst skips its line)."""
        kept: list[ast.AST] = []
        for statement in statements:
            if isinstance(statement, ast.Expr) and self._documentation(statement):
                continue
            kept.append(statement)
        return kept

    def _documentation(self, statement: ast.Expr) -> bool:
        return is_documentation(self.file, statement)


def is_documentation(file: PythonFile, statement: ast.Expr) -> bool:
    """A string statement alone on its line (a docstring, a bare string): documentation, not data. libcst's
    walks skip such a line; one after `;` or on a compound statement's line is walked."""
    value = statement.value
    if isinstance(value, ast.JoinedStr):
        if _annotate(file, value) is not UNKNOWN:
            return False  # a lone f-string is walked
    elif not (isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes))):
        return False
    line = file.lines[statement.lineno - 1]
    if line[:ast_column(file.lines, statement.lineno, statement.col_offset) - 1].strip():
        return False  # after `;` or a compound statement's colon: not a line of its own
    end_line = statement.end_lineno or statement.lineno
    rest = file.lines[end_line - 1][ast_column(file.lines, end_line, statement.end_col_offset or 0) - 1:]
    rest = rest.strip()
    if rest.startswith(";"):
        rest = rest[1:].strip()
    return not rest or rest.startswith("#")


_STOP: list[ast.AST] = []
_Handler = Any


def _module(walk: _Walk, node: ast.Module, guard: bool, scope: str) -> list[ast.AST]:
    return walk.body(node.body)


def _import(walk: _Walk, node: ast.Import, guard: bool, scope: str) -> list[ast.AST]:
    index = walk.index
    index.import_statements.append(node)
    for alias in node.names:
        index.imports.append((node, alias.name, guard))
        index.bind_import(alias.name, alias.asname)
    return _STOP


def _import_from(walk: _Walk, node: ast.ImportFrom, guard: bool, scope: str) -> list[ast.AST]:
    index = walk.index
    index.import_statements.append(node)
    if node.level:
        return _STOP  # the project's own package: nothing a rule names
    module = node.module or ""
    index.imports.append((node, module, guard))
    for alias in node.names:
        if alias.name == "*":
            return _STOP
        full = f"{module}.{alias.name}"
        index.imports.append((node, full, guard))
        index.aliases[alias.asname or alias.name] = full
    return _STOP


def _call(walk: _Walk, node: ast.Call, guard: bool, scope: str) -> list[ast.AST]:
    index = walk.index
    index.all_calls.append(node)
    arguments = _arguments(node)
    index.args_of[id(node)] = arguments
    raw = dotted_name(node.func)
    if raw is not None:
        keywords: dict[str, Arg] = {}
        positional: list[Arg] = []
        has_star = False
        for arg in arguments:
            if arg.star:
                has_star = True
            elif arg.keyword is not None:
                keywords[arg.keyword] = arg
                index.assignments.append(Assignment(arg, arg.keyword, arg.value, guard))
            else:
                positional.append(arg)
        index.calls.append(CallSite(node, raw, keywords, positional, has_star, guard))
    return [node.func, *arguments]


def _arg(walk: _Walk, node: Arg, guard: bool, scope: str) -> list[ast.AST]:
    return [node.value]


def _name(walk: _Walk, node: ast.Name, guard: bool, scope: str) -> list[ast.AST]:
    walk.index.references.append((node, node.id, guard))
    return _STOP


def _attribute(walk: _Walk, node: ast.Attribute, guard: bool, scope: str) -> list[ast.AST]:
    raw = dotted_name(node)
    if raw is not None and "(" not in raw:
        walk.index.references.append((node, raw, guard))
        return _STOP
    # libcst visits the attribute's name on its own: a name where `.attr` ends.
    width = len(node.attr.encode("utf-8"))
    end_line = node.end_lineno or node.lineno
    attr = ast.Name(id=node.attr, lineno=end_line, col_offset=(node.end_col_offset or 0) - width,
                    end_lineno=end_line, end_col_offset=node.end_col_offset)
    return [node.value, attr]


def _constant(walk: _Walk, node: ast.Constant, guard: bool, scope: str) -> list[ast.AST]:
    value = node.value
    if isinstance(value, str):
        walk.index.strings.append((node, value, guard))
    elif isinstance(value, bytes):
        walk.index.strings.append((node, value.decode("latin-1"), guard))
    elif value is None or value is True or value is False:
        walk.index.references.append((node, repr(value), guard))
    return _STOP


def _joined_str(walk: _Walk, node: ast.JoinedStr, guard: bool, scope: str) -> list[ast.AST]:
    text = _annotate(walk.file, node)
    if text is UNKNOWN:
        return _STOP  # an implicit concatenation: no literal value, and libcst's walk does not enter it
    walk.index.strings.append((node, text, guard))
    return _fields_of_fstring(node)


def _fields_of_fstring(node: ast.JoinedStr) -> list[ast.AST]:
    children: list[ast.AST] = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            children.append(part.value)
            if isinstance(part.format_spec, ast.JoinedStr):
                children.extend(_fields_of_fstring(part.format_spec))
    return children


def _class(walk: _Walk, node: ast.ClassDef, guard: bool, scope: str) -> list[ast.AST]:
    index = walk.index
    bases = [dotted_name(base.value if isinstance(base, ast.Starred) else base) or "" for base in node.bases]
    index.classes.append((node, bases, guard))
    decorators = _decorators(walk, node)
    arguments = _arguments(node)
    index.args_of[id(node)] = arguments
    inner = f"{scope}.{node.name}" if scope else node.name
    positional = [a for a in arguments if a.keyword is None and a.star != "**"]
    keywords = [a for a in arguments if a.keyword is not None or a.star == "**"]
    return walk.push([*walk.body(node.body), *positional, *keywords, *decorators], guard, inner)


def _decorators(walk: _Walk, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[Decorator]:
    found: list[Decorator] = []
    previous: Decorator | None = None
    for expression in node.decorator_list:
        previous = Decorator(expression, previous)
        found.append(previous)
    walk.index.decorators_of[id(node)] = found
    return found


def _decorator_name(expression: ast.expr) -> str:
    if isinstance(expression, ast.Call):
        expression = expression.func
    return dotted_name(expression) or ""


def _function(walk: _Walk, node: ast.FunctionDef | ast.AsyncFunctionDef, guard: bool, scope: str) -> list[ast.AST]:
    walk.index.functions.append((node, [_decorator_name(d) for d in node.decorator_list], guard))
    decorators = _decorators(walk, node)
    inner = f"{scope}.{node.name}" if scope else node.name
    children = [*_parameters(node.args), *walk.body(node.body), *decorators]
    if node.returns is not None:
        children.append(node.returns)
    return walk.push(children, guard, inner)


def _lambda(walk: _Walk, node: ast.Lambda, guard: bool, scope: str) -> list[ast.AST]:
    return [*_parameters(node.args), node.body]


def _decorator(walk: _Walk, node: Decorator, guard: bool, scope: str) -> list[ast.AST]:
    walk.index.decorators.append((node, _decorator_name(node.decorator), guard))
    return [node.decorator]


def _assign(walk: _Walk, node: ast.Assign, guard: bool, scope: str) -> list[ast.AST]:
    for target in node.targets:
        _index_assignment(walk, target, node.value, guard)
    return [*(t for t in node.targets if not isinstance(t, (ast.Name, ast.Attribute))), node.value]


def _annotated_assign(walk: _Walk, node: ast.AnnAssign, guard: bool, scope: str) -> list[ast.AST]:
    if node.value is None:
        return [node.target, node.annotation]
    _index_assignment(walk, node.target, node.value, guard)
    if isinstance(node.target, (ast.Name, ast.Attribute)):
        return [node.value]
    return [node.target, node.value]


def _with_item(walk: _Walk, node: ast.withitem, guard: bool, scope: str) -> list[ast.AST]:
    """`with requests.Session() as s:` binds `s` like an assignment would; the name bound is not walked."""
    if node.optional_vars is not None:
        walk.index.bind(dotted_name(node.optional_vars), dotted_name(node.context_expr))
    return [node.context_expr]


def _dict(walk: _Walk, node: ast.Dict, guard: bool, scope: str) -> list[ast.AST]:
    elements: list[ast.AST] = [DictElement(key, value) for key, value in zip(node.keys, node.values, strict=True)]
    walk.index.made.extend(elements)
    return elements


def _dict_element(walk: _Walk, node: DictElement, guard: bool, scope: str) -> list[ast.AST]:
    if node.key is None:
        return [node.value]
    literal = _annotate(walk.file, node.key)
    if isinstance(literal, str):
        walk.index.assignments.append(Assignment(node.key, literal, node.value, guard))
    return [node.key, node.value]


def _try(walk: _Walk, node: ast.Try, guard: bool, scope: str) -> list[ast.AST]:
    return [*walk.body(node.body), *node.handlers, *walk.body(node.orelse), *walk.body(node.finalbody)]


def _try_star(walk: _Walk, node: ast.AST, guard: bool, scope: str) -> list[ast.AST]:
    walk.star_handlers.update(id(h) for h in node.handlers)  # type: ignore[attr-defined]
    return _try(walk, node, guard, scope)  # type: ignore[arg-type]


def _handler(walk: _Walk, node: ast.ExceptHandler, guard: bool, scope: str) -> list[ast.AST]:
    if id(node) not in walk.star_handlers:
        walk.index.handlers.append((node, guard))
    return [*walk.body(node.body), *([node.type] if node.type is not None else [])]


def _if_expression(walk: _Walk, node: ast.IfExp, guard: bool, scope: str) -> list[ast.AST]:
    walk.index.branch_tests.append(node.test)
    return [node.test, node.body, node.orelse]


def _if(walk: _Walk, node: ast.If, guard: bool, scope: str) -> list[ast.AST]:
    if not guard and _is_main_guard(node):
        stack = walk.stack
        stack.extend((child, False, scope) for child in reversed(walk.body(node.orelse)))
        stack.extend((child, True, scope) for child in reversed(walk.body(node.body)))
        return _STOP
    walk.index.branch_tests.append(node.test)
    return [node.test, *walk.body(node.body), *walk.body(node.orelse)]


def _loop(walk: _Walk, node: ast.For | ast.AsyncFor, guard: bool, scope: str) -> list[ast.AST]:
    return [node.target, node.iter, *walk.body(node.body), *walk.body(node.orelse)]


def _while(walk: _Walk, node: ast.While, guard: bool, scope: str) -> list[ast.AST]:
    return [node.test, *walk.body(node.body), *walk.body(node.orelse)]


def _with(walk: _Walk, node: ast.With | ast.AsyncWith, guard: bool, scope: str) -> list[ast.AST]:
    return [*node.items, *walk.body(node.body)]


def _match_case(walk: _Walk, node: ast.match_case, guard: bool, scope: str) -> list[ast.AST]:
    return [node.pattern, *walk.body(node.body), *([node.guard] if node.guard is not None else [])]


def _match_singleton(walk: _Walk, node: ast.MatchSingleton, guard: bool, scope: str) -> list[ast.AST]:
    walk.index.references.append((node, repr(node.value), guard))
    return _STOP


def _match_class(walk: _Walk, node: ast.MatchClass, guard: bool, scope: str) -> list[ast.AST]:
    children: list[ast.AST] = [node.cls, *node.patterns]
    for name, pattern in zip(node.kwd_attrs, node.kwd_patterns, strict=True):
        children.append(_name_before(walk.file, name, pattern))
        children.append(pattern)
    return children


def _match_mapping(walk: _Walk, node: ast.MatchMapping, guard: bool, scope: str) -> list[ast.AST]:
    children: list[ast.AST] = []
    for key, pattern in zip(node.keys, node.patterns, strict=True):
        children.extend((key, pattern))
    if node.rest is not None:
        end = ast.AST()
        end.lineno, end.col_offset = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        children.append(_name_before(walk.file, node.rest, end, after="**"))
    return children


def _name_before(file: PythonFile, name: str, following: ast.AST, after: str = "") -> ast.Name:
    """A name libcst has a node for and `ast` only a string (`case C(key=...)`, `**rest`): the last spelling
    of it before the next node."""
    limit = file.offset(following.lineno, following.col_offset)  # type: ignore[attr-defined]
    pattern = re.compile(rf"{re.escape(after)}\s*\b({re.escape(name)})\b")
    matches = list(pattern.finditer(file.source, max(0, limit - 2000), limit))
    start = matches[-1].start(1) if matches else limit
    line, column = file._position(start)
    byte_column = len(file.lines[line - 1][:column - 1].encode("utf-8"))
    width = len(name.encode("utf-8"))
    return ast.Name(id=name, lineno=line, col_offset=byte_column, end_lineno=line, end_col_offset=byte_column + width)


def _comprehension(walk: _Walk, node: ast.comprehension, guard: bool, scope: str) -> list[ast.AST]:
    return [node.target, node.iter, *node.ifs]


_HANDLERS: dict[type, _Handler] = {
    ast.Module: _module,
    ast.Import: _import,
    ast.ImportFrom: _import_from,
    ast.Call: _call,
    Arg: _arg,
    ast.Name: _name,
    ast.Attribute: _attribute,
    ast.Constant: _constant,
    ast.JoinedStr: _joined_str,
    ast.ClassDef: _class,
    ast.FunctionDef: _function,
    ast.AsyncFunctionDef: _function,
    ast.Lambda: _lambda,
    Decorator: _decorator,
    ast.Assign: _assign,
    ast.AnnAssign: _annotated_assign,
    ast.withitem: _with_item,
    ast.Dict: _dict,
    DictElement: _dict_element,
    ast.Try: _try,
    ast.ExceptHandler: _handler,
    ast.IfExp: _if_expression,
    ast.If: _if,
    ast.For: _loop,
    ast.AsyncFor: _loop,
    ast.While: _while,
    ast.With: _with,
    ast.AsyncWith: _with,
    ast.match_case: _match_case,
    ast.MatchSingleton: _match_singleton,
    ast.MatchClass: _match_class,
    ast.MatchMapping: _match_mapping,
    ast.comprehension: _comprehension,
}
if hasattr(ast, "TryStar"):
    _HANDLERS[ast.TryStar] = _try_star


def _index_assignment(walk: _Walk, target: ast.expr, value: ast.expr, guard: bool) -> None:
    index = walk.index
    name: str | None = None
    if isinstance(target, ast.Name):
        name = target.id
    elif isinstance(target, ast.Attribute):
        name = target.attr
    elif isinstance(target, ast.Subscript) and not isinstance(target.slice, (ast.Tuple, ast.Slice)):
        key = _annotate(walk.file, target.slice)
        name = key if isinstance(key, str) else None
    if name is not None:
        index.assignments.append(Assignment(target, name, value, guard))
    index.bind(dotted_name(target), dotted_name(value))


def build_index(file: PythonFile) -> PythonIndex:
    return _Walk(file).run()


# -- libcst's visiting order, for predicates that look at every node of a subtree ---------------------------

class Param(ast.AST):
    """A parameter as libcst has it: `name`, with its `annotation` and `default` (either may be None)."""

    _fields = ("annotation", "default")

    def __init__(self, name: str, annotation: ast.expr | None, default: ast.expr | None) -> None:
        super().__init__()
        self.name = name
        self.annotation = annotation
        self.default = default


def parameters(arguments: ast.arguments) -> list[Param]:
    """Parameters in source order: positional-only, ordinary, `*args`, keyword-only, `**kwargs`."""
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    found = [Param(arg.arg, arg.annotation, arguments.defaults[i - first_default] if i >= first_default else None)
             for i, arg in enumerate(positional)]
    if arguments.vararg is not None:
        found.append(Param(arguments.vararg.arg, arguments.vararg.annotation, None))
    found.extend(Param(arg.arg, arg.annotation, default)
                 for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
    if arguments.kwarg is not None:
        found.append(Param(arguments.kwarg.arg, arguments.kwarg.annotation, None))
    return found


def _named(name: str) -> ast.Name:
    return ast.Name(id=name)


def visit_children(file: PythonFile, node: ast.AST) -> list[ast.AST]:
    """A node's children in the order a libcst visitor visits them (source order), with the names libcst has
    nodes for and `ast` only strings (`.attr`, keywords, parameters, definitions) as `ast.Name`s, call
    arguments as `Arg`s, dict entries as `DictElement`s and parameters as `Param`s. An f-string's literal
    parts are not strings there: only its fields are children."""
    if isinstance(node, ast.Attribute):
        return [node.value, _named(node.attr)]
    if isinstance(node, ast.Call):
        return [node.func, *file.arguments(node)]
    if isinstance(node, Arg):
        return [_named(node.keyword), node.value] if node.keyword else [node.value]
    if isinstance(node, ast.Dict):
        return [DictElement(key, value) for key, value in zip(node.keys, node.values, strict=True)]
    if isinstance(node, DictElement):
        return [node.value] if node.key is None else [node.key, node.value]
    if isinstance(node, ast.JoinedStr):
        return [*_fields_of_fstring(node)] if _annotate(file, node) is not UNKNOWN else []
    if isinstance(node, ast.IfExp):
        return [node.body, node.test, node.orelse]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [*node.decorator_list, _named(node.name), *parameters(node.args),
                *([node.returns] if node.returns is not None else []), *node.body]
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, _named(node.name), *file.arguments(node), *node.body]
    if isinstance(node, ast.Lambda):
        return [*parameters(node.args), node.body]
    if isinstance(node, Param):
        return [_named(node.name), *(n for n in (node.annotation, node.default) if n is not None)]
    if isinstance(node, ast.ExceptHandler):
        return [*([node.type] if node.type is not None else []), *([_named(node.name)] if node.name else []),
                *node.body]
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
        return []
    return _children(node)


def walk_in_visit_order(file: PythonFile, node: ast.AST) -> Iterator[ast.AST]:
    """The subtree in a libcst visitor's order (pre-order, source order); see `visit_children`."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(visit_children(file, current)))


def name_value(node: ast.AST) -> str | None:
    """The name a libcst `Name` node would hold: a name, or `True` / `False` / `None`."""
    if isinstance(node, ast.Name):
        return node.id
    if _is_named_constant(node):
        return repr(node.value)  # type: ignore[attr-defined]
    return None


def is_simple_string(node: ast.AST) -> bool:
    """What libcst calls a SimpleString or a ConcatenatedString of them: a str or bytes constant."""
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
