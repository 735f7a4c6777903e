"""Which systems a repository deploys to several environments, and each environment rendered."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from pfa_policy.parity import cfn, kustomize
from pfa_policy.parity.compose import compose_systems
from pfa_policy.parity.configs import config_systems
from pfa_policy.parity.github import selected_environments
from pfa_policy.parity.located import Val, deep_merge, load
from pfa_policy.parity.model import Environment, RepoView, System, environment_role, first_mapping
from pfa_policy.parity.settings import EXEMPT, ParitySettings
from pfa_policy.parity.tfvars import parse_tfvars

_ENV_DIRS = ("overlays", "envs", "environments", "env", "stages", "clusters", "deploy")
_VALUES = (re.compile(r"^values[-_.](?P<env>[\w.-]+)\.ya?ml$"), re.compile(r"^(?P<env>[\w.-]+)[-_.]values\.ya?ml$"))
_STAGE_CONFIG = re.compile(r"^(?P<env>[\w-]+?)[-_](?:config|configuration|params|parameters)(?:[-_]template)?\.json$")
_TFVARS = re.compile(r"^(?:terraform\.)?(?P<env>[\w.-]+?)(?:\.auto)?\.tfvars(?:\.json)?$")


def discover(view: RepoView, settings: ParitySettings, scopes: frozenset[str]) -> list[System]:
    directories = frozenset(posixpath.dirname(p) for p in view.paths
                            if posixpath.basename(p) in kustomize.KUSTOMIZATION_NAMES)
    selected = selected_environments(view.paths, view.read, settings, directories)
    systems = [*_kustomize_systems(view, settings, scopes, selected), *_helm_systems(view, settings, scopes, selected),
               *_stage_systems(view, settings, scopes), *_terraform_systems(view, settings, scopes, selected)]
    systems.extend(compose_systems(view, settings, scopes, systems))
    claimed = frozenset(f for s in systems for e in s.environments for f in e.files)
    systems.extend(config_systems(view, settings, scopes, claimed))
    return [s for s in systems if len({e.role for e in s.environments}) == 2]



Selected = dict[str, tuple[str, str]]  # configuration path -> (environment, role) named by a GitHub environment


def _named(settings: ParitySettings, name: str, path: str, selected: Selected) -> tuple[str, str | None]:
    """The environment a file or directory is for: its own name, else the GitHub environment deploying it."""
    role = environment_role(settings, name)
    if role is None and path in selected and settings.role(name) != EXEMPT:
        return selected[path]
    return name, role


def _kustomize_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str],
                       selected: Selected) -> Iterable[System]:
    tree = view.tree()
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in view.paths.items():
        if posixpath.basename(path) not in kustomize.KUSTOMIZATION_NAMES or scope not in scopes:
            continue
        directory = posixpath.dirname(path)
        name, role = _named(settings, posixpath.basename(directory), directory, selected)
        if role is None:
            continue
        parent = posixpath.dirname(directory)
        system = posixpath.dirname(parent) if posixpath.basename(parent) in _ENV_DIRS else parent
        groups.setdefault(system or ".", []).append((name, role, directory))
    for system, members in sorted(groups.items()):
        found = System(system, "kustomize")
        for name, role, directory in sorted(members):
            rendered = kustomize.render(tree, directory)
            found.environments.append(Environment(name, role, tree.kustomization(directory) or directory, "kustomize",
                                                  rendered.resources, files=rendered.files,
                                                  unrendered=rendered.unrendered))
        yield found


def _values_env(name: str) -> str | None:
    for pattern in _VALUES:
        match = pattern.match(name)
        if match:
            return match.group("env")
    return None


def _helm_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str],
                  selected: Selected) -> Iterable[System]:
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in view.paths.items():
        if scope not in scopes or not path.endswith((".yaml", ".yml")):
            continue
        directory, name = posixpath.split(path)
        env = _values_env(name)
        chart = directory
        if env is None and posixpath.basename(directory) == "values":
            env = name.rsplit(".", 1)[0].removeprefix("values-")
            chart = posixpath.dirname(directory)
        if env is None and path in selected and name not in ("values.yaml", "values.yml") and (
                posixpath.join(directory, "Chart.yaml") in view.paths
                or posixpath.join(directory, "values.yaml") in view.paths):
            env = name.rsplit(".", 1)[0]  # `helm upgrade -f deploy/eu.yaml` in a job with an environment
        if env is None:
            continue
        env, role = _named(settings, env, path, selected)
        if role is not None:
            groups.setdefault(chart, []).append((env, role, path))
    for chart, members in sorted(groups.items()):
        base_path = next((p for p in (posixpath.join(chart, "values.yaml"), posixpath.join(chart, "values.yml"))
                          if p in view.paths), None)
        base = first_mapping(view, base_path) if base_path else None
        found = System(chart or ".", "helm")
        for env, role, path in sorted(members):
            overlay = first_mapping(view, path)
            if overlay is None:
                continue
            merged = deep_merge(base, overlay) if base is not None else overlay
            files = [p for p in (base_path, path) if p]
            found.environments.append(Environment(env, role, path, "helm", values=merged, files=files))
        yield found



def _stage_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str]) -> Iterable[System]:
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in view.paths.items():
        directory, name = posixpath.split(path)
        match = _STAGE_CONFIG.match(name)
        if match is None or scope not in scopes:
            continue
        role = environment_role(settings, match.group("env"))
        if role is not None:
            groups.setdefault(directory, []).append((match.group("env"), role, path))
    for directory, members in sorted(groups.items()):
        template_path, template = _template_in(view, directory)
        if template is None:
            continue  # stage files of a test runner or an app, not the stages of one template
        found = System(directory or ".", "stage-config")
        for env, role, path in sorted(members):
            documents = load(path, view.read(path))
            if not documents:
                continue
            given = _parameters(documents[0])
            environment = Environment(env, role, path, "stage-config", files=[path])
            if template is not None and template_path is not None:
                parameters = cfn.stage_parameters(template, given)
                rendered, undecided = cfn.render(template, parameters)
                environment.template = rendered
                environment.values = Val(parameters, path)
                environment.files.append(template_path)
                environment.unrendered.extend(f"{template_path}: condition {c} depends on values known only at "
                                              "deployment" for c in dict.fromkeys(undecided))
            else:
                environment.values = Val(given, path)
            found.environments.append(environment)
        yield found


def _template_in(view: RepoView, directory: str) -> tuple[str | None, Val | None]:
    for path in sorted(view.paths):
        if posixpath.dirname(path) != directory or not path.endswith((".yml", ".yaml", ".json", ".template")):
            continue
        text = view.read(path)
        if "Resources" not in text or "AWS::" not in text:
            continue
        document = first_mapping(view, path)
        if document is not None and document.get("Resources") is not None:
            return path, document
    return None, None


def _parameters(document: Val) -> dict[str, Val]:
    """`{"Parameters": {...}}` (CodePipeline template configuration), `[{"ParameterKey", "ParameterValue"}]`
    (the CLI's form) or a flat mapping."""
    if isinstance(document.value, list):
        pairs = {}
        for element in document.elements():
            key, value = element.get("ParameterKey"), element.get("ParameterValue")
            if key is not None and value is not None:
                pairs[key.text()] = value
        return pairs
    inner = document.get("Parameters")
    if inner is not None and isinstance(inner.value, dict):
        return dict(inner.value)
    if inner is not None and isinstance(inner.value, list):
        return _parameters(inner)
    return dict(document.value) if isinstance(document.value, dict) else {}


def _terraform_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str],
                       selected: Selected) -> Iterable[System]:
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in view.paths.items():
        if scope not in scopes or ".tfvars" not in path:
            continue
        directory, name = posixpath.split(path)
        match = _TFVARS.match(name)
        env = match.group("env") if match else None
        system = directory
        if env in (None, "terraform"):
            env = posixpath.basename(directory)  # environments/<env>/terraform.tfvars
            system = posixpath.dirname(posixpath.dirname(directory)) if posixpath.basename(
                posixpath.dirname(directory)) in _ENV_DIRS else posixpath.dirname(directory)
        env, role = _named(settings, env, path, selected)
        if role is not None and not path.endswith(".json"):
            groups.setdefault(system, []).append((env, role, path))
    for system, members in sorted(groups.items()):
        found = System(system or ".", "terraform")
        for env, role, path in sorted(members):
            values = parse_tfvars(path, view.read(path))
            found.environments.append(Environment(env, role, path, "terraform", values=Val(values, path),
                                                  files=[path]))
        yield found
