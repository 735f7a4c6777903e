"""Python source through libcst: one walk builds an index of what the patterns look at.

Positions are computed lazily, once per file, and only when some pattern hit: most files of a repository
produce no finding, and libcst's position pass costs more than the parse itself.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pfa_policy.engine.values import UNKNOWN
from pfa_policy.lazy import lazy_module
from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.names import NameTable
from pfa_policy.parsers.python_outline import ast_column, ast_span, cpython_parse

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")  # executed on first use: a warm scan parses nothing

_NEWLINE = re.compile("\n")


# CPython's own limit on open brackets (its tokenizer's MAXLEVEL). libcst's native parser has none: a few
# thousand levels overflow its stack, which kills the process instead of raising.
MAX_BRACKET_DEPTH = 200
# What can hold a bracket that is not one: comments and string literals (prefixes are irrelevant here).
_BRACKET_TOKENS = re.compile("|".join((
    r"#[^\n]*",
    r"'''(?:\\.|[^\\])*?'''",
    r'"""(?:\\.|[^\\])*?"""',
    r"'(?:\\.|[^'\\\n])*'",
    r'"(?:\\.|[^"\\\n])*"',
    r"[()\[\]{}]",
)))


def parse_python(text: str, *, depth_checked: bool = False) -> cst.Module:
    """The libcst tree; source beyond Python's own nesting limits is refused before libcst sees it, unless the
    caller knows CPython parsed it (`depth_checked`)."""
    if not depth_checked:
        refuse_too_deep(text)
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(text, error) from None
    except (RecursionError, MemoryError):
        raise ParseError("Python source nested too deeply to parse") from None
    except Exception as error:  # libcst raises assorted errors on exotic input; none may stop the scan
        raise ParseError(f"Python source could not be parsed: {error}") from None


def refuse_too_deep(text: str) -> None:
    """Raise ParseError for source nested deeper than CPython accepts: brackets counted outside strings and
    comments, then CPython's parser, which guards its own recursion, for long operator chains."""
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
    try:
        cpython_parse(text)
    except (RecursionError, MemoryError):
        raise ParseError("expression nested too deeply for Python's own parser; not parsed") from None
    except (SyntaxError, ValueError):
        pass  # libcst says what is wrong, or parses syntax newer than this Python


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> ParseError:
    """CPython's account of the error when it has one: libcst often points a token or a line past the mistake
    (`def f(:` at the start of the next line)."""
    try:
        cpython_parse(text)
    except SyntaxError as cpython:
        if cpython.lineno:
            return ParseError(f"Python syntax error: {cpython.msg}", cpython.lineno, max(cpython.offset or 1, 1))
    except (ValueError, RecursionError, MemoryError):
        pass
    return ParseError(f"Python syntax error: {error.message}", error.raw_line, error.raw_column + 1)


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for attribute chains, `f()` suffix for calls in the chain; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    if isinstance(node, cst.Call):
        base = dotted_name(node.func)
        return None if base is None else f"{base}()"
    return None


