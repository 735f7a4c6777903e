"""A Terraform module: what the files of one directory declare (variables' literal defaults, `*.tfvars` values,
literal locals, every resource) and the documents its files become once references are resolved."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pfa_policy.engine.values import UNKNOWN
from pfa_policy.parsers.terraform import BLOCKS, LOCK_FILE, REFERENCE, expression_of
from pfa_policy.parsers.tree import Document, Node

_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\"([^\"]*)\"\]")


@dataclass(slots=True)
class TerraformModule:
    """Declarations of one directory's `*.tf` files: resources (for companions) and the values of references."""

    resources: list[tuple[str, str, Node]] = field(default_factory=list)  # (type, name, body), every file
    values: dict[str, Node] = field(default_factory=dict)  # "var.x" / "local.x" -> literal node


@dataclass(slots=True)
class TerraformDocument(Document):
    """A Terraform file's tree; `module` holds what the whole directory (the Terraform module) declares."""

    module: TerraformModule | None = None


def module_of(trees: Iterable[tuple[str, Node]]) -> TerraformModule:
    """What the files of one directory declare: variables' literal defaults (a `*.tfvars` value wins), literal
    locals (which may use variables and other locals) and every resource, with references resolved."""
    module = TerraformModule()
    values = module.values
    tfvars: dict[str, Node] = {}
    locals_: dict[str, Node] = {}
    files = list(trees)
    for path, root in files:
        if path.endswith((".tfvars", ".tfvars.json")):
            tfvars.update(root.items())
            continue
        if path.endswith(LOCK_FILE):
            continue
        for name, variable in _labelled(root, "variable"):
            default = variable.get("default")
            if default is not None and default.value is not None and expression_of(default) is None:
                values[f"var.{name}"] = default
        for block in _blocks(root.get("locals")):
            locals_.update(block.items())
    for name, value in tfvars.items():
        if expression_of(value) is None and value.value is not None:
            values[f"var.{name}"] = value
    for _ in range(4):  # locals built from locals: a few rounds reach any realistic chain
        changed = False
        for name, value in locals_.items():
            key = f"local.{name}"
            resolved = substitute(value, values)
            if key not in values and expression_of(resolved) is None and not _has_unknown(resolved):
                values[key] = resolved
                changed = True
        if not changed:
            break
    for path, root in files:
        if path.endswith(LOCK_FILE):
            # The dependency lock file pins every provider's version: rules see it as a companion resource.
            module.resources.append(("terraform_lock_file", "lock", root))
        if path.endswith((".tfvars", ".tfvars.json", LOCK_FILE)):
            continue
        for resource_type, name, body in resources(root):
            module.resources.append((resource_type, name, substitute(body, values)))
    return module


def _labelled(root: Node, block: str) -> Iterator[tuple[str, Node]]:
    container = root.get(block)
    if container is None:
        return
    for name, body in container.items():
        for item in _blocks(body):
            yield name, item


def _blocks(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.tag == BLOCKS and isinstance(node.value, list):
        return [n for n in node.value if n.is_mapping]
    return [node] if node.is_mapping else []


def resources(root: Node) -> Iterator[tuple[str, str, Node]]:
    container = root.get("resource")
    if container is None:
        return
    for resource_type, named in container.items():
        for name, body in named.items():
            for item in _blocks(body):
                yield resource_type, name, item


def _has_unknown(node: Node) -> bool:
    return any(n.value is UNKNOWN for n in node.walk())


def substitute(node: Node, values: Mapping[str, Node]) -> Node:
    """A copy of `node` with `var.x` / `local.x` references replaced by their literal values."""
    if not values:
        return node
    text = expression_of(node)
    if text is not None:
        return _resolved(node, text, values)
    if isinstance(node.value, dict):
        return Node({k: substitute(v, values) for k, v in node.value.items()}, node.span, node.key_span, node.tag)
    if isinstance(node.value, list):
        return Node([substitute(v, values) for v in node.value], node.span, node.key_span, node.tag)
    return node


def _resolved(node: Node, text: str, values: Mapping[str, Node]) -> Node:
    found = _lookup(text.strip(), values)
    if found is not None:
        return _relocated(found, node)
    if REFERENCE.match(text.strip()):
        return node
    if text.startswith('"') and text.endswith('"') and "${" in text:
        parts: list[str] = []
        position = 0
        body = text[1:-1]
        for match in _INTERPOLATION.finditer(body):
            found = _lookup(match.group(1).strip(), values)
            if found is None or not found.is_scalar or found.value is UNKNOWN:
                return node
            parts.append(body[position:match.start()])
            parts.append(_scalar_text(found.value))
            position = match.end()
        rest = body[position:]
        if "${" in rest or "%{" in body:
            return node
        return Node("".join(parts) + rest, node.span, node.key_span)
    return node


def _lookup(text: str, values: Mapping[str, Node]) -> Node | None:
    """The literal a reference names: `var.x`, `local.x`, and attributes or elements of their literal objects
    and lists (`var.production_variant.initial_instance_count`, `local.zones[0]`)."""
    reference = REFERENCE.match(text)
    if reference is None:
        return None
    found = values.get(reference.group(1))
    for step in _STEP.finditer(reference.group(2)):
        if found is None:
            return None
        key, index, quoted = step.groups()
        if index is not None:
            found = found.value[int(index)] if isinstance(found.value, list) and int(index) < len(found.value) \
                else None
        else:
            found = found.get(key if key is not None else quoted)
    return None if found is None or found.value is None else found  # null: the caller's to set, unknown


def _scalar_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _relocated(found: Node, at: Node) -> Node:
    """A variable's value, reported where it is used."""
    if isinstance(found.value, dict):
        value: Any = {k: _relocated(v, at) for k, v in found.value.items()}
        return Node(value, at.span, at.key_span, found.tag)
    if isinstance(found.value, list):
        return Node([_relocated(v, at) for v in found.value], at.span, at.key_span, found.tag)
    return Node(found.value, at.span, at.key_span, found.tag)


def terraform_document(path: str, root: Node, module: TerraformModule) -> TerraformDocument:
    return TerraformDocument(substitute(root, module.values), 0, "terraform", module)
