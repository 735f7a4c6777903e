"""Helm chart templates read statically: a small Go-template renderer, no `helm` binary, nothing executed.

A chart's `templates/*.yaml` are Go templates, not YAML. `render_template` renders one against the chart's default
`values.yaml`, its `Chart.yaml` and the `define`s of its partials (`templates/_*.tpl` ...), with placeholders for
what only an installation knows (`.Release.Name` is `release-name`, as `helm template` prints it;
`.Capabilities.KubeVersion` is v1.30.0). Supported: `{{ .Values.x.y }}`, `$` and variables, `if` / `else if` /
`else`, `with`, `range` over values lists and maps, `define` / `include` / `template`, and the Sprig functions
charts use for values and names (`default`, `toYaml`, `nindent`, `quote`, `printf`, `trunc`, `eq`, `and` ...).

What cannot be rendered confidently makes the document that contains it *uncertain*, and an uncertain document
is not read at all: an unknown `if` / `with` / `range` condition (a function this renderer does not know,
`.Files`, `lookup`, a missing parent value), a block whose text is unknown (`{{ include "x" . | nindent 8 }}` of
a define that does not resolve), an unknown key. One exception: an unknown scalar under `labels` or
`annotations` (such as `checksum/config: {{ include (print $.Template.BasePath "/cm.yaml") . | sha256sum }}`)
becomes an unknown value (it exists, no value condition holds on it), since no rule concludes anything about a
workload from a label's value. So a rule never reports a missing `securityContext` that a template pulls from
something that was not rendered. Every node of a rendered document points at the template line its text came
from: a `{{ toYaml .Values.resources | nindent 12 }}` block at the action's line.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.tree import Document, Node
from pfa_policy.parsers.yaml_doc import parse_yaml

RELEASE_NAME = "release-name"
KUBE_VERSION = "v1.30.0"
_MAX_OUTPUT = 4 * 1024 * 1024
_MAX_INCLUDE_DEPTH = 40
_MAX_RANGE = 1000
_MAX_STEPS = 20_000  # template nodes rendered for one template, includes and loop bodies counted each time
# Inline unknown text in the rendered YAML: a plain scalar no chart writes.
_MARK = "__pfa_helm_unknown__"
_NOT_RENDERED = object()  # what a template yields where rendering stops (`fail`, `break`, output too large)


class _Opaque:
    """An object only a cluster or the chart's other files know (`.Files`, `.Capabilities.APIVersions`)."""


_OPAQUE = _Opaque()


class _Stop(Exception):
    """Rendering cannot go on (`fail`, `required` of a missing value, output too large)."""


# ---------------------------------------------------------------------------------------------------- parsing

@dataclass(slots=True)
class _Text:
    text: str
    line: int  # of its first character


@dataclass(slots=True)
class _Action:
    pipe: _Pipe
    line: int
    values: bool  # its text reads chart values


@dataclass(slots=True)
class _If:
    branches: list[tuple[_Pipe | None, list[Any]]]
    line: int
    kind: str = "if"  # or "with"


@dataclass(slots=True)
class _Range:
    pipe: _Pipe
    body: list[Any]
    otherwise: list[Any]
    line: int
    values: bool


@dataclass(slots=True)
class _Template:
    name: str
    pipe: _Pipe | None
    line: int


@dataclass(slots=True)
class _Pipe:
    commands: list[list[Any]]
    decl: tuple[str, ...] = ()
    assign: bool = False  # `$x = ...` rather than `$x := ...`
    source: str = ""


@dataclass(slots=True)
class _Field:
    base: str  # "." (dot), "$" (root), "$name" (a variable) or "" (a parenthesised pipe's value)
    names: tuple[str, ...]
    pipe: _Pipe | None = None


@dataclass(slots=True)
class _Func:
    name: str


@dataclass(slots=True)
class _Literal:
    value: Any


_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)')
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<num>-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<lp>\()
  | (?P<rp>\)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<pipe>\|)
  | (?P<comma>,)