def literal_value(node: cst.BaseExpression) -> Any:
    """The statically known value of a literal expression, else UNKNOWN."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return UNKNOWN if value is None else value
    if isinstance(node, cst.FormattedString):
        return formatted_text(node)
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal_value(node.expression)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner
    return UNKNOWN


def formatted_text(node: cst.FormattedString) -> str:
    """An f-string's static text with `{}` where expressions go: enough to see a URL's scheme and host."""
    parts = []
    for part in node.parts:
        parts.append(part.value if isinstance(part, cst.FormattedStringText) else "{}")
    return "".join(parts)


@dataclass(slots=True)
class CallSite:
    node: cst.Call
    raw: str
    keywords: dict[str, cst.Arg]
    positional: list[cst.Arg]
    has_star: bool  # *args or **kwargs: keyword absence cannot be proven
    in_main_guard: bool


@dataclass(slots=True)
class Assignment:
    report: cst.CSTNode
    target: str
    value: cst.BaseExpression
    in_main_guard: bool


@dataclass(slots=True)
class PythonIndex(NameTable):
    """Everything one walk of a module collects."""

    imports: list[tuple[cst.CSTNode, str, bool]] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    references: list[tuple[cst.CSTNode, str, bool]] = field(default_factory=list)
    strings: list[tuple[cst.CSTNode, str, bool]] = field(default_factory=list)
    classes: list[tuple[cst.ClassDef, list[str], bool]] = field(default_factory=list)
    functions: list[tuple[cst.FunctionDef, list[str], bool]] = field(default_factory=list)
    decorators: list[tuple[cst.Decorator, str, bool]] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    handlers: list[tuple[cst.ExceptHandler, bool]] = field(default_factory=list)
    import_statements: list[cst.Import | cst.ImportFrom] = field(default_factory=list)  # all, in source order
    branch_tests: list[cst.BaseExpression] = field(default_factory=list)  # conditions of `if` and `x if c else y`
    scopes: dict[int, str] = field(default_factory=dict)  # id(node) -> enclosing `Class.function`

    def imported_modules(self) -> Iterator[str]:
        for _, module, _ in self.imports:
            yield module


class PythonFile:
    """A parsed module plus its index; positions on demand."""

    def __init__(self, module: cst.Module, source: str | None = None) -> None:
        self.module = module
        self.source = module.code if source is None else source
        self.index = build_index(module)
        self._positions: Any = None
        self._line_starts: list[int] | None = None
        self._statement_spans: dict[int, Span] | None = None

    def span_of(self, node: cst.CSTNode) -> Span:
        """The node's position. A node whose code occurs once in the source is located by that occurrence;
        anything else takes libcst's position pass, once per file (it re-generates the whole module)."""
        found = self._unique_occurrence(node)
        if found is not None:
            return found
        if self._statement_spans is None:
            self._statement_spans = statement_spans(self)
        found = self._statement_spans.get(id(node))
        if found is not None:
            return found
        if self._positions is None:
            import libcst.metadata  # with the position pass: the parse alone does not need it

            wrapper = libcst.metadata.MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(libcst.metadata.PositionProvider)
        code_range = self._positions[node]
        return Span(
            code_range.start.line,
            code_range.start.column + 1,
            code_range.end.line,
            code_range.end.column + 1,
        )

    def _unique_occurrence(self, node: cst.CSTNode) -> Span | None:
        # Expression and small-statement nodes generate exactly their source text, so a text that occurs
        # only once in the file can only be the node itself. Compound statements re-indent: no occurrence.
        if isinstance(node, cst.BaseCompoundStatement):
            return None
        if isinstance(getattr(node, "comma", None), cst.Comma):
            node = node.with_changes(comma=cst.MaybeSentinel.DEFAULT)  # positions end before the comma
        code = self.module.code_for_node(node).strip()
        if len(code) < 4:
            return None
        start = self.source.find(code)
        if start < 0 or self.source.find(code, start + 1) >= 0:
            return None
        return Span(*self._position(start), *self._position(start + len(code)))

    def _position(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0]
            self._line_starts.extend(match.end() for match in _NEWLINE.finditer(self.source))
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def code_of(self, node: cst.CSTNode) -> str:
        """The node's code without any whitespace: stable when the code is only reformatted."""
        return "".join(self.module.code_for_node(node).split())[:200]

    def scope_of(self, node: cst.CSTNode) -> str:
        """The enclosing `Class.function` of a node (empty at module level): anchors stay put when code moves."""
        return self.index.scopes.get(id(node), "")



