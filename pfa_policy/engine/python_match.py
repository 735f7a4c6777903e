"""The Python half of the match vocabulary, evaluated over a PythonIndex."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pfa_policy.engine.globs import NameGlobs, compile_name_globs
from pfa_policy.engine.values import UNKNOWN, ValueCondition, as_text
from pfa_policy.model import Hit
from pfa_policy.parsers.python import Arg, CallSite, PythonFile, dotted_name, literal_value

# An escape-hatch predicate for Python: (file, params) -> hits.
PythonPredicate = Callable[[PythonFile, Mapping[str, Any]], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class PythonPattern:
    """One compiled entry of `match.python`."""

    kind: str
    names: NameGlobs | None = None
    name_regex: re.Pattern[str] | None = None
    bases: NameGlobs | None = None
    value: ValueCondition | None = None
    keyword: tuple[tuple[str, ValueCondition], ...] = ()
    keyword_not: tuple[tuple[str, ValueCondition], ...] = ()
    keyword_absent: tuple[str, ...] = ()
    positional: tuple[tuple[int, ValueCondition], ...] = ()
    file_imports: NameGlobs | None = None
    outside_main_guard: bool = False
    predicate: str = ""
    globs: tuple[str, ...] = ()  # the name globs as written, for the pre-filter
    file_import_globs: tuple[str, ...] = ()

    @classmethod
    def compile(cls, spec: Mapping[str, Any]) -> PythonPattern:
        common: dict[str, Any] = {
            "keyword": tuple((k, ValueCondition.compile(v)) for k, v in spec.get("keyword", {}).items()),
            "keyword_not": tuple((k, ValueCondition.compile(v)) for k, v in spec.get("keyword_not", {}).items()),
            "keyword_absent": tuple(spec.get("keyword_absent", ())),
            "positional": tuple(
                (int(i), ValueCondition.compile(v)) for i, v in spec.get("positional", {}).items()
            ),
            "outside_main_guard": bool(spec.get("outside_main_guard", False)),
        }
        if "file_imports" in spec:
            common["file_imports"] = compile_name_globs(spec["file_imports"], submodules=True)
            common["file_import_globs"] = tuple(spec["file_imports"])
        if "import" in spec:
            return cls("import", names=compile_name_globs(spec["import"], submodules=True),
                       globs=tuple(spec["import"]), **common)
        for kind in ("call", "reference", "decorator"):
            if kind in spec:
                return cls(kind, names=compile_name_globs(spec[kind]), globs=tuple(spec[kind]), **common)
        if "string" in spec:
            return cls("string", value=ValueCondition.compile(spec["string"]), **common)
        if "class" in spec or "function" in spec:
            kind = "class" if "class" in spec else "function"
            body = spec[kind]
            name_regex = re.compile(body["name"]) if "name" in body else None
            globs = body.get("bases") or body.get("decorators")
            bases = compile_name_globs(globs) if globs else None
            return cls(kind, name_regex=name_regex, bases=bases, globs=tuple(globs or ()), **common)
        if "assign" in spec:
            body = spec["assign"]
            value = ValueCondition.compile(body["value"]) if "value" in body else None
            return cls("assign", name_regex=re.compile(body["target"]), value=value, **common)
        return cls("predicate", predicate=spec["predicate"], **common)

    def prefilter_tokens(self) -> Tokens:
        """What a file's lower-cased text must contain for this pattern to possibly hit: any one of the
        requirements, each a tuple of literals that must all appear. None: the pattern cannot be pre-filtered.

        A qualified name can only resolve through an import that spells its module, and a call spells its
        final attribute, so `requests.get` needs both "requests" and "get"; a `keyword:` condition also
        needs the keyword's name, spelled at the call."""
        own: Tokens = None
        if self.kind in ("import", "call", "reference", "decorator", "class", "function"):
            own = _requirements(self.globs)
            if own is not None and self.keyword:
                names = tuple(name.lower() for name, _ in self.keyword)
                own = frozenset(requirement + names for requirement in own)
        if not self.file_import_globs:
            return own
        imports = _requirements(self.file_import_globs)
        if own is None or imports is None:
            return imports if own is None else own
        combined = frozenset(a + b for a in own for b in imports)
        return combined if len(combined) <= 64 else imports


