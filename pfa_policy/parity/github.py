"""GitHub environments that select configuration: a workflow job with `environment: production` whose steps
apply `deploy/overlays/blue` or pass `-f values-eu.yaml` names that configuration's environment, whatever its
file or directory is called."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator

from pfa_policy.parity.located import Val, load
from pfa_policy.parity.settings import EXEMPT, ParitySettings

_WORKFLOW = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$")
_TOKEN = re.compile(r"[\s\"'=,;()\[\]{}|&<>]+")
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def selected_environments(paths: dict[str, str], read: Callable[[str], str], settings: ParitySettings,
                          directories: frozenset[str]) -> dict[str, tuple[str, str]]:
    """Configuration path (a file, or a Kustomize directory) -> (environment name, role) from the GitHub
    environment of the job that deploys it. Exempt and unknown environment names select nothing."""
    selected: dict[str, tuple[str, str]] = {}
    for path in sorted(paths):
        if not _WORKFLOW.search(path):
            continue
        for document in load(path, read(path)):
            for _, job in (document.get("jobs") or Val({}, path)).items():
                environment = _environment(job)
                role = settings.role(environment) if environment else None
                if role is None or role == EXEMPT:
                    continue
                for reference in _references(job, paths, directories):
                    selected.setdefault(reference, (environment.lower(), role))
    return selected


def _environment(job: Val) -> str:
    value = job.get("environment")
    if value is None:
        return ""
    if isinstance(value.value, dict):
        value = value.get("name") or Val("", value.file)
    text = value.text()
    return "" if _EXPRESSION.search(text) else text


def _references(job: Val, paths: dict[str, str], directories: frozenset[str]) -> Iterator[str]:
    defaults = (job.path("defaults.run.working-directory") or Val("", "")).text()
    for step in (job.get("steps") or Val([], "")).elements():
        base = (step.get("working-directory") or Val(defaults, "")).text()
        for text in _strings(step):
            for token in _TOKEN.split(_EXPRESSION.sub(" ", text)):
                for candidate in (token, posixpath.join(base, token) if base else ""):
                    normal = posixpath.normpath(candidate) if candidate else ""
                    if normal and not normal.startswith("..") and (normal in directories or normal in paths):
                        yield normal


def _strings(value: Val) -> Iterator[str]:
    if isinstance(value.value, dict):
        for key, child in value.value.items():
            if key != "name":
                yield from _strings(child)
    elif isinstance(value.value, list):
        for child in value.value:
            yield from _strings(child)
    elif value.text():
        yield value.text()
