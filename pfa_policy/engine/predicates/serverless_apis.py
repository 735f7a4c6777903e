"""Escape-hatch predicate about the HTTP entry points of model-serving Lambda functions in SAM templates (issue 11).

- `ac_sam_model_api_without_auth` (PFA-AC-030): a function that serves a model, reached through an API Gateway
  event (`Type: Api` or `HttpApi`) or a function URL, with no authorization anywhere on that path.

A function **serves a model** when PFA-TE-101's test says it is an inference function
(`lambda_functions.is_inference`: an image function or a model-serving name), or when it invokes one: a
statement of its own `Policies`, of its `Role` or of an `AWS::IAM::Policy` attached to that role allows
`sagemaker:InvokeEndpoint*` or `bedrock:InvokeModel*`, or its environment names an `AWS::SageMaker::Endpoint` of
the template (`!GetAtt Endpoint.EndpointName`).

An event is **authorized** when the event's own `Auth` names an authorizer other than `NONE` (a Cognito, Lambda
or JWT authorizer, `AWS_IAM`), requires an API key or has a resource policy; else when its API does: the
`AWS::Serverless::Api` / `HttpApi` its `RestApiId` / `ApiId` references, or, for SAM's implicit API, the
template's `Globals: Api:` / `HttpApi:` — a `DefaultAuthorizer`, `ApiKeyRequired: true`, a `ResourcePolicy`,
HTTP API IAM authorization. An explicit event `Authorizer: NONE` overrides the API's default. What the template
does not show is never reported: an API defined elsewhere (a parameter, an import, a plain
`AWS::ApiGateway::RestApi`), one defined by an OpenAPI `DefinitionBody` / `DefinitionUri` (its security schemes
are not read), a private endpoint, an intrinsic function in place of a setting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.document_match import document_identity
from pfa_policy.engine.iam_statements import iam_statements
from pfa_policy.engine.predicates.cloudwatch_alarms import referenced
from pfa_policy.engine.predicates.lambda_functions import (
    SERVERLESS,
    LambdaFunction,
    functions,
    is_inference,
    literal,
    mapping_of,
)
from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.model import Hit
from pfa_policy.parsers.tree import Document, Node

_INVOKES_MODEL = re.compile(r"(?i)^(sagemaker:InvokeEndpoint\w*|bedrock:InvokeModel\w*)$")
_API_EVENTS = {"Api": ("RestApiId", "AWS::Serverless::Api", "Api"),
               "HttpApi": ("ApiId", "AWS::Serverless::HttpApi", "HttpApi")}


def _statement_invokes_model(statement: Node) -> bool:
    effect = literal(statement.get("Effect"))
    action = statement.get("Action")
    actions = list(action.elements()) if action is not None and action.is_sequence else [action]
    return effect == "Allow" and any(_INVOKES_MODEL.match(literal(a) or "") for a in actions)


def _invokes_model(function: LambdaFunction, resources: Mapping[str, Node]) -> bool:
    statements = [s for _, s in iam_statements(function.node, function.path)]
    roles = referenced(function.setting("Role"))
    for logical_id, resource in resources.items():
        kind = literal(resource.get("Type"))
        attached = roles & referenced(mapping_of(resource.get("Properties")).get("Roles"))
        if (kind == "AWS::IAM::Role" and logical_id in roles) or (kind == "AWS::IAM::Policy" and attached):
            statements += [s for _, s in iam_statements(resource, f"Resources.{logical_id}")]
    if any(_statement_invokes_model(s) for s in statements):
        return True
    endpoints = {i for i, r in resources.items() if literal(r.get("Type")) == "AWS::SageMaker::Endpoint"}
    return bool(endpoints & referenced(mapping_of(function.setting("Environment")).get("Variables")))


def _serves_model(function: LambdaFunction, resources: Mapping[str, Node]) -> bool:
    return is_inference(function) or _invokes_model(function, resources)


def _auth_protects(auth: Node | None, *, api_level: bool) -> bool | None:
    """True: this `Auth` requires a caller identity; False: it says the route is open (`Authorizer: NONE`);
    None: it says nothing (absent, or no setting that authorizes)."""
    if auth is None:
        return None
    if not auth.is_mapping:
        return True  # an intrinsic function: not ours to judge
    settings = mapping_of(auth)
    authorizer = settings.get("DefaultAuthorizer" if api_level else "Authorizer")
    if settings.get("ResourcePolicy") is not None or (
            literal(settings.get("ApiKeyRequired")) or "").lower() == "true" or (
            literal(settings.get("EnableIamAuthorizer")) or "").lower() == "true":
        return True
    if authorizer is None or authorizer.value is None:
        return None
    return literal(authorizer) != "NONE"


def _api_protects(api: Node, kind: str) -> bool:
    """Whether an API resource of the template authorizes its routes (True when the template cannot tell)."""
    properties = mapping_of(api.get("Properties"))
    if "DefinitionBody" in properties or "DefinitionUri" in properties:
        return True  # the OpenAPI document's security schemes decide
    endpoint = properties.get("EndpointConfiguration")
    if endpoint is not None and any(n.is_scalar and str(n.value).upper() == "PRIVATE" for n in endpoint.walk()):
        return True  # reachable from the VPC endpoints its resource policy names only
    return _auth_protects(properties.get("Auth"), api_level=True) is True


def _open_events(function: LambdaFunction, root: Node, resources: Mapping[str, Node]) -> Iterator[tuple[Node, str]]:
    """The API events of a SAM function that nothing authorizes, with their description."""
    for name, event in mapping_of(function.own.get("Events")).items():
        kind = literal(event.get("Type"))
        if kind not in _API_EVENTS:
            continue
        id_key, api_type, global_key = _API_EVENTS[kind]
        properties = mapping_of(event.get("Properties"))
        own = _auth_protects(properties.get("Auth"), api_level=False)
        if own is True:
            continue
        if own is None:
            api_ref = properties.get(id_key)
            if api_ref is None:  # SAM's implicit API: the Globals section configures it
                implicit = mapping_of(mapping_of(root.get("Globals")).get(global_key))
                if _auth_protects(implicit.get("Auth"), api_level=True):
                    continue
            else:
                apis = [resources[i] for i in referenced(api_ref) if i in resources]
                if not apis or any(literal(api.get("Type")) != api_type or _api_protects(api, kind) for api in apis):
                    continue
        yield event, f"the API Gateway event `{name}` (`Type: {kind}`)"


def _open_url(function: LambdaFunction) -> Node | None:
    config = function.setting("FunctionUrlConfig")
    auth_type = mapping_of(config).get("AuthType")
    return auth_type if literal(auth_type) == "NONE" else None


def ac_sam_model_api_without_auth(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    root = document.root
    resources = mapping_of(root.get("Resources"))
    for function in functions(document):
        if function.node.get("Type") is None or literal(function.node.get("Type")) != SERVERLESS:
            continue
        entries = list(_open_events(function, root, resources))
        url = _open_url(function)
        if url is not None:
            entries.append((url, "its function URL (`AuthType: NONE`)"))
        if not entries or not _serves_model(function, resources):
            continue
        for node, described in entries:
            values = (("path", function.path), ("resource", function.logical_id), ("name", function.logical_id),
                      ("value", described))
            yield Hit(node.anchor_span, values, f"{document_identity(document)}:{function.path}:{described}")


DOCUMENT: dict[str, DocumentPredicate] = {
    "ac_sam_model_api_without_auth": ac_sam_model_api_without_auth,
}
