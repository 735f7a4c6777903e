"""Escape-hatch predicates about model servers that are not web-framework apps (access-control pillar).

- `ac_unauthenticated_model_servers`: a KServe custom model (`class X(kserve.Model)` with a `predict`) served
  by `kserve.ModelServer().start([...])` in the same module. KServe's model server has no authentication of
  its own: whoever reaches the pod or its Knative route can call `/v1/models/<name>:predict` and
  `/v2/models/<name>/infer`. PFA-AC-026 reports it like an unauthenticated FastAPI route, unless the
  repository's manifests put authentication in front of it (fact `ac-gateway-auth`: Istio
  RequestAuthentication / AuthorizationPolicy, `serving.kserve.io/enable-auth` on the InferenceService ...).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.types import PythonPredicate
from pfa_policy.model import Hit
from pfa_policy.parsers.python import PythonFile

# The base classes of a KServe (formerly KFServing) custom model.
_KSERVE_MODEL = re.compile(r"^(?:kserve(?:\.model)?\.Model|kfserving(?:\.kfmodel)?\.KFModel)$")
# What serves such models over HTTP / gRPC.
_KSERVE_SERVER = re.compile(r"^(?:kserve(?:\.model_server)?\.ModelServer|kfserving(?:\.kfserver)?\.KFServer)"
                            r"\(\)\.start$")
_PREDICT = frozenset({"predict"})


def unauthenticated_model_servers(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The `predict` of each KServe custom model class a module both defines and serves."""
    index = file.index
    if not any(module.split(".", 1)[0] in ("kserve", "kfserving") for module in index.imported_modules()):
        return
    if not any(_KSERVE_SERVER.match(index.qualify(site.raw)) for site in index.calls):
        return  # a model class served elsewhere (a runtime package's __main__) or only tested here
    for definition, bases, _ in index.classes:
        if not any(_KSERVE_MODEL.match(index.qualify(base)) for base in bases):
            continue
        for statement in definition.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name in _PREDICT:
                yield Hit(file.name_span(statement),
                          (("name", f"{definition.name}.{statement.name}"), ("value", "KServe model server")),
                          f"kserve-model:{definition.name}.{statement.name}")
                break


PYTHON: dict[str, PythonPredicate] = {"ac_unauthenticated_model_servers": unauthenticated_model_servers}
