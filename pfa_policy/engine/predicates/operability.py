"""Escape-hatch predicates of the operability pillar.

`op_single_replica_without_autoscaler` is cross-document: whether a Deployment can scale depends on its own
`replicas`, on HorizontalPodAutoscalers and KEDA ScaledObjects that may live in any other manifest, and on
Kustomize replica overrides. The file-level vocabulary sees one document at a time, so this reads the
repository's YAML manifests itself (parsing only: nothing is executed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryPredicate,
)
from pfa_policy.engine.repository import RepoContext, RepoFile, yaml_documents
from pfa_policy.model import FILE_START, Hit, ParseError
from pfa_policy.parsers.tree import Document, Node

# File kinds that may hold Kubernetes manifests (a file no file-level rule read is still plain "yaml").
_MANIFEST_KINDS = frozenset({"yaml", "kubernetes", "kserve", "seldon"})
_MAX_BYTES = 2 * 1024 * 1024
_SCALABLE_KINDS = frozenset({"Deployment"})
_INTERESTING = ("Deployment", "HorizontalPodAutoscaler", "ScaledObject", "Kustomization")


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


def _child(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        if node is None:
            return None
        node = node.get(key)
    return node


@dataclass
class _Workloads:
    """What the manifests of a repository say about Deployments and what scales them."""

    deployments: list[tuple[str, Document]] = field(default_factory=list)
    scaled: set[tuple[str, str]] = field(default_factory=set)  # (namespace or "", name)
    max_replicas: dict[str, int] = field(default_factory=dict)  # by Deployment name, over every document

    def note_replicas(self, name: str, count: int | None) -> None:
        if name and count is not None:
            self.max_replicas[name] = max(count, self.max_replicas.get(name, 0))

    def is_scaled(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self.scaled or ("", name) in self.scaled or (
            not namespace and any(n == name for _, n in self.scaled)
        )


def _collect(document: Document, path: str, found: _Workloads) -> None:
    root = document.root
    kind = _text(root.get("kind"))
    name = _text(_child(root, "metadata", "name"))
    namespace = _text(_child(root, "metadata", "namespace"))
    if kind in _SCALABLE_KINDS:
        found.note_replicas(name, _int(_child(root, "spec", "replicas")))
        found.deployments.append((path, document))
    elif kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        target = _child(root, "spec", "scaleTargetRef")
        target_kind = _text(_child(target, "kind")) or "Deployment"
        target_name = _text(_child(target, "name"))
        if target_name and target_kind in _SCALABLE_KINDS:
            found.scaled.add((namespace, target_name))
    elif kind == "Kustomization":
        for item in (root.get("replicas") or Node([], FILE_START)).elements():
            found.note_replicas(_text(item.get("name")), _int(item.get("count")))


def _manifest_files(context: RepoContext, scopes: frozenset[str]) -> Iterator[tuple[RepoFile, list[Document]]]:
    for repo_file in context.files:
        if repo_file.scope not in scopes or not (repo_file.kinds & _MANIFEST_KINDS) or repo_file.size > _MAX_BYTES:
            continue  # an autoscaler in a dev overlay or an example does not scale production
        text = context.read_text(repo_file.path)
        if "kind:" not in text or not any(word in text for word in _INTERESTING):
            continue
        try:
            yield repo_file, list(yaml_documents(text))
        except ParseError:
            continue  # the file-level scan reports unparsable files


def _serves_traffic(document: Document) -> bool:
    """A Deployment with a container port answers requests; controllers and workers without one are skipped."""
    containers = _child(document.root, "spec", "template", "spec", "containers")
    if containers is None:
        return False
    return any(port.get("containerPort") is not None
               for container in containers.elements()
               for port in (container.get("ports") or Node([], FILE_START)).elements())


def single_replica_without_autoscaler(context: RepoContext, params: Mapping[str, Any],
                                      scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """Serving Deployments that run one replica (set or defaulted) and that no HPA or KEDA ScaledObject targets.

    Skipped: `replicas: 0` (parked on purpose), `strategy: Recreate` (a deliberate singleton, e.g. a
    ReadWriteOnce volume), Deployments without container ports, and names some other manifest (an overlay
    patch, a Kustomization `replicas:` entry) gives two or more replicas."""
    found = _Workloads()
    for repo_file, documents in _manifest_files(context, scopes):
        for document in documents:
            _collect(document, repo_file.path, found)
    for path, document in found.deployments:
        root = document.root
        name_node = _child(root, "metadata", "name")
        name = _text(name_node)
        replicas_node = _child(root, "spec", "replicas")
        replicas = _int(replicas_node)
        if not name or (replicas_node is not None and replicas is None):
            continue  # a templated or computed count: cannot judge
        if replicas == 0 or found.max_replicas.get(name, 1) >= 2:
            continue
        if _text(_child(root, "spec", "strategy", "type")) == "Recreate" or not _serves_traffic(document):
            continue
        if found.is_scaled(_text(_child(root, "metadata", "namespace")), name):
            continue
        target = replicas_node if replicas_node is not None else name_node
        assert target is not None
        value = "replicas: 1" if replicas_node is not None else "no replicas, which defaults to 1"
        yield path, Hit(target.anchor_span, (("name", name), ("value", value)), f"Deployment/{name}:replicas")


PYTHON: dict[str, PythonPredicate] = {}
DOCUMENT: dict[str, DocumentPredicate] = {}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "op_single_replica_without_autoscaler": single_replica_without_autoscaler,
}
