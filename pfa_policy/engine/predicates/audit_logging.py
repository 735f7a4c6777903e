"""Escape-hatch predicates of the audit-logging pillar.

Each covers what the declarative vocabulary cannot express:

- `au_prediction_audit_record` (Python): one logging call that carries both a request identifier and a model
  identifier, a conjunction over the keywords, the `extra=` dict or the message text of the same call.
- `au_s3_bucket_without_access_logging` (document): an S3 bucket that is not itself a log destination has no
  `LoggingConfiguration`; whether a bucket is a log destination depends on the other resources of the template.
- `au_gitlab_deploy_without_environment` (document): a GitLab job that deploys without `environment:`, once
  `extends:` templates of the same file are resolved (a hidden `.template` job is not a job).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.ci_jobs import GITLAB_RESERVED
from pfa_policy.engine.deploy import LOCAL_CLUSTER, change_command
from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryPredicate,
)
from pfa_policy.engine.values import as_text
from pfa_policy.model import Hit
from pfa_policy.parsers.python import PythonFile, literal_value
from pfa_policy.parsers.tree import Document, Node

# --- Python: a prediction audit record -------------------------------------------------------------------

_LOG_METHODS = re.compile(r"(?:^|\.)(?:info|warning|warn|debug|error|critical|log|msg|emit|bind|exception)$")
_REQUEST_KEY = re.compile(r"(?i)(?:request|trace|correlation|prediction|inference|event)[_-]?id")
_MODEL_KEY = re.compile(r"(?i)model[_-]?(?:version|name|id|uri|sha|digest|hash)")


def _keys_of(file: PythonFile, call: ast.Call) -> Iterator[str]:
    """Keyword names, keys of dict literals passed to the call, and the static text of string arguments."""
    for arg in file.arguments(call):
        if arg.keyword is not None:
            yield arg.keyword
        value = arg.value
        if isinstance(value, ast.Dict):
            for key_node in value.keys:
                if key_node is not None:
                    key = literal_value(key_node)
                    if isinstance(key, str):
                        yield key
        elif isinstance(value, (ast.Constant, ast.JoinedStr)):
            text = literal_value(value)
            if isinstance(text, str):
                yield text


def au_prediction_audit_record(file: PythonFile, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A logging call whose keywords, `extra=` keys or message name both a request id and a model version."""
    for site in file.index.calls:
        if not _LOG_METHODS.search(site.raw):
            continue
        if _names_request_and_model(list(_keys_of(file, site.node))):
            name = file.index.qualify(site.raw)
            yield Hit(file.span_of(site.node), (("name", name),), f"audit-record:{name}")


def _names_request_and_model(keys: list[str]) -> bool:
    return any(_REQUEST_KEY.search(k) for k in keys) and any(_MODEL_KEY.search(k) for k in keys)


# --- CloudFormation: S3 buckets without server access logging ---------------------------------------------

_LOG_NAME = re.compile(r"(?i)log")
_LOG_PRINCIPALS = ("logging.s3.amazonaws.com", "delivery.logs.amazonaws.com", "logdelivery.elasticloadbalancing",
                   "cloudtrail.amazonaws.com")


def _ref(node: Node | None) -> str | None:
    """The logical id a `!Ref X` / `{"Ref": "X"}` points at."""
    if node is None:
        return None
    target = node.get("Ref")
    if target is not None and isinstance(target.value, str):
        return target.value
    return None


def _text_of(node: Node) -> str:
    return " ".join(as_text(n.value) for n in node.walk() if n.is_scalar)


def _log_destinations(resources: Node) -> set[str]:
    """Logical ids of buckets that receive logs: access-log targets, CloudTrail buckets, log-delivery policies."""
    found: set[str] = set()
    for _, resource in resources.items():
        kind = resource.get("Type")
        properties = resource.get("Properties")
        if kind is None or properties is None:
            continue
        if kind.value == "AWS::S3::Bucket":
            logging = properties.get("LoggingConfiguration")
            target = _ref(logging.get("DestinationBucketName")) if logging is not None else None
            if target:
                found.add(target)
        elif kind.value == "AWS::CloudTrail::Trail":
            target = _ref(properties.get("S3BucketName"))
            if target:
                found.add(target)
        elif kind.value == "AWS::S3::BucketPolicy":
            target = _ref(properties.get("Bucket"))
            policy = properties.get("PolicyDocument")
            if target and policy is not None and any(p in _text_of(policy) for p in _LOG_PRINCIPALS):
                found.add(target)
    return found


