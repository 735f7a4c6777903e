"""What discovery finds: systems, their environments rendered, and the repository view it reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pfa_policy.parity import kustomize
from pfa_policy.parity.located import Val, load
from pfa_policy.parity.settings import EXEMPT, ParitySettings


@dataclass
class Environment:
    name: str
    role: str  # pilot | production
    anchor: str  # the file a finding about this environment as a whole points at
    source: str  # kustomize | helm | stage-config | terraform | compose | kubernetes
    resources: list[Val] = field(default_factory=list)  # Kubernetes objects (kustomize, compose-vs-kubernetes)
    values: Val | None = None  # Helm values, stage parameters or Terraform variables, merged
    template: Val | None = None  # rendered CloudFormation Resources for this stage
    files: list[str] = field(default_factory=list)
    unrendered: list[str] = field(default_factory=list)


@dataclass
class System:
    name: str  # the directory (or image repository) that identifies it
    source: str
    environments: list[Environment] = field(default_factory=list)


@dataclass(frozen=True)
class RepoView:
    """What discovery reads: file paths (with their scope) and a text reader."""

    paths: dict[str, str]  # path -> scope
    read: Callable[[str], str]
    kinds: dict[str, frozenset[str]] = field(default_factory=dict)  # path -> kinds, where classification ran

    def tree(self) -> kustomize.Tree:
        return kustomize.Tree(frozenset(self.paths), self.read)


def image_repository(reference: str) -> str:
    """The repository of an image reference without registry host, tag or digest: what identifies the artefact
    across the registries it is promoted through."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: len(name) - len(last[-1]) + last[-1].index(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def environment_role(settings: ParitySettings, name: str) -> str | None:
    """pilot or production for an environment name; None for exempt and unknown names."""
    role = settings.role(name)
    return None if role in (None, EXEMPT) else role


def first_mapping(view: RepoView, path: str) -> Val | None:
    """The first document of a YAML or JSON file, when it is a mapping."""
    documents = load(path, view.read(path))
    return documents[0] if documents and isinstance(documents[0].value, dict) else None
