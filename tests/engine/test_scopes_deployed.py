"""Teaching material that a CI pipeline of the repository builds and deploys keeps the production scope (issue 11:
MLOps-Basics builds `week_9_monitoring/` and deploys it to Lambda); a lesson CI only tests stays an example."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.classify import DeployedDirectory, ScopeRules
from pfa_policy.engine.deployed_scope import deployed_directories
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.repository import read_text
from pfa_policy.engine.trace import Trace
from tests.conftest import make_git_repo, scan_tree

_HANDLER = "def lambda_handler(event, context):\n    print(event)\n    return {'statusCode': 200}\n"
# The workflow of graviraja/MLOps-Basics (558adce), shortened: the job's working directory is the lesson, the
# image is built there and the Lambda function updated with it.
_MLOPS_BASICS = """\
name: Create Docker Container
on: [push]
jobs:
  mlops-container:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: ./week_9_monitoring
    steps:
    - uses: actions/checkout@v2
    - name: Build container
      run: |
        docker build --build-arg AWS_ACCOUNT_ID=${{ secrets.AWS_ACCOUNT_ID }} \\
                     --tag mlops-basics .
    - name: Update lambda with image
      run: aws lambda update-function-code --function-name MLOps-Basics --image-uri 1234.dkr.ecr.aws/mlops:latest
"""
_COURSE = {
    "week_1_project_setup/train.py": "print('training')\n",
    "week_8_serverless/lambda_handler.py": _HANDLER,
    "week_9_monitoring/lambda_handler.py": _HANDLER,
    "week_9_monitoring/Dockerfile": "FROM amazon/aws-lambda-python:3.12\nCOPY . .\n",
    "week_9_monitoring/README.md": "# Monitoring\n",
    "week_9_monitoring/notebooks/eda.ipynb": "{}",
    "week_9_monitoring/tests/test_handler.py": "def test_x():\n    pass\n",
}


def _scopes(root: Path, catalog: Catalog, **policy: object) -> dict[str, tuple[str, str]]:
    trace = Trace()
    scan_tree(root, catalog, rules=["PFA-TE-007"], trace=trace, policy=policy or None)
    return trace.scopes


def test_a_lesson_directory_ci_builds_and_deploys_is_production_and_verbose_says_why(tmp_path: Path,
                                                                                    catalog: Catalog) -> None:
    make_git_repo(tmp_path, {**_COURSE, ".github/workflows/build_docker_image.yaml": _MLOPS_BASICS})
    trace = Trace()
    result = scan_tree(tmp_path, catalog, rules=["PFA-TE-007"], trace=trace)
    why = "built and deployed by .github/workflows/build_docker_image.yaml (job mlops-container)"
    assert trace.scopes["week_9_monitoring/lambda_handler.py"] == ("production", why)
    assert trace.scopes["week_9_monitoring/Dockerfile"] == ("production", why)
    assert f"scope production week_9_monitoring/lambda_handler.py: {why}" in trace.lines()
    # Only the teaching-material globs give way: documentation, notebooks and tests keep their scopes, and the
    # lessons CI does not build stay examples.
    assert trace.scopes["week_9_monitoring/README.md"] == ("example", "default example glob *.md")
    assert trace.scopes["week_9_monitoring/notebooks/eda.ipynb"] == ("notebook", "default notebook glob *.ipynb")
    assert trace.scopes["week_9_monitoring/tests/test_handler.py"][0] == "test"
    assert trace.scopes["week_8_serverless/lambda_handler.py"][0] == "example"
    assert trace.scopes["week_1_project_setup/train.py"][0] == "example"
    # The deployed handler's print() is reported; the same handler in the lesson before it is not.
    assert [(f.rule_id, f.path) for f in result.findings] == [("PFA-TE-007", "week_9_monitoring/lambda_handler.py")]


def test_a_lesson_directory_ci_only_tests_or_lints_or_builds_without_deploying_stays_an_example(
        tmp_path: Path, catalog: Catalog) -> None:
    workflow = """\
