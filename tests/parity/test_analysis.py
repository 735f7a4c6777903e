"""Environments discovered and compared: differences in kind are found, sizes never are."""

from pathlib import Path

from pfa_policy.parity.settings import ParitySettings
from tests.parity.helpers import kinds_of, run, tree

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "parity-shop"


def test_fixture_systems_and_differences_in_kind() -> None:
    analysis = run(tree(FIXTURE))
    assert {(s.name, s.source) for s in analysis.systems} == {
        ("deploy/k8s", "kustomize"), ("charts/scorer", "helm"), ("sagemaker/deploy", "stage-config"),
        ("infra/envs", "terraform"), ("deploy/k8s ~ docker-compose.yml", "compose")}
    found = kinds_of(analysis)
    assert {
        ("PFA-TE-201", "component:ServiceMonitor"), ("PFA-AC-201", "component:NetworkPolicy"),
        ("PFA-OP-203", "component:PodDisruptionBudget"),
        ("PFA-AC-201", "securityContext:churn-api/api.runAsNonRoot"),
        ("PFA-OP-201", "store:env:churn-api/api.DATABASE_URL"),
        ("PFA-AI-201", "mock:env:churn-api/api.PAYMENTS_MOCK"),
        ("PFA-OP-201", "store:values:feast.onlineStore.connectionString"),
        ("PFA-OP-201", "store:values:feast.onlineStore.type"),
        ("PFA-TE-201", "flag:metrics.serviceMonitor.enabled"), ("PFA-EN-201", "flag:tls.enabled"),
        ("PFA-OP-202", "sagemaker-endpoint:EndpointConfig.AllTraffic"), ("PFA-AU-201", "data-capture:EndpointConfig"),
        ("PFA-EN-201", "kms:EndpointConfig"), ("PFA-AC-201", "flag:enable_waf"), ("PFA-AI-201", "flag:use_mock_kyc"),
        ("PFA-OP-201", "store:env:acme/churn-api.DATABASE_URL"),
        ("PFA-AI-201", "mock:env:acme/churn-api.AWS_ENDPOINT_URL"),
        ("PFA-AI-201", "emulator:localstack/localstack"),
    } <= found
    # The dev overlay is exempt, the registry move of the image is not a difference.
    assert not any("dev" in c.pilot.name or "dev" in c.production.name for c in analysis.comparisons)
    assert not any(rule == "PFA-CI-201" for rule, _ in found)


def test_sizes_are_never_differences_in_kind() -> None:
    analysis = run(tree(FIXTURE))
    kind_keys = " ".join(key for _, key in kinds_of(analysis))
    for word in ("replica", "resources", "instance", "volume", "node", "hosts", "tag", "autoscaling"):
        assert word not in kind_keys.lower()
    sizes = {key for _, key in kinds_of(analysis, "size")}
    assert {"replicaCount", "resources.requests.cpu", "image.tag", "ingress.hosts[0]", "EndpointInstanceType",
            "instance_type", "volume_size_gb", "Deployment/churn-api:spec.replicas"} <= sizes


def test_findings_point_at_production_and_secrets_are_not_compared() -> None:
    analysis = run(tree(FIXTURE))
    by_key = {d.key: d for c in analysis.comparisons for d in c.differences}
    store = by_key["store:env:churn-api/api.DATABASE_URL"]
    assert (store.production.path, store.production.span.line) == ("deploy/k8s/overlays/prod/api.yaml", 15)
    assert (store.pilot.path, store.pilot.value) == ("deploy/k8s/overlays/staging/api.yaml", "sqlite")
    secret = by_key["env:churn-api/api.MLFLOW_TRACKING_URI"]
    assert secret.status == "not-compared" and "secret" in secret.note
    template = by_key["store:values:mlflow.backendStoreUri"]
    assert template.status == "not-compared" and "template" in template.note


def test_helm_values_directory_and_custom_names() -> None:
    files = {"chart/Chart.yaml": "name: x\n", "chart/values.yaml": "cache:\n  url: redis://r:6379\n",
             "chart/values/uat.yaml": "cache:\n  url: memory\n", "chart/values/live.yaml": "replicaCount: 3\n"}
    assert kinds_of(run(files)) == {("PFA-OP-201", "store:values:cache.url")}
    renamed = {**files, "chart/values/canary.yaml": "cache:\n  url: sqlite:///c.db\n"}
    settings = {"environments": {"pilot": ["canary"], "exempt": ["uat"]}}
    analysis = run(renamed, settings)
    assert {c.pilot.name for c in analysis.comparisons} == {"canary"}