_FIELDS: dict[type, tuple[str, ...]] = {}
# Fields that only ever hold whitespace, comments and punctuation: nothing a pattern looks at.
_TOKEN_FIELDS = frozenset({
    "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket", "comma", "colon", "first_colon", "second_colon",
    "dot", "equal", "operator", "newline", "leading_lines", "header", "footer", "trailing_whitespace", "comment",
    "semicolon", "asynchronous", "lines_after_decorators", "star_tok", "whitespace",
    # Labels and the names being defined (a parameter, a keyword argument's label, `def f`, `as x`): never a
    # reference to the value a pattern looks for.
    "keyword", "name",
})


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(node)
                      if f.name not in _TOKEN_FIELDS and not f.name.startswith("whitespace_"))
        _FIELDS[type(node)] = names
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def _is_main_guard(node: cst.If) -> bool:
    test = node.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = {s.value for s in sides if isinstance(s, cst.Name)}
    strings = {literal_value(s) for s in sides if isinstance(s, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}


def _import_name(node: cst.BaseExpression) -> str:
    return dotted_name(node) or ""


def build_index(module: cst.Module) -> PythonIndex:
    index = PythonIndex()
    stack: list[tuple[cst.CSTNode, bool, str]] = [(module, False, "")]
    scopes = index.scopes
    while stack:
        node, guard, scope = stack.pop()
        if scope:
            scopes[id(node)] = scope
        kind = type(node)
        if kind is cst.SimpleStatementLine:
            body = node.body  # type: ignore[attr-defined]
            if len(body) == 1 and isinstance(body[0], cst.Expr) and isinstance(
                body[0].value, (cst.SimpleString, cst.ConcatenatedString)
            ):
                continue  # a docstring or bare string: documentation, not data
        elif kind is cst.Import:
            index.import_statements.append(node)  # type: ignore[arg-type]
            _index_import(index, node, guard)  # type: ignore[arg-type]
            continue
        elif kind is cst.ImportFrom:
            index.import_statements.append(node)  # type: ignore[arg-type]
            _index_import_from(index, node, guard)  # type: ignore[arg-type]
            continue
        elif kind is cst.Call:
            _index_call(index, node, guard)  # type: ignore[arg-type]
        elif kind is cst.Attribute or kind is cst.Name:
            raw = dotted_name(node)  # type: ignore[arg-type]
            if raw is not None and "(" not in raw:
                index.references.append((node, raw, guard))
                continue  # a pure name chain holds nothing else to index
        elif kind in (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString):
            value = literal_value(node)  # type: ignore[arg-type]
            if isinstance(value, str):
                index.strings.append((node, value, guard))
            if kind is not cst.FormattedString:
                continue
        elif kind is cst.ClassDef:
            bases = [dotted_name(arg.value) or "" for arg in node.bases]  # type: ignore[attr-defined]
            index.classes.append((node, bases, guard))  # type: ignore[arg-type]
        elif kind is cst.FunctionDef:
            decorators = [_decorator_name(d) for d in node.decorators]  # type: ignore[attr-defined]
            index.functions.append((node, decorators, guard))  # type: ignore[arg-type]
        elif kind is cst.Decorator:
            index.decorators.append((node, _decorator_name(node), guard))  # type: ignore[arg-type]
        elif kind is cst.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                _index_assignment(index, target.target, node.value, guard)  # type: ignore[attr-defined]
            _push_assignment(stack, [t.target for t in node.targets], node.value, guard, scope)  # type: ignore[attr-defined]
            continue
        elif kind is cst.AnnAssign and node.value is not None:  # type: ignore[attr-defined]
            _index_assignment(index, node.target, node.value, guard)  # type: ignore[attr-defined]
            _push_assignment(stack, [node.target], node.value, guard, scope)  # type: ignore[attr-defined]
            continue
        elif kind is cst.WithItem:
            _index_with_item(index, node)  # type: ignore[arg-type]
        elif kind is cst.DictElement:
            key = literal_value(node.key)  # type: ignore[attr-defined]
            if isinstance(key, str):
                index.assignments.append(Assignment(node.key, key, node.value, guard))  # type: ignore[attr-defined]
        elif kind is cst.ExceptHandler:
            index.handlers.append((node, guard))  # type: ignore[arg-type]
        elif kind is cst.IfExp:
            index.branch_tests.append(node.test)  # type: ignore[attr-defined]
        elif kind is cst.If and not guard and _is_main_guard(node):  # type: ignore[arg-type]
            if node.orelse is not None:  # type: ignore[attr-defined]
                stack.append((node.orelse, False, scope))  # type: ignore[attr-defined]
            stack.append((node.body, True, scope))  # type: ignore[attr-defined]
            continue
        if kind is cst.If:
            index.branch_tests.append(node.test)  # type: ignore[attr-defined]
        if kind is cst.ClassDef or kind is cst.FunctionDef:
            scope = f"{scope}.{node.name.value}" if scope else node.name.value  # type: ignore[attr-defined]
        stack.extend((child, guard, scope) for child in reversed(list(_children(node))))
    return index


def _push_assignment(stack: list[tuple[cst.CSTNode, bool, str]], targets: list[cst.BaseExpression],
                     value: cst.BaseExpression, guard: bool, scope: str) -> None:
    """Walk the value and the inside of complex targets; a plain name or attribute being assigned to is not a
    reference to what it will hold (`ctx.verify_mode = ssl.CERT_NONE` names CERT_NONE once)."""
    stack.append((value, guard, scope))
    for target in reversed(targets):
        if not isinstance(target, (cst.Name, cst.Attribute)):
            stack.append((target, guard, scope))


def _index_with_item(index: PythonIndex, item: cst.WithItem) -> None:
    """`with requests.Session() as s:` binds `s` like an assignment would."""
    if item.asname is None:
        return
    index.bind(dotted_name(item.asname.name), dotted_name(item.item))


def _decorator_name(decorator: cst.Decorator) -> str:
    expression = decorator.decorator
    if isinstance(expression, cst.Call):
        expression = expression.func
    return dotted_name(expression) or ""


def _index_import(index: PythonIndex, node: cst.Import, guard: bool) -> None:
    for alias in node.names:
        module = _import_name(alias.name)
        index.imports.append((node, module, guard))
        asname = alias.asname.name if alias.asname is not None else None
        index.bind_import(module, asname.value if isinstance(asname, cst.Name) else None)


def _index_import_from(index: PythonIndex, node: cst.ImportFrom, guard: bool) -> None:
    if node.relative:
        return  # the project's own package: nothing a rule names
    module = _import_name(node.module) if node.module is not None else ""
    index.imports.append((node, module, guard))
    if isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        name = _import_name(alias.name)
        full = f"{module}.{name}"
        index.imports.append((node, full, guard))
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        index.aliases[local] = full


def _index_call(index: PythonIndex, node: cst.Call, guard: bool) -> None:
    raw = dotted_name(node.func)
    if raw is None:
        return
    keywords: dict[str, cst.Arg] = {}
    positional: list[cst.Arg] = []
    has_star = False
    for arg in node.args:
        if arg.star:
            has_star = True
        elif arg.keyword is not None:
            keywords[arg.keyword.value] = arg
            index.assignments.append(Assignment(arg, arg.keyword.value, arg.value, guard))
        else:
            positional.append(arg)
    index.calls.append(CallSite(node, raw, keywords, positional, has_star, guard))


def _index_assignment(index: PythonIndex, target: cst.BaseExpression, value: cst.BaseExpression,
                      guard: bool) -> None:
    name: str | None = None
    if isinstance(target, cst.Name):
        name = target.value
    elif isinstance(target, cst.Attribute):
        name = target.attr.value
    elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
        element = target.slice[0].slice
        if isinstance(element, cst.Index):
            key = literal_value(element.value)
            name = key if isinstance(key, str) else None
    if name is not None:
        index.assignments.append(Assignment(target, name, value, guard))
    index.bind(dotted_name(target), dotted_name(value))


def statement_spans(file: PythonFile) -> dict[int, Span]:
    """Positions of statements (and of the names of classes and functions) from the stdlib `ast`.

    Statements whose code repeats in a file (`import os`, `except Exception: pass`) cannot be located by their
    text, and libcst's position pass regenerates the whole module. CPython's own parser gives their positions
    cheaply, and the n-th import (handler, class, function) in source order is the same statement in both
    trees. Any disagreement, or source `ast` cannot parse, leaves the nodes to the position pass."""
    try:
        tree = ast.parse(file.source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    by_type: dict[type, list[ast.AST]] = {}
    for node in ast.walk(tree):
        by_type.setdefault(type(node), []).append(node)
        if isinstance(node, ast.Try):
            by_type.setdefault(_TryHandler, []).extend(node.handlers)
    lines = file.source.split("\n")
    spans: dict[int, Span] = {}
    index = file.index
    pairs: list[tuple[list[Any], list[ast.AST]]] = [
        (list(index.import_statements), _ordered(by_type, ast.Import, ast.ImportFrom)),
        ([node for node, _ in index.handlers], _ordered(by_type, _TryHandler)),
        ([node for node, _, _ in index.classes], _ordered(by_type, ast.ClassDef)),
        ([node for node, _, _ in index.functions], _ordered(by_type, ast.FunctionDef, ast.AsyncFunctionDef)),
    ]
    for cst_nodes, ast_nodes in pairs:
        if len(cst_nodes) != len(ast_nodes) or any(
            isinstance(c, (cst.Import, cst.ImportFrom)) and type(c).__name__ != type(a).__name__
            for c, a in zip(cst_nodes, ast_nodes, strict=True)
        ):
            continue  # the two trees disagree: trust neither
        for cst_node, ast_node in zip(cst_nodes, ast_nodes, strict=True):
            spans[id(cst_node)] = ast_span(ast_node, lines)
            if isinstance(cst_node, (cst.ClassDef, cst.FunctionDef)):
                name_span = _name_span(cst_node.name.value, ast_node, lines)
                if name_span is not None:
                    spans[id(cst_node.name)] = name_span
    return spans


class _TryHandler:
    """Key for the handlers of `try` statements (not `try/except*`, which libcst types differently)."""


def _ordered(by_type: dict[type, list[ast.AST]], *kinds: type) -> list[ast.AST]:
    nodes = [node for kind in kinds for node in by_type.get(kind, ())]
    return sorted(nodes, key=lambda node: (node.lineno, node.col_offset))  # type: ignore[attr-defined]


def _name_span(name: str, node: ast.AST, lines: list[str]) -> Span | None:
    """`def name` / `class name`: the name on the definition's own line, after its keyword."""
    line = node.lineno  # type: ignore[attr-defined]
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    start = ast_column(lines, line, node.col_offset) - 1  # type: ignore[attr-defined]
    found = re.compile(rf"\b(?:def|class)\s+({re.escape(name)})\b").search(text, start)
    if found is None:
        return None
    return Span(line, found.start(1) + 1, line, found.end(1) + 1)
