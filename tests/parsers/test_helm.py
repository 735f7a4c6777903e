"""The static Helm template renderer: values, control flow, helpers, line mapping, and what it refuses to guess."""

from __future__ import annotations

from pfa_policy.engine.classify import is_resource_definition
from pfa_policy.engine.values import UNKNOWN
from pfa_policy.parsers.helm import RELEASE_NAME, Chart, render_template, without_printed
from pfa_policy.parsers.tree import Document, Node

_CHART_YAML = "apiVersion: v2\nname: fraud-api\nversion: 0.1.0\nappVersion: \"1.0.0\"\n"
_HELPERS = """\
{{/* the helpers `helm create` writes */}}
{{- define "fraud-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "fraud-api.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}
{{- define "fraud-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fraud-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""
_VALUES = """\
replicaCount: 1
nameOverride: ""
image: {repository: derabyte/fraud-api, tag: latest}
probes:
  liveness:
    httpGet: {path: /, port: 8000}
resources: {}
autoscaling: {enabled: false}
ingress:
  enabled: true
  hosts:
    - host: api.fraud-ml.local
      paths: [{path: /, port: 8000}]
env: {MODEL_URI: "models:/fraud/1", LOG_LEVEL: info}
"""


def _chart(values: str = _VALUES, partials: tuple[str, ...] = (_HELPERS,)) -> Chart:
    return Chart.load("charts/fraud-api", _CHART_YAML, values, partials)


def _root(document: Document) -> dict[str, object]:
    value = document.root.to_python()
    assert isinstance(value, dict)
    return value


def _at(node: Node, *path: str | int) -> Node:
    for key in path:
        found = node.value[key] if isinstance(node.value, list) and isinstance(key, int) else node.get(str(key))
        assert found is not None, path
        node = found
    return node


_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "fraud-api.fullname" . }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "fraud-api.selectorLabels" . | nindent 6 }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          livenessProbe:
            {{- toYaml .Values.probes.liveness | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          env:
            {{- range $name, $value := .Values.env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
"""


def test_a_helm_create_deployment_renders_from_the_default_values() -> None:
    rendered = render_template(_DEPLOYMENT, _chart(), "charts/fraud-api/templates/deployment.yaml")
    assert rendered.skipped == 0 and len(rendered.documents) == 1
    document = rendered.documents[0]
    assert _root(document) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": f"{RELEASE_NAME}-fraud-api"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "fraud-api",
                                         "app.kubernetes.io/instance": RELEASE_NAME}},
            "template": {"spec": {"containers": [{
                "name": "fraud-api", "image": "derabyte/fraud-api:latest",
                "livenessProbe": {"httpGet": {"path": "/", "port": 8000}},
                "resources": {},
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "MODEL_URI", "value": "models:/fraud/1"}],
            }]}},
        },
    }


def test_nodes_point_at_the_template_lines_their_text_came_from() -> None:
    document = render_template(_DEPLOYMENT, _chart()).documents[0]
    root = document.root
    assert _at(root, "spec", "replicas").anchor_span.line == 7
    assert _at(root, "spec", "selector", "matchLabels", "app.kubernetes.io/name").anchor_span.line == 11
    container = _at(root, "spec", "template", "spec", "containers", 0)
    assert container.span.line == 15
    assert _at(container, "image").anchor_span.line == 16
    # a toYaml block: every node at the action's line; the key written in the template at its own line
    assert _at(container, "livenessProbe").anchor_span.line == 17
    assert _at(container, "livenessProbe", "httpGet", "path").anchor_span.line == 18
    assert _at(container, "env", 1, "value").anchor_span.line == 24


def test_the_values_decide_conditions_and_a_missing_value_is_false() -> None:
    on = _chart(_VALUES.replace("autoscaling: {enabled: false}", "autoscaling: {enabled: true}"))
    assert "replicas" not in _root(render_template(_DEPLOYMENT, on).documents[0])["spec"]  # type: ignore[operator]
    template = "kind: ConfigMap\nmetadata: {name: x}\ndata:\n  {{- if .Values.missing }}\n  a: b\n  {{- else }}\n" \
               "  a: c\n  {{- end }}\n  name: '{{ .Values.nothing }}'\n"
    assert _root(render_template(template, _chart()).documents[0])["data"] == {"a": "c", "name": ""}


def test_with_and_range_rebind_the_dot_and_dollar_is_the_root() -> None:
    template = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "fraud-api.fullname" . }}
