"""Escape-hatch predicates of the operability pillar."""

from __future__ import annotations

from pfa_policy.engine.predicates.types import (
    DockerfilePredicate,
    DocumentPredicate,
    PythonPredicate,
    RepositoryPredicate,
)

PYTHON: dict[str, PythonPredicate] = {}
DOCUMENT: dict[str, DocumentPredicate] = {}
DOCKERFILE: dict[str, DockerfilePredicate] = {}
REPOSITORY: dict[str, RepositoryPredicate] = {}
