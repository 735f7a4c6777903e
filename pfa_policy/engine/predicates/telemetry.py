"""Escape-hatch predicates of the telemetry pillar."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryPredicate,
)
from pfa_policy.model import Hit
from pfa_policy.parsers.python import PythonFile, dotted_name, literal_value

_BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
# Finalisers must not raise: a silent handler there is the accepted idiom.
_FINALISERS = frozenset({"__del__", "__exit__", "__aexit__"})


def _is_broad(kind: ast.expr | None) -> bool:
    """A bare `except:`, `except Exception`, `except BaseException`, or a tuple holding one of them."""
    if kind is None:
        return True
    if isinstance(kind, ast.Tuple):
        return any(_is_broad(e.value if isinstance(e, ast.Starred) else e) for e in kind.elts)
    return (dotted_name(kind) or "") in _BROAD


def _is_silent(body: list[ast.stmt]) -> bool:
    """Whether a block only holds `pass`, `...` or `continue`: nothing logged, counted or re-raised."""
    return bool(body) and all(
        isinstance(s, (ast.Pass, ast.Continue))
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis)
        for s in body
    )


def swallowed_exceptions(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`except: pass`, `except Exception: ...`, `except BaseException: continue`, `suppress(Exception)`.

    Finalisers (`__del__`, `__exit__`) are exempt; narrow handlers (`except KeyError: pass`) are deliberate."""
    for handler, _ in file.index.handlers:
        if not (_is_broad(handler.type) and _is_silent(handler.body)):
            continue
        if file.scope_of(handler).rpartition(".")[2] in _FINALISERS:
            continue
        span = file.span_of(handler)
        kind = "except" if handler.type is None else f"except {file.code_of(handler.type)}"
        yield Hit(span, (("name", kind),), f"swallow:{kind}:{file.body_code(handler)}")
    for site in file.index.calls:
        if file.index.qualify(site.raw) != "contextlib.suppress":
            continue
        if any((dotted_name(arg.value) or "") in _BROAD for arg in site.positional):
            yield Hit(file.span_of(site.node), (("name", "contextlib.suppress(Exception)"),),
                      f"swallow:{file.code_of(site.node)}")


_METRIC_TYPES = frozenset(f"prometheus_client.{kind}" for kind in ("Counter", "Gauge", "Histogram", "Summary",
                                                                     "Enum", "Info"))
_UNBOUNDED_LABEL = re.compile(
    r"(?i)^(?:(?:user|customer|account|session|request|trace|span|order|transaction|device|entity|client|item"
    r"|product|document|doc|message|event|job|run|prediction|sample|row)_?id|id|uuid|email|e_?mail|ip"
    r"|ip_?address|remote_?addr|url|full_?url|query|raw_?path|input|text|prompt|payload|features?)$"
)


def high_cardinality_metric_labels(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """prometheus_client metrics declared with per-entity labels (user_id, request_id, email, url, prompt ...)."""
    for site in file.index.calls:
        if file.index.qualify(site.raw) not in _METRIC_TYPES:
            continue
        arg = site.keywords.get("labelnames") or (site.positional[2] if len(site.positional) > 2 else None)
        if arg is None or not isinstance(arg.value, (ast.List, ast.Tuple)):
            continue
        for element in arg.value.elts:
            value = element.value if isinstance(element, ast.Starred) else element
            label = literal_value(value)
            if isinstance(label, str) and _UNBOUNDED_LABEL.match(label):
                yield Hit(file.span_of(value), (("name", label),), f"metric-label:{label}")


_WARNING_FILTERS = frozenset({"warnings.filterwarnings", "warnings.simplefilter"})
# Positional parameters after the action that narrow a filter: filterwarnings(action, message, category, module),
# simplefilter(action, category).
_NARROWING_POSITIONS = {"warnings.filterwarnings": 1, "warnings.simplefilter": 1}


def _calls_under_catch_warnings(file: PythonFile) -> set[int]:
    """Calls inside `with warnings.catch_warnings():`: their filters are restored when the block exits."""
    inside: set[int] = set()
    for node in ast.walk(file.module):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
            isinstance(item.context_expr, ast.Call)
            and file.index.qualify(dotted_name(item.context_expr.func) or "") == "warnings.catch_warnings"
            for item in node.items
        ):
            inside.update(id(call) for call in ast.walk(node) if isinstance(call, ast.Call))
    return inside


