"""The statements of the identity policies a CloudFormation / SAM template defines: the `$iam_statements` macro.

Where they are, by resource type:

- `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`, `AWS::IAM::RolePolicy`, `AWS::IAM::UserPolicy`,
  `AWS::IAM::GroupPolicy`: `Properties.PolicyDocument`;
- `AWS::IAM::Role`, `AWS::IAM::User`, `AWS::IAM::Group`: each `Properties.Policies[*].PolicyDocument`;
- `AWS::Serverless::Function`, `AWS::Serverless::StateMachine` (SAM): `Properties.Policies` when it is a policy
  document, or each element of the `Policies` list that is one (a managed policy name or ARN and a SAM policy
  template such as `S3ReadPolicy: {...}` are not statements);
- `AWS::SSO::PermissionSet`: `Properties.InlinePolicy`.

A `Statement` written as a single object is one statement. Resource policies (bucket, topic, key policies, a
role's trust policy) are not identity policies: their `Principal` decides who, and they are not read here.
"""

from __future__ import annotations

from collections.abc import Iterator

from pfa_policy.parsers.tree import Node

_POLICY_DOCUMENT = frozenset({"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy",
                              "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"})
_INLINE_POLICIES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})
_SAM_POLICIES = frozenset({"AWS::Serverless::Function", "AWS::Serverless::StateMachine"})
_PERMISSION_SET = "AWS::SSO::PermissionSet"


def iam_statements(base: Node, base_path: str) -> Iterator[tuple[str, Node]]:
    """Every identity-policy statement of the template at `base` (its root), or of the one resource `base`
    is (`base_path` `Resources.<id>`), with its path."""
    if base_path.startswith("Resources."):
        yield from _resource_statements(base, base_path)
        return
    resources = base.get("Resources")
    for logical_id, resource in resources.items() if resources is not None else ():
        yield from _resource_statements(resource, f"Resources.{logical_id}")


def _resource_statements(resource: Node, path: str) -> Iterator[tuple[str, Node]]:
    kind = resource.get("Type")
    properties = resource.get("Properties")
    if kind is None or not isinstance(kind.value, str) or properties is None:
        return
    path = f"{path}.Properties"
    if kind.value in _POLICY_DOCUMENT:
        yield from _statements(properties.get("PolicyDocument"), f"{path}.PolicyDocument")
    elif kind.value == _PERMISSION_SET:
        yield from _statements(properties.get("InlinePolicy"), f"{path}.InlinePolicy")
    elif kind.value in _INLINE_POLICIES:
        for position, policy in enumerate((properties.get("Policies") or Node([], resource.span)).elements()):
            yield from _statements(policy.get("PolicyDocument"), f"{path}.Policies[{position}].PolicyDocument")
    elif kind.value in _SAM_POLICIES:
        policies = properties.get("Policies")
        if policies is None:
            return
        if policies.is_mapping:
            yield from _statements(policies, f"{path}.Policies")
        for position, policy in enumerate(policies.elements()):
            yield from _statements(policy, f"{path}.Policies[{position}]")


def _statements(document: Node | None, path: str) -> Iterator[tuple[str, Node]]:
    statement = document.get("Statement") if document is not None else None
    if statement is None:
        return
    if statement.is_mapping:
        yield f"{path}.Statement", statement
    for position, element in enumerate(statement.elements()):
        if element.is_mapping:
            yield f"{path}.Statement[{_label(element, position)}]", element


def _label(statement: Node, position: int) -> str:
    """A statement is named by its `Sid` when it has one: stable when the list is reordered."""
    sid = statement.get("Sid")
    if sid is not None and sid.is_scalar and isinstance(sid.value, str) and sid.value:
        return f"sid={sid.value}"
    return str(position)