on: [push]
jobs:
  lint:
    runs-on: ubuntu-latest
    defaults: {run: {working-directory: week_8_serverless}}
    steps:
      - run: flake8 . && docker build -t lesson-8 .
  test:
    runs-on: ubuntu-latest
    steps:
      - run: cd week_9_monitoring && python -m pytest
  release:
    needs: [test]
    runs-on: ubuntu-latest
    steps:
      - run: cd week_1_project_setup && flake8 .
      - run: helm upgrade --install churn ./chart
"""
    make_git_repo(tmp_path, {**_COURSE, ".github/workflows/ci.yml": workflow})
    scopes = _scopes(tmp_path, catalog)
    assert {p: s for p, (s, _) in scopes.items() if p.endswith((".py", "Dockerfile")) and "tests/" not in p} == {
        "week_1_project_setup/train.py": "example",
        "week_8_serverless/lambda_handler.py": "example",
        "week_9_monitoring/Dockerfile": "example",
        "week_9_monitoring/lambda_handler.py": "example",
    }


def test_a_build_job_a_deploying_job_needs_and_other_ways_to_name_the_directory(tmp_path: Path) -> None:
    workflow = """\
on:
  push: {branches: [main]}
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t api -f week_9_monitoring/Dockerfile .
      - uses: docker/build-push-action@v6
        with: {context: ./labs/serving, push: true, tags: "acme/serving:${{ github.sha }}"}
      - run: docker build --platform linux/amd64 -t cli homework/03-cli
  deploy:
    needs: image
    runs-on: ubuntu-latest
    steps:
      - run: aws lambda update-function-code --function-name api --image-uri "acme/api:${{ github.sha }}"
  e2e:
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t smoke week_2_hydra_config
      - uses: helm/kind-action@v1
      - run: kubectl apply -f k8s/
"""
    gitlab = """\
stages: [build, deploy]
build:
  stage: build
  script:
    - cd lessons/serverless
    - docker build -t fn .
deploy:
  stage: deploy
  script: [sam deploy --no-confirm-changeset]
"""
    make_git_repo(tmp_path, {".github/workflows/release.yml": workflow, ".gitlab-ci.yml": gitlab,
                             "week_6/.github/workflows/own.yml": workflow.replace("week_2", "week_6"),
                             "week_9_monitoring/app.py": ""})
    paths = [".github/workflows/release.yml", ".gitlab-ci.yml", "week_6/.github/workflows/own.yml",
             "week_9_monitoring/app.py"]
    found = deployed_directories(tmp_path, paths, ScopeRules.build({}), lambda p: read_text(tmp_path, p))
    assert found == (
        DeployedDirectory("homework/03-cli", ".github/workflows/release.yml", "image"),
        DeployedDirectory("labs/serving", ".github/workflows/release.yml", "image"),
        DeployedDirectory("lessons/serverless", ".gitlab-ci.yml", "build"),
        DeployedDirectory("week_9_monitoring", ".github/workflows/release.yml", "image"),
    )  # not week_2 (an end-to-end job on a kind cluster), not week_6's own workflow (itself teaching material)


def test_the_policy_scopes_still_decide(tmp_path: Path, catalog: Catalog) -> None:
    make_git_repo(tmp_path, {**_COURSE, ".github/workflows/build_docker_image.yaml": _MLOPS_BASICS})
    scopes = _scopes(tmp_path, catalog, scopes={"example": ["week_9_monitoring/**"]})
    assert scopes["week_9_monitoring/lambda_handler.py"] == ("example", "policy example glob week_9_monitoring/**")


def test_scope_rules_lift_only_the_teaching_globs() -> None:
    rules = ScopeRules.build({}).with_deployed([DeployedDirectory("week_9", ".github/workflows/x.yml")])
    assert rules.explain("week_9/app.py") == ("production", "built and deployed by .github/workflows/x.yml")
    assert rules.explain("week_9/docs/guide.py") == ("example", "default example glob **/docs/**")
    assert rules.explain("week_9/vendor/lib.py") == ("vendored", "default vendored glob **/vendor/**")
    assert rules.explain("week_9/dev-tools/seed.py") == ("dev", "default dev glob **/dev-tools/**")
    assert rules.explain("week_10/app.py") == ("example", "default example glob **/week[-_0-9]*/**")
    assert rules.explain("serving/app.py") == ("production", "")
