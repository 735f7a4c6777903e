"""IAM role trust policies federated to GitHub Actions' OIDC provider (`token.actions.githubusercontent.com`) that
any repository can satisfy: `ac_github_oidc_trust_too_broad` (PFA-AC-113).

Trust statements are read from Terraform `aws_iam_role` `assume_role_policy` (a JSON string, heredoc or
`jsonencode({...})`), `data "aws_iam_policy_document"` statements with `principals { type = "Federated" }` and
`condition { test variable values }` blocks, and CloudFormation `AWS::IAM::Role` `AssumeRolePolicyDocument`. A
statement is GitHub's when an `Allow` of `sts:AssumeRoleWithWebIdentity` names a federated principal whose text
contains the GitHub issuer (the OIDC provider ARN, or a Terraform `aws_iam_openid_connect_provider` / CloudFormation
`AWS::IAM::OIDCProvider` of the module or template whose URL is GitHub's), or when one of its condition keys is a
GitHub claim (`token.actions.githubusercontent.com[/<enterprise>]:<claim>`). Then, per statement, one of:

- `missing`: no positive condition (`StringEquals`, `StringLike`, their `ForAnyValue:` / `ForAllValues:` and
  `IfExists` forms) on `sub` or on any other GitHub claim but `aud`: every workflow on GitHub can assume the role;
- `any-repository`: every positive `sub` condition admits a subject of any owner (a `StringLike` value that starts
  with a wildcard, or whose owner part, between `repo:` and the first `/`, has one: `*`, `repo:*`, `repo:acme*`);
  `repo:<owner>/*` (every repository of one owner) is not reported;
- `literal-wildcard`: a `StringEquals` `sub` value containing `*`, which StringEquals compares literally: no
  token matches it, the trust is broken rather than open.

A value that is not a literal (`var.repository` without default, `!Sub repo:${Org}/${Repo}:*`) is not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.engine.terraform_match import instantiated
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.model import Hit
from pfa_policy.parsers.terraform import BLOCKS, expression_of
from pfa_policy.parsers.terraform_module import TerraformDocument, resources
from pfa_policy.parsers.tree import Document, Node

ISSUER = "token.actions.githubusercontent.com"
_GITHUB_KEY = re.compile(r"^token\.actions\.githubusercontent\.com(?:/[^:]+)?:(?P<claim>\w+)$", re.IGNORECASE)
_POSITIVE = frozenset({"stringequals", "stringequalsignorecase", "stringlike"})
_LITERAL = frozenset({"stringequals", "stringequalsignorecase"})
_PROVIDER_REFERENCE = re.compile(r"(?<![\w.])(data\.)?aws_iam_openid_connect_provider\.([A-Za-z_][\w-]*)")
_SUB = f"`{ISSUER}:sub`"


@dataclass(frozen=True, slots=True)
class _Condition:
    operator: str  # lower case, without ForAnyValue: / ForAllValues: and IfExists
    key: str  # the condition key's text ("" when unknown)
    values: tuple[Node, ...]
    node: Node  # where a finding about the condition points


@dataclass(frozen=True, slots=True)
class _Statement:
    resource: str
    label: str
    node: Node
    federated: tuple[Node, ...]
    conditions: tuple[_Condition, ...]
    condition_node: Node | None  # the statement's `Condition` (or its first `condition` block)


def _text(node: Node) -> str | None:
    """A literal string, or the source text of a template / reference (`"arn:...:${x}"`); None otherwise."""
    if isinstance(node.value, str):
        return node.value
    return expression_of(node)


def _strings(node: Node) -> Iterator[str]:
    for item in node.walk():
        text = _text(item)
        if text is not None:
            yield text


def _items(node: Node | None) -> list[Node]:
    """A value that may be one item or a list (`Action`, a condition's values, `principals` blocks)."""
    if node is None:
        return []
    return list(node.elements()) if isinstance(node.value, list) else [node]


def _operator(text: str) -> str:
    operator = text.split(":", 1)[1] if text.lower().startswith(("foranyvalue:", "forallvalues:")) else text
    operator = operator.lower()
    return operator[:-len("ifexists")] if operator.endswith("ifexists") else operator


def _claim(key: str, github: bool) -> str | None:
    """The GitHub claim a condition key tests (`sub`, `aud` ...), None for another issuer's key. A key whose
    issuer part is not literal (`${aws_iam_openid_connect_provider.github.url}:sub`) is GitHub's when the
    statement is federated to GitHub."""
    found = _GITHUB_KEY.match(key.strip('"'))
    if found is not None:
        return found.group("claim").lower()
    if github and "${" in key and ":" in key:
        return key.strip('"').rsplit(":", 1)[1].lower()
    return None


# --- statements ----------------------------------------------------------------------------------------------


def _json_statements(policy: Node | None, resource: str) -> Iterator[_Statement]:
    statements = policy.get("Statement") if policy is not None else None
    for position, statement in enumerate(_items(statements)):
        effect = statement.get("Effect")
        if effect is None or effect.value != "Allow" or not _assumes_with_web_identity(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        federated = principal.get("Federated") if principal is not None else None
        if federated is None:
            continue
        condition = statement.get("Condition")
        conditions = []
        for operator, block in condition.items() if condition is not None else ():
            for key, values in block.items():
                conditions.append(_Condition(_operator(operator), key, tuple(_items(values)), values))
        sid = statement.get("Sid")
        label = sid.value if sid is not None and isinstance(sid.value, str) and sid.value else str(position)
        yield _Statement(resource, label, statement, tuple(_items(federated)), tuple(conditions),
                         condition if condition is not None and condition.is_mapping else None)


def _assumes_with_web_identity(actions: Node | None) -> bool:
    """The statement's actions include `sts:AssumeRoleWithWebIdentity` (a glob of it, or an unknown)."""
    for action in _items(actions):
        if action.value is UNKNOWN:
            return True
        if isinstance(action.value, str) and fnmatchcase("sts:assumerolewithwebidentity", action.value.lower()):
            return True
    return False


def _blocks(node: Node | None) -> list[Node]:
    if node is None:
        return []
    return [n for n in node.elements() if n.is_mapping] if node.tag == BLOCKS else [node]


def _document_statements(root: Node) -> Iterator[_Statement]:
    data = root.get("data")
    documents = data.get("aws_iam_policy_document") if data is not None else None
    for name, bodies in documents.items() if documents is not None else ():
        for body in _blocks(bodies):
            for position, statement in enumerate(_blocks(body.get("statement"))):
                effect = statement.get("effect")
                if effect is not None and effect.value != "Allow":
                    continue
                if not _assumes_with_web_identity(statement.get("actions")):
                    continue
                federated = [identifier for principals in _blocks(statement.get("principals"))
                             if (kind := principals.get("type")) is not None and kind.value == "Federated"
                             for identifier in _items(principals.get("identifiers"))]
                if not federated:
                    continue
                blocks = _blocks(statement.get("condition"))
                conditions = []
                for block in blocks:
                    test, variable = block.get("test"), block.get("variable")
                    test_text = _text(test) if test is not None else None
                    key = _text(variable) if variable is not None else None
                    if test_text is None or key is None:
                        continue
                    values = block.get("values")
                    conditions.append(_Condition(_operator(test_text), key, tuple(_items(values)),
                                                 values if values is not None else block))
                sid = statement.get("sid")
                label = sid.value if sid is not None and isinstance(sid.value, str) and sid.value else str(position)
                yield _Statement(f"data.aws_iam_policy_document.{name}", label, statement, tuple(federated),
                                 tuple(conditions), blocks[0] if blocks else None)


def _terraform_statements(document: TerraformDocument) -> Iterator[_Statement]:
    for resource_type, name, body in resources(document.root):
        if resource_type == "aws_iam_role" and instantiated(body):
            yield from _json_statements(body.get("assume_role_policy"), f"aws_iam_role.{name}")
    yield from _document_statements(document.root)


def _cloudformation_statements(root: Node) -> Iterator[_Statement]:
    template_resources = root.get("Resources")
    for logical_id, resource in template_resources.items() if template_resources is not None else ():
        kind = resource.get("Type")
        properties = resource.get("Properties")
        if kind is None or kind.value != "AWS::IAM::Role" or properties is None:
            continue
        yield from _json_statements(properties.get("AssumeRolePolicyDocument"), logical_id)


# --- is it GitHub's? -----------------------------------------------------------------------------------------


def _terraform_providers(document: TerraformDocument) -> dict[str, bool]:
    """`aws_iam_openid_connect_provider.<name>` (and `data.` ones of this file) -> whether its URL is GitHub's."""
    found: dict[str, bool] = {}
    module_resources = document.module.resources if document.module is not None else list(resources(document.root))
    for resource_type, name, body in module_resources:
        if resource_type == "aws_iam_openid_connect_provider":
            url = body.get("url")
            found[f"aws_iam_openid_connect_provider.{name}"] = url is not None and ISSUER in (_text(url) or "")
    data = document.root.get("data")
    providers = data.get("aws_iam_openid_connect_provider") if data is not None else None
    for name, bodies in providers.items() if providers is not None else ():
        found[f"data.aws_iam_openid_connect_provider.{name}"] = any(
            ISSUER in text for body in _blocks(bodies) for text in _strings(body))
    return found


def _cloudformation_providers(root: Node) -> dict[str, bool]:
    """Logical ids of the template's `AWS::IAM::OIDCProvider` resources -> whether their `Url` is GitHub's."""
    found: dict[str, bool] = {}
    template_resources = root.get("Resources")
    for logical_id, resource in template_resources.items() if template_resources is not None else ():
        kind = resource.get("Type")
        if kind is not None and kind.value == "AWS::IAM::OIDCProvider":
            properties = resource.get("Properties")
            url = properties.get("Url") if properties is not None else None
            found[logical_id] = url is not None and any(ISSUER in text for text in _strings(url))
    return found


def _federated_to_github(statement: _Statement, providers: Mapping[str, bool], cloudformation: bool) -> bool:
    for principal in statement.federated:
        for text in _strings(principal):
            if ISSUER in text:
                return True
            if cloudformation:
                if providers.get(text.split(".", 1)[0], False):  # Ref: Provider / GetAtt: [Provider, Arn]
                    return True
                continue
            for reference in _PROVIDER_REFERENCE.finditer(text):
                if providers.get(reference.group(0), False):
                    return True
    return False


# --- judgement -----------------------------------------------------------------------------------------------


def _value_text(node: Node) -> str | None:
    return node.value if isinstance(node.value, str) else None


def _any_owner(pattern: str) -> bool:
    """A StringLike subject pattern that a repository of any owner can match."""
    if pattern.startswith(("*", "?")):
        return True
    if not pattern.lower().startswith("repo:"):
        return False  # a customised subject template: not judged
    owner = pattern[len("repo:"):].split("/", 1)[0]
    return "*" in owner or "?" in owner


def _judge(statement: _Statement, github: bool) -> Iterator[Hit]:
    claims = [(condition, _claim(condition.key, github)) for condition in statement.conditions]
    positive = [(c, claim) for c, claim in claims if c.operator in _POSITIVE and claim is not None]
    subject = [c for c, claim in positive if claim == "sub"]
    base = f"github-oidc:{statement.resource}:{statement.label}"
    resource = ("resource", statement.resource)
    broken = False
    for condition in subject:
        if condition.operator not in _LITERAL:
            continue
        for value in condition.values:
            text = _value_text(value)
            if text is not None and "*" in text:
                broken = True
                yield Hit(value.anchor_span, (resource, ("value", (
                    f"with `StringEquals` on {_SUB} = `{text}`: StringEquals compares literally, `*` is no wildcard "
                    "there, so no workflow's token matches and the role cannot be assumed (use `StringLike` for a "
                    "pattern)"))), f"{base}:literal-wildcard:{text}")
    if broken:
        return
    if not any(claim != "aud" for _, claim in positive):
        target = statement.condition_node or statement.federated[0]
        yield Hit(target.anchor_span, (resource, ("value", (
            f"without a condition on {_SUB}: a workflow in any repository on GitHub, of any owner, can assume it "
            "and act with its permissions"))), f"{base}:missing")
        return
    if not subject:
        return
    wide: list[tuple[Node, str]] = []
    for condition in subject:
        found = [(v, t) for v in condition.values if (t := _value_text(v)) is not None and _any_owner(t)]
        if not found:
            return  # this condition restricts the subject (or cannot be judged): the statement needs all of them
        wide.append(found[0])
    value, text = wide[0]
    yield Hit(value.anchor_span, (resource, ("value", (
        f"whose {_SUB} may be `{text}`, a pattern whose owner part is a wildcard: a workflow in a repository of "
        "another owner matches it, and anyone can create such a repository and assume the role"))),
        f"{base}:any-repository")


def ac_github_oidc_trust_too_broad(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    if isinstance(document, TerraformDocument):
        providers = _terraform_providers(document)
        statements = list(_terraform_statements(document))
        cloudformation = False
    elif document.root.get("Resources") is not None:
        providers = _cloudformation_providers(document.root)
        statements = list(_cloudformation_statements(document.root))
        cloudformation = True
    else:
        return
    for statement in statements:
        github = _federated_to_github(statement, providers, cloudformation)
        if github or any(_claim(c.key, False) is not None for c in statement.conditions):
            yield from _judge(statement, github)


DOCUMENT: dict[str, DocumentPredicate] = {"ac_github_oidc_trust_too_broad": ac_github_oidc_trust_too_broad}
