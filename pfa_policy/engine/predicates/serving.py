"""Escape-hatch predicates about how a served model is reached (access-control pillar).

- `ac_unauthenticated_predict_routes`: a FastAPI / Flask route that calls the model while nothing in the
  route, its router or its app asks who is calling (a security dependency, an auth decorator, an auth
  middleware or a `before_request` hook). PFA-AC-026 combines it with the gateway-side authentication of the
  repository's manifests (fact `ac-gateway-auth`).

Kubernetes exposure is cross-document, like operability's scaling evidence: a Service and the workload it
selects, a workload and the NetworkPolicy of its namespace, often live in different manifests. Each manifest
contributes what it says as facts (computed and cached with the file); the repository predicates join them.

- `ac_k8s_model_workload` (fact `ac-model-workload`): a workload that serves a model — a KServe
  InferenceService, a Seldon SeldonDeployment, a Deployment / StatefulSet / ReplicaSet / Pod / Argo Rollout named
  for serving (the vocabulary PFA-TE-012 gives Kubernetes workloads) or running a model-server runtime (Triton,
  TorchServe, TF Serving, vLLM, TGI, MLServer, KServe runtimes, `mlflow models serve` ...) —, an MLflow tracking
  server (`ghcr.io/mlflow/mlflow`, `mlflow server` / `mlflow ui`) or a TensorBoard, with its namespace and the
  labels of its pods, as JSON.
- `ac_k8s_public_load_balancer` (fact `ac-public-load-balancer`): a `type: LoadBalancer` Service with a
  selector that no internal-load-balancer annotation or source range keeps off the internet, and that is not
  an ingress gateway or controller.
- `ac_k8s_network_policy` (fact `ac-network-policy`): the namespace a NetworkPolicy (Kubernetes, Calico,
  Cilium) or Istio AuthorizationPolicy applies to; "" for a namespace-less or cluster-wide one.
- `ac_model_server_public_load_balancer` (PFA-AC-032) and `ac_serving_namespace_without_network_policy`
  (PFA-AC-033) join them.
"""

from __future__ import annotations

