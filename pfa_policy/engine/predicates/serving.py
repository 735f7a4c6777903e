"""Escape-hatch predicates about how a served model is reached (access-control pillar).

- `ac_unauthenticated_predict_routes`: a FastAPI / Flask route that calls the model while nothing in the
  route, its router or its app asks who is calling (a security dependency, an auth decorator, an auth
  middleware or a `before_request` hook). PFA-AC-026 combines it with the gateway-side authentication of the
  repository's manifests (fact `ac-gateway-auth`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.types import PythonPredicate
from pfa_policy.model import Hit
from pfa_policy.parsers.python import (
    PythonFile,
    dotted_name,
    is_simple_string,
    literal_value,
    name_value,
    parameters,
    walk_in_visit_order,
)

_WEB_FRAMEWORKS = ("fastapi", "flask", "starlette", "quart", "litestar")
_ROUTE_VERBS = frozenset({"get", "post", "put", "patch", "route", "api_route"})
# Calls that run a model: `model.predict(x)`, `self.predictor.predict_proba(ds)`, `pipe(text)`, `llm.generate()`.
_MODEL_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function", "generate",
                            "infer", "run_inference", "classify"})
_MODEL_NOUNS = r"(?:model|pipeline|pipe|classifier|predictor|llm|generator|regressor|estimator)"
# `model(x)`, `self.model(x)`, `sentiment_pipeline(text)`; not `load_model(path)` or `get_predictor()`.
_MODEL_OBJECT = re.compile(
    r"(?i)(?:^|\.)(?!_?(?:load|get|fetch|build|create|make|init|download|save|reload|train|fit|register|log|set)_)"
    r"_?(?:\w+_)?" + _MODEL_NOUNS + r"$")
# What says who the caller is: a name of the dependency, decorator or middleware.
_AUTH_WORDS = re.compile(r"(?i)auth|login|token|jwt|oauth|api_?key|apikey|bearer|credential|current_user|"
                         r"permission|verify|security|signature|session_user|principal|identity")
# SageMaker's container contract: `/invocations` is reached only through the IAM-authenticated endpoint.
_SAGEMAKER_ROUTES = frozenset({"/invocations", "/ping"})


def _route_decorator(file: PythonFile, decorator: ast.expr) -> tuple[str, ast.Call | None] | None:
    """(path, the decorator call) of `@app.post("/predict")` / `@bp.route(...)`; None for other decorators."""
    call = decorator if isinstance(decorator, ast.Call) else None
    raw = dotted_name(call.func if call is not None else decorator) or ""
    if "." not in raw or raw.rsplit(".", 1)[1] not in _ROUTE_VERBS:
        return None
    arguments = file.arguments(call) if call is not None else []
    path = literal_value(arguments[0].value) if arguments else ""
    return (path if isinstance(path, str) else ""), call


def _says_auth(file: PythonFile, nodes: Iterable[ast.AST | None]) -> bool:
    """Whether a name or a string literal in the subtrees says who the caller is."""
    for node in nodes:
        if node is None:
            continue
        for inner in walk_in_visit_order(file, node):
            name = name_value(inner)
            if name is None and is_simple_string(inner):
                value = literal_value(inner)
                name = value if isinstance(value, str) else None
            if name is not None and _AUTH_WORDS.search(name):
                return True
    return False


def _calls_model(file: PythonFile, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for statement in function.body:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            raw = dotted_name(node.func) or ""
            last = raw.rsplit(".", 1)[-1]
            # `score(model, features)`: a helper handed the model runs it too
            handed = any(_MODEL_OBJECT.search(dotted_name(arg.value) or "") for arg in file.arguments(node))
            if last in _MODEL_METHODS or _MODEL_OBJECT.search(raw) or handed:
                return True
    return False


def _module_authenticates(file: PythonFile) -> bool:
    """Auth that covers every route: `fastapi.security` used, an app/router built with an auth dependency, an
    auth middleware, Flask `before_request` / Flask-Login / Flask-HTTPAuth / flask_jwt_extended set up."""
    for module in file.index.imported_modules():
        if module.startswith(("fastapi.security", "flask_login", "flask_httpauth", "flask_jwt_extended",
                              "authlib", "fastapi_users", "starlette.middleware.authentication")):
            return True
    for site in file.index.calls:
        name = file.index.qualify(site.raw)
        last = name.rsplit(".", 1)[-1]
        if last in ("FastAPI", "APIRouter", "include_router") and _says_auth(file, [site.keywords.get("dependencies")]):
            return True
        if last == "add_middleware" and _says_auth(file, [site.node]):
            return True
        if last == "before_request":
            return True
    for decorator, name, _ in file.index.decorators:
        if name.endswith((".before_request", ".middleware")) and _says_auth(file, [decorator]):
            return True
        if name.endswith(".before_request"):
            return True
    return False


def unauthenticated_predict_routes(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Routes whose handler calls the model and whose decorator, parameters and decorators ask for no caller
    identity, in a module without app-wide authentication."""
    if not any(m.split(".")[0] in _WEB_FRAMEWORKS for m in file.index.imported_modules()):
        return
    authenticated: bool | None = None
    for function, _, in_main_guard in file.index.functions:
        if in_main_guard:
            continue
        routes = [r for r in (_route_decorator(file, d) for d in function.decorator_list) if r is not None]
        if not routes or any(path in _SAGEMAKER_ROUTES for path, _ in routes):
            continue
        if not _calls_model(file, function):
            continue
        if any(_says_auth(file, [call]) for _, call in routes if call is not None):
            continue  # `dependencies=[Depends(verify_api_key)]` on the route
        if any(_route_decorator(file, d) is None and _says_auth(file, [d]) for d in function.decorator_list):
            continue  # `@login_required`, `@jwt_required()`, `@auth.login_required`
        if _says_auth(file, parameters(function.args)):
            continue  # `user: User = Depends(current_user)`, `api_key: str = Security(api_key_header)`
        authenticated = _module_authenticates(file) if authenticated is None else authenticated
        if authenticated:
            return
        path = routes[0][0] or function.name
        yield Hit(file.name_span(function), (("name", path), ("value", function.name)),
                  f"route:{file.scope_of(function)}.{function.name}")


PYTHON: dict[str, PythonPredicate] = {"ac_unauthenticated_predict_routes": unauthenticated_predict_routes}
