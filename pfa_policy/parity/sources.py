"""Which systems a repository deploys to several environments, and each environment rendered."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pfa_policy.parity import cfn, kustomize
from pfa_policy.parity.github import selected_environments
from pfa_policy.parity.located import Val, deep_merge, flatten, load
from pfa_policy.parity.settings import EXEMPT, ParitySettings

_ENV_DIRS = ("overlays", "envs", "environments", "env", "stages", "clusters", "deploy")
_VALUES = (re.compile(r"^values[-_.](?P<env>[\w.-]+)\.ya?ml$"), re.compile(r"^(?P<env>[\w.-]+)[-_.]values\.ya?ml$"))
_STAGE_CONFIG = re.compile(r"^(?P<env>[\w-]+?)[-_](?:config|configuration|params|parameters)(?:[-_]template)?\.json$")
_TFVARS = re.compile(r"^(?:terraform\.)?(?P<env>[\w.-]+?)(?:\.auto)?\.tfvars(?:\.json)?$")
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:[-_.](?P<env>[\w-]+))?\.ya?ml$")


@dataclass
class Environment:
    name: str
    role: str  # pilot | production
    anchor: str  # the file a finding about this environment as a whole points at
    source: str  # kustomize | helm | stage-config | terraform | compose | kubernetes
    resources: list[Val] = field(default_factory=list)  # Kubernetes objects (kustomize, compose-vs-kubernetes)
    values: Val | None = None  # Helm values, stage parameters or Terraform variables, merged
    template: Val | None = None  # rendered CloudFormation Resources for this stage
    files: list[str] = field(default_factory=list)
    unrendered: list[str] = field(default_factory=list)


@dataclass
class System:
    name: str  # the directory (or image repository) that identifies it
    source: str
    environments: list[Environment] = field(default_factory=list)


@dataclass(frozen=True)
class RepoView:
    """What discovery reads: file paths (with their scope) and a text reader."""

    paths: dict[str, str]  # path -> scope
    read: Callable[[str], str]
    kinds: dict[str, frozenset[str]] = field(default_factory=dict)  # path -> kinds, where classification ran

    def tree(self) -> kustomize.Tree:
        return kustomize.Tree(frozenset(self.paths), self.read)


def discover(view: RepoView, settings: ParitySettings, scopes: frozenset[str]) -> list[System]:
    directories = frozenset(posixpath.dirname(p) for p in view.paths
                            if posixpath.basename(p) in kustomize.KUSTOMIZATION_NAMES)
    selected = selected_environments(view.paths, view.read, settings, directories)
    systems = [*_kustomize_systems(view, settings, scopes, selected), *_helm_systems(view, settings, scopes, selected),
               *_stage_systems(view, settings, scopes), *_terraform_systems(view, settings, scopes, selected)]
    systems.extend(_compose_systems(view, settings, scopes, systems))
    return [s for s in systems if len({e.role for e in s.environments}) == 2]


def _role(settings: ParitySettings, name: str) -> str | None:
    role = settings.role(name)
    return None if role in (None, EXEMPT) else role


Selected = dict[str, tuple[str, str]]  # configuration path -> (environment, role) named by a GitHub environment


def _named(settings: ParitySettings, name: str, path: str, selected: Selected) -> tuple[str, str | None]:
    """The environment a file or directory is for: its own name, else the GitHub environment deploying it."""
    role = _role(settings, name)
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
        base = _first(view, base_path) if base_path else None
        found = System(chart or ".", "helm")
        for env, role, path in sorted(members):
            overlay = _first(view, path)
            if overlay is None:
                continue
            merged = deep_merge(base, overlay) if base is not None else overlay
            files = [p for p in (base_path, path) if p]
            found.environments.append(Environment(env, role, path, "helm", values=merged, files=files))
        yield found


def _first(view: RepoView, path: str) -> Val | None:
    documents = load(path, view.read(path))
    return documents[0] if documents and isinstance(documents[0].value, dict) else None


def _stage_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str]) -> Iterable[System]:
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in view.paths.items():
        directory, name = posixpath.split(path)
        match = _STAGE_CONFIG.match(name)
        if match is None or scope not in scopes:
            continue
        role = _role(settings, match.group("env"))
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
        document = _first(view, path)
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


_TFVAR_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*(.+?)\s*$")


def parse_tfvars(path: str, text: str) -> dict[str, Val]:
    """Top-level `name = value` assignments with scalar values (strings, numbers, booleans); blocks, lists and
    expressions are left out. Positions are exact."""
    from pfa_policy.model import Span

    values: dict[str, Val] = {}
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0] if not line.lstrip().startswith(("#", "//")) else ""
        match = _TFVAR_LINE.match(stripped) if depth == 0 else None
        if match is not None:
            name, raw = match.groups()
            column = line.index(name) + 1
            key = Span(number, column, number, column + len(name))
            scalar = _tf_scalar(raw)
            if scalar is not None:
                values[name] = Val(scalar, path, Span(number, line.index(raw) + 1), key)
        depth += stripped.count("{") + stripped.count("[") - stripped.count("}") - stripped.count("]")
        depth = max(depth, 0)
    return values


def _tf_scalar(raw: str) -> str | bool | int | float | None:
    raw = raw.split("//", 1)[0].strip() if not raw.startswith('"') else raw
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return None


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


def image_repository(reference: str) -> str:
    """The repository of an image reference without registry host, tag or digest: what identifies the artefact
    across the registries it is promoted through."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: len(name) - len(last[-1]) + last[-1].index(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def _compose_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str],
                     systems: list[System]) -> Iterable[System]:
    """A compose file without an environment name is the pilot of the Kubernetes or Helm production that runs
    one of its images; compose files named for environments compare with each other."""
    production_images: dict[str, tuple[System, Environment]] = {}
    for system in systems:
        for environment in system.environments:
            if environment.role != "production":
                continue
            for repository in _environment_images(environment):
                production_images.setdefault(repository, (system, environment))
    unnamed = [p for p, scope in view.paths.items() if scope in scopes and (m := _COMPOSE.match(posixpath.basename(p)))
               and m.group("env") is None]
    plain = _plain_manifests(view, scopes, systems) if unnamed else None
    if plain is not None:
        for repository in _environment_images(plain):
            production_images.setdefault(repository, (System("kubernetes", "kubernetes"), plain))
    named: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in sorted(view.paths.items()):
        directory, name = posixpath.split(path)
        match = _COMPOSE.match(name)
        if match is None or scope not in scopes:
            continue
        env = match.group("env")
        if env is not None:
            role = _role(settings, env)
            if role is not None:
                named.setdefault(directory, []).append((env, role, path))
            continue
        services = _compose_services(view, path)
        if services is None:
            continue
        for service_name, service in services.items():
            image = service.get("image")
            if image is None or not image.text() or not _own_image(image_repository(image.text())):
                continue
            owner = production_images.get(image_repository(image.text()))
            if owner is None:
                continue
            system, production = owner
            pilot = Environment(f"compose:{service_name}", "pilot", path, "compose",
                                files=[path])
            # The matched service, and the emulators beside it (LocalStack, WireMock ...): a pilot that needs
            # them talks to something production does not run. Their own settings are not compared.
            pilot.resources = [_compose_as_deployment(service_name, service, path)]
            pilot.resources.extend(_compose_as_deployment(n, Val({k: v for k, v in s.items() if k == "image"},
                                                                 s.file, s.span, s.key_span), path)
                                   for n, s in services.items() if n != service_name and _is_emulator(s))
            yield System(f"{system.name} ~ {path}", "compose", [pilot, production])
    for directory, members in sorted(named.items()):
        found = System(directory or ".", "compose")
        for env, role, path in members:
            services = _compose_services(view, path)
            if services is None:
                continue
            environment = Environment(env, role, path, "compose", files=[path])
            environment.resources = [_compose_as_deployment(n, s, path) for n, s in services.items()]
            found.environments.append(environment)
        yield found


