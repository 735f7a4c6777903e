"""A cheap first look at a Python module through CPython's own parser, before libcst parses it.

libcst builds a Python object for every token of a module; CPython's `ast` is about ten times cheaper. Most
modules of a repository contain a pre-filter token (`get`, `yaml`, `except`) yet no finding, so the worker asks
the outline whether any enabled pattern *could* hit, and parses with libcst only when one could.

The outline must never say "no" where the libcst index would find something: it collects a superset of what
`PythonIndex` collects (main guards are ignored, docstrings and assignment targets are kept) and resolves names
with the same `NameTable`. A literal it cannot evaluate exactly as libcst would (an f-string, whose text libcst
keeps unescaped) is MAYBE, which every condition treats as possibly true.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pfa_policy.engine.values import MAYBE, UNKNOWN
from pfa_policy.model import Span
from pfa_policy.parsers.names import NameTable


@dataclass(slots=True)
class OutlineCall:
    raw: str
    keywords: dict[str, ast.expr]
    positional: list[ast.expr]
    has_star: bool


@dataclass(slots=True)
class ImportSite:
    node: ast.Import | ast.ImportFrom
    modules: list[str]  # in the order the libcst index lists them: `from a import b` is `a`, then `a.b`
    scope: str  # the enclosing `Class.function`


class _ScopeEnd(ast.AST):
    """Pushed below a definition's children: popping it leaves the definition's scope."""


@dataclass(slots=True)
class PythonOutline(NameTable):
    source: str = ""
    calls: list[OutlineCall] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    decorators: list[str] = field(default_factory=list)
    classes: list[tuple[str, list[str]]] = field(default_factory=list)
    functions: list[tuple[str, list[str]]] = field(default_factory=list)
    strings: list[Any] = field(default_factory=list)  # str, or MAYBE
    assignments: list[tuple[Any, ast.expr]] = field(default_factory=list)  # (target name or MAYBE, value)
    handlers: list[ast.ExceptHandler] = field(default_factory=list)
    import_sites: list[ImportSite] = field(default_factory=list)
    _scope: list[str] = field(default_factory=list)
    _lines: list[str] | None = None

    def literal(self, node: ast.AST) -> Any:
        """The value `parsers.python.literal_value` gives the same expression, UNKNOWN, or MAYBE."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bytes):
                return value.decode("latin-1")
            if isinstance(value, (str, int, float, bool)) or value is None:
                return value
            return UNKNOWN
        if isinstance(node, ast.JoinedStr):
            return self.formatted_text(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.literal(node.operand)
            if inner is MAYBE:
                return MAYBE
            if isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return -inner
        return UNKNOWN

    def imported_modules(self) -> Iterator[str]:
        """Every module an import names, like `PythonIndex.imported_modules`."""
        for site in self.import_sites:
            yield from site.modules

    def span(self, node: ast.stmt) -> Span:
        """A statement's span, as `parsers.python` computes it from `ast` (1-based character columns)."""
        return ast_span(node, self._source_lines())

    def statement_code(self, node: ast.stmt) -> str | None:
        """The statement's code without whitespace, as libcst's `code_of` spells it; None when libcst's would
        differ (a `;` after a small statement belongs to it there)."""
        lines = self._source_lines()
        span = self.span(node)
        first, last = span.line - 1, (span.end_line or span.line) - 1
        if last >= len(lines) or lines[last][span.end_column - 1:].lstrip().startswith(";"):
            return None  # a line break `ast` counts and "\n" does not (`\r` alone): let libcst answer
            return None
        if first == last:
            text = lines[first][span.column - 1:span.end_column - 1]
        else:
            middle = lines[first + 1:last]
            text = "\n".join([lines[first][span.column - 1:], *middle, lines[last][:span.end_column - 1]])
        return "".join(text.split())[:200]

    def _source_lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.source.split("\n")
        return self._lines

    def formatted_text(self, node: ast.JoinedStr) -> Any:
        """An f-string's static text with `{}` for each field, as libcst spells it: the source between fields,
        where a literal brace is doubled. MAYBE when its lines hold a backslash, which libcst keeps as written
        and CPython decodes."""
        if any("\\" in line for line in self._source_lines()[node.lineno - 1:node.end_lineno or node.lineno]):
            return MAYBE
        return "".join(part.value.replace("{", "{{").replace("}", "}}")
                       if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}"
                       for part in node.values)


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


