"""Escape-hatch predicates about Lambda functions in CloudFormation and SAM templates (issue 11), across pillars.

A template's function is `AWS::Serverless::Function` (SAM: the template's `Globals: Function:` gives every one
of them its defaults, the function's own properties win) or `AWS::Lambda::Function`. Only **inference
functions** are judged: a container-image function (`PackageType: Image`, an `ImageUri`, or SAM's image build
`Metadata`), or one whose logical id, `FunctionName`, `Handler`, `CodeUri` or image build context uses a
model-serving word (the vocabulary PFA-TE-012 gives Kubernetes workloads) — never one whose name says it
trains, nor a platform component (controller, webhook, gateway ...).

- `op_cfn_lambda_without_dead_letter` (PFA-OP-101): no `DeadLetterQueue` / `DeadLetterConfig.TargetArn`, no
  `EventInvokeConfig` failure destination and no `AWS::Lambda::EventInvokeConfig` naming the function, unless
  every event source of the SAM function is synchronous or polled (API Gateway, function URL, SQS, streams),
  where a function dead-letter queue never receives anything.
- `op_cfn_lambda_without_reserved_concurrency` (PFA-OP-102): no `ReservedConcurrentExecutions`.
- `te_cfn_lambda_without_tracing` (PFA-TE-101): SAM `Tracing` or `TracingConfig.Mode` missing, `PassThrough`
  or `Disabled`.
- `te_cfn_inference_lambda_functions` (the `te-model-served-manifest` fact): every inference function, a
  served model for PFA-TE-003, PFA-TE-012 and PFA-OP-014.

A value written with an intrinsic function (`!Ref`, `!If`, `Fn::If` ...) is unknown and never a violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pfa_policy.engine.document_match import document_identity
from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.engine.predicates.workload_names import MODEL_SERVER_NAME, PLATFORM_NAME
from pfa_policy.model import Hit
from pfa_policy.parsers.tree import Document, Node

SERVERLESS = "AWS::Serverless::Function"
LAMBDA = "AWS::Lambda::Function"

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_TRAINING_WORDS = frozenset({"train", "training", "trainer", "retrain", "retraining", "finetune", "finetuning",
                             "tune", "tuning", "hpo"})
# SAM event sources that invoke synchronously (the caller gets the error) or are polled (the failure goes to
# the source's own redrive policy or on-failure destination): a function dead-letter queue sees none of them.
_NOT_ASYNC_EVENTS = frozenset({"Api", "HttpApi", "SQS", "Kinesis", "DynamoDB", "MSK", "MQ", "SelfManagedKafka",
                               "DocumentDB"})
_UNTRACED = frozenset({"PassThrough", "Disabled"})


@dataclass(frozen=True, slots=True)
class LambdaFunction:
    """One function of a template, with the properties it runs with."""

    logical_id: str
    node: Node
    serverless: bool
    own: Mapping[str, Node]
    inherited: Mapping[str, Node]  # SAM `Globals: Function:` (empty for AWS::Lambda::Function)

    def setting(self, key: str) -> Node | None:
        """The function's own property, else its SAM global default."""
        return self.own.get(key) or self.inherited.get(key)

    @property
    def path(self) -> str:
        return f"Resources.{self.logical_id}"


def mapping_of(node: Node | None) -> Mapping[str, Node]:
    return node.value if node is not None and isinstance(node.value, dict) else {}


def literal(node: Node | None) -> str | None:
    """A plain scalar's text; None for a missing value, a mapping or list, or an intrinsic function."""
    if node is None or node.tag or node.value is None or not node.is_scalar:
        return None
    return str(node.value)


def functions(document: Document) -> Iterator[LambdaFunction]:
    root = document.root
    defaults = mapping_of(mapping_of(root.get("Globals")).get("Function"))
    for logical_id, resource in mapping_of(root.get("Resources")).items():
        kind = literal(resource.get("Type"))
        if kind not in (SERVERLESS, LAMBDA):
            continue
        serverless = kind == SERVERLESS
        yield LambdaFunction(logical_id, resource, serverless, mapping_of(resource.get("Properties")),
                             defaults if serverless else {})


def _names(function: LambdaFunction) -> list[str]:
    texts = [function.logical_id]
    for key in ("FunctionName", "Handler", "CodeUri", "ImageUri"):
        texts.append(literal(function.setting(key)) or "")
    texts.append(literal(mapping_of(function.setting("Code")).get("ImageUri")) or "")
    texts.append(literal(mapping_of(function.node.get("Metadata")).get("DockerContext")) or "")
    return [word.lower() for text in texts for word in _WORD.findall(text)]