def global_silencing(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`logging.disable(...)` and blanket `ignore` warning filters that last for the rest of the process.

    A filter narrowed by a category, message or module (by keyword or by position) is fine, and so is one set
    inside `with warnings.catch_warnings():`, which restores the previous filters when the block exits."""
    scoped: set[int] | None = None
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        if name == "logging.disable":
            yield Hit(file.span_of(site.node), (("name", name),), f"call:{name}")
            continue
        if name not in _WARNING_FILTERS:
            continue
        action = site.keywords.get("action")
        action_value = literal_value(action.value if action is not None else
                                     site.positional[0].value if site.positional else None)
        if action_value != "ignore" or site.has_star:
            continue
        if any(k in site.keywords for k in ("category", "message", "module")):
            continue
        if len(site.positional) > _NARROWING_POSITIONS[name]:
            continue
        if scoped is None:
            scoped = _calls_under_catch_warnings(file)
        if id(site.node) in scoped:
            continue
        yield Hit(file.span_of(site.node), (("name", name),), f"call:{name}")


_APP_CONSTRUCTORS = frozenset({"fastapi.FastAPI", "flask.Flask", "litestar.Litestar", "bentoml.Service",
                               "starlette.applications.Starlette"})
# An app whose variable or building function says it only exposes metrics or health (`prom_app = Starlette(...)`,
# `def get_metrics_microservice(): app = Flask(...)`) answers scrapers and probes, not inference requests.
_AUXILIARY_APP_WORDS = frozenset({"metrics", "metric", "prometheus", "prom", "exporter", "health", "healthz",
                                  "healthcheck", "probe", "probes"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _auxiliary_name(name: str) -> bool:
    return any(w.lower() in _AUXILIARY_APP_WORDS for w in _WORDS.findall(name))


def serving_app_constructors(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`FastAPI()`, `Flask(__name__)`, `Starlette(...)` ... that build an app, except a metrics or health app."""
    bound = {id(a.value): a.target for a in file.index.assignments}
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        if name not in _APP_CONSTRUCTORS:
            continue
        if _auxiliary_name(bound.get(id(site.node), "")) or _auxiliary_name(file.scope_of(site.node)):
            continue
        yield Hit(file.span_of(site.node), (("name", name),), f"call:{name}")


# --- print() in request handlers that import no serving framework ---------------------------------------------

# Modules importing one of these are PFA-TE-007's declarative pattern: every print there is already reported.
_SERVING_IMPORTS = ("fastapi", "flask", "starlette", "litestar", "bentoml", "kserve", "mlserver", "ray.serve",
                    "seldon_core", "sagemaker_inference", "uvicorn", "gunicorn", "kfp", "airflow", "prefect",
                    "dagster", "zenml", "metaflow", "sagemaker.workflow", "google.cloud.aiplatform", "flytekit",
                    "luigi", "mlflow")
_LAMBDA_EVENT = frozenset({"event", "evt", "_event"})
_LAMBDA_CONTEXT = frozenset({"context", "ctx", "_context", "_ctx"})
# Seldon's Python wrapper calls `predict(self, X, features_names, ...)` on a plain class: no import says so.
_SELDON_FEATURE_PARAMS = frozenset({"features_names", "feature_names"})


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [arg.arg for arg in (*node.args.posonlyargs, *node.args.args)]


def _handler_scopes(file: PythonFile) -> dict[str, str]:
    """Scope (`handler`, `Model.predict`) -> what it is, for Lambda handlers and Seldon model classes."""
    found: dict[str, str] = {}
    seldon_classes = set()
    for node, _, _ in file.index.functions:
        owner = file.scope_of(node)
        parameters = _parameters(node)
        if owner and node.name == "predict" and _SELDON_FEATURE_PARAMS & set(parameters) \
                and "." not in owner:
            seldon_classes.add(owner)
        if not owner and len(parameters) >= 2 and parameters[0] in _LAMBDA_EVENT \
                and parameters[1] in _LAMBDA_CONTEXT:
            found[node.name] = "Lambda handler"
    for node, _, _ in file.index.functions:
        owner = file.scope_of(node)
        if owner in seldon_classes:
            found[f"{owner}.{node.name}"] = "Seldon model"
    return found


def print_in_handlers(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """`print()` inside an AWS Lambda handler (`def handler(event, context)`) or a method of a Seldon Python
    model class (`predict(self, X, features_names)`), in modules that import no serving framework."""
    if any(m == f or m.startswith(f + ".") for m in file.index.imported_modules() for f in _SERVING_IMPORTS):
        return
    scopes: dict[str, str] | None = None
    for site in file.index.calls:
        if site.in_main_guard or file.index.qualify(site.raw) != "print":
            continue
        scopes = _handler_scopes(file) if scopes is None else scopes
        if not scopes:
            return
        scope = file.scope_of(site.node)
        kind = next((kind for name, kind in scopes.items() if scope == name or scope.startswith(name + ".")), "")
        if kind:
            yield Hit(file.span_of(site.node), (("name", "print"), ("value", kind)), f"print:{scope}")


PYTHON: dict[str, PythonPredicate] = {
    "serving_app_constructors": serving_app_constructors,
    "te_print_in_handlers": print_in_handlers,
    "te_swallowed_exceptions": swallowed_exceptions,
    "te_global_silencing": global_silencing,
    "te_high_cardinality_metric_labels": high_cardinality_metric_labels,
}
DOCUMENT: dict[str, DocumentPredicate] = {}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {}
