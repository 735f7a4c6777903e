"""CloudWatch alarms of CloudFormation / SAM templates, bound to what they watch (PFA-TE-012, issue 11).

A template's `AWS::CloudWatch::Alarm` alerts on a served model only when it names it and notifies someone:

- **names it**: a dimension value (`Dimensions`, or `Metrics[*].MetricStat.Metric.Dimensions` of a metric-math
  alarm) is a `!Ref` / `!GetAtt` of the endpoint or function, a `!Sub` that uses it (`${ApiFunction}:live`), or
  the resource's own name as written (`EndpointName` / `FunctionName`: the same literal, in any template of the
  repository; the same `!Ref` parameter or `!Sub` text, in the same template). An `AWS::CloudWatch::CompositeAlarm`
  names what the alarms of its `AlarmRule` name (`ALARM(${Child})`, `ALARM("child-name")`).
- **notifies someone**: a non-empty `AlarmActions` (written with an intrinsic function: assumed to) and no
  `ActionsEnabled: false`. An alarm only CodeDeploy watches for rollback, or only a dashboard shows, pages nobody.

Alarms are read from the templates the `te-alerting-cfn-alarm` fact found; nothing else is read but the
template of the served model itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from pfa_policy.engine.predicates.lambda_functions import LAMBDA, SERVERLESS, literal, mapping_of
from pfa_policy.engine.repository import RepoContext, yaml_documents
from pfa_policy.model import FactOccurrence, ParseError
from pfa_policy.parsers.tree import Document, Node

ALARM_FACT = "te-alerting-cfn-alarm"
_ALARM = "AWS::CloudWatch::Alarm"
_COMPOSITE = "AWS::CloudWatch::CompositeAlarm"
ENDPOINT = "AWS::SageMaker::Endpoint"
# The property holding each served resource's own name.
_NAME_PROPERTY = {ENDPOINT: "EndpointName", SERVERLESS: "FunctionName", LAMBDA: "FunctionName"}
_SUB_NAME = re.compile(r"\$\{([^}!]+)\}")
_RULE_ALARM = re.compile(r"""(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*["']?([^"')\s]+)["']?\s*\)""")


def referenced(node: Node | None) -> set[str]:
    """The logical ids an intrinsic function names: `!Ref X`, `!GetAtt X.Attr`, `!Sub "${X}..."` (at any depth)."""
    names: set[str] = set()
    for child in node.walk() if node is not None else ():
        for key, value in child.items():
            if key == "Ref" and isinstance(value.value, str):
                names.add(value.value)
            elif key == "Fn::GetAtt":
                first = value.value[0].value if isinstance(value.value, list) and value.value else value.value
                if isinstance(first, str):
                    names.add(first.split(".")[0])
            elif key == "Fn::Sub":
                text = _sub_text(value)
                if text is not None:
                    names.update(m.split(".")[0] for m in _SUB_NAME.findall(text))
    return names


def _sub_text(value: Node) -> str | None:
    text = value.value[0].value if isinstance(value.value, list) and value.value else value.value
    return text if isinstance(text, str) else None


def expression(node: Node | None) -> tuple[str, str] | None:
    """How a name is written, for comparing two of them: a literal, a `!Ref` or a `!Sub` text."""
    text = literal(node)
    if text is not None:
        return ("literal", text)
    if node is None or not node.is_mapping:
        return None
    ref = node.get("Ref")
    if ref is not None and isinstance(ref.value, str):
        return ("ref", ref.value)
    sub = node.get("Fn::Sub")
    if sub is not None and (text := _sub_text(sub)) is not None:
        return ("sub", text)
    return None


def _dimension_values(properties: Mapping[str, Node]) -> Iterator[Node]:
    for dimension in _elements(properties.get("Dimensions")):
        value = dimension.get("Value") if dimension.is_mapping else None
        if value is not None:
            yield value
    for metric in _elements(properties.get("Metrics")):
        stat = mapping_of(metric.get("MetricStat") if metric.is_mapping else None)
        yield from _dimension_values(mapping_of(stat.get("Metric")))


def _elements(node: Node | None) -> list[Node]:
    return list(node.elements()) if node is not None and node.is_sequence else []


def _notifies(properties: Mapping[str, Node]) -> bool:
    if literal(properties.get("ActionsEnabled")) in ("false", "False"):
        return False
    actions = properties.get("AlarmActions")
    if actions is None:
        return False
    return not actions.is_sequence or bool(_elements(actions))


@dataclass
class _Alarm:
    path: str
    logical_id: str
    name: str | None  # literal AlarmName
    notifies: bool
    values: list[Node]  # dimension values
    rule_ids: set[str] = field(default_factory=set)  # composite: logical ids in AlarmRule
    rule_names: set[str] = field(default_factory=set)  # composite: alarm names in a literal AlarmRule
    composite: bool = False


def _documents(text: str) -> tuple[Document, ...]:
    try:
        return yaml_documents(text)
    except ParseError:  # the file checks report it
        return ()


def _alarms_of(path: str, text: str) -> list[_Alarm]:
    found = []
    for document in _documents(text):
        for logical_id, resource in mapping_of(document.root.get("Resources")).items():
            kind = literal(resource.get("Type"))
            if kind not in (_ALARM, _COMPOSITE):
                continue
            properties = mapping_of(resource.get("Properties"))
            alarm = _Alarm(path, logical_id, literal(properties.get("AlarmName")), _notifies(properties),
                           list(_dimension_values(properties)), composite=kind == _COMPOSITE)
            rule = properties.get("AlarmRule")
            if rule is not None:
                alarm.rule_ids = referenced(rule)
                written = expression(rule)  # a literal rule, or a !Sub one: the names written in it
                text = written[1] if written is not None and written[0] != "ref" else ""
                alarm.rule_names = set(_RULE_ALARM.findall(text))
            found.append(alarm)
    return found


@dataclass(frozen=True)
class ServedResource:
    path: str
    logical_id: str
    name: tuple[str, str] | None  # its name property, as written


class CloudWatchAlarms:
    """The CloudFormation alarms of a repository's templates (in the scopes), and what they alert on."""

    def __init__(self, context: RepoContext, scopes: frozenset[str]) -> None:
        self._context = context
        paths = dict.fromkeys(o.path for o in context.occurrences(ALARM_FACT, scopes))
        self.alarms = [alarm for path in paths for alarm in _alarms_of(path, context.read_text(path))]

    @property
    def any_notifying(self) -> bool:
        return any(alarm.notifies for alarm in self.alarms)

    def _names(self, alarm: _Alarm, resource: ServedResource) -> bool:
        for value in alarm.values:
            if alarm.path == resource.path and resource.logical_id in referenced(value):
                return True
            written = expression(value)
            if written is not None and written == resource.name and (
                    written[0] == "literal" or alarm.path == resource.path):
                return True
        return False

    def alerts_on(self, resource: ServedResource) -> bool:
        """Whether an alarm that notifies someone names the resource (directly, or through a composite alarm)."""
        naming = [alarm for alarm in self.alarms if not alarm.composite and self._names(alarm, resource)]
        if any(alarm.notifies for alarm in naming):
            return True
        return self._composites_over(naming)

    def _composites_over(self, children: Iterable[_Alarm]) -> bool:
        watched = list(children)
        seen: set[tuple[str, str]] = set()
        while watched:
            child = watched.pop()
            for alarm in self.alarms:
                key = (alarm.path, alarm.logical_id)
                if not alarm.composite or key in seen:
                    continue
                if ((alarm.path == child.path and child.logical_id in alarm.rule_ids)
                        or (child.name is not None and child.name in alarm.rule_names)):
                    if alarm.notifies:
                        return True
                    seen.add(key)
                    watched.append(alarm)
        return False

    def served_resource(self, occurrence: FactOccurrence) -> ServedResource | None:
        """The CloudFormation endpoint or function a served-model occurrence stands for, or None when it is not
        one (a Kubernetes manifest, a Terraform endpoint)."""
        kinds = next((f.kinds for f in self._context.files if f.path == occurrence.path), frozenset())
        if "cloudformation" not in kinds:
            return None
        for document in _documents(self._context.read_text(occurrence.path)):
            for logical_id, resource in mapping_of(document.root.get("Resources")).items():
                type_node = resource.get("Type")
                kind = literal(type_node)
                if kind not in _NAME_PROPERTY:
                    continue
                if logical_id == occurrence.value or (
                        type_node is not None and type_node.span.line == occurrence.span.line):
                    name = expression(mapping_of(resource.get("Properties")).get(_NAME_PROPERTY[kind]))
                    return ServedResource(occurrence.path, logical_id, name)
        return None