def test_pairs_and_waivers() -> None:
    files = {"k/base/kustomization.yaml": "resources: []\n",
             "k/overlays/qa/kustomization.yaml": "resources: [../../base]\n",
             "k/overlays/staging/kustomization.yaml": "resources: [../../base]\n",
             "k/overlays/prod/kustomization.yaml": "resources: [../../base, pdb.yaml]\n",
             "k/overlays/prod/pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\n"}
    assert {c.pilot.name for c in run(files).comparisons} == {"qa", "staging"}
    paired = run(files, {"pairs": [{"pilot": "staging", "production": "prod"}]})
    assert [c.pilot.name for c in paired.comparisons] == ["staging"]
    waived = run(files, {"waivers": [{"key": "component:Pod*", "justification": "spot nodes in staging (ML-9)"}]})
    statuses = {d.status for c in waived.comparisons for d in c.differences}
    assert statuses == {"waived"}


def test_environment_names() -> None:
    settings = ParitySettings.from_policy(None)
    assert [settings.role(n) for n in ("prod-eu", "staging-2", "preprod", "base-preview", "dev", "overlays")] == [
        "production", "pilot", "pilot", None, "exempt", None]


def test_terraform_tfvars_positions_and_blocks() -> None:
    from pfa_policy.parity.tfvars import parse_tfvars

    values = parse_tfvars("p.tfvars", 'a = "x" # note\ntags = {\n  b = true\n}\nc = true\nd = var.e\n')
    assert sorted(values) == ["a", "c"]
    assert values["c"].key_span is not None and values["c"].key_span.line == 5


def test_stage_config_undecided_condition_is_not_compared() -> None:
    template = ("Parameters:\n  StageName: {Type: String}\n  Region: {Type: String}\nConditions:\n"
                "  InEu: !Equals [!Ref 'AWS::Region', eu-west-1]\nResources:\n  Config:\n"
                "    Type: AWS::SageMaker::EndpointConfig\n    Properties:\n      ProductionVariants:\n"
                "        - VariantName: A\n          InstanceType: !If [InEu, ml.m5.large, !Ref 'AWS::NoValue']\n")
    files = {"d/template.yml": template, "d/staging-config.json": '{"Parameters": {"StageName": "staging"}}',
             "d/prod-config.json": '[{"ParameterKey": "StageName", "ParameterValue": "prod"}]'}
    analysis = run(files)
    statuses = {(d.key, d.status) for c in analysis.comparisons for d in c.differences}
    assert ("sagemaker-endpoint:Config.A", "not-compared") in statuses
    assert not kinds_of(analysis)


def test_github_environments_name_the_configuration_they_deploy() -> None:
    workflow = (
        "on: push\njobs:\n  pilot:\n    environment: staging\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: kubectl apply -k deploy/overlays/blue\n"
        "      - run: helm upgrade api charts/api -f charts/api/values.yaml -f charts/api/eu-small.yaml\n"
        "  release:\n    environment: {name: production, url: 'https://api.acme.io'}\n    runs-on: ubuntu-latest\n"
        "    defaults: {run: {working-directory: deploy}}\n    steps:\n"
        "      - run: kustomize build ./overlays/green | kubectl apply -f -\n"
        "      - run: helm upgrade api ../charts/api -f ../charts/api/eu-large.yaml\n"
        "  preview:\n    environment: pr-${{ github.event.number }}\n    steps:\n"
        "      - run: kubectl apply -k deploy/overlays/red\n")
    files = {
        ".github/workflows/deploy.yml": workflow,
        "deploy/base/kustomization.yaml": "resources: []\n",
        "deploy/overlays/blue/kustomization.yaml": "resources: [../../base]\n",
        "deploy/overlays/green/kustomization.yaml": "resources: [../../base, pdb.yaml]\n",
        "deploy/overlays/green/pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\n",
        "deploy/overlays/red/kustomization.yaml": "resources: [../../base]\n",
        "charts/api/Chart.yaml": "name: api\n", "charts/api/values.yaml": "cache: {url: 'redis://r:6379'}\n",
        "charts/api/eu-small.yaml": "cache: {url: memory}\n", "charts/api/eu-large.yaml": "replicaCount: 9\n",
    }
    analysis = run(files)
    environments = {(s.name, e.name, e.role, e.anchor) for s in analysis.systems for e in s.environments}
    assert environments == {
        ("deploy", "staging", "pilot", "deploy/overlays/blue/kustomization.yaml"),
        ("deploy", "production", "production", "deploy/overlays/green/kustomization.yaml"),
        ("charts/api", "staging", "pilot", "charts/api/eu-small.yaml"),
        ("charts/api", "production", "production", "charts/api/eu-large.yaml"),
    }
    assert kinds_of(analysis) == {("PFA-OP-203", "component:PodDisruptionBudget"),
                                  ("PFA-OP-201", "store:values:cache.url")}


