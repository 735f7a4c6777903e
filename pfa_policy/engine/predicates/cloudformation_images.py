"""Escape-hatch predicate: container images of CloudFormation / SAM templates that float (issue 11).

- `dg_cfn_images` (the `dg-floating-cfn-image` fact, reported by PFA-DG-004): an image property that is
  `:latest` or has neither tag nor digest —

  a SageMaker `MonitoringSchedule`'s `MonitoringAppSpecification.ImageUri` and the `ImageUri` of the
  `<Kind>AppSpecification` of a `DataQuality`, `ModelQuality`, `ModelBias` or `ModelExplainability` job
  definition; `AWS::Lambda::Function` `Code.ImageUri` and SAM `ImageUri`; `AWS::ECS::TaskDefinition`
  `ContainerDefinitions[*].Image`; `AWS::Batch::JobDefinition` `ContainerProperties.Image`; and
  `AWS::SageMaker::Model` `PrimaryContainer.Image` / `Containers[*].Image` only through `Mappings`
  (PFA-DG-010 judges the rest of a model's image).

  The value is read as written (a string, `!Sub` / `Fn::Sub`), through `!Ref` to a template parameter's
  `Default` (reported at the default), or through `!FindInMap [Map, key, attribute]` to the template's
  `Mappings` (reported once at the property, for the first floating entry; a key written with `!Ref`, such as
  `AWS::Region`, reads every entry). A tag or image name built from a variable (`${ImageTag}`) is unknown and
  never reported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.document_match import document_identity, parse_path, resolve
from pfa_policy.engine.predicates.data_governance import cfn_image_floats
from pfa_policy.engine.predicates.lambda_functions import literal
from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.model import Hit
from pfa_policy.parsers.tree import Document, Node

_MONITORING_JOBS = ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
_IMAGE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::SageMaker::MonitoringSchedule": (
        "MonitoringScheduleConfig.MonitoringJobDefinition.MonitoringAppSpecification.ImageUri",),
    **{f"AWS::SageMaker::{job}JobDefinition": (f"{job}AppSpecification.ImageUri",) for job in _MONITORING_JOBS},
    "AWS::Lambda::Function": ("Code.ImageUri",),
    "AWS::Serverless::Function": ("ImageUri",),
    "AWS::ECS::TaskDefinition": ("ContainerDefinitions[*].Image",),
    "AWS::Batch::JobDefinition": ("ContainerProperties.Image",),
    "AWS::SageMaker::Model": ("PrimaryContainer.Image", "Containers[*].Image"),
}
_MAPPED_ONLY = frozenset({"AWS::SageMaker::Model"})
_PATHS = {kind: tuple(parse_path(p)[1] for p in paths) for kind, paths in _IMAGE_PROPERTIES.items()}


def _sub_text(node: Node) -> Node | None:
    """The template string of `!Sub "..."` / `Fn::Sub: [..., {...}]`."""
    sub = node.get("Fn::Sub")
    if sub is None:
        return None
    return next(sub.elements(), None) if sub.is_sequence else sub


def _mapped(node: Node, mappings: Node | None) -> list[Node]:
    """The values `Fn::FindInMap [Map, key, attribute]` can take (every top-level key's when the key is not a
    literal)."""
    find = node.get("Fn::FindInMap")
    arguments = list(find.elements()) if find is not None else []
    if len(arguments) != 3 or mappings is None:
        return []
    table = mappings.get(literal(arguments[0]) or "")
    attribute = literal(arguments[2])
    if table is None or attribute is None:
        return []
    key = literal(arguments[1])
    rows = [table.get(key)] if key is not None else [row for _, row in table.items()]
    return [value for row in rows if row is not None and (value := row.get(attribute)) is not None]


def _floating(node: Node) -> str | None:
    text = literal(node)
    return text if text is not None and cfn_image_floats(text) else None


def _hits_for(value: Node, kind: str, root: Node) -> Iterator[tuple[Node, str]]:
    """(where to report, the floating image) for one image property."""
    mapped = _mapped(value, root.get("Mappings"))
    if mapped:
        image = next((text for text in map(_floating, mapped) if text is not None), None)
        if image is not None:
            yield value, image
        return
    if kind in _MAPPED_ONLY:
        return
    reference = value.get("Ref")
    if reference is not None and isinstance(reference.value, str):
        parameters = root.get("Parameters")
        parameter = parameters.get(reference.value) if parameters is not None else None
        default = parameter.get("Default") if parameter is not None else None
        if default is not None and _floating(default):
            yield default, str(default.value)
        return
    written = _sub_text(value) or value
    image = _floating(written)
    if image is not None:
        yield value, image


def dg_cfn_images(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    root = document.root
    resources = root.get("Resources")
    seen: set[tuple[int, int]] = set()
    for logical_id, resource in resources.items() if resources is not None else ():
        kind = literal(resource.get("Type"))
        properties = resource.get("Properties")
        if kind not in _PATHS or properties is None:
            continue
        for segments in _PATHS[kind]:
            for _, value in resolve(properties, segments):
                for at, image in _hits_for(value, kind, root):
                    span = at.anchor_span
                    if (span.line, span.column) in seen:
                        continue  # a parameter default several resources use
                    seen.add((span.line, span.column))
                    yield Hit(span, (("name", image), ("resource", logical_id)),
                              f"{document_identity(document)}:cfn-image:{image}")


DOCUMENT: dict[str, DocumentPredicate] = {"dg_cfn_images": dg_cfn_images}
