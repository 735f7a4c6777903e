"""Where a Terraform root module keeps its state: `dg_terraform_root_without_remote_backend` (PFA-DG-105).

Whether a directory is a root module, and whether it has a backend, depends on every `.tf` file of it and on the
`module` blocks of other directories. Each Terraform file contributes what it declares as `dg-terraform-module`
facts (computed and cached with the file, like every fact): its first `provider` block, the backends and `cloud`
blocks of its `terraform` blocks, and the local sources (`./x`, `../x`) of its `module` blocks. The repository
predicate combines them by directory, without reading any Terraform file again (only `terragrunt.hcl` files,
for the module directories they name).

A **root module** is a directory of `.tf` / `.tf.json` files in the rule's scopes that declares a `provider`
block or holds a `*.tfvars` file, and that is none of: a directory another directory's `module` block (in any
scope: an example or a test that calls it makes it a module) or a `terragrunt.hcl` names as its local source, a
directory below a `modules/` directory (Terraform's standard module structure), a directory with a
`terragrunt.hcl` (Terragrunt generates its backend). It has remote state when one of its files declares a
`cloud` block or a `backend` other than `local` (a backend block without arguments is a partial configuration
completed at `terraform init`, and counts).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pfa_policy.engine.predicates.json_facts import json_fact, json_facts
from pfa_policy.engine.predicates.types import DocumentPredicate, RepositoryApplies, RepositoryPredicate
from pfa_policy.engine.repository import RepoContext
from pfa_policy.model import FILE_START, FactOccurrence, Hit
from pfa_policy.parsers.terraform import BLOCKS
from pfa_policy.parsers.tree import Document, Node

FACT = "dg-terraform-module"
_LOCAL_SOURCE = re.compile(r"^\.\.?(?:/|$)")
_TERRAGRUNT = "terragrunt.hcl"
_TERRAGRUNT_SOURCE = re.compile(r"^\s*source\s*=\s*\"([^\"$]+)\"", re.MULTILINE)


def _blocks(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.tag == BLOCKS or isinstance(node.value, list):
        return [n for n in node.elements() if n.is_mapping]
    return [node] if node.is_mapping else []


def _evidence(node: Node, **evidence: str) -> Hit:
    return json_fact(node.anchor_span, f"terraform-module:{evidence['kind']}:{evidence.get('value', '')}", evidence)


def dg_terraform_module_evidence(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """What one Terraform file says about its module's role and state, as JSON fact values."""
    root = document.root
    providers = root.get("provider")
    first = min(((body.anchor_span.line, body) for _, named in (providers.items() if providers is not None else ())
                 for body in _blocks(named)), key=lambda pair: pair[0], default=None)
    if first is not None:
        yield _evidence(first[1], kind="provider")
    for block in _blocks(root.get("terraform")):
        for backend in _blocks(block.get("backend")):
            for backend_type, _ in backend.items():
                yield _evidence(backend, kind="backend", value=backend_type)
        for cloud in _blocks(block.get("cloud")):
            yield _evidence(cloud, kind="cloud")
    modules = root.get("module")
    for _, named in modules.items() if modules is not None else ():
        for body in _blocks(named):
            source = body.get("source")
            if source is not None and isinstance(source.value, str) and _LOCAL_SOURCE.match(source.value):
                yield _evidence(source, kind="module", value=source.value)


@dataclass
class _Directory:
    provider: FactOccurrence | None = None
    backends: list[str] = field(default_factory=list)
    cloud: bool = False
    tfvars: bool = False


def _resolved(directory: str, source: str) -> str:
    """The repository directory a local module source names (`//` separates a package from its subdirectory)."""
    joined = posixpath.normpath(posixpath.join(directory, source.replace("//", "/")))
    return "" if joined == "." else joined


def _below_modules(directory: str) -> bool:
    return "modules" in directory.split("/")


def _roots(context: RepoContext, scopes: frozenset[str]) -> dict[str, _Directory]:
    """The candidate root modules of the scopes, by directory, with what their files declare."""
    directories: dict[str, _Directory] = {}
    referenced: set[str] = set()
    for occurrence, evidence in json_facts(context, FACT, None, "kind"):  # every scope: a module an example
        # calls is a module
        directory = occurrence.path.rpartition("/")[0]
        if evidence["kind"] == "module":
            referenced.add(_resolved(directory, evidence.get("value", "")))
            continue
        if occurrence.scope not in scopes:
            continue
        entry = directories.setdefault(directory, _Directory())
        if evidence["kind"] == "provider":
            if entry.provider is None or (occurrence.path, occurrence.span.line) < (entry.provider.path,
                                                                                  entry.provider.span.line):
                entry.provider = occurrence
        elif evidence["kind"] == "backend":
            entry.backends.append(evidence.get("value", ""))
        elif evidence["kind"] == "cloud":
            entry.cloud = True
    for repo_file in context.files:
        name = repo_file.name
        if name == _TERRAGRUNT:
            directory = repo_file.directory
            referenced.add(directory)
            for source in _TERRAGRUNT_SOURCE.findall(context.read_text(repo_file.path)):
                if _LOCAL_SOURCE.match(source):
                    referenced.add(_resolved(directory, source))
        elif name.endswith((".tfvars", ".tfvars.json")) and repo_file.scope in scopes:
            directories.setdefault(repo_file.directory, _Directory()).tfvars = True
    return {directory: entry for directory, entry in directories.items()
            if (entry.provider is not None or entry.tfvars) and directory not in referenced
            and not _below_modules(directory)}


def _terraform_files(context: RepoContext, directory: str, scopes: frozenset[str]) -> list[str]:
    return sorted(f.path for f in context.files_in(directory)
                  if f.scope in scopes and f.name.endswith((".tf", ".tf.json")))


def dg_terraform_root_without_remote_backend(context: RepoContext, params: Mapping[str, Any],
                                             scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    """One finding per root module without a remote backend, at its first `provider` block (else line 1 of its
    first `.tf` file)."""
    for directory, entry in sorted(_roots(context, scopes).items()):
        remote = [b for b in entry.backends if b != "local"]
        if entry.cloud or remote:
            continue
        files = _terraform_files(context, directory, scopes)
        if not files:
            continue  # `*.tfvars` without configuration: variable files another directory's module reads
        value = "uses `backend \"local\"`" if entry.backends else "declares no backend"
        name = directory or "."
        if entry.provider is not None:
            path, span = entry.provider.path, entry.provider.span
        else:
            path, span = files[0], FILE_START
        yield path, Hit(span, (("name", name), ("value", value)), f"terraform-root-without-backend:{name}")


def _has_roots(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return any(_terraform_files(context, directory, scopes) for directory in _roots(context, scopes))


DOCUMENT: dict[str, DocumentPredicate] = {"dg_terraform_module_evidence": dg_terraform_module_evidence}
REPOSITORY: dict[str, RepositoryPredicate] = {
    "dg_terraform_root_without_remote_backend": dg_terraform_root_without_remote_backend}
# When it has something to judge (readiness counts it only then): a root module in the scopes.
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {"dg_terraform_root_without_remote_backend": _has_roots}