def _is_log_bucket(logical_id: str, properties: Node | None, destinations: set[str]) -> bool:
    if logical_id in destinations or _LOG_NAME.search(logical_id):
        return True
    if properties is None:
        return False
    acl = properties.get("AccessControl")
    if acl is not None and acl.value == "LogDeliveryWrite":
        return True
    name = properties.get("BucketName")
    return name is not None and bool(_LOG_NAME.search(_text_of(name)))


def au_s3_bucket_without_access_logging(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """An `AWS::S3::Bucket` with no `LoggingConfiguration` that is not itself a log bucket."""
    resources = document.root.get("Resources")
    if resources is None:
        return
    destinations = _log_destinations(resources)
    for logical_id, resource in resources.items():
        kind = resource.get("Type")
        if kind is None or kind.value != "AWS::S3::Bucket":
            continue
        properties = resource.get("Properties")
        if properties is not None and properties.get("LoggingConfiguration") is not None:
            continue
        if _is_log_bucket(logical_id, properties, destinations):
            continue
        yield Hit(resource.anchor_span, (("resource", logical_id),), f"AWS::S3::Bucket:{logical_id}")


# --- GitLab CI: deploy jobs without an environment ----------------------------------------------------------

# Deploy commands and throw-away clusters: the shared vocabulary of `pfa_policy.engine.deploy`.
_MAX_EXTENDS = 8


def _extends(job: Node) -> list[str] | None:
    """Templates a job extends, in order; None when one is not a plain name."""
    node = job.get("extends")
    if node is None:
        return []
    items = node.value if isinstance(node.value, list) else [node]
    names = [item.value for item in items if isinstance(item, Node) and isinstance(item.value, str)]
    return names if len(names) == len(items) else None


def _effective(root: Node, job: Node, key: str, depth: int = 0) -> tuple[Node | None, bool]:
    """The job's own or inherited value for `key`, and whether it could be resolved within this file."""
    own = job.get(key)
    if own is not None:
        return own, True
    parents = _extends(job)
    if parents is None or depth > _MAX_EXTENDS:
        return None, False
    for name in reversed(parents):  # later templates win, as in GitLab
        parent = root.get(name)
        if parent is None or not parent.is_mapping:
            return None, False  # defined in an included file: unknown
        value, known = _effective(root, parent, key, depth + 1)
        if not known:
            return None, False
        if value is not None:
            return value, True
    return None, True


def _script_lines(script: Node | None) -> Iterator[Node]:
    if script is None:
        return
    if isinstance(script.value, str):
        yield script
    for item in script.elements():
        if isinstance(item.value, str):
            yield item


def au_gitlab_deploy_without_environment(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A GitLab job whose (possibly inherited) script deploys while no `environment:` applies to it."""
    root = document.root
    for name, job in root.items():
        if name in GITLAB_RESERVED or name.startswith(".") or not job.is_mapping or job.get("trigger"):
            continue
        environment, known = _effective(root, job, "environment")
        if environment is not None or not known:
            continue
        lines: list[Node] = []
        for key in ("before_script", "script"):
            value, resolved = _effective(root, job, key)
            if not resolved:
                break
            lines.extend(_script_lines(value))
        else:
            texts = [str(line.value) for line in lines]
            if any(LOCAL_CLUSTER.search(text) for text in texts):
                continue
            deploying = [line for line in lines if change_command(str(line.value))]
            if not deploying:
                continue
            own = {id(n) for n in _script_lines(job.get("script"))} | {
                id(n) for n in _script_lines(job.get("before_script"))}
            target = deploying[0] if id(deploying[0]) in own else job
            shown = change_command(str(deploying[0].value))
            yield Hit(target.anchor_span, (("name", name), ("value", shown)), f"gitlab-job:{name}")


PYTHON: dict[str, PythonPredicate] = {"au_prediction_audit_record": au_prediction_audit_record}
DOCUMENT: dict[str, DocumentPredicate] = {
    "au_s3_bucket_without_access_logging": au_s3_bucket_without_access_logging,
    "au_gitlab_deploy_without_environment": au_gitlab_deploy_without_environment,
}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {}
