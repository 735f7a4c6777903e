"""Helm chart templates on disk reach the Kubernetes rules rendered with the chart's defaults (issue 11, held-out
cause 1: deramos/mlops-k8s-pipeline's charts, shortened), with findings at template lines."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.classify import HELM_TEMPLATE_KINDS, content_kinds
from pfa_policy.engine.loader import Catalog
from tests.conftest import scan_tree, write_tree

_HELPERS = """\
{{- define "mlflow.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "mlflow.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""
_MLFLOW_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mlflow.fullname" . }}
  labels:
    {{- include "mlflow.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "mlflow.labels" . | nindent 6 }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""
_API_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-fraud-api
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    spec:
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: fraud-api
          image: registry.internal/fraud-api:1.0.0
          ports: [{name: http, containerPort: 8000}]
          livenessProbe:
            {{- toYaml .Values.probes.liveness | nindent 12 }}
          readinessProbe:
            {{- toYaml .Values.probes.readiness | nindent 12 }}
"""
_API_HPA = """\
{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .Release.Name }}-fraud-api
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ .Release.Name }}-fraud-api}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: 3
{{- end }}
"""
_API_INGRESS = """\
{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Release.Name }}-fraud-api
spec:
  {{- if .Values.ingress.tls }}
  tls:
    {{- toYaml .Values.ingress.tls | nindent 4 }}
  {{- end }}
  rules:
    - host: api.fraud-ml.local
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 8000}}}}
{{- end }}
"""
_API_VALUES = """\
replicaCount: 1
podSecurityContext: {runAsNonRoot: true, runAsUser: 10001}
probes:
  liveness: {httpGet: {path: /healthz, port: http}}
  readiness: {httpGet: {path: /readyz, port: http}}
autoscaling: {enabled: true, minReplicas: 2}
ingress:
  enabled: true
  className: traefik
  hosts: [{host: api.fraud-ml.local}]