def test_values_from_secret_stores_are_not_compared() -> None:
    files = {"c/Chart.yaml": "name: c\n",
             "c/values-staging.yaml": "db:\n  url: sqlite:///x.db\n",
             "c/values-prod.yaml": "db:\n  url: arn:aws:secretsmanager:eu-west-1:1:secret:db-url\n"}
    [difference] = [d for c in run(files).comparisons for d in c.differences]
    assert (difference.status, difference.note) == ("not-compared", "read from a secret store")


def test_named_configuration_files_dotenv_and_directories_per_environment() -> None:
    files = {
        "app/.env.staging": "# pilot\nDATABASE_URL=sqlite:////data/app.db\nWORKERS=1\nexport PAYMENTS_MOCK='true'\n",
        "app/.env.production": "DATABASE_URL=\"postgresql://app@db:5432/app\"\nWORKERS=16\nPAYMENTS_MOCK=false\n",
        "conf/feature_store.yaml": "online_store:\n  type: redis\n",
        "conf/feature_store.staging.yaml": "online_store:\n  type: sqlite\n  path: data/online.db\n",
        "conf/feature_store.prod.yaml": "project: churn\n",
        "infra/staging/serving.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
        "infra/prod/serving.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
        "infra/prod/monitor.yaml": "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: a}\n",
        "infra/prod/settings.json": '{"cache": {"url": "redis://c:6379"}}',
        "infra/staging/settings.json": '{"cache": {"url": "memory"}}',
    }
    analysis = run(files)
    assert {(s.name, s.source) for s in analysis.systems} == {
        ("app/.env", "config-files"), ("conf/feature_store.yaml", "config-files"), ("infra", "env-directories")}
    assert kinds_of(analysis) == {
        ("PFA-OP-201", "store:values:DATABASE_URL"), ("PFA-AI-201", "mock:values:PAYMENTS_MOCK"),
        ("PFA-OP-201", "store:values:online_store.type"), ("PFA-TE-201", "component:ServiceMonitor"),
        ("PFA-OP-201", "store:values:settings.json.cache.url")}
    store = next(d for c in analysis.comparisons for d in c.differences if d.key == "store:values:DATABASE_URL")
    assert (store.production.path, store.production.span.line, store.pilot.span.line) == ("app/.env.production", 1, 2)
    assert "WORKERS" in {d.key for c in analysis.comparisons for d in c.differences if d.status == "size"}


def test_store_kinds() -> None:
    from pfa_policy.parity.features import is_size_key, store_kind

    assert [store_kind(v) for v in ("jdbc:postgresql://db/x", "jdbc:h2:mem:t", "sqlite:///a.db", "file:///mlruns",
                                    "s3://b/x", "https://api.acme.io", "rediss://r:6380")] == [
        "postgresql", "embedded database", "sqlite", "local files", "object storage", None, "redis"]
    assert all(is_size_key(k) for k in ("replicaCount", "autoscaling.maxReplicas", "resources.limits.cpu",
                                        "EndpointInstanceType", "image.tag", "ingress.hosts[0]", "volume_size_gb"))
    assert not any(is_size_key(k) for k in ("DATABASE_URL", "metrics.serviceMonitor.enabled", "tls.enabled"))
