"""Helm values: components switched off with `enabled: false` are not judged."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pfa_policy.engine.document_match import DocumentPattern, match_documents
from pfa_policy.model import Hit
from pfa_policy.parsers.tree import Document
from pfa_policy.parsers.yaml_doc import parse_yaml

_VALUES = """\
enabled: false
resources: {}
pgbouncer:
  enabled: false
  resources: {}
  metricsExporterSidecar:
    resources: {}
flower:
  enabled: "False"
  resources: {}
statsd:
  enabled: true
  resources: {}
dagProcessor:
  enabled: ~
  resources: {}
workers:
  kerberosSidecar:
    enabled: false
    resources: {}
  resources: {}
extraContainers:
  - name: off
    enabled: false
    resources: {}
  - name: on
    resources: {}
"""
_EMPTY_RESOURCES = {"for_each": "**.resources", "where": [{"path": "*", "missing": True}]}


def _document(kind: str) -> Document:
    document = parse_yaml(_VALUES)[0]
    document.kind = kind
    return document


def _seen_resources(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A predicate reporting every `resources` key it is shown."""
    for node in document.root.walk():
        resources = node.get("resources")
        if resources is not None:
            yield Hit(resources.anchor_span, (), "")


def _lines(kind: str, spec: Mapping[str, Any]) -> list[int]:
    pattern = DocumentPattern.compile(spec)
    hits = match_documents((pattern,), _document(kind), {}, {"seen": _seen_resources})
    return sorted(hit.span.line for hit in hits)


# The root's own `enabled` switches nothing; null and true keep a component; `false` / "False" switch it off,
# with everything below it, in a mapping or a list item.
_JUDGED = [2, 13, 16, 21, 27]


@pytest.mark.parametrize("spec", [_EMPTY_RESOURCES, {"predicate": "seen"}], ids=["pattern", "predicate"])
def test_switched_off_components_of_helm_values_are_not_judged(spec: Mapping[str, Any]) -> None:
    assert _lines("helm-values", spec) == _JUDGED


@pytest.mark.parametrize("kind", ["yaml", "kubernetes"])
def test_other_documents_keep_every_element(kind: str) -> None:
    every = [2, 5, 7, 10, 13, 16, 20, 21, 25, 27]
    assert _lines(kind, _EMPTY_RESOURCES) == every
    assert _lines(kind, {"predicate": "seen"}) == every


def test_conditions_still_read_below_a_judged_element() -> None:
    # An ingress that is on, with TLS switched off: the element is judged, and its condition sees `tls.enabled`.
    text = "ingress:\n  enabled: true\n  tls:\n    enabled: false\n"
    document = parse_yaml(text)[0]
    document.kind = "helm-values"
    pattern = DocumentPattern.compile({"for_each": "**.ingress", "where": [{"path": "tls.enabled", "equals": False}]})
    assert [hit.span.line for hit in match_documents((pattern,), document, {}, {})] == [4]
