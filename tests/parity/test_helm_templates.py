"""A Helm chart's templates are Go templates: parity reads the chart as a helm system (its values), never its
templates as Kubernetes manifests applied as they are."""

from pfa_policy.engine.classify import HELM_TEMPLATE_KINDS
from pfa_policy.parity.compare import analyse
from pfa_policy.parity.settings import ParitySettings
from tests.parity.helpers import view

_COMPOSE = "services:\n  api:\n    image: acme/churn-api:1.4.2\n    environment:\n      DATABASE_URL: sqlite:///x\n"
_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: churn-api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: "acme/churn-api:{{ .Values.image.tag }}"
          env: [{name: DATABASE_URL, value: "postgresql://db/churn"}]
"""


def _sources(files: dict[str, str], kinds: dict[str, frozenset[str]]) -> set[str]:
    analysis = analyse(view(files, kinds), ParitySettings.from_policy(None), frozenset({"production"}))
    return {s.source for s in analysis.systems}


def test_chart_templates_are_not_plain_manifests() -> None:
    chart = {"charts/api/Chart.yaml": "apiVersion: v2\nname: api\nversion: 0.1.0\n",
             "charts/api/values.yaml": "image: {tag: 1.4.2}\n",
             "charts/api/templates/deployment.yaml": _MANIFEST}
    files = {"docker-compose.yml": _COMPOSE, **chart}
    assert "compose" not in _sources(files, {"docker-compose.yml": frozenset({"compose"}),
                                             "charts/api/templates/deployment.yaml": HELM_TEMPLATE_KINDS})
    # the same Deployment as a plain manifest is the production the compose file is the pilot of
    plain = {"docker-compose.yml": _COMPOSE, "deploy/k8s/deployment.yaml": _MANIFEST}
    assert "compose" in _sources(plain, {"docker-compose.yml": frozenset({"compose"}),
                                         "deploy/k8s/deployment.yaml": frozenset({"kubernetes"})})
