"""Google Cloud Terraform checks the declarative vocabulary cannot express: a member written as a template with an
unknown part (`"serviceAccount:${google_service_account.ci.email}"`) is unknown to value conditions, but its literal
prefix already says what kind of principal it is."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.engine.terraform_match import instantiated
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import Hit
from pfa_policy.parsers.terraform import expression_of
from pfa_policy.parsers.terraform_module import resources
from pfa_policy.parsers.tree import Document, Node

_BASIC_ROLES = frozenset({"roles/owner", "roles/editor"})
_MEMBER = ("google_project_iam_member", "google_folder_iam_member", "google_organization_iam_member")
_BINDING = ("google_project_iam_binding", "google_folder_iam_binding", "google_organization_iam_binding")


def _principal_text(node: Node) -> str | None:
    """A member's literal text, or the literal start of a template (`serviceAccount:${...}`); None when unknown."""
    if node.value is UNKNOWN:
        text = expression_of(node) or ""
        if not text.startswith('"'):
            return None  # a bare reference or call: `var.member`, `google_service_account.x.member`
        return text[1:].split("${", 1)[0]
    return node.value if isinstance(node.value, str) else None


def _service_account_members(node: Node | None) -> Iterator[Node]:
    if node is None:
        return
    items = node.value if isinstance(node.value, list) else [node]
    for item in items:
        text = _principal_text(item)
        if text is not None and text.startswith("serviceAccount:"):
            yield item


def _basic_role(body: Node) -> str | None:
    role = body.get("role")
    if role is None or not isinstance(role.value, str) or role.value not in _BASIC_ROLES:
        return None
    return role.value


def ac_gcp_basic_role_for_service_account(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """Grants of roles/owner or roles/editor to a `serviceAccount:` member: IAM member / binding resources and
    `data "google_iam_policy"` binding blocks. Reported at the role."""
    for resource_type, name, body in resources(document.root):
        if resource_type not in _MEMBER + _BINDING or not instantiated(body):
            continue
        role = _basic_role(body)
        if role is None:
            continue
        members = body.get("member" if resource_type in _MEMBER else "members")
        if next(_service_account_members(members), None) is None:
            continue
        target = body.get("role")
        assert target is not None
        yield Hit(target.anchor_span, (("resource", f"{resource_type}.{name}"), ("value", role)),
                  f"basic-role:{resource_type}.{name}:{role}")
    data = document.root.get("data")
    policies = data.get("google_iam_policy") if data is not None else None
    for name, policy in policies.items() if policies is not None else ():
        for block in policy.value if isinstance(policy.value, list) else [policy]:
            bindings = block.get("binding")
            for binding in (bindings.value if bindings is not None and isinstance(bindings.value, list)
                            else [bindings] if bindings is not None else []):
                role = _basic_role(binding)
                if role is None or next(_service_account_members(binding.get("members")), None) is None:
                    continue
                target = binding.get("role")
                assert target is not None
                yield Hit(target.anchor_span, (("resource", f"data.google_iam_policy.{name}"), ("value", role)),
                          f"basic-role:data.google_iam_policy.{name}:{role}")


DOCUMENT: dict[str, DocumentPredicate] = {
    "ac_gcp_basic_role_for_service_account": ac_gcp_basic_role_for_service_account,
}
