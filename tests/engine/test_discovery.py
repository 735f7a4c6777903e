"""File discovery: git-aware listing, excludes, symlinks; and classification into kinds and scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.engine.classify import (
    ScopeRules,
    azureml_schema,
    chart_directories,
    content_kinds,
    document_kind,
    path_kind,
    reads_kind,
)
from pfa_policy.engine.discovery import discover
from pfa_policy.engine.loader import Catalog
from pfa_policy.parsers.yaml_doc import parse_yaml
from tests.conftest import make_git_repo, scan_tree, write_tree


def _paths(root: Path, excludes: tuple[str, ...] = ()) -> list[str]:
    return [f.path for f in discover(root, excludes).files]


def test_git_repository_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {"serve.py": "x = 1\n", ".gitignore": "secrets/\n*.log\n"})
    write_tree(tmp_path, {"new_module.py": "y = 2\n", "secrets/key.py": "k = 1\n", "run.log": "noise\n"})
    assert repo.working_tree_dir is not None
    assert _paths(tmp_path) == [".gitignore", "new_module.py", "serve.py"]


def test_subdirectory_of_a_git_repository_is_scanned_relative_to_itself(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {"services/churn/app.py": "a = 1\n", "other/b.py": "b = 1\n"})
    assert _paths(tmp_path / "services" / "churn") == ["app.py"]


def test_an_ignored_directory_scanned_by_name_is_walked_with_a_note(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {"serve.py": "x = 1\n", ".gitignore": "exports/\n"})
    write_tree(tmp_path, {"exports/project/app.py": "y = 2\n", "exports/project/deploy/k8s.yaml": "a: 1\n"})
    found = discover(tmp_path / "exports" / "project")
    assert [f.path for f in found.files] == ["app.py", "deploy/k8s.yaml"]
    assert found.git_root is None
    assert [(n.level, n.message) for n in found.notifications] == [
        ("note", f"the scanned directory is ignored by git in {tmp_path.resolve()}; it was walked as a plain "
                 "directory")]
    # An empty directory that git does not ignore stays empty, without a note.
    (tmp_path / "empty").mkdir()
    assert discover(tmp_path / "empty").notifications == ()


def test_plain_directory_walk_skips_default_excludes_and_configured_globs(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "train.py": "", ".venv/lib/site.py": "", "node_modules/x/index.js": "", "build/lib/a.py": "",
        "pkg.egg-info/PKG-INFO": "", "data/raw/big.csv": "", "src/model.py": "",
    })
    assert _paths(tmp_path, ("data/**",)) == ["src/model.py", "train.py"]


def test_a_build_directory_holding_a_pipeline_or_dockerfile_is_configuration_not_output(tmp_path: Path) -> None:
    tree = {
        "build/model-deployment.yaml": "steps: []\n", "build/utils.py": "", "build/sub/helper.py": "",
        "svc/build/Dockerfile": "FROM python:3.12\n", "svc/build/entry.sh": "",
        "build/lib/pkg/a.py": "",  # under a configuration build/ everything is scanned
        "docs/build/html/index.html": "", "pkg/build/lib/b.py": "", "web/build/static/app.js": "",
        "web/build/asset-manifest.json": "{}",
    }
    expected = ["build/lib/pkg/a.py", "build/model-deployment.yaml", "build/sub/helper.py", "build/utils.py",
                "svc/build/Dockerfile", "svc/build/entry.sh"]
    write_tree(tmp_path / "plain", tree)
    assert _paths(tmp_path / "plain", ()) == expected
    make_git_repo(tmp_path / "repo", tree)
    assert [f.path for f in discover(tmp_path / "repo").files] == expected
    # An explicit exclude still wins.
    assert _paths(tmp_path / "plain", ("build",)) == []


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_tree(outside, {"secret.py": "password = 'x'\n"})
    root = tmp_path / "repo"
    write_tree(root, {"app.py": "pass\n"})
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "linked.py").symlink_to(outside / "secret.py")
    found = discover(root)
    assert [f.path for f in found.files] == ["app.py"]
    assert {n.path for n in found.notifications} == {"loop", "escape", "linked.py"}


@pytest.mark.parametrize(("path", "kind"), [
    ("serving/app.py", "python"),
    ("notebooks/eda.ipynb", "notebook"),
    ("Dockerfile", "dockerfile"),
    ("docker/Dockerfile.gpu", "dockerfile"),
    ("serving.dockerfile", "dockerfile"),
    (".github/workflows/ci.yml", "github-workflow"),
    (".gitlab-ci.yml", "gitlab-ci"),
    ("docker-compose.prod.yml", "compose"),
    ("compose.yaml", "compose"),
    ("MLproject", "mlproject"),
    ("dvc.yaml", "dvc"),
    (".dvc/config", "dvc-config"),
    ("bentofile.yaml", "bentofile"),
    ("requirements-serving.txt", "requirements"),
    ("pyproject.toml", "pyproject"),
    ("charts/churn/values.yaml", "helm-values"),
    ("charts/churn/values-prod.yaml", "helm-values"),
    ("charts/churn/templates/deployment.yaml", "helm-template"),
    ("deploy/k8s/app.yaml", "yaml"),
    ("infra/template.json", "json"),
    # Every CI system whose path names it; a monorepo project's own workflows too.
    ("services/scoring/.github/workflows/ci.yml", "github-workflow"),
    ("azure-pipelines.yml", "azure-pipelines"),
    (".azure-pipelines/train.yml", "azure-pipelines"),
    (".circleci/config.yml", "circleci"),
    ("bitbucket-pipelines.yml", "bitbucket-pipelines"),
    (".buildkite/pipeline.yml", "buildkite"),
    ("cloudbuild.yaml", "cloudbuild"),
    ("ml/cloudbuild-train.yaml", "cloudbuild"),
    ("buildspec.yml", "codebuild"),
    # CodeBuild buildspecs named after their project (what `buildspec = "..."` of aws_codebuild_project points at),
    # and YAML whose name only contains the letters.
    ("terraform/modelbuild_buildspec.yml", "codebuild"),
    ("modeldeploy_pipeline/test/test_buildspec_singleaccount.yml", "codebuild"),
    ("ci/buildspec-deploy.yaml", "codebuild"),
    ("ci/prod.buildspec.yaml", "codebuild"),
    ("buildspecs.yml", "codebuild"),
    ("docs/buildspecification-notes.yml", "yaml"),
    ("config/rebuildspec_cache.yml", "yaml"),
    (".drone.yml", "drone"),
    ("Jenkinsfile", "text"),
    ("models/model.pkl", None),
    ("assets/logo.png", None),
])
def test_path_kinds(path: str, kind: str | None) -> None:
    charts = chart_directories(["charts/churn/Chart.yaml"])
    assert path_kind(path, charts) == kind


def test_content_decides_manifest_kinds_document_by_document() -> None:
    manifest = "apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: serving.kserve.io/v1beta1\n" \
               "kind: InferenceService\n---\napiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\n"
    assert content_kinds("yaml", manifest) == {"kubernetes", "kserve", "seldon"}
    assert content_kinds("yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n") == {"cloudformation"}
    sam = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
    assert content_kinds("yaml", sam) == {"cloudformation"}
    assert content_kinds("json", '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}') == {"cloudformation"}
    assert content_kinds("yaml", "name: churn\nsteps: []\n") == {"yaml"}
    assert content_kinds("azure-pipelines", "steps: []\n") == {"azure-pipelines"}


@pytest.mark.parametrize("schema_line", [
    "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
    "$schema: 'https://azuremlschemasprod.azureedge.net/latest/commandJob.schema.json'",
    '"$schema": "https://azuremlsdk2.blob.core.windows.net/preview/0.0.1/autoMLJob.schema.json"',
    "$schema: http://AzureMLSchemas.azureedge.net/development/pipelineJob.schema.json",
])
def test_an_azureml_specification_is_azureml_and_stays_yaml(schema_line: str) -> None:
    assert content_kinds("yaml", f"{schema_line}\nname: blue\ninstance_count: 1\n") == {"azureml", "yaml"}


@pytest.mark.parametrize("text", [
    # a schema of another host, a nested `$schema`, or the name of the host in a comment only
    "$schema: https://json.schemastore.org/github-workflow.json\nname: ci\n",
    "definitions:\n  $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n",
    "# see https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: churn\n",
])
def test_yaml_that_only_mentions_azureml_schemas_stays_yaml(text: str) -> None:
    assert content_kinds("yaml", text) == {"yaml"}


def test_azureml_schema_names_the_schema_of_a_document() -> None:
    deployment, other, listed = parse_yaml(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\nname: blue\n"
        "---\n$schema: https://example.com/deployment.schema.json\n---\n- a\n")
    assert azureml_schema(deployment.root) == "managedOnlineDeployment"
    assert azureml_schema(other.root) is None
    assert azureml_schema(listed.root) is None
    kinds = frozenset({"azureml", "yaml"})
    assert [document_kind(kinds, d) for d in (deployment, other, listed)] == ["azureml", "yaml", "yaml"]


@pytest.mark.parametrize("text", [
    "name: churn\nchannels:\n  - conda-forge\ndependencies:\n  - numpy=1.26\n",
    "name: churn\ndependencies:\n  - python=3.10\n  - pip\n",
    "dependencies:  # the training image\n  - \"python>=3.10\"\n",
    "dependencies:\n  - python\n",
    "dependencies:\n  - conda-forge::python=3.11\n  - numpy=1.26.4\n",
    "dependencies:\n  - numpy\n  - pip:\n      - mlflow==2.12.1\n",
])
def test_a_conda_environment_file_is_conda_and_stays_yaml(text: str) -> None:
    assert content_kinds("yaml", text) == {"conda", "yaml"}
    (document,) = parse_yaml(text)
    assert document_kind(frozenset({"conda", "yaml"}), document) == "conda"


@pytest.mark.parametrize("text", [
    # Helm Chart.yaml: `dependencies:` are subcharts (one may even be called python)
    "apiVersion: v2\nname: churn\ndependencies:\n  - name: postgresql\n    version: 12.1.0\n"
    "    repository: https://charts.bitnami.com/bitnami\n  - name: python\n    version: 1.0.0\n",
    # a package manifest of another ecosystem, and a nested conda-like block
    "name: app\ndependencies:\n  - python-dateutil\n  - requests\n",
    "build:\n  channels:\n    - conda-forge\n  dependencies:\n    - python=3.10\n",
])
def test_yaml_with_dependencies_that_is_not_a_conda_environment_stays_yaml(text: str) -> None:
    assert content_kinds("yaml", text) == {"yaml"}


def test_yaml_rules_read_azureml_and_conda_documents_and_refined_rules_read_only_them() -> None:
    assert reads_kind(frozenset({"yaml"}), "azureml") and reads_kind(frozenset({"yaml"}), "conda")
    assert reads_kind(frozenset({"azureml"}), "azureml")
    assert not reads_kind(frozenset({"azureml"}), "yaml")
    assert not reads_kind(frozenset({"conda"}), "azureml")
    assert not reads_kind(frozenset({"kubernetes"}), "azureml")


def test_a_yaml_rule_judges_an_azureml_job(tmp_path: Path, catalog: Catalog) -> None:
    write_tree(tmp_path, {"jobs/train.yml": (
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        "command: python train.py\n"
        "environment: azureml:churn-env:3\n"
        "environment_variables:\n"
        "  SCORING_API_URL: http://scoring.acme-corp.com/api\n"
        "compute: azureml:cpu-cluster\n")})
    result = scan_tree(tmp_path, catalog, rules=["PFA-EN-007"])
    assert [(f.rule_id, f.path, f.span.line) for f in result.findings] == [("PFA-EN-007", "jobs/train.yml", 5)]


@pytest.mark.parametrize(("path", "scope"), [
    ("serving/app.py", "production"),
    ("tests/test_app.py", "test"),
    ("serving/test_app.py", "test"),
    ("serving/app_test.py", "test"),
    ("conftest.py", "test"),
    ("services/churn/tests/unit/test_x.py", "test"),
    ("docker-compose.dev.yml", "dev"),
    (".devcontainer/devcontainer.json", "dev"),
    ("deploy/overlays/dev/kustomization.yaml", "dev"),
    ("docs/tutorial.py", "example"),
    ("examples/quickstart/train.py", "example"),
    ("versioned_docs/version-0.16/model-serving/custom/model.py", "example"),
    ("scheduler/data-flow/src/main/resources/local.properties", "dev"),
    ("src/main/resources/application.properties", "production"),
    ("notebooks/eda.ipynb", "notebook"),
    ("docker-compose.yml", "production"),
    # Test and fixture code wherever it lives (issue 11), including a real repository's misspelling.
    ("06-best-practices/code/integraton-test/docker-compose.yaml", "test"),
    ("serving/test.py", "test"),
    ("pkg/testdata/input.json", "test"),
    ("pkg/test_data/rows.csv", "test"),
    ("api/fixtures/request.json", "test"),
    ("services/e2e/run.py", "test"),
    ("load/locust/locustfile.py", "test"),
    ("src/integrations/slack.py", "production"),
    # Vendored and generated code, project templates.
    ("pkg/_vendor/six.py", "vendored"),
    ("vendor/github.com/x/y.yaml", "vendored"),
    ("third_party/kfp/component.py", "vendored"),
    ("manifests/upstream/istio/install.yaml", "vendored"),
    ("{{cookiecutter.project_slug}}/app.py", "example"),
    # Teaching material and lesson layouts.
    ("cohorts/2023/02-experiment-tracking/homework/train.py", "example"),
    ("week_3/homework_solution/app.py", "example"),
    ("immersion/guided_project_1_solution/pipeline.py", "example"),
    ("on_demand/lab-03-kfp-cicd/exercises/cloudbuild.yaml", "example"),
    ("01-intro/duration-prediction.py", "example"),
    # Dev tooling.
    ("devtools/seed.sh", "dev"),
    ("Tiltfile", "dev"),
    ("skaffold.dev.yaml", "dev"),
])
def test_default_scopes(path: str, scope: str) -> None:
    assert ScopeRules.build({}).scope_of(path) == scope


def test_each_scope_says_what_decided_it() -> None:
    rules = ScopeRules.build({"example": ["sandbox/**"]})
    assert rules.explain("sandbox/app.py") == ("example", "policy example glob sandbox/**")
    assert rules.explain("pkg/_vendor/six.py") == ("vendored", "default vendored glob **/_vendor/**")
    assert rules.explain("serving/app.py") == ("production", "")


def test_a_compose_file_that_only_starts_emulators_is_test_scope() -> None:
    rules = ScopeRules.build({})
    emulators = "services:\n  aws:\n    image: localstack/localstack:3.0\n  api:\n    image: wiremock/wiremock\n"
    assert rules.explain("docker-compose.yml", lambda path: emulators) == (
        "test", "compose file that only starts emulators (localstack/localstack:3.0, wiremock/wiremock)")
    real = emulators + "  model:\n    build: .\n"
    assert rules.scope_of("docker-compose.yml", lambda path: real) == "production"
    assert rules.scope_of("docker-compose.yml", lambda path: "services:\n  db:\n    image: postgres:16\n") == \
        "production"


def test_policy_scope_globs_come_first() -> None:
    rules = ScopeRules.build({"production": ["examples/reference-service/**"], "dev": ["sandbox/**"]})
    assert rules.scope_of("examples/reference-service/app.py") == "production"
    assert rules.scope_of("sandbox/app.py") == "dev"
    assert rules.scope_of("examples/other/app.py") == "example"


def test_own_outputs_and_excluded_paths_are_skipped_with_the_reason(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {"app.py": "", "reports/scan.json": "{}", "build/gen.py": "", ".pfa-baseline.json": "{}",
                             "cache/ab/entry.json": "{}", "src/reports/scan.json": "{}"})
    found = discover(tmp_path, ("src/**",), {"reports/scan.json", ".pfa-baseline.json", "cache"})
    assert [f.path for f in found.files] == ["app.py"]
    assert found.skipped == (
        (".pfa-baseline.json", "pfa-policy's own output"),
        ("build/gen.py", "excluded by build"),
        ("cache/ab/entry.json", "pfa-policy's own output"),
        ("reports/scan.json", "pfa-policy's own output"),
        ("src/reports/scan.json", "excluded by src/**"),
    )


def test_a_directory_walk_names_the_directories_it_does_not_enter(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.py": "", ".venv/lib/site.py": "", "out/report.sarif": "{}", "out/keep.py": ""})
    (tmp_path / "linked.py").symlink_to(tmp_path / "app.py")
    found = discover(tmp_path, (), {"out/report.sarif", ".cache"})
    assert [f.path for f in found.files] == ["app.py", "out/keep.py"]
    assert found.skipped == ((".venv/", "excluded by .venv"), ("linked.py", "symbolic link"),
                             ("out/report.sarif", "pfa-policy's own output"))


def test_files_a_library_generated_beside_its_artefact_are_skipped_with_the_reason(tmp_path: Path) -> None:
    mlflow = "generated by MLflow (an MLflow model directory)"
    datasets = "generated by Hugging Face datasets (a saved dataset)"
    make_git_repo(tmp_path, {
        "requirements.txt": "fastapi==0.115.0\n", "serving/app.py": "",
        # `mlflow.sklearn.log_model` writes these; requirements.txt holds the versions it inferred
        "models/churn/MLmodel": "artifact_path: model\n", "models/churn/requirements.txt": "numpy\n",
        "models/churn/conda.yaml": "name: mlflow-env\n", "models/churn/code/features.py": "",
        # `Dataset.save_to_disk` writes these
        "data/squad/dataset_info.json": "{}", "data/squad/state.json": "{}",
        "mlruns/0/meta.yaml": "artifact_location: file:///tmp/mlruns/0\n",
        # look-alikes: a service's own requirements and a dataset card are not generated
        "models/requirements.txt": "numpy==1.26.4\n", "data/README.md": "",
    })
    found = discover(tmp_path)
    assert [f.path for f in found.files] == ["data/README.md", "models/requirements.txt", "requirements.txt",
                                             "serving/app.py"]
    assert dict(found.skipped) == {
        "data/squad/dataset_info.json": datasets, "data/squad/state.json": datasets,
        "mlruns/0/meta.yaml": "excluded by mlruns",
        "models/churn/MLmodel": mlflow, "models/churn/code/features.py": mlflow,
        "models/churn/conda.yaml": mlflow, "models/churn/requirements.txt": mlflow,
    }


def test_an_mlflow_model_at_the_root_leaves_out_only_the_files_mlflow_writes(tmp_path: Path) -> None:
    make_git_repo(tmp_path, {"MLmodel": "artifact_path: model\n", "requirements.txt": "numpy\n",
                             "conda.yaml": "name: mlflow-env\n", "Dockerfile": "FROM python:3.12\n",
                             "serve.py": ""})
    assert _paths(tmp_path) == ["Dockerfile", "serve.py"]


def test_a_manifest_that_only_runs_third_party_cluster_add_ons_is_vendored() -> None:
    rules = ScopeRules.build({})
    argo = ("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
            "      - image: argoproj/argocd-server:v0.10.6\n      - image: quay.io/dexidp/dex:v2.11.0\n")
    assert rules.explain("demo/k8s_specs/argo_cd.yaml", lambda path: argo) == (
        "vendored", "copy of third-party cluster add-ons (argoproj/argocd-server:v0.10.6, quay.io/dexidp/dex:v2.11.0)")
    driver = ('apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      initContainers:\n'
              '      - image: "cos-nvidia-installer:fixed"\n      containers:\n'
              '      - image: "gcr.io/google-containers/pause:2.0"\n')
    assert rules.explain("k8s_specs/daemonset-preloaded.yaml", lambda path: driver)[0] == "vendored"
    # look-alikes: the team's own workload next to an add-on, and a values file naming an add-on image
    own = argo + "      - image: registry.acme.io/ranker:1.4.0\n"
    assert rules.explain("deploy/argo.yaml", lambda path: own) == ("production", "")
    assert rules.explain("deploy/values.yaml", lambda path: "image: argoproj/argocd:v2.9.0\n") == ("production", "")
