"""The one deploy vocabulary (pfa_policy/engine/deploy.py) every CI and deployment rule reads."""

from __future__ import annotations

import pytest

from pfa_policy.engine.deploy import DEPLOY_ACTION, deploy_command, deploys, is_deploy_sdk_call


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
