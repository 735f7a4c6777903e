"""The context-tracking walk behind the URL checks of `authentic_integrations`: which string literals of a
module are targets (endpoints, stores, emulators) and which are messages, origins, comparisons or overridable
defaults.

A module of its own: the predicate module imports it on first use.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from pfa_policy.engine.predicates.authentic_integrations import (
    UrlFinding,
    classify,
    not_a_target,
    settings_lookup_default,
)
from pfa_policy.engine.python_match import ENVIRONMENT_READS
from pfa_policy.parsers.python import (
    Arg,
    DictElement,
    Param,
    PythonFile,
    dotted_name,
    is_documentation,
    is_simple_string,
    literal_value,
    visit_children,
)

_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print",
                          "echo", "secho", "fatal"})
_STRING_METHODS = frozenset({"startswith", "endswith", "replace", "match", "search", "fullmatch", "sub", "split",
                             "removeprefix", "removesuffix", "compile", "find", "index", "count", "strip"})
_PROMPTS = frozenset({"prompt", "ask", "confirm"})
# `uri[len("sqlite:///"):]`: the literal is measured, not connected to.
_MEASURES = frozenset({"len"})
_STORE_CLIENTS = re.compile(
    r"^(?:redis|pymongo|motor|psycopg2?|pymysql|mysql|pika|kafka|aiokafka|confluent_kafka|elasticsearch|opensearchpy"
    r"|cassandra|aioredis|asyncpg|aiomysql|pymemcache|kombu|celery)\b"
)


@dataclass(frozen=True, slots=True)
class _Context:
    skip: bool = False  # not a target at all (message, origin list, comparison...)
    default: bool = False  # an overridable default (env lookup fallback, CLI default, settings default)
    key: str = ""  # the nearest naming key: keyword, dict key or assignment target
    store_client: bool = False  # inside the arguments of a known database/cache/broker client


@dataclass(frozen=True, slots=True)
class PythonUrl:
    node: ast.AST
    finding: UrlFinding
    default: bool


class UrlVisitor:
    """Walks a module in libcst's visiting order, keeping the context each string literal is in."""

    def __init__(self, file: PythonFile) -> None:
        self.file = file
        self.stack: list[_Context] = [_Context()]
        self.calls: list[tuple[ast.Call, str, str]] = []  # enclosing calls: node, raw and qualified name
        self.classes: list[bool] = []  # per enclosing class: is it a pydantic BaseSettings?
        self.functions: list[int] = []  # per enclosing function: how many classes enclosed it
        self.fallbacks: set[int] = set()  # right operands of `x or "literal"`
        self.found: list[PythonUrl] = []

    def visit(self, node: ast.AST) -> None:
        # Iterative, with a marker to leave a node once its children are done.
        work: list[tuple[ast.AST, bool]] = [(node, False)]
        while work:
            current, leaving = work.pop()
            if leaving:
                self._leave(current)
                continue
            if not self._visit(current):
                continue
            work.append((current, True))
            work.extend((child, False) for child in reversed(visit_children(self.file, current)))

    # -- context bookkeeping ------------------------------------------------------------------------------
    def _push(self, *, skip: bool = False, default: bool = False, key: str = "", store: bool = False) -> None:
        top = self.stack[-1]
        self.stack.append(_Context(top.skip or skip or not_a_target(key),
                                   top.default or default, key or top.key, top.store_client or store))

    def _pop(self) -> None:
        self.stack.pop()

    def _visit(self, node: ast.AST) -> bool:
        """What libcst's visit_* did; False: the children are not visited (nor is the node left)."""
        if isinstance(node, ast.Expr) and self._documentation(node):
            return False
        if isinstance(node, ast.ClassDef):
            bases = [dotted_name(b.value if isinstance(b, ast.Starred) else b) or "" for b in node.bases]
            self.classes.append(any(b.split(".")[-1] in ("BaseSettings", "Settings") for b in bases))
        elif isinstance(node, ast.Call):
            raw = dotted_name(node.func) or ""
            self.calls.append((node, raw, self.file.index.qualify(raw) if raw else ""))
        elif isinstance(node, Arg):
            self._visit_arg(node)
        elif isinstance(node, ast.Assign):
            self._push(key=_target_name(node.targets[0]) if node.targets else "")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions.append(len(self.classes))
        elif isinstance(node, Param):
            # `def __init__(self, host="http://localhost")`: a parameter default is overridable by every caller.
            self._push(key=node.name, default=True)
        elif isinstance(node, ast.AnnAssign):
            # A class-level annotated attribute is a field default (pydantic, dataclasses, attrs, settings
            # classes): overridable where the object is built. Inside a method it is an ordinary local assignment.
            in_class_body = bool(self.classes) and (not self.functions or self.functions[-1] < len(self.classes))
            self._push(key=_target_name(node.target), default=in_class_body)
        elif isinstance(node, DictElement):
            key = literal_value(node.key) if node.key is not None else None
            if node.key is not None:
                self._push(key=key if isinstance(key, str) else "")
        elif isinstance(node, ast.BoolOp):
            # `config.host or "localhost"`: the literal is the fallback when the setting is empty.
            if isinstance(node.op, ast.Or):
                self.fallbacks.update(id(value) for value in node.values[1:])
        elif isinstance(node, ast.Compare):
            self._push(skip=True)
        elif is_simple_string(node):
            self._string(node)
            return False
        elif isinstance(node, ast.JoinedStr):
            self._string(node)
        return True

    def _leave(self, node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef):
            self.classes.pop()
        elif isinstance(node, ast.Call):
            self.calls.pop()
        elif isinstance(node, (Arg, ast.Assign, Param, ast.AnnAssign, ast.Compare)):
            self._pop()
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions.pop()
        elif isinstance(node, DictElement) and node.key is not None:
            self._pop()

    def _documentation(self, node: ast.Expr) -> bool:
        """A string alone on its line, which libcst's visit of the line skipped."""
        return is_documentation(self.file, node)

    def _visit_arg(self, node: Arg) -> None:
        if not self.calls:
            self._push()
            return
        call, raw, qualified = self.calls[-1]
        last = raw.split(".")[-1].rstrip("()")
        skip = (last in _LOG_METHODS or last in _STRING_METHODS or last in _MEASURES
                or bool(re.search(r"(?:Error|Exception|Warning)$", last)))
        # `click.prompt("Tracking server URL", default="http://localhost:5000")`: a suggestion a person sees and
        # confirms, not a setting a deployment silently falls back to.
        skip = skip or (last in _PROMPTS and node.keyword == "default")
        keyword = node.keyword or ""
        default = keyword in ("default", "default_factory")
        if not keyword and not skip:
            positional = [a for a in self.file.arguments(call) if a.keyword is None and not a.star]
            position = next((i for i, a in enumerate(positional) if a is node), -1)
            # `os.getenv("URL", "...")` (ENVIRONMENT_READS), `cfg.get("url", "...")` on loaded configuration.
            if position == 1 and (qualified in ENVIRONMENT_READS or settings_lookup_default(call)):
                default = True
                name = literal_value(positional[0].value)
                # The variable's name, then the enclosing key: `endpoint_url=os.getenv("S3_URL", "...")`.
                keyword = f"{name} {self.stack[-1].key}".strip() if isinstance(name, str) else ""
            elif last == "Field" and position == 0:
                default = True
        self._push(skip=skip, default=default, key=keyword, store=bool(_STORE_CLIENTS.match(qualified)))

    # -- strings ------------------------------------------------------------------------------------------
    def _string(self, node: ast.AST) -> None:
        context = self.stack[-1]
        if context.skip:
            return
        value = literal_value(node)
        if not isinstance(value, str) or value == context.key:
            return  # not text, or the name a value is stored under (`os.environ["X_EMULATOR_HOST"] = ...`)
        key = context.key
        finding = classify(value, key)
        if finding is None and context.store_client:
            finding = classify(value, "db_host")
        if finding is not None:
            self.found.append(PythonUrl(node, finding, context.default or id(node) in self.fallbacks))


def _target_name(target: ast.expr) -> str:
    """`x`, `self.x`, `os.environ["X"]`, `cfg["x"]` -> the name a value is stored under."""
    if isinstance(target, ast.Subscript) and not isinstance(target.slice, (ast.Tuple, ast.Slice)):
        key = literal_value(target.slice)
        return key if isinstance(key, str) else ""
    return (dotted_name(target) or "").split(".")[-1]
