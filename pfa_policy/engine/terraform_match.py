"""Terraform in the document vocabulary: resources selected by type, and companion resources attached to them by
reference (AWS provider v4+ configures a bucket's encryption, versioning, logging and public access block in
separate `aws_s3_bucket_*` resources that name the bucket)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pfa_policy.engine.globs import NameGlobs
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.parsers.terraform import expression_of
from pfa_policy.parsers.terraform_module import TerraformDocument, TerraformModule, resources
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


def select_resources(document: TerraformDocument, types: NameGlobs) -> Iterator[tuple[str, TerraformResource]]:
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


def companions(resource: TerraformResource, types: NameGlobs, by: tuple[str, ...],
               ) -> Iterator[TerraformResource]:
    """Resources of `types` in the module whose `by` attribute may name `resource`: a reference to it, its literal
    name, the same expression as its name, or a value that cannot be told apart from it (an unknown is never a
    violation). `by: "*"`: every resource of the types (account-wide settings such as
    `aws_s3_account_public_access_block`)."""
    for companion_type, name, body in resource.module.resources:
        if not types.fullmatch(companion_type) or not instantiated(body):
            continue
        if by == ("*",) or any(_may_name(body.get(attribute), body, resource) for attribute in by):
            yield TerraformResource(companion_type, name, body, resource.module)


def _may_name(node: Node | None, companion: Node, resource: TerraformResource) -> bool:
    if node is None or not resource.type:
        return False
    own = [n for n in (resource.body.get(a) for a in _NAME_ATTRIBUTES) if n is not None]
    own_expressions = {expression_of(n) for n in own} - {None}
    text = expression_of(node)
    if text is None:
        if not isinstance(node.value, str):
            return False
        return bool(own_expressions) or any(n.value == node.value for n in own)
    verdict = _by_reference(text, resource)
    if verdict is not None:
        return verdict
    if text in own_expressions:
        return True  # both use var.bucket_name
    if text.startswith("each.") and companion.get("for_each") is not None:
        # for_each = aws_s3_bucket.lake (or a list of buckets): the iteration decides.
        each = companion.get("for_each")
        each_text = expression_of(each) if each is not None else None
        verdict = _by_reference(each_text, resource) if each_text is not None else None
        return True if verdict is None else verdict
    # var.bucket_id, module.x.id: this resource only if its own name is not a known, different value.
    return bool(own_expressions)


def _by_reference(text: str, resource: TerraformResource) -> bool | None:
    """True when the expression references the resource, False when it references another resource of its type,
    None when it references neither."""
    references = {f"{t}.{n}" for t, n in _RESOURCE_REFERENCE.findall(text)}
    if resource.address in references:
        return True
    if any(r.split(".")[0] == resource.type for r in references):
        return False
    return None
