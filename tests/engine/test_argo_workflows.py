"""PFA-DG-014 on Argo Workflows steps: which shell lines a step runs."""

from __future__ import annotations

from pfa_policy.engine.predicates.argo_workflows import dg_argo_pip_unpinned
from pfa_policy.parsers.yaml_doc import parse_yaml

_WORKFLOW = """apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly
spec:
  schedule: "0 2 * * *"
  workflowSpec:
    templates:
      - name: a
        container:
          image: python:3.11.9
          command: [/bin/bash, -ec, "pip install boto3 && python a.py"]
      - name: b
        container:
          image: python:3.11.9
          command: [python, -m, pip]
          args: [install, sagemaker]
      - name: c
        initContainers:
          - name: deps
            image: python:3.11.9
            command: [sh, -c]
            args: ["pip install -r requirements.txt"]
        container:
          image: python:3.11.9
          command: [sh]
          args: [run.sh, -c, "pip install x"]
      - name: d
        script:
          image: python:3.11.9
          command: [sh]
          source: pip install "scikit-learn>=1.5"
"""


def test_argo_step_shells() -> None:
    hits = [(hit.span.line, dict(hit.values)["name"]) for doc in parse_yaml(_WORKFLOW)
            for hit in dg_argo_pip_unpinned(doc, {"exempt_packages": ["pip"]})]
    # `sh run.sh -c ...` runs a file (its -c is the file's argument); a requirements file is pinned; the
    # init container's `-r` is not reported, `pip` itself is exempt.
    assert hits == [(12, "boto3"), (16, "sagemaker"), (32, "scikit-learn>=1.5")]
