"""Terraform in the document vocabulary: resources selected by type, and companion resources attached to them by
reference (AWS provider v4+ configures a bucket's encryption, versioning, logging and public access block in
separate `aws_s3_bucket_*` resources that name the bucket)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pfa_policy.engine.values import UNKNOWN
from pfa_policy.parsers.terraform import TerraformDocument, TerraformModule, expression_of, resources
from pfa_policy.parsers.tree import Node

# Attributes whose literal value names a resource: what a companion may use instead of a reference.
_NAME_ATTRIBUTES = ("bucket", "name", "repository", "function_name", "arn")
_RESOURCE_REFERENCE = re.compile(r"(?<![\w.])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(?=[.\[]|$|\s|\))")


@dataclass(frozen=True, slots=True)
class TerraformResource:
    """The resource an element belongs to, with its module (for companions)."""

    type: str
    name: str
    body: Node
    module: TerraformModule

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


def select_resources(document: TerraformDocument, types: re.Pattern[str]) -> Iterator[tuple[str, TerraformResource]]:
    """The document's resources of these types that exist: a literal `count = 0` or an empty literal `for_each`
    creates none."""
    module = document.module or TerraformModule()
    for resource_type, name, body in resources(document.root):
        if types.fullmatch(resource_type) and instantiated(body):
            yield f"resource.{resource_type}.{name}", TerraformResource(resource_type, name, body, module)


def instantiated(body: Node) -> bool:
    count = body.get("count")
    if count is not None and count.value is not UNKNOWN and count.value in (0, False):
        return False
    each = body.get("for_each")
    return not (each is not None and isinstance(each.value, (dict, list)) and not each.value)


def companions(resource: TerraformResource, types: re.Pattern[str], by: tuple[str, ...],
               ) -> Iterator[TerraformResource]:
    """Resources of `types` in the module whose `by` attribute may name `resource`: a reference to it, its literal
    name, or a value that cannot be resolved (it may be this resource: an unknown is never a violation). `by: "*"`:
    every resource of the types (account-wide settings such as `aws_s3_account_public_access_block`)."""
    for companion_type, name, body in resource.module.resources:
        if not types.fullmatch(companion_type) or not instantiated(body):
            continue
        if by == ("*",) or any(_may_name(body.get(attribute), resource) for attribute in by):
            yield TerraformResource(companion_type, name, body, resource.module)


def _may_name(node: Node | None, resource: TerraformResource) -> bool:
    if node is None or not resource.type:
        return False
    text = expression_of(node)
    if text is None:
        if not isinstance(node.value, str):
            return False
        names = [resource.body.get(a) for a in _NAME_ATTRIBUTES]
        known = [n for n in names if n is not None]
        if any(expression_of(n) is not None for n in known):
            return True  # the resource's own name is unknown
        return any(n.value == node.value for n in known)
    references = {f"{t}.{n}" for t, n in _RESOURCE_REFERENCE.findall(text)}
    if not references:
        return True  # var.bucket_id, each.value.id, module.x.id: maybe this one
    if resource.address in references:
        return True
    # It names other resources: it is this one only if none of them is of this resource's type.
    return not any(r.split(".")[0] == resource.type for r in references)