import ast
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.json_facts import json_fact, json_facts
from pfa_policy.engine.predicates.types import (
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.predicates.workload_names import (
    MODEL_SERVER_NAME,
    PLATFORM_NAME,
    TEST_DATA_DIRECTORY,
    container_command_line,
)
from pfa_policy.engine.repository import RepoContext
from pfa_policy.engine.values import as_text
from pfa_policy.model import FactOccurrence, Hit, Related
from pfa_policy.parsers.python import (
    PythonFile,
    dotted_name,
    is_simple_string,
    literal_value,
    name_value,
    parameters,
    walk_in_visit_order,
)
from pfa_policy.parsers.tree import Document, Node, nested

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


# ---------------------------------------------------------------------------------------------------------
# Kubernetes: model servers on public load balancers, serving namespaces without a NetworkPolicy

MODEL_SERVER = "model server"
MLFLOW = "MLflow tracking server"
TENSORBOARD = "TensorBoard"
_ROLE_ORDER = {MODEL_SERVER: 0, MLFLOW: 1, TENSORBOARD: 2}

# Workloads whose pods are `spec.template` (Argo Rollouts too), and those that are their own pod.
_TEMPLATED_WORKLOADS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Rollout"})
# Images of model-serving runtimes, by their last path segment (registry, organisation and tag aside).
_SERVING_IMAGE = re.compile(
    r"(?i)(?:^|/)(?:tritonserver|serving|torchserve|vllm|vllm-openai|text-generation-inference|"
    r"text-embeddings-inference|mlserver|sklearnserver|xgbserver|lgbserver|pmmlserver|paddleserver|"
    r"huggingfaceserver|model_server|ollama|sglang)(?::|@|$)")
# Command lines that start a model server.
_SERVING_COMMAND = re.compile(
    r"(?i)\b(?:tritonserver|torchserve|tensorflow_model_server|text-generation-launcher)\b|\bvllm\s+serve\b|"
    r"vllm\.entrypoints|\bmlflow\s+models\s+serve\b|\bbentoml\s+serve\b|\bollama\s+serve\b|"
    r"sglang\.launch_server|\bmlserver\s+start\b")
_MLFLOW_IMAGE = re.compile(r"(?i)(?:^|/)mlflow(?::|@|$)")
_MLFLOW_SERVER = re.compile(r"(?i)\bmlflow\s+(?:server|ui)\b")
_TENSORBOARD_COMMAND = re.compile(r"(?i)\btensorboard(?:\.main)?\s+(?:.*\s)?--logdir")
# What authenticates callers before the server answers: its own auth switch (MLflow's basic-auth app, vLLM's
# API key), or an authenticating proxy container in the pod (the Service then targets the proxy's port).
_SERVER_AUTH = re.compile(r"(?i)--app-name[=\s]+basic-auth\b|--api-key\b")
_AUTH_PROXY = re.compile(r"(?i)oauth2-proxy|pomerium|authelia|keycloak-gatekeeper")
# Services that are the intended public entry: ingress gateways and controllers, by name or selected labels.
_INGRESS = re.compile(r"(?i)ingress|gateway|traefik|kong|envoy|contour|haproxy|emissary|ambassador|nginx|istio")
# Annotations that make a cloud load balancer internal, and the values that do.
_INTERNAL_ANNOTATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("service.beta.kubernetes.io/aws-load-balancer-internal", re.compile(r"(?i)^(?!false$|0$).+")),
    ("service.beta.kubernetes.io/aws-load-balancer-scheme", re.compile(r"(?i)^internal$")),
    ("networking.gke.io/load-balancer-type", re.compile(r"(?i)^internal$")),
    ("cloud.google.com/load-balancer-type", re.compile(r"(?i)^internal$")),
    ("service.beta.kubernetes.io/azure-load-balancer-internal", re.compile(r"(?i)^true$")),
    ("service.beta.kubernetes.io/oci-load-balancer-internal", re.compile(r"(?i)^true$")),
    ("service.kubernetes.io/oci-load-balancer-internal", re.compile(r"(?i)^true$")),
    ("oci-network-load-balancer.oraclecloud.com/internal", re.compile(r"(?i)^true$")),
    ("service.beta.kubernetes.io/openstack-internal-load-balancer", re.compile(r"(?i)^true$")),
    ("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type", re.compile(r"(?i)^intranet$")),
    ("service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type", re.compile(r"(?i)^private$")),
)
_AWS_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
_AWS_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
_SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"
_TEMPLATED = re.compile(r"\$\{|\$\(|\{\{")
# Policies that apply to every namespace (cluster-wide kinds) and to the one they are in.
_CLUSTER_POLICIES = frozenset({"GlobalNetworkPolicy", "CiliumClusterwideNetworkPolicy", "AdminNetworkPolicy",
                               "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"})
_NAMESPACED_POLICIES = frozenset({"NetworkPolicy", "CiliumNetworkPolicy", "AuthorizationPolicy"})
# Istio's root namespace: an AuthorizationPolicy there applies to the whole mesh.
_ISTIO_ROOT = "istio-system"


def _scalar(node: Node | None) -> str:
    return as_text(node.value) if node is not None and node.is_scalar else ""


def _labels(node: Node | None) -> dict[str, str]:
    return {key: as_text(value.value) for key, value in (node.items() if node is not None else ())
            if value.is_scalar and value.value is not None}