""", re.VERBOSE)
_KEYWORDS = ("if", "else", "end", "range", "with", "define", "template", "block", "break", "continue")


class TemplateSyntaxError(Exception):
    """The template is not one this renderer can read (its documents are then not read)."""


def _tokens(source: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise TemplateSyntaxError(f"unexpected {source[position:position + 10]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            found.append((kind, match.group()))
    return found


class _PipeParser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0
        self.source = source

    def pipe(self, *, allow_decl: bool = True) -> _Pipe:
        decl: list[str] = []
        assign = False
        if allow_decl:
            decl, assign = self._declaration()
        commands = [self._command()]
        while self.at < len(self.tokens) and self.tokens[self.at][0] == "pipe":
            self.at += 1
            commands.append(self._command())
        return _Pipe(commands, tuple(decl), assign, self.source)

    def _declaration(self) -> tuple[list[str], bool]:
        names: list[str] = []
        at = self.at
        while at < len(self.tokens) and self.tokens[at][0] == "var" and "." not in self.tokens[at][1]:
            names.append(self.tokens[at][1])
            at += 1
            if at < len(self.tokens) and self.tokens[at][0] == "comma":
                at += 1
                continue
            break
        if names and at < len(self.tokens) and self.tokens[at][0] in ("decl", "assign"):
            self.at = at + 1
            return names, self.tokens[at][0] == "assign"
        return [], False

    def _command(self) -> list[Any]:
        operands: list[Any] = []
        while self.at < len(self.tokens) and self.tokens[self.at][0] not in ("pipe", "rp"):
            operands.append(self._operand())
        if not operands:
            raise TemplateSyntaxError("empty command")
        return operands

    def _operand(self) -> Any:
        kind, text = self.tokens[self.at]
        self.at += 1
        if kind == "str":
            return _Literal(_go_string(text))
        if kind == "raw":
            return _Literal(text[1:-1])
        if kind == "char":
            return _Literal(ord(_go_string('"' + text[1:-1] + '"') or "\0"))
        if kind == "num":
            return _Literal(_number(text))
        if kind == "var":
            head, _, rest = text.partition(".")
            return _Field(head, tuple(rest.split(".")) if rest else ())
        if kind == "field":
            return _Field(".", tuple(text[1:].split(".")) if text != "." else ())
        if kind == "ident":
            if text in ("true", "false"):
                return _Literal(text == "true")
            if text == "nil":
                return _Literal(None)
            return _Func(text)
        if kind == "lp":
            inner = self.pipe()
            if self.at >= len(self.tokens) or self.tokens[self.at][0] != "rp":
                raise TemplateSyntaxError("unclosed parenthesis")
            closing = self.tokens[self.at][1]
            self.at += 1
            names = tuple(closing[2:].split(".")) if len(closing) > 1 else ()
            return _Field("", names, inner)
        raise TemplateSyntaxError(f"unexpected {text!r}")


def _go_string(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text[1:-1]
    return value if isinstance(value, str) else text[1:-1]


def _number(text: str) -> int | float:
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


@dataclass(slots=True)
class _Parsed:
    body: list[Any]
    defines: dict[str, list[Any]]


def _parse(text: str) -> _Parsed:
    """The template's tree; trim markers (`{{-`, `-}}`) applied to the text around them."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    pieces: list[Any] = []  # _Text spans and (source, line) actions
    position = 0
    for match in _ACTION.finditer(text):
        inner = match.group(1)
        left = len(inner) >= 2 and inner[0] == "-" and inner[1] in " \t\r\n"
        right = len(inner) >= 2 and inner[-1] == "-" and inner[-2] in " \t\r\n"
        start, end = position, match.start()
        if left:
            while end > start and text[end - 1] in " \t\r\n":
                end -= 1
        pieces.append(_Text(text[start:end], line_of(start)))
        source = inner[2 if left else 0:len(inner) - (2 if right else 0)].strip()
        pieces.append((source, line_of(match.start() + 2)))
        position = match.end()
        if right:
            while position < len(text) and text[position] in " \t\r\n":
                position += 1
    pieces.append(_Text(text[position:], line_of(position)))
    defines: dict[str, list[Any]] = {}
    body, _, stop = _block(pieces, 0, defines)
    if stop is not None:
        raise TemplateSyntaxError(f"unexpected {{{{ {stop[0]} }}}}")
    return _Parsed(body, defines)


def _block(pieces: list[Any], at: int, defines: dict[str, list[Any]],
           ) -> tuple[list[Any], int, tuple[str, int] | None]:
    """Nodes up to an `else` / `end` (returned as the stop, with its source) or the end of the pieces."""
    nodes: list[Any] = []
    while at < len(pieces):
        piece = pieces[at]
        at += 1
        if isinstance(piece, _Text):
            if piece.text:
                nodes.append(piece)
            continue
        source, line = piece
        if source.startswith("/*"):
            continue  # a comment
        word = source.split(None, 1)[0] if source else ""
        rest = source[len(word):].strip()
        if word in ("else", "end"):
            return nodes, at, (source, line)
        if word in ("if", "with"):
            branches: list[tuple[_Pipe | None, list[Any]]] = []
            condition: _Pipe | None = _PipeParser(rest).pipe()
            while True:
                body, at, stop = _block(pieces, at, defines)
                branches.append((condition, body))
                if stop is None:
                    raise TemplateSyntaxError(f"{word} without end (line {line})")
                stop_source = stop[0]
                if stop_source == "end":
                    break
                after = stop_source[4:].strip()
                if not after:
                    condition = None
                elif after.split(None, 1)[0] in ("if", "with"):
                    condition = _PipeParser(after.split(None, 1)[1] if " " in after else "").pipe()
                else:
                    raise TemplateSyntaxError(f"unexpected {stop_source!r}")
            if any(c is None for c, _ in branches[:-1]):
                raise TemplateSyntaxError("else before another branch")
            nodes.append(_If(branches, line, word))
        elif word == "range":
            pipe = _PipeParser(rest).pipe()
            body, at, stop = _block(pieces, at, defines)
            otherwise: list[Any] = []
            if stop is not None and stop[0] == "else":
                otherwise, at, stop = _block(pieces, at, defines)
            if stop is None or stop[0] != "end":
                raise TemplateSyntaxError(f"range without end (line {line})")
            nodes.append(_Range(pipe, body, otherwise, line, "Values" in rest))
        elif word in ("define", "block"):
            parser = _PipeParser(rest)
            name = parser._operand()
            if not isinstance(name, _Literal) or not isinstance(name.value, str):
                raise TemplateSyntaxError("define without a name")
            body, at, stop = _block(pieces, at, defines)
            if stop is None or stop[0] != "end":
                raise TemplateSyntaxError(f"define without end (line {line})")
            defines[name.value] = body
            if word == "block":
                argument = parser.pipe() if parser.at < len(parser.tokens) else None
                nodes.append(_Template(name.value, argument, line))
        elif word == "template":
            parser = _PipeParser(rest)
            name = parser._operand()
            if not isinstance(name, _Literal) or not isinstance(name.value, str):
                raise TemplateSyntaxError("template without a name")
            argument = parser.pipe() if parser.at < len(parser.tokens) else None
            nodes.append(_Template(name.value, argument, line))
        elif word in ("break", "continue"):
            nodes.append(_Action(_Pipe([[_Func("fail")]], source=source), line, False))
        else:
            nodes.append(_Action(_PipeParser(source).pipe(), line, "Values" in source or "$" in source))
    return nodes, at, None


