"""The document vocabulary: selectors, paths, macros and conditions, reporting at the offending key."""

from __future__ import annotations

from typing import Any

import pytest

from pfa_policy.engine.document_match import DocumentPattern, match_documents, parse_path
from pfa_policy.model import PfaError
from pfa_policy.parsers.yaml_doc import parse_yaml

_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn-api
  annotations:
    prometheus.io/scrape: "true"
spec:
  replicas: 1
  template:
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: api
          image: registry.internal/churn-api:latest
          env:
            - name: USE_MOCK_FEATURES
              value: "true"
        - name: sidecar
          image: envoy:1.29
          securityContext:
            privileged: true
          readinessProbe:
            httpGet: {path: /ready, port: 9901}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
spec:
  predictor:
    sklearn:
      storageUri: s3://models/churn
"""


def _lines(spec: dict[str, Any], text: str = _DEPLOYMENT) -> list[int]:
    pattern = DocumentPattern.compile(spec)
    return [hit.span.line for doc in parse_yaml(text) for hit in match_documents((pattern,), doc, {}, {})]


def test_container_macro_missing_condition_reports_the_container() -> None:
    assert _lines({"kinds": ["Deployment"], "for_each": "$containers",
                   "where": [{"path": "readinessProbe", "missing": True}]}) == [14]


def test_value_condition_reports_the_offending_key() -> None:
    assert _lines({"for_each": "$containers", "where": [{"path": "image", "matches": ":latest$"}]}) == [15]
    assert _lines({"for_each": "$containers", "where": [{"path": "securityContext.privileged", "equals": True}]}) \
        == [22]


def test_pod_context_and_any_not() -> None:
    spec = {"for_each": "$containers", "where": [{"not": {"any": [
        {"path": "securityContext.runAsNonRoot", "equals": True},
        {"path": "$pod.securityContext.runAsNonRoot", "equals": True},
    ]}}]}
    # The Deployment's pod sets runAsNonRoot for both containers; the KServe predictor sets nothing.
    assert _lines(spec) == [32]


def test_kserve_framework_predictor_is_a_container() -> None:
    assert _lines({"api_versions": ["serving.kserve.io/*"], "for_each": "$containers",
                   "where": [{"path": "storageUri", "exists": True}]}) == [33]


_ARGO = """apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: train
spec:
  securityContext: {runAsNonRoot: true}
  templateDefaults:
    container:
      resources: {limits: {memory: 1Gi}}
  templates:
    - name: pipeline
      steps:
        - - {name: train, template: train}
    - name: train
      initContainers:
        - {name: fetch, image: alpine/git}
      container:
        image: registry.internal/trainer:2.1.0
    - name: report
      script:
        image: python:3.11.9-slim
        source: print(1)
    - name: fan-out
      containerSet:
        containers:
          - {name: a, image: busybox:1.36}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-workflow
spec:
  templates:
    - name: x
      container: {image: busybox:1.36}
"""


def test_argo_workflow_steps_are_containers() -> None:
    # container, script and containerSet containers (not the steps template, not a look-alike ConfigMap);
    # initContainers only for $all_containers.
    assert _lines({"for_each": "$containers", "where": [{"path": "args", "missing": True}]}, _ARGO) \
        == [17, 20, 26]
    assert _lines({"for_each": "$all_containers", "where": [{"path": "args", "missing": True}]}, _ARGO) \
        == [17, 16, 20, 26]  # a template's main container first, then its init containers
    # templateDefaults.container gives the container (not the script) its resources; the workflow's
    # securityContext is each template's pod context.
    assert _lines({"for_each": "$containers", "where": [{"path": "resources.limits.memory", "missing": True}]},
                  _ARGO) == [20, 26]
    assert _lines({"for_each": "$containers", "where": [
        {"path": "$pod.securityContext.runAsNonRoot", "equals": True}]}, _ARGO) == [6, 6, 6]  # the inherited key


def test_env_macro_and_quoted_keys() -> None:
    assert _lines({"for_each": "$env", "where": [{"path": "name", "matches": "^USE_MOCK"},
                                                 {"path": "value", "matches": "(?i)^true$"}]}) == [17]
    assert _lines({"kinds": ["Deployment"],
                   "where": [{"path": 'metadata.annotations["prometheus.io/scrape"]', "equals": "true"}]}) == [6]


def test_numeric_comparison_and_report_override() -> None:
    assert _lines({"kinds": ["Deployment"], "where": [{"path": "spec.replicas", "lt": 2}]}) == [8]
    assert _lines({"kinds": ["Deployment"], "where": [{"path": "spec.replicas", "le": 1}],
                   "report": "metadata.name"}) == [4]


def test_env_macro_for_compose_shapes() -> None:
    compose = ("services:\n  api:\n    environment:\n      USE_MOCK: 'true'\n      LOG_LEVEL: info\n"
               "  worker:\n    environment:\n      - FAKE_QUEUE=1\n      - QUEUE=prod\n")
    spec = {"for_each": "$env", "where": [{"path": "name", "matches": "^(USE_MOCK|FAKE_)"}]}
    assert _lines(spec, compose) == [4, 8]


def test_cloudformation_resources_with_short_tags() -> None:
    template = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  ModelBucket:\n    Type: AWS::S3::Bucket\n"
                "    Properties:\n      BucketName: !Sub '${AWS::StackName}-models'\n"
                "  Encrypted:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketEncryption:\n"
                "        ServerSideEncryptionConfiguration: []\n")
    spec = {"resource_types": ["AWS::S3::Bucket"], "where": [{"path": "Properties.BucketEncryption",
                                                               "missing": True}]}
    assert _lines(spec, template) == [3]


def test_deep_paths_and_wildcards() -> None:
    workflow = ("on: [push]\njobs:\n  test:\n    steps:\n      - uses: actions/checkout@v4\n"
                "      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b\n")
    spec = {"for_each": "jobs.*.steps[*]", "where": [{"path": "uses", "not_matches": "@[0-9a-f]{40}$"}]}
    assert _lines(spec, workflow) == [5]
    assert _lines({"where": [{"path": "**.uses", "matches": "checkout"}]}, workflow) == [5]


def test_bad_paths_are_rejected() -> None:
    with pytest.raises(PfaError):
        parse_path("spec..x[")
    assert parse_path('$pod.a["b.c"][*][2]') == ("pod", (("key", "a"), ("key", "b.c"), ("any", "*"),
                                                          ("index", "2")))


@pytest.mark.parametrize(("metadata", "resource"), [("name: churn-api", "churn-api"),
                                                    ("generateName: perf-test-", "perf-test-*")])
def test_the_resource_value_names_the_object_also_when_generated(metadata: str, resource: str) -> None:
    # A Job named by generateName only used to leave `{resource}` unfilled in messages.
    text = f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  {metadata}\nspec:\n  template:\n    spec:\n" \
           "      containers:\n        - name: load\n          image: locust:2.20\n"
    pattern = DocumentPattern.compile({"kinds": ["Job"], "for_each": "$containers",
                                       "where": [{"path": "resources", "missing": True}]})
    hits = [hit for doc in parse_yaml(text) for hit in match_documents((pattern,), doc, {}, {})]
    assert [dict(hit.values)["resource"] for hit in hits] == [resource]


_IAM_TEMPLATE = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "*"}]
      Policies:
        - PolicyName: one
          PolicyDocument:
            Statement: {Sid: Single, Effect: Allow, Action: "*", Resource: "*"}
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        Statement:
          - {Effect: Allow, Action: "*", Resource: "*"}
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Policies: [AWSLambdaBasicExecutionRole, {S3ReadPolicy: {BucketName: b}}, {Statement: [{Action: "*"}]}]
  Bucket:
    Type: AWS::S3::BucketPolicy
    Properties:
      PolicyDocument:
        Statement: [{Effect: Allow, Principal: "*", Action: "*", Resource: "*"}]
"""