"""
_FILES = {
    "charts/mlflow/Chart.yaml": "apiVersion: v2\nname: mlflow\nversion: 0.1.0\nappVersion: \"2.3.0\"\n",
    "charts/mlflow/values.yaml": "replicaCount: 1\nimage: {repository: ghcr.io/mlflow/mlflow, tag: v2.16.2}\n"
                                 "service: {port: 5000}\nresources: {limits: {cpu: '1', memory: 2Gi}}\n",
    "charts/mlflow/templates/_helpers.tpl": _HELPERS,
    "charts/mlflow/templates/deployment.yaml": _MLFLOW_DEPLOYMENT,
    "charts/fraud-api/Chart.yaml": "apiVersion: v2\nname: fraud-api\nversion: 0.1.0\n",
    "charts/fraud-api/values.yaml": _API_VALUES,
    "charts/fraud-api/templates/deployment.yaml": _API_DEPLOYMENT,
    "charts/fraud-api/templates/hpa.yaml": _API_HPA,
    "charts/fraud-api/templates/ingress.yaml": _API_INGRESS,
}
_RULES = ["PFA-AC-001", "PFA-TE-004", "PFA-TE-005", "PFA-OP-002", "PFA-EN-014", "PFA-EN-015"]


def _findings(root: Path, catalog: Catalog, **options: object) -> list[tuple[str, int, str]]:
    result = scan_tree(root, catalog, rules=_RULES, **options)
    assert result.notifications == ()
    return sorted((f.path, f.span.line, f.rule_id) for f in result.findings)


def test_chart_workloads_are_judged_at_their_template_lines(tmp_path: Path, catalog: Catalog) -> None:
    write_tree(tmp_path, _FILES)
    assert _findings(tmp_path, catalog) == [
        ("charts/fraud-api/templates/ingress.yaml", 6, "PFA-EN-014"),  # the rendered Ingress has no tls
        ("charts/fraud-api/values.yaml", 8, "PFA-EN-015"),  # ingress enabled, no TLS setting at all
        # MLflow: root, no probes, one replica; the API has all three (from values) and an HPA in its chart
        ("charts/mlflow/templates/deployment.yaml", 8, "PFA-OP-002"),
        ("charts/mlflow/templates/deployment.yaml", 15, "PFA-AC-001"),
        ("charts/mlflow/templates/deployment.yaml", 15, "PFA-TE-004"),
        ("charts/mlflow/templates/deployment.yaml", 15, "PFA-TE-005"),
    ]


def test_a_values_change_reaches_the_templates_through_the_cache(tmp_path: Path, catalog: Catalog) -> None:
    root = tmp_path / "repo"
    write_tree(root, _FILES)
    cache = tmp_path / "cache"
    before = _findings(root, catalog, cache_dir=cache)
    values = root / "charts/fraud-api/values.yaml"
    values.write_text(_API_VALUES.replace("podSecurityContext: {runAsNonRoot: true, runAsUser: 10001}",
                                          "podSecurityContext: {}")
                      + "  tls: [{hosts: [api.fraud-ml.local], secretName: api-tls}]\n", encoding="utf-8")
    after = _findings(root, catalog, cache_dir=cache)
    assert set(before) - set(after) == {("charts/fraud-api/templates/ingress.yaml", 6, "PFA-EN-014"),
                                        ("charts/fraud-api/values.yaml", 8, "PFA-EN-015")}
    assert set(after) - set(before) == {("charts/fraud-api/templates/deployment.yaml", 12, "PFA-AC-001")}


def test_a_template_whose_helpers_are_not_in_the_chart_is_not_judged(tmp_path: Path, catalog: Catalog) -> None:
    files = {key: value for key, value in _FILES.items() if not key.endswith("_helpers.tpl")}
    write_tree(tmp_path, files)
    assert [f for f in _findings(tmp_path, catalog) if "mlflow" in f[0]] == []


def test_a_template_is_of_the_kinds_its_literal_api_versions_say() -> None:
    assert content_kinds("helm-template", _MLFLOW_DEPLOYMENT) == {"helm-template", "kubernetes"}
    kserve = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: {{ .Release.Name }}}\n"
    assert content_kinds("helm-template", kserve) == {"helm-template", "kserve"}
    templated = 'apiVersion: {{ include "common.capabilities.deployment.apiVersion" . }}\nkind: Deployment\n'
    assert content_kinds("helm-template", templated) == HELM_TEMPLATE_KINDS
    assert content_kinds("helm-template", '{{ include "setup.statefulsets" . }}\n') == HELM_TEMPLATE_KINDS


def test_the_production_values_file_is_merged_over_the_defaults(tmp_path: Path, catalog: Catalog) -> None:
    production = "podSecurityContext: {runAsNonRoot: true, runAsUser: 10001}\n"
    defaults = _API_VALUES.replace(production.strip(), "podSecurityContext: {}")
    root = write_tree(tmp_path / "prod", {**_FILES, "charts/fraud-api/values.yaml": defaults,
                                          "charts/fraud-api/values-prod.yaml": production})
    assert not [f for f in _findings(root, catalog) if f[0] == "charts/fraud-api/templates/deployment.yaml"]
    # a staging file is not what production deploys; two production files: which one is, is not known
    for extra in ({"charts/fraud-api/values-staging.yaml": production},
                  {"charts/fraud-api/values-prod.yaml": production, "charts/fraud-api/values-live.yaml": production}):
        root = write_tree(tmp_path / str(len(extra)), {**_FILES, "charts/fraud-api/values.yaml": defaults, **extra})
        assert ("charts/fraud-api/templates/deployment.yaml", 12, "PFA-AC-001") in _findings(root, catalog)


def test_the_prefilter_reads_a_templates_chart(tmp_path: Path, catalog: Catalog) -> None:
    """The kind comes from the chart's values: the template alone does not spell what PFA-AC-009 selects."""
    binding = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: {{ .Values.bindingKind }}
metadata:
  name: {{ .Release.Name }}-trainer
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: trainer
    namespace: ml
"""
    root = write_tree(tmp_path / "repo", {
        "chart/Chart.yaml": "apiVersion: v2\nname: trainer\nversion: 0.1.0\n",
        "chart/values.yaml": "bindingKind: ClusterRoleBinding\n",
        "chart/templates/binding.yaml": binding,
    })
    found = [(f.rule_id, f.path) for f in scan_tree(root, catalog, rules=["PFA-AC-009"]).findings]
    assert found == [("PFA-AC-009", "chart/templates/binding.yaml")]
