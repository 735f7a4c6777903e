"""Helm values: components switched off with `enabled: false` are not judged."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pfa_policy.engine.document_match import DocumentPattern, match_documents
from pfa_policy.engine.helm_values import as_subchart, parent_charts
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


_SUBCHART = """\
image:
  tag: latest
resources: {}
metrics:
  port: 9187
  resources:
    limits: {memory: 1Gi}
"""


def _subchart_lines(chart_yaml: str, values: str) -> list[int] | None:
    """The lines of the subchart's defaults left to judge (None: the subchart is not deployed)."""
    files = (("app/Chart.yaml", chart_yaml.encode()), ("app/values.yaml", values.encode()),
             ("app/charts/db/Chart.yaml", b"name: db\n"))
    documents = as_subchart("app/charts/db/values.yaml", parse_yaml(_SUBCHART), files)
    if not documents:
        return None
    return sorted(node.span.line for node in documents[0].root.walk() if node.is_scalar or node.value == {})


def test_parent_charts_by_path() -> None:
    assert parent_charts("app/charts/db/charts/x") == ["app/charts/db", "app"]
    assert parent_charts("charts/db") == ["."]
    assert parent_charts("app") == []


@pytest.mark.parametrize(("chart_yaml", "values", "lines"), [
    # Nothing set under the key: every default is deployed.
    ("dependencies: [{name: db}]\n", "other: {a: 1}\n", [2, 3, 5, 7]),
    # A scalar and an empty mapping the parent fills are replaced; a non-empty mapping keeps the keys not given.
    ("dependencies: [{name: db}]\n", "db:\n  image: {tag: '16.1'}\n  resources: {requests: {cpu: 1}}\n"
     "  metrics: {port: 9188}\n", [7]),
    # Under its alias.
    ("dependencies: [{name: db, alias: store}]\n", "store:\n  image: {tag: '16.1'}\n", [3, 5, 7]),
    # Switched off: a false condition (first path holding a boolean), or the parent's `<key>.enabled: false`.
    ("dependencies: [{name: db, condition: 'db.on,db.enabled'}]\n", "db:\n  enabled: false\n", None),
    ("dependencies: [{name: db, condition: db.enabled}]\n", "db:\n  enabled: true\n", [2, 3, 5, 7]),
    ("dependencies: [{name: db}]\n", "db:\n  enabled: 'false'\n", None),
    # Deployed twice under two aliases: no single set of values, the defaults are judged.
    ("dependencies: [{name: db, alias: a}, {name: db, alias: b}]\n", "a: {image: {tag: x}}\n", [2, 3, 5, 7]),
])
def test_a_subchart_is_judged_as_its_parent_deploys_it(chart_yaml: str, values: str, lines: list[int] | None) -> None:
    assert _subchart_lines(chart_yaml, values) == lines