def dotted(node: ast.AST) -> str | None:
    """Like `parsers.python.dotted_name`: `a.b.c`, with `()` for calls in the chain."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    if isinstance(node, ast.Call):
        base = dotted(node.func)
        return None if base is None else f"{base}()"
    return None


def cpython_parse(source: str) -> ast.Module:
    """`ast.parse` without its warnings (invalid escapes and the like: libcst's business, not ours)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def build_outline(source: str) -> PythonOutline | None:
    """The outline of a module, or None when CPython cannot parse it (libcst then reports why)."""
    try:
        tree = cpython_parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    outline = PythonOutline(source=source)
    stack: list[ast.AST] = [tree]
    handlers = _HANDLERS
    while stack:
        node = stack.pop()
        handler = handlers.get(type(node))
        children = handler(outline, node) if handler is not None else None
        stack.extend(reversed(_children(node) if children is None else children))
    return outline


_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in source order, without the Load/Store/Del markers (a third of all nodes)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(name for name in node._fields if name != "ctx")
    children: list[ast.AST] = []
    for name in names:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


# Each handler records a node and returns the children to walk, or None for all of them in source order.
_Handler = Callable[[PythonOutline, Any], "list[ast.AST] | None"]


def _import(outline: PythonOutline, node: ast.Import) -> list[ast.AST]:
    for alias in node.names:
        outline.bind_import(alias.name, alias.asname)
    outline.import_sites.append(ImportSite(node, [alias.name for alias in node.names], ".".join(outline._scope)))
    return []


def _import_from(outline: PythonOutline, node: ast.ImportFrom) -> list[ast.AST]:
    if node.level:
        return []  # the project's own package: nothing a rule names
    module = node.module or ""
    modules = [module]
    for alias in node.names:
        if alias.name != "*":
            modules.append(f"{module}.{alias.name}")
            outline.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
    outline.import_sites.append(ImportSite(node, modules, ".".join(outline._scope)))
    return []


def _name(outline: PythonOutline, node: ast.Name) -> list[ast.AST]:
    outline.references.append(node.id)
    return []


def _attribute(outline: PythonOutline, node: ast.Attribute) -> list[ast.AST] | None:
    raw = dotted(node)
    if raw is not None and "(" not in raw:
        outline.references.append(raw)
        return []
    outline.references.append(node.attr)  # libcst visits the attribute's name on its own
    return None


def _constant(outline: PythonOutline, node: ast.Constant) -> list[ast.AST]:
    if isinstance(node.value, (str, bytes)):
        outline.strings.append(outline.literal(node))
    return []


def _joined_str(outline: PythonOutline, node: ast.JoinedStr) -> None:
    outline.strings.append(outline.formatted_text(node))


def _class(outline: PythonOutline, node: ast.ClassDef) -> list[ast.AST]:
    outline.classes.append((node.name, [dotted(base) or "" for base in node.bases]))
    outline.decorators.extend(_decorator_names(node))
    outline._scope.append(node.name)
    return [*node.decorator_list, *node.bases, *node.keywords, *node.body, _ScopeEnd()]


def _function(outline: PythonOutline, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    names = _decorator_names(node)
    outline.functions.append((node.name, names))
    outline.decorators.extend(names)
    outline._scope.append(node.name)
    return [*node.decorator_list, node.args, *([node.returns] if node.returns else []), *node.body, _ScopeEnd()]


def _assign(outline: PythonOutline, node: ast.Assign) -> None:
    for target in node.targets:
        _assignment(outline, target, node.value)


def _annotated_assign(outline: PythonOutline, node: ast.AnnAssign) -> None:
    if node.value is not None:
        _assignment(outline, node.target, node.value)


def _with_item(outline: PythonOutline, node: ast.withitem) -> None:
    if node.optional_vars is not None:
        outline.bind(dotted(node.optional_vars), dotted(node.context_expr))


def _dict(outline: PythonOutline, node: ast.Dict) -> None:
    for key, value in zip(node.keys, node.values, strict=True):
        key_value = outline.literal(key) if key is not None else UNKNOWN
        if isinstance(key_value, str) or key_value is MAYBE:
            outline.assignments.append((key_value, value))


def _handler(outline: PythonOutline, node: ast.ExceptHandler) -> None:
    outline.handlers.append(node)


def _scope_end(outline: PythonOutline, node: _ScopeEnd) -> list[ast.AST]:
    outline._scope.pop()
    return []


def _match_class(outline: PythonOutline, node: ast.MatchClass) -> None:
    outline.references.extend(node.kwd_attrs)  # libcst visits keyword pattern names as names


def _decorator_names(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [dotted(d.func if isinstance(d, ast.Call) else d) or "" for d in node.decorator_list]


def _call(outline: PythonOutline, node: ast.Call) -> None:
    raw = dotted(node.func)
    if raw is None:
        return
    keywords: dict[str, ast.expr] = {}
    positional: list[ast.expr] = []
    has_star = False
    for argument in node.args:
        if isinstance(argument, ast.Starred):
            has_star = True
        else:
            positional.append(argument)
    for keyword in node.keywords:
        if keyword.arg is None:
            has_star = True
        else:
            keywords[keyword.arg] = keyword.value
            outline.assignments.append((keyword.arg, keyword.value))
    outline.calls.append(OutlineCall(raw, keywords, positional, has_star))


def _assignment(outline: PythonOutline, target: ast.expr, value: ast.expr) -> None:
    name: str | None = None
    if isinstance(target, ast.Name):
        name = target.id
    elif isinstance(target, ast.Attribute):
        name = target.attr
    elif isinstance(target, ast.Subscript):
        key = outline.literal(target.slice)
        name = key if isinstance(key, str) or key is MAYBE else None
    if name is not None:
        outline.assignments.append((name, value))
    outline.bind(dotted(target), dotted(value))


_HANDLERS: dict[type, _Handler] = {
    ast.Import: _import,
    ast.ImportFrom: _import_from,
    ast.Call: _call,
    ast.Name: _name,
    ast.Attribute: _attribute,
    ast.Constant: _constant,
    ast.JoinedStr: _joined_str,
    ast.ClassDef: _class,
    ast.FunctionDef: _function,
    ast.AsyncFunctionDef: _function,
    ast.Assign: _assign,
    ast.AnnAssign: _annotated_assign,
    ast.withitem: _with_item,
    ast.Dict: _dict,
    ast.ExceptHandler: _handler,
    ast.MatchClass: _match_class,
    _ScopeEnd: _scope_end,
}
