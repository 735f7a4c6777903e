"""The escape hatch: checks the declarative vocabulary cannot express, registered by name, one module a pillar
(`ml_models`, `ml_pipelines` and `ml_training` hold the model-handling checks of several pillars,
`lambda_functions` those about Lambda functions in CloudFormation / SAM templates).

A rule names a predicate in its `match` (`predicate: <name>`); the loader rejects unknown names. Each pillar
module exposes plain dicts; nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pfa_policy.engine.predicates import (
    access_control,
    audit_logging,
    authentic_integrations,
    cicd,
    data_governance,
    encryption,
    lambda_functions,
    ml_models,
    ml_pipelines,
    ml_training,
    operability,
    parity,
    serving,
    telemetry,
)

_MODULES = (access_control, audit_logging, authentic_integrations, cicd, data_governance, encryption,
            operability, telemetry, ml_models, ml_pipelines, ml_training, parity, serving, lambda_functions)


def _merge(attribute: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for module in _MODULES:
        for name, function in getattr(module, attribute, {}).items():
            if name in merged:
                raise RuntimeError(f"predicate '{name}' registered twice")
            merged[name] = function
    return merged


PYTHON: Mapping[str, Any] = _merge("PYTHON")
# First looks of Python predicates on the `ast` outline: False when the predicate cannot hit the module, so
# libcst need not parse it. A predicate without one is always run.
PYTHON_POSSIBLE: Mapping[str, Any] = _merge("PYTHON_POSSIBLE")
DOCUMENT: Mapping[str, Any] = _merge("DOCUMENT")
DOCKERFILE: Mapping[str, Any] = _merge("DOCKERFILE")
REPOSITORY: Mapping[str, Any] = _merge("REPOSITORY")
# Each repository predicate's precondition: whether it has something to judge (readiness counts it only then).
REPOSITORY_APPLIES: Mapping[str, Any] = _merge("REPOSITORY_APPLIES")
if REPOSITORY_APPLIES.keys() != REPOSITORY.keys():
    raise RuntimeError(f"repository predicates without a precondition, or the reverse: "
                       f"{sorted(REPOSITORY_APPLIES.keys() ^ REPOSITORY.keys())}")
REGISTRIES: Mapping[str, Mapping[str, Any]] = {
    "python": PYTHON,
    "document": DOCUMENT,
    "dockerfile": DOCKERFILE,
    "repository": REPOSITORY,
}