def test_iam_statements_macro_reads_identity_policies_of_every_shape() -> None:
    """A single Statement object, a SAM policy document given as a mapping or as a list element; never a trust
    policy, a bucket policy or a SAM policy template."""
    spec: dict[str, Any] = {"for_each": "$iam_statements", "where": [{"path": "Action", "equals": "*"}]}
    assert _lines(spec, _IAM_TEMPLATE) == [10, 16, 20]
    pattern = DocumentPattern.compile(spec)
    paths = [dict(hit.values)["resource"] for doc in parse_yaml(_IAM_TEMPLATE)
             for hit in match_documents((pattern,), doc, {}, {})]
    assert paths == ["Role", "Function", "Other"]
    assert _lines({**spec, "resource_types": ["AWS::Serverless::Function"]}, _IAM_TEMPLATE) == [16, 20]


def _derived(spec: dict[str, Any]) -> set[tuple[str, ...]] | None:
    tokens = DocumentPattern.compile(spec).prefilter_tokens()
    return None if tokens is None else set(tokens)


@pytest.mark.parametrize(("spec", "expected"), [
    # Selectors: one of the kinds, the literal part of an apiVersion glob, a resource type.
    ({"kinds": ["Deployment", "StatefulSet"]}, {("deployment",), ("statefulset",)}),
    ({"kinds": ["Rollout"], "api_versions": ["argoproj.io/*"]}, {("rollout", "argoproj.io/")}),
    ({"resource_types": ["aws_s3_bucket"]}, {("aws_s3_bucket",)}),
    # A tested path passes through every key it names; `any` needs one branch; `missing` and `not` need nothing.
    ({"where": [{"path": "**.prometheusRule.enabled", "equals": True}]}, {("prometheusrule", "enabled")}),
    ({"where": [{"path": "kind", "missing": True},
                {"any": [{"path": "trigger", "exists": True}, {"path": "pool", "exists": True}]}]},
     {("trigger",), ("pool",)}),
    ({"where": [{"not": {"path": "spec.tls", "exists": True}}]}, None),
    # A plain for_each path must resolve too; a built element's keys may be spelled otherwise.
    ({"for_each": "steps[*]", "where": [{"path": "args", "exists": True}]}, {("steps", "args")}),
    ({"kinds": ["Deployment"], "for_each": "$env", "where": [{"path": "DEBUG", "exists": True}]},
     {("deployment",)}),
    ({"for_each": "$iam_statements", "where": [{"path": "NotAction", "exists": True}]}, None),
    # A predicate sees every selected document: only the selectors count.
    ({"kinds": ["Service"], "predicate": "p", "where": [{"path": "spec", "exists": True}]}, {("service",)}),
    ({"predicate": "p"}, None),
    ({"resource_types": ["*"]}, None),
])
def test_document_patterns_derive_what_a_matching_file_must_spell(
        spec: dict[str, Any], expected: set[tuple[str, ...]] | None) -> None:
    assert _derived(spec) == expected
