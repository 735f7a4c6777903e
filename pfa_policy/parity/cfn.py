"""One CloudFormation template rendered for one stage's parameters: `Ref` to a parameter, `Fn::If`, `Fn::Equals`,
`Fn::Not`, `Fn::And`, `Fn::Or` and `AWS::NoValue` are evaluated; anything else is kept as written. A condition
that depends on something not known before deployment leaves its branches undecided ("not compared")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pfa_policy.parity.located import Val

_UNKNOWN = object()


@dataclass
class Stage:
    parameters: dict[str, Val]  # effective values: the stage file's over the template's defaults
    undecided: list[str] = field(default_factory=list)


def stage_parameters(template: Val, given: Mapping[str, Val]) -> dict[str, Val]:
    values: dict[str, Val] = {}
    for name, declaration in (template.get("Parameters") or Val({}, "")).items():
        default = declaration.get("Default")
        if default is not None:
            values[name] = default
    values.update(given)
    return values


def render(template: Val, parameters: dict[str, Val]) -> tuple[Val, list[str]]:
    """The template's Resources for these parameters, and the conditions that could not be decided."""
    stage = Stage(parameters)
    conditions: dict[str, object] = {}
    for name, expression in (template.get("Conditions") or Val({}, "")).items():
        conditions[name] = _condition(expression, stage, conditions, template)
    resources = template.get("Resources") or Val({}, template.file)
    kept = {}
    for logical_id, resource in resources.items():
        condition = resource.get("Condition")
        decided = conditions.get(condition.text(), _UNKNOWN) if condition is not None else True
        if decided is _UNKNOWN and condition is not None:
            stage.undecided.append(condition.text())
        if decided is not False:
            kept[logical_id] = resource
    rendered = _render(replace(resources, value=kept), stage, conditions)
    return (rendered if rendered is not None else Val({}, template.file)), stage.undecided


def _condition(expression: Val, stage: Stage, known: dict[str, object], template: Val) -> object:
    if isinstance(expression.value, dict) and len(expression.value) == 1:
        (function, argument), = expression.value.items()
        arguments = list(argument.elements())
        if function == "Fn::Equals" and len(arguments) == 2:
            left, right = (_scalar(a, stage) for a in arguments)
            return _UNKNOWN if _UNKNOWN in (left, right) else str(left).lower() == str(right).lower()
        if function in ("Fn::Not", "Fn::And", "Fn::Or"):
            values = [_condition(a, stage, known, template) for a in arguments]
            if _UNKNOWN in values:
                return _UNKNOWN
            if function == "Fn::Not":
                return not values[0]
            return all(values) if function == "Fn::And" else any(values)
        if function == "Condition":
            name = argument.text()
            if name not in known:
                declared = (template.get("Conditions") or Val({}, "")).get(name)
                known[name] = _condition(declared, stage, known, template) if declared is not None else _UNKNOWN
            return known[name]
    return _UNKNOWN


def _scalar(value: Val, stage: Stage) -> object:
    if isinstance(value.value, dict) and list(value.value) == ["Ref"]:
        name = value.value["Ref"].text()
        given = stage.parameters.get(name)
        return given.text() if given is not None else _UNKNOWN
    if isinstance(value.value, (dict, list)):
        return _UNKNOWN
    return value.text()


def _render(value: Val, stage: Stage, conditions: dict[str, object]) -> Val | None:
    """None: AWS::NoValue (the key goes)."""
    if isinstance(value.value, dict):
        if list(value.value) == ["Ref"] and value.value["Ref"].text() == "AWS::NoValue":
            return None
        if list(value.value) == ["Fn::If"]:
            return _if(value, stage, conditions)
        children = {}
        for key, child in value.value.items():
            rendered = _render(child, stage, conditions)
            if rendered is not None:
                children[key] = rendered
        if list(value.value) == ["Ref"]:
            given = stage.parameters.get(value.value["Ref"].text())
            if given is not None:  # the parameter's value, where the template refers to it
                return Val(given.value, value.file, value.span, value.key_span)
        return replace(value, value=children)
    if isinstance(value.value, list):
        elements = [r for r in (_render(v, stage, conditions) for v in value.value) if r is not None]
        return replace(value, value=elements)
    return value


def _if(value: Val, stage: Stage, conditions: dict[str, object]) -> Val | None:
    arguments = list(value.value["Fn::If"].elements()) if isinstance(value.value, dict) else []
    if len(arguments) != 3:
        return value
    name = arguments[0].text()
    decided = conditions.get(name, _UNKNOWN)
    if decided is _UNKNOWN:
        stage.undecided.append(name)
        return value
    chosen = arguments[1] if decided else arguments[2]
    rendered = _render(chosen, stage, conditions)
    if rendered is None:
        return None
    return replace(rendered, key_span=value.key_span)