Tokens = frozenset[tuple[str, ...]] | None
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _requirements(globs: tuple[str, ...]) -> Tokens:
    requirements = set()
    for glob in globs:
        parts = (part.removesuffix("()") for part in glob.split("."))
        literals = tuple(dict.fromkeys(part.lower() for part in parts if _IDENTIFIER.fullmatch(part)))
        if not literals:
            return None  # a glob with no literal part can match anything
        requirements.add(literals)
    return frozenset(requirements) if requirements else None


def match_python(patterns: tuple[PythonPattern, ...], file: PythonFile, params: Mapping[str, Any],
                 predicates: Mapping[str, PythonPredicate]) -> Iterator[Hit]:
    index = file.index
    for pattern in patterns:
        if pattern.file_imports is not None and not any(
            pattern.file_imports.fullmatch(m) for m in index.imported_modules()
        ):
            continue
        if pattern.kind == "predicate":
            yield from predicates[pattern.predicate](file, params)
            continue
        yield from _MATCHERS[pattern.kind](pattern, file, params)


def _skip(pattern: PythonPattern, guard: bool) -> bool:
    return pattern.outside_main_guard and guard


def _hit(file: PythonFile, node: ast.AST, prefix: str, **values: str) -> Hit:
    span = file.span_of(node)
    return Hit(span, tuple(sorted(values.items())), f"{prefix}@{file.scope_of(node)}:{file.code_of(node)}")


