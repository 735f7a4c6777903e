"""The context-tracking walk behind the URL checks of `authentic_integrations`: which string literals of a
module are targets (endpoints, stores, emulators) and which are messages, origins, comparisons or overridable
defaults.

A module of its own because a `libcst.CSTVisitor` subclass executes libcst when it is defined: the predicate
module imports this one on first use, so a scan that parses no Python never loads libcst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from pfa_policy.engine.predicates.authentic_integrations import UrlFinding, classify, not_a_target
from pfa_policy.parsers.python import PythonFile, dotted_name, literal_value

_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print",
                          "echo", "secho", "fatal"})
_STRING_METHODS = frozenset({"startswith", "endswith", "replace", "match", "search", "fullmatch", "sub", "split",
                             "removeprefix", "removesuffix", "compile", "find", "index", "count", "strip"})
_PROMPTS = frozenset({"prompt", "ask", "confirm"})
# `uri[len("sqlite:///"):]`: the literal is measured, not connected to.
_MEASURES = frozenset({"len"})
_ENV_LOOKUPS = frozenset({"getenv", "get", "setdefault", "pop"})
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
    node: cst.CSTNode
    finding: UrlFinding
    default: bool


class UrlVisitor(cst.CSTVisitor):
    def __init__(self, file: PythonFile) -> None:
        self.file = file
        self.stack: list[_Context] = [_Context()]
        self.calls: list[tuple[cst.Call, str, str]] = []  # enclosing calls: node, raw and qualified name
        self.classes: list[bool] = []  # per enclosing class: is it a pydantic BaseSettings?
        self.functions: list[int] = []  # per enclosing function: how many classes enclosed it
        self.fallbacks: set[int] = set()  # right operands of `x or "literal"`
        self.found: list[PythonUrl] = []

    # -- context bookkeeping ------------------------------------------------------------------------------
    def _push(self, *, skip: bool = False, default: bool = False, key: str = "", store: bool = False) -> None:
        top = self.stack[-1]
        self.stack.append(_Context(top.skip or skip or not_a_target(key),
                                   top.default or default, key or top.key, top.store_client or store))

    def _pop(self) -> None:
        self.stack.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        body = node.body
        return not (len(body) == 1 and isinstance(body[0], cst.Expr)
                    and isinstance(body[0].value, (cst.SimpleString, cst.ConcatenatedString)))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [dotted_name(arg.value) or "" for arg in node.bases]
        self.classes.append(any(b.split(".")[-1] in ("BaseSettings", "Settings") for b in bases))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_Call(self, node: cst.Call) -> None:
        raw = dotted_name(node.func) or ""
        self.calls.append((node, raw, self.file.index.qualify(raw) if raw else ""))

    def leave_Call(self, original_node: cst.Call) -> None:
        self.calls.pop()

    def visit_Arg(self, node: cst.Arg) -> None:
        if not self.calls:
            self._push()
            return
        call, raw, qualified = self.calls[-1]
        last = raw.split(".")[-1].rstrip("()")
        skip = (last in _LOG_METHODS or last in _STRING_METHODS or last in _MEASURES
                or bool(re.search(r"(?:Error|Exception|Warning)$", last)))
        # `click.prompt("Tracking server URL", default="http://localhost:5000")`: a suggestion a person sees and
        # confirms, not a setting a deployment silently falls back to.
        skip = skip or (last in _PROMPTS and (node.keyword is not None and node.keyword.value == "default"))
        keyword = node.keyword.value if node.keyword is not None else ""
        default = keyword in ("default", "default_factory")
        if not keyword and not skip:
            positional = [a for a in call.args if a.keyword is None and not a.star]
            position = next((i for i, a in enumerate(positional) if a is node), -1)
            env_lookup = last == "getenv" or (last in _ENV_LOOKUPS and "environ" in raw)
            if env_lookup and position == 1:
                default = True
                name = literal_value(positional[0].value)
                # The variable's name, then the enclosing key: `endpoint_url=os.getenv("S3_URL", "...")`.
                keyword = f"{name} {self.stack[-1].key}".strip() if isinstance(name, str) else ""
            elif last == "Field" and position == 0:
                default = True
        self._push(skip=skip, default=default, key=keyword, store=bool(_STORE_CLIENTS.match(qualified)))

    def leave_Arg(self, original_node: cst.Arg) -> None:
        self._pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._push(key=_target_name(node.targets[0].target) if node.targets else "")

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(len(self.classes))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Param(self, node: cst.Param) -> None:
        # `def __init__(self, host="http://localhost")`: a parameter default is overridable by every caller.
        self._push(key=node.name.value, default=True)

    def leave_Param(self, original_node: cst.Param) -> None:
        self._pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        # A class-level annotated attribute is a field default (pydantic, dataclasses, attrs, settings classes):
        # overridable where the object is built. Inside a method it is an ordinary local assignment.
        in_class_body = bool(self.classes) and (not self.functions or self.functions[-1] < len(self.classes))
        self._push(key=_target_name(node.target), default=in_class_body)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._pop()

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = literal_value(node.key)
        self._push(key=key if isinstance(key, str) else "")

    def leave_DictElement(self, original_node: cst.DictElement) -> None:
        self._pop()

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        # `config.host or "localhost"`: the literal is the fallback when the setting is empty.
        if isinstance(node.operator, cst.Or):
            self.fallbacks.add(id(node.right))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._push(skip=True)

    def leave_Comparison(self, original_node: cst.Comparison) -> None:
        self._pop()

    # -- strings ------------------------------------------------------------------------------------------
    def _string(self, node: cst.BaseExpression) -> None:
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

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._string(node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        self._string(node)
        return False

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        self._string(node)
        return True


def _target_name(target: cst.BaseExpression) -> str:
    """`x`, `self.x`, `os.environ["X"]`, `cfg["x"]` -> the name a value is stored under."""
    if isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        key = literal_value(target.slice[0].slice.value)
        return key if isinstance(key, str) else ""
    return (dotted_name(target) or "").split(".")[-1]