def _container_role(container: Node) -> str:
    """What one container runs: a model server (a runtime command or image), an MLflow tracking server (`mlflow
    server` / `mlflow ui`, or the MLflow image with no command of its own), TensorBoard, or "" (anything else)."""
    image = _scalar(container.get("image"))
    words = container_command_line(container)
    if _SERVING_COMMAND.search(words):
        return MODEL_SERVER
    if _MLFLOW_SERVER.search(words) or (_MLFLOW_IMAGE.search(image) and not words):
        return MLFLOW
    if _TENSORBOARD_COMMAND.search(words):
        return TENSORBOARD
    return MODEL_SERVER if _SERVING_IMAGE.search(image) else ""


def _pod(root: Node, kind: str) -> tuple[Node | None, Node | None]:
    """(pod metadata, pod spec) of a workload that runs containers itself."""
    if kind == "Pod":
        return root.get("metadata"), root.get("spec")
    if kind in _TEMPLATED_WORKLOADS:
        template = nested(root, "spec", "template")
        return nested(template, "metadata"), nested(template, "spec")
    return None, None


def ac_k8s_model_workload(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A workload that serves a model, runs an MLflow tracking server or a TensorBoard, as a JSON fact value:
    kind, name, namespace, the labels its pods carry, its role, whether it serves (container ports, a runtime
    image or command, an InferenceService) and whether its pod authenticates callers itself."""
    root = document.root
    kind_node = root.get("kind")
    kind = _scalar(kind_node)
    metadata = root.get("metadata")
    name = _scalar(nested(metadata, "name"))
    if kind_node is None or not name:
        return
    own_labels = _labels(nested(metadata, "labels"))
    auth = False
    if kind == "InferenceService":
        role, serves = MODEL_SERVER, nested(root, "spec", "predictor") is not None
        labels = {**own_labels, "serving.kserve.io/inferenceservice": name, "component": "predictor"}
    elif kind == "SeldonDeployment":
        role, serves, labels = MODEL_SERVER, True, {**own_labels, "seldon-deployment-id": name}
    else:
        pod_metadata, pod = _pod(root, kind)
        container_list = nested(pod, "containers")
        containers = list(container_list.elements()) if container_list is not None else []
        if not containers:
            return
        roles = {_container_role(container) for container in containers} - {""}
        by_runtime = bool(roles)
        if not roles and MODEL_SERVER_NAME.search(name) and not PLATFORM_NAME.search(name):
            roles = {MODEL_SERVER}  # named for serving: PFA-TE-012's vocabulary
        if not roles:
            return
        role = min(roles, key=_ROLE_ORDER.__getitem__)
        serves = by_runtime or any(port.get("containerPort") is not None for container in containers
                                   for port in (container.get("ports") or Node([], kind_node.span)).elements())
        labels = _labels(nested(pod_metadata, "labels"))
        auth = any(_SERVER_AUTH.search(container_command_line(c)) or _AUTH_PROXY.search(_scalar(c.get("image")))
                   for c in containers)
    value = {"kind": kind, "name": name, "namespace": _scalar(nested(metadata, "namespace")), "labels": labels,
             "role": role, "serves": serves, "auth": auth}
    yield json_fact(kind_node.anchor_span, f"{kind}/{name}", value)


def _source_ranges(root: Node, annotations: Node | None) -> list[str] | None:
    """The CIDRs a load balancer admits ([] when unrestricted); None when one is not a literal CIDR."""
    ranges = nested(root, "spec", "loadBalancerSourceRanges")
    texts = [_scalar(item) for item in ranges.elements()] if ranges is not None else []
    annotated = _scalar(nested(annotations, _SOURCE_RANGES))
    texts += [part for part in annotated.split(",") if part.strip()] if not texts else []
    for text in texts:
        try:
            ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            return None
    return [text.strip() for text in texts]


def _internal(root: Node, annotations: Node | None) -> bool | None:
    """Whether annotations (or the AWS Load Balancer Controller's default scheme) make the load balancer
    internal; None when a deciding annotation is not a literal."""
    for key, internal in _INTERNAL_ANNOTATIONS:
        value = nested(annotations, key)
        if value is None:
            continue
        text = _scalar(value)
        if _TEMPLATED.search(text) or not value.is_scalar:
            return None
        if internal.search(text):
            return True
    # The AWS Load Balancer Controller (type `external` / `nlb-ip`, or its loadBalancerClass) creates internal
    # load balancers unless the scheme says `internet-facing`.
    controller = (_scalar(nested(annotations, _AWS_TYPE)).lower() in ("external", "nlb-ip")
                  or _scalar(nested(root, "spec", "loadBalancerClass")).startswith("service.k8s.aws/"))
    return controller and _scalar(nested(annotations, _AWS_SCHEME)).lower() != "internet-facing"


def ac_k8s_public_load_balancer(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A `type: LoadBalancer` Service reachable from the internet, as a JSON fact value (name, namespace,
    selector, why it is public), at its `type:`. Not: internal load balancers, source ranges without a /0, ingress
    gateways and controllers, Services without a literal selector."""
    root = document.root
    if _scalar(root.get("kind")) != "Service":
        return
    service_type = nested(root, "spec", "type")
    if _scalar(service_type) != "LoadBalancer" or service_type is None:
        return
    metadata = root.get("metadata")
    name = _scalar(nested(metadata, "name"))
    selector = _labels(nested(root, "spec", "selector"))
    if not selector or any(_TEMPLATED.search(value) for value in selector.values()):
        return  # no selector: endpoints managed by hand; a templated one cannot be matched
    if _INGRESS.search(name) or any(_INGRESS.search(f"{key}={value}") for key, value in selector.items()):
        return  # the cluster's intended public entry
    annotations = nested(metadata, "annotations")
    internal = _internal(root, annotations)
    ranges = _source_ranges(root, annotations)
    if internal is not False or ranges is None:
        return
    open_ranges = [text for text in ranges if ipaddress.ip_network(text, strict=False).prefixlen == 0]
    if ranges and not open_ranges:
        return  # only the listed networks (private ones, a VPN or office range) can connect
    reason = (f"`loadBalancerSourceRanges` admits `{open_ranges[0]}`" if open_ranges else
              "no internal-load-balancer annotation and no `loadBalancerSourceRanges`")
    value = {"name": name, "namespace": _scalar(nested(metadata, "namespace")), "selector": selector,
             "reason": reason}
    yield json_fact(service_type.anchor_span, f"Service/{name}:type", value)


def ac_k8s_network_policy(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The namespace a NetworkPolicy, Calico / Cilium policy or Istio AuthorizationPolicy applies to: its own,
    or "" for a cluster-wide kind, a policy without a namespace and one in Istio's root namespace."""
    root = document.root
    kind_node = root.get("kind")
    kind = _scalar(kind_node)
    if kind_node is None or kind not in _CLUSTER_POLICIES | _NAMESPACED_POLICIES:
        return
    namespace = "" if kind in _CLUSTER_POLICIES else _scalar(nested(root, "metadata", "namespace"))
    if kind == "AuthorizationPolicy" and namespace == _ISTIO_ROOT:
        namespace = ""
    yield Hit(kind_node.anchor_span, (("value", namespace),), f"{kind}:{namespace}")


def _json_facts(context: RepoContext, name: str, scopes: frozenset[str]
                ) -> list[tuple[FactOccurrence, dict[str, Any]]]:
    """The fact's JSON values, in path and line order; manifests under test-data directories do not count."""
    found = [(o, v) for o, v in json_facts(context, name, scopes, "name") if not TEST_DATA_DIRECTORY.search(o.path)]
    return sorted(found, key=lambda item: (item[0].path, item[0].span.line))


def _same_namespace(first: str, second: str) -> bool:
    """A manifest without a namespace is deployed into one given elsewhere (kustomize, `kubectl -n`): any."""
    return first == second or not first or not second


def _exposable(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_json_facts(context, "ac-model-workload", scopes))


def ac_model_server_public_load_balancer(context: RepoContext, params: Mapping[str, Any],
                                         scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Public LoadBalancer Services whose selector matches the pods of a model server, MLflow tracking server or
    TensorBoard that does not authenticate callers itself; one finding per Service, at its `type:`."""
    services = _json_facts(context, "ac-public-load-balancer", scopes)
    if not services:
        return
    workloads = [(o, w) for o, w in _json_facts(context, "ac-model-workload", scopes)
                 if not w.get("auth") and isinstance(w.get("labels"), dict)]
    for occurrence, service in services:
        selector = service.get("selector")
        if not isinstance(selector, dict) or not selector:
            continue
        selected = [(o, w) for o, w in workloads
                    if _same_namespace(str(service.get("namespace", "")), str(w.get("namespace", "")))
                    and all(w["labels"].get(key) == value for key, value in selector.items())]
        if not selected:
            continue
        _, shown = min(selected, key=lambda item: _ROLE_ORDER.get(str(item[1].get("role")), 9))
        related = tuple(Related(o.path, o.span, f"{w.get('role')} `{w['name']}`, selected by the Service")
                        for o, w in selected)
        yield occurrence.path, Hit(occurrence.span, (("name", service["name"]),
                                                     ("value", f"{shown.get('role')} `{shown['name']}`"),
                                                     ("reason", str(service.get("reason", "")))),
                                   f"Service/{service['name']}:public-load-balancer", related)


def _model_servers(context: RepoContext, scopes: frozenset[str]) -> list[tuple[FactOccurrence, dict[str, Any]]]:
    return [(o, w) for o, w in _json_facts(context, "ac-model-workload", scopes)
            if w.get("role") == MODEL_SERVER and w.get("serves")]


def _serves_models(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_model_servers(context, scopes))


def ac_serving_namespace_without_network_policy(context: RepoContext, params: Mapping[str, Any],
                                                scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Namespaces holding a model server that no network policy applies to, leniently: a policy in the same
    namespace, one without a namespace or a cluster-wide one, or a Helm value / Terraform resource creating one,
    counts; workloads without a namespace are covered by any policy. One finding per namespace, at its first
    model server's `kind:`, naming the others."""
    servers = _model_servers(context, scopes)
    if not servers or context.occurrences("ac-network-policy-switch", scopes):
        return
    policies = {o.value for o in context.occurrences("ac-network-policy", scopes)}
    if "" in policies:
        return
    by_namespace: dict[str, list[tuple[FactOccurrence, dict[str, Any]]]] = {}
    for occurrence, workload in servers:
        by_namespace.setdefault(str(workload.get("namespace", "")), []).append((occurrence, workload))
    for namespace, members in sorted(by_namespace.items()):
        if namespace in policies or (not namespace and policies):
            continue
        occurrence, first = members[0]
        others = sorted({str(w["name"]) for _, w in members[1:]} - {first["name"]})
        where = f"namespace `{namespace}`" if namespace else "the namespace its manifests are applied to"
        also = f" (with {', '.join(f'`{n}`' for n in others)})" if others else ""
        related = tuple(Related(o.path, o.span, f"model server `{w['name']}` in the same namespace")
                        for o, w in members[1:])
        yield occurrence.path, Hit(occurrence.span, (("name", first["name"]), ("value", where), ("others", also)),
                                   f"namespace:{namespace}", related)


DOCUMENT: dict[str, DocumentPredicate] = {
    "ac_k8s_model_workload": ac_k8s_model_workload,
    "ac_k8s_public_load_balancer": ac_k8s_public_load_balancer,
    "ac_k8s_network_policy": ac_k8s_network_policy,
}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "ac_model_server_public_load_balancer": ac_model_server_public_load_balancer,
    "ac_serving_namespace_without_network_policy": ac_serving_namespace_without_network_policy,
}
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {
    "ac_model_server_public_load_balancer": _exposable,
    "ac_serving_namespace_without_network_policy": _serves_models,
}
