"""The one deploy vocabulary: what counts as a deployment in a CI script, a shell script, a Makefile or Python.

Every CI and deployment rule reads it from here (the predicates of `cicd`, `audit_logging` and
`ml_pipelines`, and through them PFA-CI-008, PFA-CI-010, PFA-CI-012, PFA-CI-015, PFA-AU-008, PFA-AU-009 and
the `ci-manual-deploy` / `ci-deploy-endpoint-code` facts), so a verb added here is known to all of them.

- `DEPLOY_COMMAND`: a CLI line that changes what runs in a shared environment (kubectl apply / rollout, helm
  upgrade / install, kustomize piped into kubectl, terraform / tofu / terragrunt apply, pulumi up, serverless /
  sam / cdk deploy, CloudFormation stacks, aws sagemaker create / update endpoint, aws lambda
  update-function-code, aws ecs update-service, gcloud ai endpoints deploy-model, gcloud run / app / functions
  deploy, az ml online- / batch-deployment and endpoint create / update (v1: az ml model deploy), mlflow
  deployments, bentoml deploy, anyscale service deploy / rollout, Ray `serve deploy`, skaffold run / deploy,
  argocd app sync, helmfile, modal deploy, a `deploy*.py` script). A comment or a `--dry-run` line is not a deployment.
- `TEARDOWN_COMMAND`: a CLI line that removes a deployed environment (terraform / tofu / terragrunt destroy, pulumi
  destroy, cdk destroy, serverless remove, sam delete, aws cloudformation delete-stack, helmfile destroy): a
  production change the approval rules hold like a deploy (`change_command`), not a deployment.
- `DEPLOY_ACTION`: GitHub Actions that deploy (`uses:`); `DEPLOY_TASK`: Azure Pipelines tasks and Bitbucket
  pipes that deploy.
- `DEPLOY_ENTRY_POINT`: a make target, script or task runner entry named deploy / release / rollout: a
  deployment whose command is elsewhere (what "does CI deploy at all" accepts, not what names a deploy line).
- `DEPLOY_SDK_CALLS`: qualified Python calls that deploy a model (SageMaker `Model.deploy`,
  `Predictor.update_endpoint`, boto3 endpoint and Lambda updates, Vertex AI `Model.deploy`, Azure ML
  `online_deployments.begin_create_or_update`, MLflow deployment clients, BentoML and KServe clients).
- `LOCAL_CLUSTER` / `LOCAL_CLUSTER_ACTION`: a throw-away cluster created in the same job (kind, minikube, k3d,
  microk8s): what follows is an end-to-end test, not a deployment.
- `helm_installs` / `deploys_repository`: which chart a `helm install` / `helm upgrade` line installs, and
  whether it is the repository's own. A remote chart (an `oci://` or `https://` reference, `--repo <url>`, or
  `<repo>/<chart>` whose repository the script `helm repo add`s or that is no directory of the repository) and
  a `kubectl apply -f https://...` of a published manifest deploy someone else's release: still a deployment
  for the rules that judge how deploy jobs run (CI-010, AU-008 ...), not the repository deploying its own
  charts and manifests (PFA-CI-008).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

_OPTIONS = r"(?:-{1,2}[\w-]+(?:[= ][^\s-]\S*)?\s+)*"  # `-n ml`, `--namespace=ml`, `--kubeconfig ./k`
DEPLOY_COMMAND = re.compile(
    r"(?mi)^(?!\s*(?:#|//))(?!.*--dry-run).*?(?:"
    rf"\bkubectl\s+{_OPTIONS}(?:apply|replace|set\s+image|rollout\s+(?:restart|undo|resume))\b"
    rf"|\bhelm\s+{_OPTIONS}(?:upgrade|install)\b|\bhelmfile\s+{_OPTIONS}(?:apply|sync|deploy)\b"
    r"|\bkustomize\s+build\b.*\|\s*kubectl\s+apply\b"
    r"|\b(?:terraform|tofu)\s+(?:-\S+\s+)*apply\b|\bterragrunt\s+(?:run-all\s+)?apply\b|\bpulumi\s+up\b"
    r"|\bcdk\s+deploy\b|\b(?:serverless|sls)\s+deploy\b|\bsam\s+deploy\b"
    r"|\baws\s+cloudformation\s+(?:deploy|create-stack|update-stack)\b"
    r"|\baws\s+sagemaker\s+(?:create-endpoint|update-endpoint)\b"
    r"|\baws\s+lambda\s+(?:update-function-code|update-alias)\b|\baws\s+ecs\s+update-service\b"
    r"|\bmlflow\s+(?:deployments\s+(?:create|update)|sagemaker\s+deploy)\b"
    r"|\bgcloud\s+(?:beta\s+)?(?:run\s+(?:deploy|services\s+update)|app\s+deploy|functions\s+deploy"
    r"|ai\s+endpoints\s+deploy-model|ai-platform\s+versions\s+create)\b"
    r"|\baz\s+ml\s+(?:online|batch)-(?:deployment|endpoint)\s+(?:create|update)\b"
    r"|\baz\s+ml\s+(?:model\s+deploy|service\s+update)\b"
    r"|\baz\s+(?:webapp|functionapp)\s+deploy\b|\baz\s+containerapp\s+(?:update|up)\b"
    r"|\bbentoml\s+(?:deploy|deployment\s+(?:create|update|apply))\b"
    r"|\banyscale\s+service\s+(?:deploy|rollout)\b|\bserve\s+deploy\b"
    r"|\bskaffold\s+(?:run|deploy)\b|\bargocd\s+app\s+sync\b|\bmodal\s+deploy\b"
    r"|\bpython3?\s+(?:-m\s+)?(?:\S+/)?deploy[\w-]*(?:\.py)?\b)"
)
# Commands that tear a deployed environment down: as much a change to what runs in a shared environment as a
# deploy, so the rules that hold changes for a person read them (PFA-CI-010, PFA-AU-008, PFA-AU-009, through
# `change_command`), but they deploy nothing: the rules about what a deploy ships (evaluation, tests, images,
# "does CI deploy at all") read `DEPLOY_COMMAND` only. `helm uninstall` and `kubectl delete` are not here: CI
# runs them to clean up test releases and pods far more often than to remove a production service.
TEARDOWN_COMMAND = re.compile(
    r"(?mi)^(?!\s*(?:#|//))(?!.*--dry-run).*?(?:"
    r"\b(?:terraform|tofu)\s+(?:-\S+\s+)*destroy\b|\bterragrunt\s+(?:run-all\s+)?destroy\b|\bpulumi\s+destroy\b"
    r"|\bcdk\s+destroy\b|\b(?:serverless|sls)\s+remove\b|\bsam\s+delete\b|\baws\s+cloudformation\s+delete-stack\b"
    rf"|\bhelmfile\s+{_OPTIONS}destroy\b)"
)
DEPLOY_ACTION = re.compile(
    r"(?i)^(?:aws-actions/amazon-ecs-deploy-task-definition|aws-actions/aws-cloudformation-github-deploy"
    r"|azure/k8s-deploy|azure/webapps-deploy|azure/functions-action|azure/arm-deploy|azure/helm-deploy"
    r"|google-github-actions/deploy-cloudrun|google-github-actions/deploy-appengine"
    r"|google-github-actions/deploy-cloud-functions|deliverybot/helm|wahyd4/kubectl-helm-action)@"
)
DEPLOY_ENTRY_POINT = re.compile(
    r"(?i)(?<![\w-])(?:make\s+(?:-\S+\s+)*(?:[\w-]+\s+)*(?:deploy|release|rollout|publish-model)[\w-]*"
    r"|(?:just|task|npm\s+run|yarn|poetry\s+run|uv\s+run)\s+deploy[\w:-]*"
    r"|(?:\./|\S+/)?(?:deploy|release|rollout)[\w-]*\.(?:sh|bash|py))"
)
# Azure Pipelines tasks and Bitbucket pipes that deploy (the `uses:` of those systems; a task whose
# `inputs.command` is a CLI verb, `HelmDeploy@0` upgrade, is read as that command by engine.ci_jobs).
DEPLOY_TASK = re.compile(
    r"(?i)^(?:KubernetesManifest@\d+|AzureWebApp(?:Container)?@\d+|AzureRmWebAppDeployment@\d+"
    r"|AzureFunctionApp(?:Container)?@\d+|AzureContainerApps@\d+|AzureResourceManagerTemplateDeployment@\d+"
    r"|AzureResourceGroupDeployment@\d+|SqlAzureDacpacDeployment@\d+"
    r"|atlassian/(?:aws-ecs-deploy|aws-elasticbeanstalk-deploy|aws-lambda-deploy|aws-cloudformation-deploy"
    r"|aws-sam-deploy|azure-web-apps-deploy|azure-functions-deploy|google-app-engine-deploy"
    r"|google-cloud-functions-deploy|google-cloud-run-deploy|helm-deploy):)"
)
LOCAL_CLUSTER = re.compile(
    r"(?i)\b(?:kind\s+create\s+cluster|minikube\s+start|k3d\s+cluster\s+create|kwokctl\s+create\s+cluster"
    r"|microk8s)\b")
LOCAL_CLUSTER_ACTION = re.compile(
    r"(?i)^(?:helm/kind-action|engineerd/setup-kind|container-tools/kind-action|medyagh/setup-minikube"
    r"|manusa/actions-setup-minikube|AbsaOSS/k3d-action|nolar/setup-k3d-k3s|balchua/microk8s-actions"
    r"|debianmaster/actions-k3s)@")

# Qualified names (as the Python index resolves them; `*` crosses dots) of calls that deploy a model.
DEPLOY_SDK_CALLS: tuple[str, ...] = (
    "sagemaker.*.deploy", "sagemaker.*.update_endpoint", "sagemaker.*Predictor().update_endpoint",
    "boto3.client().create_endpoint", "boto3.client().update_endpoint",
    "boto3.session.Session().client().create_endpoint", "boto3.session.Session().client().update_endpoint",
    "boto3.client().update_function_code", "boto3.client().update_service",
    "google.cloud.aiplatform.*deploy", "vertexai.*deploy",
    "azure.ai.ml.*online_deployments.begin_create_or_update", "azure.ai.ml.*batch_deployments.begin_create_or_update",
    "azure.ai.ml.*online_endpoints.begin_create_or_update", "azureml.core.*Model.deploy", "azureml.core.*.deploy",
    "mlflow.deployments.get_deploy_client().create_deployment",
    "mlflow.deployments.get_deploy_client().update_deployment", "mlflow.sagemaker.deploy",
    "bentoml.deployment.create", "bentoml.deployment.update", "bentoml.deployment.apply",
    "kserve.KServeClient().create", "kserve.KServeClient().patch", "kserve.KServeClient().replace",
)
# The modules those calls come from: a file importing none of them deploys nothing through an SDK.
DEPLOY_SDK_MODULES: tuple[str, ...] = ("sagemaker", "boto3", "google.cloud.aiplatform", "vertexai", "azure.ai.ml",
                                       "azureml", "mlflow", "bentoml", "kserve")


def deploy_command(text: str) -> str:
    """The first deploy command of `text` (up to 120 characters), or ""."""
    found = DEPLOY_COMMAND.search(text)
    return found.group(0).strip()[:120] if found is not None else ""


def change_command(text: str) -> str:
    """The first command of `text` that deploys or tears down (`TEARDOWN_COMMAND`; up to 120 characters), or ""."""
    found = [m for m in (DEPLOY_COMMAND.search(text), TEARDOWN_COMMAND.search(text)) if m is not None]
    return min(found, key=lambda m: m.start()).group(0).strip()[:120] if found else ""


def deploys(text: str) -> bool:
    """Whether a script deploys: a deploy command, and no throw-away cluster it deploys to."""
    return bool(DEPLOY_COMMAND.search(text)) and not LOCAL_CLUSTER.search(text)


# helm install / upgrade options that take a value as the next word (`--namespace ml`); the others are flags.
_HELM_VALUE_OPTIONS = frozenset({
    "-n", "--namespace", "-f", "--values", "--set", "--set-string", "--set-file", "--set-json", "--set-literal",
    "--version", "--kube-context", "--kubeconfig", "--kube-apiserver", "--kube-token", "--kube-as-user",
    "--kube-as-group", "--kube-ca-file", "--timeout", "--repo", "--username", "--password", "--description",
    "--post-renderer", "--post-renderer-args", "--history-max", "-o", "--output", "--ca-file", "--cert-file",
    "--key-file", "--keyring", "--name-template", "--registry-config", "--repository-cache",
    "--repository-config", "--burst-limit", "--qps", "--labels", "-l", "--wait-for"})
_HELM_VERB = re.compile(rf"(?i)\bhelm\s+{_OPTIONS}(upgrade|install)\b")
_HELM_REPO_ADD = re.compile(r"(?i)\bhelm\s+repo\s+add\s+(?:-\S+\s+)*([\w.-]+)")
_SHELL_END = re.compile(r"\s(?:&&|\|\||;|\||>)\s|[;|]$")
_URL_CHART = re.compile(r"(?i)^(?:oci|https?)://")


@dataclass(frozen=True, slots=True)
class HelmInstall:
    """One `helm install` / `helm upgrade` command line: the chart it names, and the options it was given."""

    chart: str  # "" when no chart could be read (a variable, a line continued in a way not followed)
    options: frozenset[str]
    remote_repository: bool  # `--repo <url>`: the chart is fetched from that repository


def logical_lines(text: str) -> list[str]:
    """Shell lines with their backslash continuations joined (`helm upgrade --install x \\n  ./chart`)."""
    return re.sub(r"\\[ \t]*\r?\n", " ", text).split("\n")


def helm_repositories_added(text: str) -> frozenset[str]:
    """The chart repositories a script adds (`helm repo add bitnami https://...`): `bitnami/<chart>` is remote."""
    return frozenset(_HELM_REPO_ADD.findall(text))


def helm_installs(line: str) -> list[HelmInstall]:
    """The helm install / upgrade commands of one logical line."""
    found = []
    for verb in _HELM_VERB.finditer(line):
        rest = _SHELL_END.split(line[verb.end():], maxsplit=1)[0]
        words = rest.split()
        positional: list[str] = []
        options: set[str] = set()
        index = 0
        while index < len(words):
            word = words[index].strip("\"'")
            if word.startswith("-"):
                name = word.split("=", 1)[0]
                options.add(name)
                if "=" not in word and name in _HELM_VALUE_OPTIONS:
                    index += 1
            else:
                positional.append(word)
            index += 1
        generated = "--generate-name" in options or "-g" in options
        wanted = 1 if generated and verb.group(1).lower() == "install" else 2
        chart = positional[wanted - 1] if len(positional) >= wanted else ""
        found.append(HelmInstall(chart, frozenset(options), "--repo" in options))
    return found


def remote_chart(install: HelmInstall, added_repositories: frozenset[str],
                 is_local: Callable[[str], bool] | None = None) -> bool:
    """Whether a helm command installs a published chart rather than one in the repository: an `oci://` /
    `https://` reference, `--repo <url>`, or `<repo>/<chart>` whose repository was `helm repo add`ed or (when
    the repository's directories are known) that names no directory of it. A variable is not judged remote."""
    chart = install.chart
    if not chart or "$" in chart or "{{" in chart:
        return False
    if _URL_CHART.match(chart) or install.remote_repository:
        return True
    if chart.startswith((".", "/", "~")) or chart.endswith((".tgz", ".tar.gz")):
        return False
    repository, slash, _ = chart.partition("/")
    if slash and repository in added_repositories:
        return True
    return is_local is not None and not is_local(chart.rstrip("/"))


def repository_chart(paths: Iterable[str]) -> Callable[[str], bool]:
    """`is_local` for a repository of these file paths: a chart reference (`charts/api`) names one of its
    directories, from the root or below (a job may `cd` first)."""
    directories = {path.rpartition("/")[0] for path in paths}
    directories |= {parent for directory in directories for parent in _parents(directory)}

    def is_local(reference: str) -> bool:
        return reference in directories or any(d.endswith(f"/{reference}") for d in directories)
    return is_local


def _parents(directory: str) -> Iterator[str]:
    while "/" in directory:
        directory = directory.rpartition("/")[0]
        yield directory


def deploys_repository(text: str, is_local: Callable[[str], bool] | None = None) -> bool:
    """Whether a script deploys the repository's own artefacts: a deploy command other than a helm install of
    remote charts (`remote_chart`) or a `kubectl apply -f https://...` of published manifests. `is_local`
    says whether a chart reference such as `charts/api` is a directory of the repository."""
    added = helm_repositories_added(text)
    for line in logical_lines(text):
        if not DEPLOY_COMMAND.search(line):
            continue
        for command in _COMMAND_SEPARATOR.split(line):
            if not DEPLOY_COMMAND.search(command):
                continue
            installs = helm_installs(command)
            if installs and all(remote_chart(install, added, is_local) for install in installs):
                continue
            if not installs and _kubectl_remote_only(command):
                continue
            return True
    return False


_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;")
_KUBECTL_APPLY = re.compile(r"(?i)\bkubectl\s+.*?\b(?:apply|create|replace)\b(?P<rest>.*)")
_KUBECTL_FILE = re.compile(r"(?:^|\s)(?:-f|--filename)(?:=|\s+)[\"']?(\S+?)[\"']?(?=\s|$)")


def _kubectl_remote_only(command: str) -> bool:
    """A `kubectl apply` whose every `-f` is a URL (a published release manifest) and that applies no `-k`."""
    found = _KUBECTL_APPLY.search(command)
    if found is None or re.search(r"(?:^|\s)(?:-k|--kustomize)\b", found.group("rest")):
        return False
    files = _KUBECTL_FILE.findall(found.group("rest"))
    return bool(files) and all(_URL_CHART.match(name) and not name.lower().startswith("oci:") for name in files)


def is_deploy_sdk_call(qualified_name: str) -> bool:
    return any(fnmatchcase(qualified_name, pattern) for pattern in DEPLOY_SDK_CALLS)
