"""Escape-hatch predicates of the operability pillar.

`op_single_replica_without_autoscaler` is cross-document: whether a Deployment can scale depends on its own
`replicas`, on HorizontalPodAutoscalers and KEDA ScaledObjects that may live in any other manifest, and on
Kustomize replica overrides. Each manifest contributes what it says as `op-scaling-evidence` facts (computed
and cached with the file, like every fact); the repository predicate combines them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.json_facts import json_fact, json_facts
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryApplies,
    RepositoryPredicate,
)
from pfa_policy.engine.repository import RepoContext
from pfa_policy.model import FILE_START, FactOccurrence, Hit
from pfa_policy.parsers.helm import RELEASE_NAME
from pfa_policy.parsers.tree import Document, Node, nested

_SCALABLE_KINDS = frozenset({"Deployment"})


def _text(node: Node | None) -> str:
    return node.value if node is not None and isinstance(node.value, str) else ""


def _int(node: Node | None) -> int | None:
    if node is None or isinstance(node.value, bool):
        return None
    if isinstance(node.value, int):
        return node.value
    if isinstance(node.value, str) and node.value.strip().isdigit():
        return int(node.value)
    return None


def _serves_traffic(document: Document) -> bool:
    """A Deployment with a container port answers requests; controllers and workers without one are skipped."""
    containers = nested(document.root, "spec", "template", "spec", "containers")
    if containers is None:
        return False
    return any(port.get("containerPort") is not None
               for container in containers.elements()
               for port in (container.get("ports") or Node([], FILE_START)).elements())


def _evidence_hit(node: Node, **evidence: Any) -> Hit:
    return json_fact(node.anchor_span, f"scaling:{evidence['kind']}", evidence)


def op_scaling_evidence(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """What one manifest says about scaling, as JSON fact values: a Deployment that could be a single serving
    replica (`deployment`, at its replicas or name), a replica count some document gives a name (`replicas`),
    and the target of an HPA or ScaledObject (`scaled`)."""
    root = document.root
    kind = _text(root.get("kind"))
    name_node = nested(root, "metadata", "name")
    name = _text(name_node)
    namespace = _text(nested(root, "metadata", "namespace"))
    if kind in _SCALABLE_KINDS:
        replicas_node = nested(root, "spec", "replicas")
        replicas = _int(replicas_node)
        if name and replicas is not None:
            yield _evidence_hit(replicas_node or root, kind="replicas", name=name, count=replicas)
        if not name or (replicas_node is not None and replicas is None) or replicas == 0:
            return  # a templated or computed count cannot be judged; `replicas: 0` is parked on purpose
        if replicas_node is None and RELEASE_NAME in name:
            # A Helm chart's Deployment named after the release, with no count: the installation names it, and an
            # autoscaler outside the chart (named after the real release) may own its replicas.
            return
        if _text(nested(root, "spec", "strategy", "type")) == "Recreate" or not _serves_traffic(document):
            return
        target = replicas_node if replicas_node is not None else name_node
        assert target is not None
        yield _evidence_hit(target, kind="deployment", name=name, namespace=namespace,
                            replicas_set=replicas_node is not None)
    elif kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        target_node = nested(root, "spec", "scaleTargetRef")
        target_kind = _text(nested(target_node, "kind")) or "Deployment"
        target_name = _text(nested(target_node, "name"))
        if target_name and target_kind in _SCALABLE_KINDS and target_node is not None:
            yield _evidence_hit(target_node, kind="scaled", name=target_name, namespace=namespace)
    elif kind == "Kustomization":
        for item in (root.get("replicas") or Node([], FILE_START)).elements():
            count = _int(item.get("count"))
            if _text(item.get("name")) and count is not None:
                yield _evidence_hit(item, kind="replicas", name=_text(item.get("name")), count=count)


def _scaling_evidence(context: RepoContext, scopes: frozenset[str]) -> list[tuple[FactOccurrence, dict[str, Any]]]:
    return json_facts(context, "op-scaling-evidence", scopes, "name")


def _has_deployments(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return any(item["kind"] == "deployment" for _, item in _scaling_evidence(context, scopes))


def single_replica_without_autoscaler(context: RepoContext, params: Mapping[str, Any],
                                      scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Serving Deployments that run one replica (set or defaulted) and that no HPA or KEDA ScaledObject targets.

    Skipped: `replicas: 0` (parked on purpose), `strategy: Recreate` (a deliberate singleton, e.g. a
    ReadWriteOnce volume), Deployments without container ports, and names some other manifest (an overlay
    patch, a Kustomization `replicas:` entry) gives two or more replicas."""
    evidence = _scaling_evidence(context, scopes)
    max_replicas: dict[str, int] = {}
    scaled: set[tuple[str, str]] = set()
    for _, item in evidence:
        if item["kind"] == "replicas" and isinstance(item.get("count"), int):
            max_replicas[item["name"]] = max(item["count"], max_replicas.get(item["name"], 0))
        elif item["kind"] == "scaled":
            scaled.add((str(item.get("namespace", "")), item["name"]))
    for occurrence, item in evidence:
        name, namespace = item["name"], str(item.get("namespace", ""))
        if item["kind"] != "deployment" or max_replicas.get(name, 1) >= 2:
            continue
        if (namespace, name) in scaled or ("", name) in scaled or (
                not namespace and any(n == name for _, n in scaled)):
            continue
        value = "replicas: 1" if item.get("replicas_set") else "no replicas, which defaults to 1"
        yield occurrence.path, Hit(occurrence.span, (("name", name), ("value", value)), f"Deployment/{name}:replicas")


PYTHON: dict[str, PythonPredicate] = {}
# A conda spec that fixes the interpreter's minor version: `python=3.8`, `python==3.8.18`, `python 3.8`,
# `python=3.8.*`, `conda-forge::python=3.8=h955ad1f_0`. A lower bound (`python>=3.8`) may resolve to a supported one.
_CONDA_PYTHON = re.compile(r"^(?:[\w.\-/:]+::)?python\s*(?:==?|\s)\s*(\d+\.\d+)(?:[.=\s*]|$)", re.IGNORECASE)


def op_conda_eol_python(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """The `python` dependency of a conda environment file pinned to a version in `eol_python_versions`;
    value = the spec as written."""
    root = document.root
    dependencies = root.get("dependencies") if document.kind == "conda" and root.is_mapping else None
    if dependencies is None:
        return
    eol = {str(version) for version in params.get("eol_python_versions", ())}
    for item in dependencies.elements():
        if not item.is_scalar or not isinstance(item.value, str):
            continue
        found = _CONDA_PYTHON.match(item.value.strip())
        if found and found.group(1) in eol:
            yield Hit(item.anchor_span, (("value", item.value.strip()),), f"conda-python:{found.group(1)}")


DOCUMENT: dict[str, DocumentPredicate] = {"op_scaling_evidence": op_scaling_evidence,
                                          "op_conda_eol_python": op_conda_eol_python}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "op_single_replica_without_autoscaler": single_replica_without_autoscaler,
}
# When each has something to judge (readiness counts it only then).
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {"op_single_replica_without_autoscaler": _has_deployments}
