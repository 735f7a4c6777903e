"""The escape hatch: checks the declarative vocabulary cannot express, registered by name, one module a pillar
(`ml_models`, `ml_pipelines` and `ml_training` hold the model-handling checks of several pillars,
`lambda_functions` those about Lambda functions in CloudFormation / SAM templates).

A rule names a predicate in its `match` (`predicate: <name>`); the loader rejects unknown names. Each pillar
module exposes plain dicts; nothing registers itself on import.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

_MODULES = ("access_control", "audit_logging", "authentic_integrations", "cicd", "data_governance", "encryption",
            "operability", "telemetry", "ml_models", "ml_pipelines", "ml_training", "parity", "serving",
            "lambda_functions", "serverless_apis", "cloudformation_images", "helm_commands", "gcp_terraform",
            "vertex_sdk", "model_servers", "argo_workflows", "k8s_storage", "github_oidc",
            "terraform_state")

PYTHON: Mapping[str, Any]
DOCUMENT: Mapping[str, Any]
DOCKERFILE: Mapping[str, Any]
REPOSITORY: Mapping[str, Any]
# Each repository predicate's precondition: whether it has something to judge (readiness counts it only then).
REPOSITORY_APPLIES: Mapping[str, Any]
REGISTRIES: Mapping[str, Mapping[str, Any]]  # the four registries a rule's `predicate:` can name, by family


def __getattr__(name: str) -> Any:
    """The registries, built on first use: a scan answered from its caches still imports one pillar module
    (scopes need `cicd.ci_files`), and that must not import the other twelve."""
    if name not in __annotations__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    registries = _registries()
    globals().update(registries)
    return registries[name]


def _registries() -> dict[str, Any]:
    modules = [importlib.import_module(f"{__name__}.{module}") for module in _MODULES]

    def merge(attribute: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for module in modules:
            for name, function in getattr(module, attribute, {}).items():
                if name in merged:
                    raise RuntimeError(f"predicate '{name}' registered twice")
                merged[name] = function
        return merged

    found = {attribute: merge(attribute) for attribute in
             ("PYTHON", "DOCUMENT", "DOCKERFILE", "REPOSITORY", "REPOSITORY_APPLIES")}
    if found["REPOSITORY_APPLIES"].keys() != found["REPOSITORY"].keys():
        raise RuntimeError(f"repository predicates without a precondition, or the reverse: "
                           f"{sorted(found['REPOSITORY_APPLIES'].keys() ^ found['REPOSITORY'].keys())}")
    found["REGISTRIES"] = {family: found[family.upper()] for family in ("python", "document", "dockerfile",
                                                                           "repository")}
    return found