def _match_imports(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    assert pattern.names is not None
    seen: set[int] = set()
    for node, module, guard in file.index.imports:
        if id(node) in seen or _skip(pattern, guard) or not pattern.names.fullmatch(module):
            continue
        seen.add(id(node))
        yield _hit(file, node, "import", module=module, name=module)


def _match_calls(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    assert pattern.names is not None
    for site in file.index.calls:
        if _skip(pattern, site.in_main_guard):
            continue
        qualified = file.index.qualify(site.raw)
        if not pattern.names.fullmatch(qualified):
            continue
        values = {"name": qualified}
        verdict = _call_verdict(pattern, site, params, values)
        if verdict is None:
            continue
        where, arg = verdict
        report: ast.AST = site.node if arg is None else (arg.value if where == "positional" else arg)
        yield _hit(file, report, f"call:{qualified}", **values)


def _call_verdict(pattern: PythonPattern, site: CallSite, params: Mapping[str, Any],
                  values: dict[str, str]) -> tuple[str, Arg | None] | None:
    """Whether a call's arguments satisfy the pattern; and what to report: ("call", None), or ("keyword" |
    "positional", the argument) - the most precise place, unless the finding is about a keyword the call lacks.
    None: no match."""
    keywords, positional, has_star = site.keywords, site.positional, site.has_star
    report: tuple[str, Arg | None] = ("call", None)
    for keyword, condition in pattern.keyword:
        arg = keywords.get(keyword)
        if arg is None:
            return None
        value = literal_value(arg.value)
        if not condition.holds(value, params):
            return None
        report = ("keyword", arg)
        values["value"] = as_text(value)
    if any(k in keywords for k in pattern.keyword_absent) or (pattern.keyword_absent and has_star):
        return None
    for keyword, condition in pattern.keyword_not:
        arg = keywords.get(keyword)
        if arg is None:
            if has_star:
                return None
            continue
        value = literal_value(arg.value)
        # A non-literal value might satisfy the condition at run time: stay quiet rather than guess.
        if value is UNKNOWN or condition.holds(value, params):
            return None
        values["value"] = as_text(value)
        report = ("keyword", arg)
    for position, condition in pattern.positional:
        if position >= len(positional):
            return None
        value = literal_value(positional[position].value)
        if not condition.holds(value, params):
            return None
        values["value"] = as_text(value)
        if not pattern.keyword_absent:
            report = ("positional", positional[position])
    return report


def _match_references(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    assert pattern.names is not None
    for node, raw, guard in file.index.references:
        if _skip(pattern, guard):
            continue
        qualified = file.index.qualify_import(raw)
        if pattern.names.fullmatch(qualified):
            yield _hit(file, node, "reference", name=qualified)


def _match_decorators(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    assert pattern.names is not None
    for node, raw, guard in file.index.decorators:
        if _skip(pattern, guard) or not raw:
            continue
        qualified = file.index.qualify(raw)
        if pattern.names.fullmatch(qualified):
            yield _hit(file, node, "decorator", name=qualified)


def _match_strings(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    assert pattern.value is not None
    for node, value, guard in file.index.strings:
        if not _skip(pattern, guard) and pattern.value.holds(value, params):
            yield _hit(file, node, "string", value=value)


def _match_definitions(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Classes (by name and bases) or functions (by name and decorators), reported at their name."""
    definitions = file.index.classes if pattern.kind == "class" else file.index.functions
    for node, names, guard in definitions:
        if _skip(pattern, guard):
            continue
        name = node.name
        if pattern.name_regex is not None and not pattern.name_regex.search(name):
            continue
        if pattern.bases is not None and not any(pattern.bases.fullmatch(file.index.qualify(n)) for n in names if n):
            continue
        yield Hit(file.name_span(node), (("name", name),), f"{pattern.kind}:{name}")


# Reads of the environment with a default: `os.getenv("X", default)`, `os.environ.get("X", default)`.
# Reads of the environment that take a default (qualified through import aliases: `from os import environ`).
ENVIRONMENT_READS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "os.environ.pop"})


def environment_default(file: PythonFile, node: ast.AST) -> Any:
    """The literal a name gets when the environment does not set it: the default of `os.getenv("X", "lit")` /
    `os.environ.get("X", default="lit")` (through import aliases), or the literal after `or` in
    `os.getenv("X") or "lit"`; UNKNOWN for anything else (no default, a computed one)."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
        first, fallback = node.values
        if isinstance(first, ast.Call) and environment_default(file, first) in (UNKNOWN, None):
            return literal_value(fallback) if reads_environment(file, first) else UNKNOWN
        return UNKNOWN
    if not isinstance(node, ast.Call) or not reads_environment(file, node):
        return UNKNOWN
    arguments = [arg for arg in file.arguments(node) if not arg.star]
    default = next((arg for arg in arguments if arg.keyword == "default"), None)
    positional = [arg for arg in arguments if arg.keyword is None]
    if default is None and len(positional) >= 2:
        default = positional[1]
    return literal_value(default.value) if default is not None else UNKNOWN


def reads_environment(file: PythonFile, call: ast.Call) -> bool:
    """`os.getenv(...)`, `os.environ.get(...)` and the other ENVIRONMENT_READS, under any import alias."""
    raw = dotted_name(call.func)
    return raw is not None and file.index.qualify(raw) in ENVIRONMENT_READS


def _match_assignments(pattern: PythonPattern, file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`target = literal`; a read of the environment with a literal default counts as that literal: it is the
    value whenever the deployment does not set the variable (`MLFLOW_URI = os.getenv("MLFLOW_URI", "http://...")`)."""
    assert pattern.name_regex is not None
    for assignment in file.index.assignments:
        if _skip(pattern, assignment.in_main_guard) or not pattern.name_regex.search(assignment.target):
            continue
        value = literal_value(assignment.value)
        if value is UNKNOWN:
            value = environment_default(file, assignment.value)
        if pattern.value is not None and not pattern.value.holds(value, params):
            continue
        yield _hit(file, assignment.report, "assign", target=assignment.target, name=assignment.target,
                   value=as_text(value))


_MATCHERS: dict[str, Callable[[PythonPattern, PythonFile, Mapping[str, Any]], Iterator[Hit]]] = {
    "import": _match_imports,
    "call": _match_calls,
    "reference": _match_references,
    "decorator": _match_decorators,
    "string": _match_strings,
    "class": _match_definitions,
    "function": _match_definitions,
    "assign": _match_assignments,
}

