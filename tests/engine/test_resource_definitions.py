"""CustomResourceDefinitions are API schemas: no rule reads them, and the documents beside them keep their lines."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.loader import Catalog
from tests.conftest import scan_tree, write_tree

_KEY = "AKIA" + "Q3EGRDZ2KH7NXLWM"  # split: this file is scanned too
_MANIFEST = f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: models.serving.example.com
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          description: "for example {_KEY}"
          properties:
            image: {{type: string, default: "registry.example.com/model:latest"}}
---
apiVersion: v1
kind: Secret
metadata:
  name: cloud
stringData:
  AWS_ACCESS_KEY_ID: {_KEY}
"""


def test_nothing_in_a_definition_is_reported_and_the_next_document_keeps_its_lines(tmp_path: Path,
                                                                                  catalog: Catalog) -> None:
    root = write_tree(tmp_path / "repo", {"deploy/serving.yaml": _MANIFEST})
    findings = scan_tree(root, catalog).findings
    lines = {(f.rule_id, f.span.line) for f in findings if f.path == "deploy/serving.yaml"}
    assert ("PFA-EN-012", 19) in lines  # the key material, in the Secret only
    assert all(line > 13 for _, line in lines), lines
