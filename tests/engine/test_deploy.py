"""The one deploy vocabulary (pfa_policy/engine/deploy.py) every CI and deployment rule reads."""

from __future__ import annotations

import pytest

from pfa_policy.engine.deploy import (
    DEPLOY_ACTION,
    deploy_command,
    deploys,
    deploys_repository,
    helm_installs,
    is_deploy_sdk_call,
)


@pytest.mark.parametrize("line", [
    "kubectl -n ml apply -f k8s/", "kubectl rollout restart deployment/churn", "kubectl set image deploy/x x=y:1",
    "helm upgrade --install churn ./chart", "helm --kube-context prod install churn ./chart",
    "kustomize build overlays/prod | kubectl apply -f -", "terraform apply -auto-approve", "tofu apply",
    "terragrunt run-all apply", "serverless deploy --stage prod", "sam deploy", "npx cdk deploy --all",
    "aws sagemaker create-endpoint --endpoint-name churn", "aws sagemaker update-endpoint --endpoint-name churn",
    "aws lambda update-function-code --function-name score", "gcloud ai endpoints deploy-model 123 --model=456",
    "gcloud run deploy churn --image x", "az ml online-deployment create -f deployment.yml",
    "az ml model deploy --name churn-aci", "mlflow deployments create -t sagemaker -m models:/churn/3",
    "bentoml deploy .", "anyscale service rollout -f service.yaml", "python deploy_model.py", "pulumi up --yes",
])
def test_deploy_commands(line: str) -> None:
    assert deploy_command(line)


@pytest.mark.parametrize("line", [
    "# kubectl apply -f k8s/", "kubectl apply --dry-run=client -f k8s/", "kubectl get pods", "helm lint ./chart",
    "terraform plan", "aws sagemaker describe-endpoint --endpoint-name churn", "gcloud ai endpoints list",
    "echo deploying", "az ml online-deployment show",
])
def test_not_deploy_commands(line: str) -> None:
    assert not deploy_command(line)


def test_a_throw_away_cluster_is_a_test_not_a_deployment() -> None:
    assert deploys("kubectl apply -f k8s/")
    assert not deploys("kind create cluster\nkubectl apply -f k8s/")


def test_deploy_actions_and_sdk_calls() -> None:
    assert DEPLOY_ACTION.match("azure/k8s-deploy@v4")
    assert not DEPLOY_ACTION.match("actions/checkout@v4")
    for name in ("sagemaker.model.Model().deploy", "sagemaker.predictor.Predictor().update_endpoint",
                 "google.cloud.aiplatform.Model.upload().deploy", "boto3.client().update_function_code",
                 "azure.ai.ml.MLClient().online_deployments.begin_create_or_update",
                 "mlflow.deployments.get_deploy_client().create_deployment"):
        assert is_deploy_sdk_call(name), name
    assert not is_deploy_sdk_call("sagemaker.model.Model().register")


def test_the_chart_a_helm_command_installs() -> None:
    [install] = helm_installs("helm upgrade --install -n ml --set a=b,c=d --atomic api ./charts/api --wait")
    assert install.chart == "./charts/api" and "--atomic" in install.options
    assert helm_installs("helm install --generate-name oci://r.io/c --version 1.0")[0].chart == "oci://r.io/c"
    assert helm_installs("helm install cm cert-manager --repo https://charts.jetstack.io")[0].remote_repository
    assert helm_installs("helm install api && kubectl get pods")[0].chart == ""


def _in_repository(reference: str) -> bool:
    return reference in {"charts/api", "chart"}


@pytest.mark.parametrize("script", [
    "helm upgrade --install api ./charts/api", "helm install api charts/api", "helm upgrade api chart -n ml",
    "helm upgrade --install api $CHART_DIR", "helm install api ./build/api-1.2.0.tgz",
    "helm upgrade --install x \\\n  charts/api --namespace ml",
    "helm install pg bitnami/postgresql && helm upgrade --install api charts/api",
    "kubectl apply -f https://github.com/kserve/kserve/releases/download/v0.13.0/kserve.yaml && kubectl apply -f k8s/",
    "kubectl apply -k overlays/prod", "terraform apply -auto-approve",
])
def test_deploys_the_repository(script: str) -> None:
    assert deploys_repository(script, _in_repository)


@pytest.mark.parametrize("script", [
    "helm install pg bitnami/postgresql", "helm upgrade --install pg oci://registry-1.docker.io/bitnamicharts/postgresql",
    "helm repo add traefik https://traefik.github.io/charts\nhelm upgrade --install traefik traefik/traefik \\\n"
    "  --namespace traefik --create-namespace",
    "helm install cm cert-manager --repo https://charts.jetstack.io --version v1.14.4",
    "helm install x https://example.com/charts/x-1.0.0.tgz",
    "kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.14.4/cert-manager.yaml",
    "helm template api charts/api", "# helm upgrade --install api charts/api",
])
def test_installing_published_software_is_not_deploying_the_repository(script: str) -> None:
    assert not deploys_repository(script, _in_repository)


def test_without_the_repository_a_repo_chart_is_remote_only_once_added() -> None:
    assert deploys_repository("helm install pg bitnami/postgresql")
    assert not deploys_repository("helm repo add bitnami https://charts.bitnami.com/bitnami\n"
                                  "helm install pg bitnami/postgresql")