_MANIFEST_KINDS = frozenset({"kubernetes", "kserve", "seldon"})


def _plain_manifests(view: RepoView, scopes: frozenset[str], systems: list[System]) -> Environment | None:
    """Kubernetes manifests applied as they are (outside any overlay system): the production a compose file
    without an environment name is the pilot of."""
    inside = {posixpath.dirname(f) for s in systems for e in s.environments for f in e.files}
    tree = view.tree()
    paths = [p for p, kinds in sorted(view.kinds.items())
             if kinds & _MANIFEST_KINDS and view.paths.get(p) in scopes and posixpath.dirname(p) not in inside
             and tree.kustomization(posixpath.dirname(p)) is None]
    if not paths:
        return None
    resources = [d for p in paths for d in load(p, view.read(p)) if d.get("kind") is not None]
    return Environment("kubernetes", "production", paths[0], "kubernetes", resources, files=paths)


# Publishers of off-the-shelf images: a compose file and a cluster both running `bitnami/redis` or `postgres` say
# nothing about one system; only the team's own images identify it.
_VENDORS = frozenset({"library", "bitnami", "prom", "grafana", "confluentinc", "minio", "localstack", "wiremock",
                      "elastic", "docker", "amazon", "openzipkin", "jaegertracing", "otel", "hashicorp", "apache",
                      "nginxinc", "traefik", "mongo", "redis", "rabbitmq", "mysql", "postgres", "quay", "kserve",
                      "seldonio", "nvidia", "pytorch", "tensorflow", "huggingface", "ghcr.io", "mlflow",
                      "feastdev", "prefecthq", "dpage", "mailhog", "axllent", "open-telemetry", "fluent",
                      "datadog", "busybox", "alpine", "curlimages", "bats", "kindest", "rancher", "istio"})