spec:
  {{- with .Values.ingress.tls }}
  tls: {{ toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range .Values.ingress.hosts }}
    - host: {{ .host | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ .path }}
            backend: {service: {name: {{ include "fraud-api.fullname" $ }}, port: {number: {{ .port }}}}}
          {{- end }}
    {{- end }}
"""
    spec = _root(render_template(template, _chart()).documents[0])["spec"]
    assert spec == {"rules": [{"host": "api.fraud-ml.local", "http": {"paths": [
        {"path": "/", "backend": {"service": {"name": f"{RELEASE_NAME}-fraud-api", "port": {"number": 8000}}}}]}}]}


def test_trim_markers_and_comments() -> None:
    template = "{{- /* a comment */ -}}\nkind: ConfigMap\nmetadata:\n  name: a-{{- \"b\" -}}  -c\ndata: {}\n"
    assert _root(render_template(template, _chart()).documents[0])["metadata"] == {"name": "a-b-c"}


def test_a_block_from_an_unknown_include_leaves_its_document_unread_but_not_the_others() -> None:
    template = """\
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      securityContext:
        {{- include "common.podSecurityContext" . | nindent 8 }}
      containers:
        - name: api
          image: registry.internal/api:1.0.0
"""
    rendered = render_template(template, _chart())
    assert [_root(d)["kind"] for d in rendered.documents] == ["Service"]
    assert rendered.skipped == 1
    assert rendered.reasons == ("line 16: a block whose text is unknown",)


def test_an_unknown_condition_leaves_its_document_unread() -> None:
    template = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      {{- if .Capabilities.APIVersions.Has "security.openshift.io/v1" }}
      securityContext: {}
      {{- end }}
      containers: [{name: api, image: registry.internal/api:1.0.0}]
"""
    rendered = render_template(template, _chart())
    assert rendered.documents == () and rendered.skipped == 1
    assert "unknown `if" in rendered.reasons[0]


def test_an_unknown_annotation_value_is_an_unknown_value_elsewhere_the_document_is_unread() -> None:
    annotated = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    spec:
      containers: [{name: api, image: registry.internal/api:1.0.0}]
"""
    rendered = render_template(annotated, _chart())
    assert len(rendered.documents) == 1
    annotation = _at(rendered.documents[0].root, "spec", "template", "metadata", "annotations", "checksum/config")
    assert annotation.value is UNKNOWN
    environment = annotated.replace("checksum/config: {{", "note: x\n    spec2:\n      runAsUser: {{")
    assert render_template(environment, _chart()).documents == ()
    files = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  config: {{ .Files.Get \"config.yaml\" | quote }}\n"
    assert render_template(files, _chart()).documents == ()


def test_range_over_something_unknown_and_nested_missing_values_are_not_guessed() -> None:
    template = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  {{- range .Values.missing.list }}\n  a: b\n" \
               "  {{- end }}\n"
    assert render_template(template, _chart()).documents == ()


def test_fail_and_required_stop_the_rendering() -> None:
    required = "kind: ConfigMap\nmetadata:\n  name: {{ required \"name is required\" .Values.name }}\n"
    assert render_template(required, _chart()).documents == ()
    failing = "{{- if not .Values.image.digest }}{{ fail \"set image.digest\" }}{{ end }}\nkind: ConfigMap\n"
    assert render_template(failing, _chart()).reasons == ("rendering stops: fail",)


def test_a_template_the_renderer_cannot_parse_yields_nothing() -> None:
    rendered = render_template("kind: ConfigMap\n{{ if .Values.x }}\nmetadata: {}\n", _chart())
    assert rendered.documents == () and rendered.skipped == 1


def test_resource_definitions_are_skipped_when_asked() -> None:
    crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\n---\n" \
          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n"
    rendered = render_template(crd, _chart(), skip=is_resource_definition)
    assert [_root(d)["kind"] for d in rendered.documents] == ["ConfigMap"]


def test_values_lines_and_the_unprinted_view() -> None:
    template = """\
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-minio
stringData:
  rootUser: {{ .Values.minio.rootUser | quote }}
  rootPassword: minio-s3cr3t-2024
"""
    rendered = render_template(template, _chart("minio: {rootUser: mlflow}\n"))
    assert rendered.values_lines == frozenset({6})
    document = without_printed(rendered.documents, rendered.values_lines)[0]
    assert _at(document.root, "stringData", "rootUser").value is UNKNOWN
    assert _at(document.root, "stringData", "rootPassword").value == "minio-s3cr3t-2024"
    assert _at(rendered.documents[0].root, "stringData", "rootUser").value == "mlflow"  # the original is kept


def test_sprig_functions_charts_use() -> None:
    template = """\
