"""Repository-level CI rules read the pipelines the document rules read (issue 11): every CI system, nested
workflows included, in the rule's scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.engine.loader import Catalog
from tests.conftest import make_git_repo, scan_tree

_CODE = {"churn/train.py": "def train():\n    return 1\n"}


@pytest.mark.parametrize(("path", "text"), [
    ("services/scoring/.github/workflows/ci.yml", "on: [pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
     "    steps:\n      - run: pytest\n"),
    ("Jenkinsfile.release", "pipeline { agent any }\n"),
    (".pipelines/ci.yml", "trigger: [main]\npool: {vmImage: ubuntu-latest}\nsteps:\n  - script: pytest\n"),
    ("ci/tekton/pipeline.yaml", "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: ci}\nspec:\n"
     "  tasks: []\n"),
    ("workflows/ci.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: ci}\nspec:\n"
     "  entrypoint: test\n"),
    ("config/jobs/churn/churn-presubmits.yaml", "presubmits:\n  acme/churn:\n    - name: pull-churn-test\n"
     "      spec:\n        containers: [{image: python:3.11, command: [pytest]}]\n"),
    ("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: [pytest]\n"),
    ("terraform/modelbuild_buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: [pytest]\n"),
    ("terraform/codebuild.tf", 'resource "aws_codebuild_project" "test" {\n  name = "churn-test"\n}\n'),
    ("terraform/pipeline.tf", 'resource "aws_codepipeline" "churn" {\n  name = "churn"\n}\n'),
    ("pipeline.yaml", "Resources:\n  Build:\n    Type: AWS::CodeBuild::Project\n    Properties: {Name: churn}\n"),
    (".circleci/config.yml", "version: 2.1\njobs: {}\n"),
    ("cloudbuild.yaml", "steps:\n  - name: python\n    args: [pytest]\n"),
])
def test_any_ci_system_is_a_pipeline(tmp_path: Path, catalog: Catalog, path: str, text: str) -> None:
    make_git_repo(tmp_path, {**_CODE, path: text})
    result = scan_tree(tmp_path, catalog, rules=["PFA-CI-001"])
    assert result.findings == ()


def test_no_pipeline_is_never_reported_beside_findings_inside_one(tmp_path: Path, catalog: Catalog) -> None:
    workflow = "on: [pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    make_git_repo(tmp_path, {**_CODE, "seedcode/.github/workflows/build.yml": workflow})
    result = scan_tree(tmp_path, catalog, rules=["PFA-CI-001", "PFA-CI-011"])
    assert [(f.rule_id, f.path) for f in result.findings] == [("PFA-CI-011", "seedcode/.github/workflows/build.yml")]


def test_infrastructure_that_builds_nothing_is_no_pipeline(tmp_path: Path, catalog: Catalog) -> None:
    infra = 'resource "aws_codecommit_repository" "churn" {\n  repository_name = "churn"\n}\n'
    make_git_repo(tmp_path, {**_CODE, "terraform/repo.tf": infra})
    result = scan_tree(tmp_path, catalog, rules=["PFA-CI-001"])
    assert [f.rule_id for f in result.findings] == ["PFA-CI-001"]


def test_pipelines_of_course_material_do_not_count(tmp_path: Path, catalog: Catalog) -> None:
    make_git_repo(tmp_path, {**_CODE, "labs/lab-01/cloudbuild.yaml": "steps: []\n"})
    result = scan_tree(tmp_path, catalog, rules=["PFA-CI-001"])
    assert [f.rule_id for f in result.findings] == ["PFA-CI-001"]
