"""Signatures of escape-hatch predicates."""

from __future__ import annotations

from pfa_policy.engine.dockerfile_match import DockerfilePredicate
from pfa_policy.engine.document_match import DocumentPredicate
from pfa_policy.engine.python_match import PythonPredicate
from pfa_policy.engine.repository import RepositoryApplies, RepositoryPredicate

__all__ = ["DockerfilePredicate", "DocumentPredicate", "PythonPredicate", "RepositoryApplies",
           "RepositoryPredicate"]