kind: ConfigMap
metadata:
  name: {{ printf "%s-%d" "x" 3 | upper }}
data:
  a: {{ list "a" "b" | join "," | quote }}
  b: {{ ternary "up" "down" (eq .Values.replicaCount 1) }}
  c: {{ .Values.image | toJson | squote }}
  d: {{ semverCompare ">=1.19-0" .Capabilities.KubeVersion.GitVersion }}
  e: {{ coalesce .Values.nothing .Values.image.tag }}
  f: {{ dict "k" "v" | toYaml | b64enc }}
  g: {{ hasKey .Values.image "tag" }}
  h: {{ regexMatch "^[0-9]+$" "42" }}
"""
    data = _root(render_template(template, _chart()).documents[0])
    assert data["metadata"] == {"name": "X-3"}
    assert data["data"] == {"a": "a,b", "b": "up", "c": '{"repository":"derabyte/fraud-api","tag":"latest"}',
                            "d": True, "e": "latest", "f": "azogdg==", "g": True, "h": True}


def test_runaway_templates_stop_instead_of_hanging() -> None:
    doubling = '{{- define "x" -}}{{ include "x" . }}{{ include "x" . }}{{- end }}'
    template = "kind: ConfigMap\nmetadata: {name: '{{ include \"x\" . }}'}\n"
    rendered = render_template(template, _chart(partials=(doubling,)))
    assert rendered.documents == () and rendered.reasons == ("rendering stops: too much to render",)
    nested = "kind: ConfigMap\ndata:\n" + \
             "{{- range $a := .Values.big }}{{- range $b := $.Values.big }}{{- range $.Values.big }}\n  k: v\n" \
             "{{- end }}{{- end }}{{- end }}\n"
    big = "big: [" + ", ".join(["1"] * 900) + "]\n"
    assert render_template(nested, _chart(big)).reasons == ("rendering stops: too much to render",)


def test_an_include_keeps_its_unknown_scalars_marked_and_says_it_printed_values() -> None:
    helpers = """\
{{- define "app.workloads" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    checksum: {{ .Files.Get "settings.yaml" | sha256sum }}
data:
  protocol: {{ .Values.kafka.protocol }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
data:
  blob: {{ .Files.Get "blob.bin" }}
{{- end }}
"""
    chart = _chart("kafka: {protocol: PLAINTEXT}\n", (helpers,))
    rendered = render_template('{{ include "app.workloads" . }}\n', chart)
    assert [_root(d)["metadata"] for d in rendered.documents] == [{"name": "settings", "annotations":
                                                                   {"checksum": UNKNOWN}}]
    assert rendered.skipped == 1 and rendered.values_lines == frozenset({1})
    # a function of text with an unknown part is unknown as a whole
    hashed = 'kind: ConfigMap\nmetadata:\n  name: {{ include "app.workloads" . | sha256sum }}\n'
    assert render_template(hashed, chart).documents == ()


def test_and_with_a_known_false_is_false_even_beside_an_unknown() -> None:
    template = """\
{{- if and (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") .Values.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
{{- end }}
---
kind: ConfigMap
metadata: {name: c}
data:
  hosts: {{ list "a" "b" "a" | uniq | join "," }}
  unset: {{ kindIs "invalid" .Values.revisionHistoryLimit }}
"""
    rendered = render_template(template, _chart("serviceMonitor: {enabled: false}\n"))
    assert [_root(d)["kind"] for d in rendered.documents] == ["ConfigMap"] and rendered.skipped == 0
    assert _root(rendered.documents[0])["data"] == {"hosts": "a,b", "unset": True}
    enabled = render_template(template, _chart("serviceMonitor: {enabled: true}\n"))
    assert [_root(d)["kind"] for d in enabled.documents] == ["ConfigMap"]
    assert enabled.reasons[0].startswith("line 1: an unknown `if and")


def test_production_values_merge_like_helm() -> None:
    chart = Chart.load("c", _CHART_YAML, "a: {b: 1, c: 2}\nd: [1]\ne: x\n", (), "a: {c: 3}\nd: [2]\ne: null\n")
    assert chart.values == {"a": {"b": 1, "c": 3}, "d": [2]}