def _is_emulator(service: Val) -> bool:
    from pfa_policy.parity.features import is_emulator

    image = service.get("image")
    return image is not None and is_emulator(image_repository(image.text()))


def _own_image(repository: str) -> bool:
    namespace, slash, _ = repository.partition("/")
    return bool(slash) and namespace.lower() not in _VENDORS


def _compose_services(view: RepoView, path: str) -> dict[str, Val] | None:
    document = _first(view, path)
    services = document.get("services") if document is not None else None
    return dict(services.value) if services is not None and isinstance(services.value, dict) else None


def _environment_images(environment: Environment) -> Iterable[str]:
    from pfa_policy.parity.features import containers

    for _, _, container in containers(environment.resources):
        image = container.get("image")
        if image is not None and image.text():
            yield image_repository(image.text())
    if environment.values is not None:
        for key, value in flatten(environment.values):
            if (key.endswith("image.repository") or key == "image" or key.endswith(".image")) and value.text():
                yield image_repository(value.text())


def _compose_as_deployment(name: str, service: Val, path: str) -> Val:
    """A compose service read as a one-container Deployment, so the same extractors read both sides."""
    env = service.get("environment")
    entries: list[Val] = []
    if env is not None and isinstance(env.value, dict):
        for key, value in env.value.items():
            entries.append(Val({"name": Val(key, path, value.key_span or value.span),
                                "value": Val(value.value, path, value.span, value.key_span)}, path, value.span))
    elif env is not None:
        for element in env.elements():
            key, _, raw = element.text().partition("=")
            entries.append(Val({"name": Val(key, path, element.span), "value": Val(raw, path, element.span)},
                               path, element.span))
    container: dict[str, Val] = {"name": Val(name, path, service.key_span or service.span)}
    if service.get("image") is not None:
        container["image"] = service.get("image")  # type: ignore[assignment]
    container["env"] = Val(entries, path, service.span)
    pod = Val({"containers": Val([Val(container, path, service.span, service.key_span)], path, service.span)},
              path, service.span)
    return Val({"kind": Val("Deployment", path, service.span), "metadata": Val({"name": Val(name, path)}, path),
                "spec": Val({"template": Val({"spec": pod}, path)}, path)}, path, service.span, service.key_span)