# ---------------------------------------------------------------------------------------------------- output

@dataclass(slots=True)
class _Out:
    """Rendered text in pieces: (text, template line of its first character, literal?, values-derived?)."""

    pieces: list[tuple[str, int, bool, bool]] = field(default_factory=list)
    size: int = 0
    unknown: bool = False  # something in it could not be rendered
    structural: bool = False  # and that something may be YAML structure, not one scalar (`include` must know)
    uncertain: list[int] = field(default_factory=list)  # output offsets where the rendering is not known
    reasons: list[str] = field(default_factory=list)  # what could not be rendered, with its template line

    def add(self, text: str, line: int, literal: bool, values: bool = False) -> None:
        if text:
            self.pieces.append((text, line, literal, values))
            self.size += len(text)
            if self.size > _MAX_OUTPUT:
                raise _Stop("output too large")

    def text(self) -> str:
        return "".join(p[0] for p in self.pieces)

    def mark_uncertain(self, reason: str) -> None:
        self.unknown = self.structural = True
        self.uncertain.append(self.size)
        if len(self.reasons) < 50:
            self.reasons.append(reason)

    def on_line_start(self) -> bool:
        """Whether only spaces stand between the last newline (or the start) and here."""
        for text, *_ in reversed(self.pieces):
            head, newline, tail = text.rpartition("\n")
            if tail.strip(" \t"):
                return False
            if newline:
                return True
            del head
        return True


# ------------------------------------------------------------------------------------------------- rendering

@dataclass(slots=True)
class _Scope:
    dot: Any
    variables: list[dict[str, Any]]

    def lookup(self, name: str) -> Any:
        for frame in reversed(self.variables):
            if name in frame:
                return frame[name]
        return UNKNOWN

    def assign(self, name: str, value: Any) -> None:
        for frame in reversed(self.variables):
            if name in frame:
                frame[name] = value
                return
        self.variables[-1][name] = value

    def child(self, dot: Any) -> _Scope:
        return _Scope(dot, [*self.variables, {}])


def _truth(value: Any) -> bool | None:
    if value is UNKNOWN or value is _OPAQUE or (isinstance(value, str) and _MARK in value):
        return None
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, (str, list, dict, tuple)):
        return len(value) > 0
    return True


