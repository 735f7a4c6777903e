"""Escape-hatch predicates about `helm` command lines in CI pipelines and scripts (issue 11, held-out check).

- `dg_helm_remote_chart_without_version` (PFA-DG-017, repository): a `helm install` / `helm upgrade` of a
  published chart (`oci://` / `https://` reference, `--repo <url>`, or `<repo>/<chart>` that the script
  `helm repo add`s or that is no directory of the repository: deploy.remote_chart) with no `--version`, in a CI
  pipeline (any system: cicd.ci_files) or a shell script, Makefile, justfile or Taskfile. A chart tarball URL
  (`.../x-1.2.0.tgz`) and an OCI reference with a tag or digest (`oci://r/chart:1.2.0`, `@sha256:`) are
  pinned; a chart named by a variable is not judged.

Files are read as text, with backslash continuations joined, so an option on the next line counts; comment
lines are skipped. Nothing is executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.deploy import (
    HelmInstall,
    helm_installs,
    helm_repositories_added,
    remote_chart,
    repository_chart,
)
from pfa_policy.engine.predicates.cicd import ci_files
from pfa_policy.engine.predicates.types import RepositoryApplies, RepositoryPredicate
from pfa_policy.engine.repository import RepoContext, RepoFile
from pfa_policy.model import Hit, Span

_SCRIPT_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile", "justfile", "Justfile", "Taskfile.yml",
                           "Taskfile.yaml"})
_PINNED_REFERENCE = re.compile(r"(?i)^(?:oci://\S+/[^/\s]+(?::[\w.+-]+|@sha256:[0-9a-f]{64})"
                               r"|https?://\S+\.(?:tgz|tar\.gz))$")


def _files(context: RepoContext, scopes: frozenset[str]) -> list[RepoFile]:
    ci = {f.path for f in ci_files(context, scopes)}
    return [f for f in context.files if f.path in ci or (f.scope in scopes and (
        f.name.endswith((".sh", ".bash")) or f.name in _SCRIPT_NAMES))]


def _logical_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(line number, column, text) of each command line, a backslash-continued one joined with what follows."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not pending:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            start = number
        body = line.rstrip()
        if body.endswith("\\"):
            pending.append(body[:-1])
            continue
        pending.append(body)
        joined = " ".join(pending)
        pending = []
        yield start, len(joined) - len(joined.lstrip()) + 1, joined


def _pinned(install: HelmInstall) -> bool:
    return "--version" in install.options or bool(_PINNED_REFERENCE.match(install.chart))


def dg_helm_remote_chart_without_version(context: RepoContext, params: Mapping[str, Any],
                                         scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
    is_local = repository_chart(f.path for f in context.files)
    for repo_file in _files(context, scopes):
        text = context.read_text(repo_file.path)
        if "helm" not in text:
            continue
        added = helm_repositories_added(text)
        for number, column, line in _logical_lines(text):
            if "helm" not in line or "--dry-run" in line:
                continue
            for install in helm_installs(line):
                if remote_chart(install, added, is_local) and not _pinned(install):
                    yield repo_file.path, Hit(Span(number, column), (("name", install.chart),),
                                              f"helm-unpinned:{install.chart}")


def _has_scripts(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    return bool(_files(context, scopes))


REPOSITORY: dict[str, RepositoryPredicate] = {
    "dg_helm_remote_chart_without_version": dg_helm_remote_chart_without_version}
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {"dg_helm_remote_chart_without_version": _has_scripts}