def _runs_image(function: LambdaFunction) -> bool:
    metadata = mapping_of(function.node.get("Metadata"))
    return (literal(function.setting("PackageType")) == "Image" or function.setting("ImageUri") is not None
            or mapping_of(function.setting("Code")).get("ImageUri") is not None
            or (function.serverless and ("Dockerfile" in metadata or "DockerContext" in metadata)))


def is_inference(function: LambdaFunction) -> bool:
    words = _names(function)
    if _TRAINING_WORDS.intersection(words):
        return False
    named = "-".join(words)
    if PLATFORM_NAME.search(named):
        return False
    return _runs_image(function) or bool(MODEL_SERVER_NAME.search(named))


def inference_functions(document: Document) -> Iterator[LambdaFunction]:
    return (f for f in functions(document) if is_inference(f))


def _hit(document: Document, function: LambdaFunction, at: Node | None = None) -> Hit:
    target = at if at is not None else function.node
    values = (("path", function.path), ("resource", function.logical_id), ("name", function.logical_id))
    return Hit(target.anchor_span, values, f"{document_identity(document)}:{function.path}")


def te_cfn_inference_lambda_functions(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    for function in inference_functions(document):
        yield _hit(document, function)


def _tracing_mode(function: LambdaFunction) -> tuple[bool, Node | None]:
    """Whether the tracing mode is known, and its node (None: not set)."""
    if function.serverless:
        return True, function.setting("Tracing")
    config = function.setting("TracingConfig")
    if config is not None and not config.is_mapping and config.value is not None:
        return False, None  # an intrinsic function
    return True, mapping_of(config).get("Mode")


def te_cfn_lambda_without_tracing(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    for function in inference_functions(document):
        known, mode = _tracing_mode(function)
        if not known:
            continue
        if mode is None or mode.value is None:
            yield _hit(document, function)
        elif literal(mode) in _UNTRACED:
            # At the function's own setting; a SAM global default is reported at each function it reaches.
            own = any(mode is node or any(mode is child for child in mapping_of(node).values())
                      for node in function.own.values())
            yield _hit(document, function, mode if own else None)


def op_cfn_lambda_without_reserved_concurrency(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    for function in inference_functions(document):
        reserved = function.setting("ReservedConcurrentExecutions")
        if reserved is None or reserved.value is None:
            yield _hit(document, function)


def _only_synchronous_or_polled(function: LambdaFunction) -> bool:
    events = mapping_of(function.own.get("Events"))
    if not events:
        return function.own.get("FunctionUrlConfig") is not None
    return all(literal(event.get("Type")) in _NOT_ASYNC_EVENTS for event in events.values())


def _invoke_configs_name(document: Document, function: LambdaFunction, logical_ids: frozenset[str]) -> bool:
    """An `AWS::Lambda::EventInvokeConfig` names the function (`!Ref`, `Fn::GetAtt`, its literal name), or
    names none of the template's functions (a parameter, an import: it may be this one)."""
    name = literal(function.setting("FunctionName"))
    for resource in mapping_of(document.root.get("Resources")).values():
        if literal(resource.get("Type")) != "AWS::Lambda::EventInvokeConfig":
            continue
        target = mapping_of(resource.get("Properties")).get("FunctionName")
        if target is None:
            continue
        mentioned = {str(n.value).split(".")[0] for n in target.walk() if n.is_scalar and n.value is not None}
        if function.logical_id in mentioned or (name is not None and name in mentioned):
            return True
        if not mentioned & logical_ids:
            return True
    return False


def op_cfn_lambda_without_dead_letter(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    logical_ids = frozenset(f.logical_id for f in functions(document))
    for function in inference_functions(document):
        if function.serverless:
            if function.setting("DeadLetterQueue") is not None:
                continue
        else:
            config = function.setting("DeadLetterConfig")
            if config is not None and (not config.is_mapping or config.get("TargetArn") is not None):
                continue
        invoke = function.setting("EventInvokeConfig")
        if invoke is not None and (not invoke.is_mapping or mapping_of(invoke.get("DestinationConfig")).get(
                "OnFailure") is not None):
            continue
        if (function.serverless and _only_synchronous_or_polled(function)) or _invoke_configs_name(
                document, function, logical_ids):
            continue
        yield _hit(document, function)


DOCUMENT: dict[str, DocumentPredicate] = {
    "te_cfn_inference_lambda_functions": te_cfn_inference_lambda_functions,
    "te_cfn_lambda_without_tracing": te_cfn_lambda_without_tracing,
    "op_cfn_lambda_without_reserved_concurrency": op_cfn_lambda_without_reserved_concurrency,
    "op_cfn_lambda_without_dead_letter": op_cfn_lambda_without_dead_letter,
}