def _go_text(value: Any) -> str:
    """What `{{ value }}` prints: Go's %v (a missing value prints nothing, as in Helm)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _to_yaml(value: Any) -> str:
    if isinstance(value, (dict, list)) and not value:
        return "{}" if isinstance(value, dict) else "[]"
    dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=True, allow_unicode=True, width=1 << 30)
    if dumped.endswith("\n...\n"):
        dumped = dumped[:-5]
    return dumped.rstrip("\n")


def _indent(count: Any, text: Any) -> Any:
    if not isinstance(count, int) or not isinstance(text, str):
        return UNKNOWN
    pad = " " * count
    return "\n".join(pad + line for line in text.split("\n"))


def _semver(text: Any) -> tuple[int, ...] | None:
    match = re.match(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(text).strip())
    return tuple(int(g or 0) for g in match.groups()) if match else None


def _semver_compare(constraint: Any, version: Any) -> Any:
    if not isinstance(constraint, str) or not isinstance(version, str):
        return UNKNOWN
    have = _semver(version)
    if have is None:
        return UNKNOWN
    results = []
    for part in re.split(r"\s*,\s*|\s+", constraint.strip()):
        match = re.match(r"^(>=|<=|>|<|=|!=|\^|~)?\s*(.+)$", part)
        want = _semver(match.group(2)) if match else None
        if match is None or want is None:
            return UNKNOWN
        operator = match.group(1) or "="
        comparisons: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
            ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            "<": lambda a, b: a < b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
            "^": lambda a, b: a >= b and a[0] == b[0], "~": lambda a, b: a >= b and a[:2] == b[:2],
        }
        results.append(comparisons[operator](have, want))
    return all(results)


def _printf(form: Any, *args: Any) -> Any:
    if not isinstance(form, str):
        return UNKNOWN
    values = iter(args)
    failed = False

    def one(match: re.Match[str]) -> str:
        nonlocal failed
        verb = match.group(2)
        if verb == "%":
            return "%"
        try:
            value = next(values)
        except StopIteration:
            failed = True
            return ""
        if verb == "q":
            return json.dumps(_go_text(value))
        if verb in ("d",) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(int(value))
        if verb in ("s", "v", "d", "t"):
            return _go_text(value)
        failed = True
        return ""

    text = re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])", one, form)
    return UNKNOWN if failed else text


def _strings(*args: Any) -> bool:
    return all(isinstance(a, str) for a in args)


def _eq(first: Any, *others: Any) -> Any:
    if not others:
        return UNKNOWN
    return any(_same(first, other) for other in others)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(a == b)
    return type(a) is type(b) and a == b


def _compare(operator: Callable[[Any, Any], bool]) -> Callable[..., Any]:
    def compare(a: Any, b: Any) -> Any:
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
        if numbers or _strings(a, b):
            return operator(a, b)
        return UNKNOWN
    return compare


def _default(fallback: Any, *given: Any) -> Any:
    if not given:
        return fallback
    value = given[0]
    truth = _truth(value)
    if truth is None:
        return UNKNOWN
    return value if truth else fallback


def _coalesce(*values: Any) -> Any:
    for value in values:
        truth = _truth(value)
        if truth is None:
            return UNKNOWN
        if truth:
            return value
    return None


def _logic(stop_on: bool) -> Callable[..., Any]:
    def logic(*values: Any) -> Any:
        if not values:
            return UNKNOWN
        for value in values:
            truth = _truth(value)
            if truth is None:
                if stop_on is False:
                    # `and` of an unknown and a known false is false either way (what a condition needs)
                    return next((v for v in values if _truth(v) is False), UNKNOWN)
                return UNKNOWN
            if truth is stop_on:
                return value
        return values[-1]
    return logic


def _not(value: Any) -> Any:
    truth = _truth(value)
    return UNKNOWN if truth is None else not truth


def _index(collection: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(collection, dict) and isinstance(key, str):
            collection = collection.get(key)
        elif isinstance(collection, list) and isinstance(key, int) and 0 <= key < len(collection):
            collection = collection[key]
        else:
            return UNKNOWN
    return collection


def _dict(*pairs: Any) -> Any:
    if len(pairs) % 2 or not all(isinstance(k, str) for k in pairs[::2]):
        return UNKNOWN
    return {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}


def _string_function(function: Callable[..., Any], count: int) -> Callable[..., Any]:
    """A function of `count` string arguments (the piped one last)."""
    def call(*args: Any) -> Any:
        if len(args) != count or not _strings(*args):
            return UNKNOWN
        return function(*args)
    return call


def _trunc(count: Any, text: Any) -> Any:
    if not isinstance(count, int) or not isinstance(text, str):
        return UNKNOWN
    return text[:count] if count >= 0 else text[count:]


def _to_string(value: Any) -> Any:
    return _go_text(value)


def _quote(*values: Any) -> Any:
    return " ".join(json.dumps(_go_text(v)) for v in values if v is not None)


def _squote(*values: Any) -> Any:
    return " ".join("'" + _go_text(v) + "'" for v in values if v is not None)


def _int(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value)) if value.strip() else 0
        except ValueError:
            return 0
    return 0 if value is None else UNKNOWN


def _to_json(value: Any) -> Any:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return UNKNOWN


def _has_key(mapping: Any, key: Any) -> Any:
    return key in mapping if isinstance(mapping, dict) and isinstance(key, str) else UNKNOWN


def _empty(value: Any) -> Any:
    truth = _truth(value)
    return UNKNOWN if truth is None else not truth


def _required(message: Any, value: Any) -> Any:
    if value is None or value == "":
        raise _Stop(f"required: {message}")
    return value


def _fail(*_: Any) -> Any:
    raise _Stop("fail")


def _ternary(yes: Any, no: Any, condition: Any) -> Any:
    truth = _truth(condition)
    return UNKNOWN if truth is None else (yes if truth else no)


def _kind_is(kind: Any, value: Any) -> Any:
    kinds = {"map": dict, "slice": list, "string": str, "bool": bool}
    if kind == "invalid":
        return value is None  # Go's reflect.Invalid: nil, a missing value
    if kind in kinds:
        return isinstance(value, kinds[kind])
    if kind in ("int", "int64", "float64"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return UNKNOWN


def _join(separator: Any, values: Any) -> Any:
    if not isinstance(separator, str) or not isinstance(values, list):
        return UNKNOWN
    return separator.join(_go_text(v) for v in values)


def _sha256(value: Any) -> Any:
    return hashlib.sha256(value.encode()).hexdigest() if isinstance(value, str) else UNKNOWN


def _b64enc(value: Any) -> Any:
    return base64.b64encode(value.encode()).decode() if isinstance(value, str) else UNKNOWN


def _append(items: Any, item: Any) -> Any:
    return [*items, item] if isinstance(items, list) else UNKNOWN


def _prepend(items: Any, item: Any) -> Any:
    return [item, *items] if isinstance(items, list) else UNKNOWN


def _concat(*lists: Any) -> Any:
    if not all(isinstance(v, list) or v is None for v in lists):
        return UNKNOWN
    return [item for v in lists if v for item in v]


def _first(items: Any) -> Any:
    return (items[0] if items else None) if isinstance(items, list) else UNKNOWN


def _keys(*mappings: Any) -> Any:
    if not all(isinstance(m, dict) for m in mappings):
        return UNKNOWN
    return [k for m in mappings for k in m]


def _has(item: Any, items: Any) -> Any:
    return any(_same(item, i) for i in items) if isinstance(items, list) else UNKNOWN


def _regex_match(pattern: Any, text: Any) -> Any:
    """Go's RE2 and Python's `re` agree on the patterns charts validate values with; a pattern Python reads
    differently (or not at all) is unknown."""
    if not _strings(pattern, text) or len(pattern) > 200 or len(text) > 10000:
        return UNKNOWN
    if re.search(r"\\[pPCz]|\(\?[P<]", pattern):
        return UNKNOWN
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return UNKNOWN


def _uniq(items: Any) -> Any:
    if not isinstance(items, list):
        return UNKNOWN
    kept: list[Any] = []
    for item in items:
        if not any(_same(item, k) for k in kept):
            kept.append(item)
    return kept


def _sort_alpha(items: Any) -> Any:
    return sorted(_go_text(i) for i in items) if isinstance(items, list) else UNKNOWN


def _split_list(separator: Any, text: Any) -> Any:
    return text.split(separator) if _strings(separator, text) and separator else UNKNOWN


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "default": _default, "coalesce": _coalesce, "and": _logic(False), "or": _logic(True), "not": _not,
    "eq": _eq, "ne": lambda a, b: not _same(a, b),
    "lt": _compare(lambda a, b: a < b), "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b), "ge": _compare(lambda a, b: a >= b),
    "empty": _empty, "hasKey": _has_key, "required": _required, "fail": _fail, "ternary": _ternary,
    "kindIs": _kind_is, "index": _index, "dict": _dict, "list": lambda *v: list(v),
    "toYaml": lambda v: UNKNOWN if v is UNKNOWN else _to_yaml(v), "toJson": _to_json, "toString": _to_string,
    "indent": _indent, "nindent": lambda n, t: UNKNOWN if (i := _indent(n, t)) is UNKNOWN else "\n" + i,
    "quote": _quote, "squote": _squote, "printf": _printf,
    "print": lambda *v: "".join(_go_text(x) for x in v), "int": _int, "int64": _int,
    "trunc": _trunc, "trim": _string_function(str.strip, 1),
    "trimSuffix": _string_function(lambda s, t: t.removesuffix(s), 2),
    "trimPrefix": _string_function(lambda s, t: t.removeprefix(s), 2),
    "trimAll": _string_function(lambda s, t: t.strip(s), 2),
    "replace": _string_function(lambda old, new, t: t.replace(old, new), 3),
    "lower": _string_function(str.lower, 1), "upper": _string_function(str.upper, 1),
    "contains": _string_function(lambda s, t: s in t, 2),
    "hasPrefix": _string_function(lambda s, t: t.startswith(s), 2),
    "hasSuffix": _string_function(lambda s, t: t.endswith(s), 2),
    "semverCompare": _semver_compare, "join": _join, "sha256sum": _sha256, "b64enc": _b64enc,
    "append": _append, "mustAppend": _append, "prepend": _prepend, "concat": _concat, "first": _first,
    "keys": _keys, "has": _has, "regexMatch": _regex_match, "uniq": _uniq, "sortAlpha": _sort_alpha,
    "compact": lambda v: [i for i in v if _truth(i)] if isinstance(v, list) else UNKNOWN,
    "last": lambda v: (v[-1] if v else None) if isinstance(v, list) else UNKNOWN, "splitList": _split_list,
    "toStrings": lambda v: [_go_text(i) for i in v],
    "title": _string_function(lambda t: " ".join(w[:1].upper() + w[1:] for w in t.split(" ")), 1),
    "cat": lambda *v: " ".join(_go_text(x) for x in v if x is not None),
    "len": lambda v: len(v) if isinstance(v, (str, list, dict)) else UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class Chart:
    """What a chart's templates render against: default values, Chart.yaml metadata and the defines of its
    partials."""

    values: Mapping[str, Any]
    metadata: Mapping[str, Any]
    defines: Mapping[str, list[Any]]
    directory: str = "."

    @classmethod
    def load(cls, directory: str, chart_yaml: str, values_yaml: str, partials: Iterable[str] = (),
             production_values: str = "") -> Chart:
        """A chart from its files' texts; a file that does not parse contributes nothing. `production_values`:
        the chart's production values file, merged over the defaults as `helm -f` would."""
        metadata = load_mapping(chart_yaml)
        values = merge_values(load_mapping(values_yaml), load_mapping(production_values))
        defines: dict[str, list[Any]] = {}
        for text in partials:
            try:
                defines.update(_parse(text).defines)
            except (TemplateSyntaxError, RecursionError):
                continue
        return cls(values, metadata, defines, directory)


def merge_values(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's values merge: mappings merge key by key, a null removes the key, anything else replaces."""
    merged = dict(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_mapping(text: str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


class _Renderer:
    def __init__(self, chart: Chart, template_path: str, defines: Mapping[str, list[Any]]) -> None:
        self.defines = {**chart.defines, **defines}
        chart_meta = {key[:1].upper() + key[1:]: value for key, value in chart.metadata.items()}
        base = "" if chart.directory == "." else chart.directory.rstrip("/") + "/"
        self.root: dict[str, Any] = {
            "Values": dict(chart.values),
            "Chart": chart_meta,
            "Release": {"Name": RELEASE_NAME, "Namespace": "default", "Service": "Helm", "Revision": 1,
                        "IsInstall": True, "IsUpgrade": False},
            "Template": {"Name": template_path, "BasePath": base + "templates"},
            "Capabilities": {"KubeVersion": {"Version": KUBE_VERSION, "GitVersion": KUBE_VERSION, "Major": "1",
                                             "Minor": KUBE_VERSION.split(".")[1]},
                             "APIVersions": _OPAQUE, "HelmVersion": _OPAQUE},
            "Files": _OPAQUE,
        }
        self.depth = 0
        self.steps = 0
        self.values_read = 0  # includes whose text printed chart values

    # rendering
    def render(self, nodes: list[Any], scope: _Scope, out: _Out, values: bool = False) -> None:
        self.steps += len(nodes)
        if self.steps > _MAX_STEPS:
            raise _Stop("too much to render")
        for node in nodes:
            if isinstance(node, _Text):
                self._text(node, out)
            elif isinstance(node, _Action):
                self._action(node, scope, out, values)
            elif isinstance(node, _If):
                self._if(node, scope, out, values)
            elif isinstance(node, _Range):
                self._range(node, scope, out, values)
            elif isinstance(node, _Template):
                read = self.values_read
                value = self.include(node.name, self.pipe(node.pipe, scope) if node.pipe else None)
                self._emit(value, node.line, out, values or self.values_read > read, block=True)

    def _text(self, node: _Text, out: _Out) -> None:
        line = node.line
        for piece in re.split("(?<=\n)", node.text):
            if piece:
                out.add(piece, line, True)
                line += 1

    def _action(self, node: _Action, scope: _Scope, out: _Out, values: bool) -> None:
        pipe = node.pipe
        read = self.values_read
        value = self.pipe(pipe, scope)
        values = values or self.values_read > read
        if pipe.decl:
            for name in pipe.decl[:1]:
                (scope.assign if pipe.assign else scope.variables[-1].__setitem__)(name, value)
            return
        # Text that makes YAML structure rather than one scalar: an unknown one leaves the document unknown.
        block = any(isinstance(c[0], _Func) and c[0].name in ("nindent", "indent", "toYaml") for c in pipe.commands)
        self._emit(value, node.line, out, values or node.values, block=block)

    def _emit(self, value: Any, line: int, out: _Out, values: bool, block: bool) -> None:
        if value is UNKNOWN or value is _OPAQUE or value is _NOT_RENDERED:
            if block or out.on_line_start():
                out.mark_uncertain(f"line {line}: a block whose text is unknown")
                out.add(_MARK, line, False)
            else:
                out.unknown = True
                out.add(_MARK, line, False, values)
            return
        text = _go_text(value)
        for piece in re.split("(?<=\n)", text):
            out.add(piece, line, False, values)

    def _if(self, node: _If, scope: _Scope, out: _Out, values: bool) -> None:
        for condition, body in node.branches:
            if condition is None:
                self.render(body, scope.child(scope.dot), out, values)
                return
            inner = scope.child(scope.dot)
            value = self.pipe(condition, inner)
            truth = _truth(value)
            if truth is None:
                out.mark_uncertain(f"line {node.line}: an unknown `{node.kind} {condition.source}`")
                return
            if truth:
                if node.kind == "with":
                    inner = inner.child(value)
                self.render(body, inner, out, values or "Values" in condition.source)
                return

    def _range(self, node: _Range, scope: _Scope, out: _Out, values: bool) -> None:
        inner = scope.child(scope.dot)
        collection = self.pipe(node.pipe, inner, declare=False)
        if isinstance(collection, int) and not isinstance(collection, bool) and 0 <= collection <= _MAX_RANGE:
            collection = list(range(collection))
        if collection is None:
            collection = []
        if isinstance(collection, dict):
            items: list[tuple[Any, Any]] = sorted(collection.items(), key=lambda kv: str(kv[0]))
        elif isinstance(collection, list):
            items = list(enumerate(collection))
        else:
            out.mark_uncertain(f"line {node.line}: a `range {node.pipe.source}` over something unknown")
            return
        if len(items) > _MAX_RANGE:
            out.mark_uncertain(f"line {node.line}: a `range` over more than {_MAX_RANGE} items")
            return
        if not items:
            self.render(node.otherwise, scope.child(scope.dot), out, values)
            return
        names = node.pipe.decl
        for key, item in items:
            frame = scope.child(item)
            if len(names) == 1:
                frame.variables[-1][names[0]] = item
            elif len(names) >= 2:
                frame.variables[-1][names[0]] = key
                frame.variables[-1][names[1]] = item
            self.render(node.body, frame, out, values or node.values)

    def include(self, name: Any, dot: Any) -> Any:
        body = self.defines.get(name) if isinstance(name, str) else None
        if body is None or self.depth >= _MAX_INCLUDE_DEPTH:
            return UNKNOWN
        self.depth += 1
        try:
            out = _Out()
            self.render(body, _Scope(dot, [{"$": dot}]), out)
        finally:
            self.depth -= 1
        if any(piece[3] for piece in out.pieces):
            self.values_read += 1
        # Unknown scalars stay marked in the text (and are settled where the text lands); unknown structure
        # makes the whole text unknown.
        return UNKNOWN if out.structural else out.text()

    # evaluation
    def pipe(self, pipe: _Pipe, scope: _Scope, declare: bool = True) -> Any:
        value: Any = _NOT_RENDERED
        for command in pipe.commands:
            value = self.command(command, scope, value)
        if declare and pipe.decl and not pipe.assign:
            scope.variables[-1][pipe.decl[0]] = value
        return value

    def command(self, command: list[Any], scope: _Scope, piped: Any) -> Any:
        head = command[0]
        if isinstance(head, _Func):
            args = [self.operand(o, scope) for o in command[1:]]
            if piped is not _NOT_RENDERED:
                args.append(piped)
            return self.call(head.name, args, scope)
        if len(command) != 1 or piped is not _NOT_RENDERED:
            return UNKNOWN  # a method call (`.Capabilities.APIVersions.Has "x"`) or a value given arguments
        return self.operand(head, scope)

    def call(self, name: str, args: list[Any], scope: _Scope) -> Any:
        if name in ("include", "template"):
            if len(args) != 2:
                return UNKNOWN
            return self.include(args[0], args[1])
        if name == "tpl":
            if len(args) == 2 and isinstance(args[0], str) and "{{" not in args[0]:
                return args[0]
            return UNKNOWN
        function = _FUNCTIONS.get(name)
        if function is None:
            return UNKNOWN
        if name in ("fail", "required"):
            return function(*args)
        lenient = name in ("default", "coalesce", "and", "or", "ternary", "empty", "not")
        if not lenient and any(a is UNKNOWN or a is _OPAQUE for a in args):
            return UNKNOWN
        if name not in ("nindent", "indent") and any(isinstance(a, str) and _MARK in a for a in args):
            return UNKNOWN  # text with an unknown part: only re-indenting keeps the part where it was
        if any(a is _NOT_RENDERED for a in args):
            return UNKNOWN
        try:
            return function(*args)
        except _Stop:
            raise
        except Exception:  # a wrong number or type of arguments: Helm would fail; we do not know
            return UNKNOWN

    def operand(self, operand: Any, scope: _Scope) -> Any:
        if isinstance(operand, _Literal):
            return operand.value
        if isinstance(operand, _Func):
            return self.call(operand.name, [], scope)
        if isinstance(operand, _Field):
            if operand.pipe is not None:
                base = self.pipe(operand.pipe, scope.child(scope.dot), declare=False)
            elif operand.base == ".":
                base = scope.dot
            elif operand.base == "$":
                base = scope.lookup("$")
            else:
                base = scope.lookup(operand.base)
            return self.fields(base, operand.names)
        return UNKNOWN

    @staticmethod
    def fields(base: Any, names: tuple[str, ...]) -> Any:
        for name in names:
            if base is UNKNOWN or base is _OPAQUE:
                return base
            if not isinstance(base, dict):
                return UNKNOWN  # nil pointer or a method: Helm fails or calls something unknown here
            base = base.get(name)
        return base


# ---------------------------------------------------------------------------------------------------- results

@dataclass(frozen=True, slots=True)
class Rendered:
    """A template's rendered text, its documents (nodes at template lines) and which template lines came from
    chart values."""

    text: str
    documents: tuple[Document, ...]
    values_lines: frozenset[int]
    skipped: int  # documents not read: uncertain or not YAML once rendered
    reasons: tuple[str, ...] = ()  # why: what could not be rendered


def render_template(text: str, chart: Chart, template_path: str = "templates/t.yaml",
                    skip: Callable[[str], bool] | None = None) -> Rendered:
    """The template rendered against the chart's defaults; see the module docstring for what is not read.
    `skip`: rendered documents (their text) not to parse, such as CustomResourceDefinitions."""
    try:
        parsed = _parse(text)
    except TemplateSyntaxError as error:
        return Rendered("", (), frozenset(), 1, (f"not a template this renderer reads: {error}",))
    except RecursionError:
        return Rendered("", (), frozenset(), 1, ("nested too deeply",))
    renderer = _Renderer(chart, template_path, parsed.defines)
    out = _Out()
    root = renderer.root
    try:
        renderer.render(parsed.body, _Scope(root, [{"$": root}]), out)
    except _Stop as stop:
        return Rendered("", (), frozenset(), 1, (f"rendering stops: {stop}",))
    except RecursionError:
        return Rendered("", (), frozenset(), 1, ("nested too deeply",))
    return _documents(out, skip)


def _documents(out: _Out, skip: Callable[[str], bool] | None) -> Rendered:
    rendered = out.text()
    # Template line of each rendered line: where its first non-space character came from.
    lines: list[int] = []
    values_lines: set[int] = set()
    current: int | None = None
    first: int | None = None
    for text, line, literal, values in out.pieces:
        parts = text.split("\n")
        for number, part in enumerate(parts):
            if number:
                lines.append(current if current is not None else (first or 1))
                current = first = None
            here = line + number if literal else line
            if first is None:
                first = here
            if current is None and part.strip():
                current = here
            if values and part.strip():
                values_lines.add(here)
    lines.append(current if current is not None else (first or 1))
    offsets = [0]
    for piece in rendered.split("\n")[:-1]:
        offsets.append(offsets[-1] + len(piece) + 1)
    uncertain_lines = {bisect.bisect_right(offsets, at) for at in out.uncertain}
    # Documents: split at `---` lines of the rendered text.
    rendered_lines = rendered.split("\n")
    starts = [0] + [i for i, ln in enumerate(rendered_lines) if re.match(r"^---(?:\s|$)", ln) and i > 0]
    documents: list[Document] = []
    skipped = 0
    reasons = list(out.reasons)
    for number, (start, end) in enumerate(zip(starts, [*starts[1:], len(rendered_lines)], strict=True)):
        chunk = rendered_lines[start:end]
        if not any(ln.strip() and not ln.lstrip().startswith("#") and not re.match(r"^---\s*$", ln)
                   for ln in chunk):
            continue
        if any(start < ln <= end for ln in uncertain_lines):
            skipped += 1
            continue
        if skip is not None and skip("\n".join(chunk)):
            continue
        try:
            parsed = parse_yaml("\n" * start + "\n".join(chunk))
        except (ParseError, RecursionError) as error:
            skipped += 1
            reasons.append(f"rendered document {number + 1} is not YAML: {error}")
            continue
        for document in parsed:
            if _settle_unknowns(document.root):
                _relocate(document.root, lines)
                document.index = number
                documents.append(document)
            else:
                skipped += 1
                reasons.append(f"rendered document {number + 1} has an unknown value outside labels and annotations")
    return Rendered(rendered, tuple(documents), frozenset(values_lines), skipped, tuple(reasons))


_METADATA_MAPS = frozenset({"labels", "annotations", "matchLabels"})


def _settle_unknowns(root: Node) -> bool:
    """Unknown scalars become UNKNOWN values where that is harmless (under labels / annotations); False when
    the document holds one anywhere else, or an unknown key."""
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, in_metadata = stack.pop()
        if isinstance(node.value, dict):
            for key, child in node.value.items():
                if _MARK in key:
                    return False
                stack.append((child, in_metadata or key in _METADATA_MAPS))
        elif isinstance(node.value, list):
            stack.extend((child, in_metadata) for child in node.value)
        elif isinstance(node.value, str) and _MARK in node.value:
            if not in_metadata:
                return False
            node.value = UNKNOWN
    return True


def _relocate(root: Node, lines: list[int]) -> None:
    def moved(span: Span) -> Span:
        line = lines[span.line - 1] if 0 < span.line <= len(lines) else span.line
        end = lines[span.end_line - 1] if 0 < span.end_line <= len(lines) else line
        if end < line:
            return Span(line, span.column)
        return Span(line, span.column, end, span.end_column if end > line or span.end_column >= span.column
                    else span.column)

    for node in root.walk():
        node.span = moved(node.span)
        if node.key_span is not None:
            node.key_span = moved(node.key_span)


def without_printed(documents: Iterable[Document], values_lines: frozenset[int]) -> list[Document]:
    """Copies of rendered documents where every scalar on a template line that prints chart values is unknown:
    what a rule that reads the values file itself sees of a template (the literal is the values file's)."""
    def copy(node: Node) -> Node:
        if isinstance(node.value, dict):
            value: Any = {key: copy(child) for key, child in node.value.items()}
        elif isinstance(node.value, list):
            value = [copy(child) for child in node.value]
        else:
            value = UNKNOWN if node.span.line in values_lines else node.value
        return Node(value, node.span, node.key_span, node.tag)

    return [Document(copy(d.root), d.index, d.kind) for d in documents]
