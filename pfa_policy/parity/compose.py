"""docker-compose as a pilot: a compose file without an environment name is the pilot of the Kubernetes or Helm
production that runs one of its (own) images; compose files named for environments compare with each other."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from pfa_policy.parity.located import Val, flatten, load
from pfa_policy.parity.model import Environment, RepoView, System, environment_role, first_mapping, image_repository
from pfa_policy.parity.settings import ParitySettings

COMPOSE = re.compile(r"^(?:docker-)?compose(?:[-_.](?P<env>[\w-]+))?\.ya?ml$")


def compose_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str],
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
    unnamed = [p for p, scope in view.paths.items() if scope in scopes and (m := COMPOSE.match(posixpath.basename(p)))
               and m.group("env") is None]
    plain = _plain_manifests(view, scopes, systems) if unnamed else None
    if plain is not None:
        for repository in _environment_images(plain):
            production_images.setdefault(repository, (System("kubernetes", "kubernetes"), plain))
    named: dict[str, list[tuple[str, str, str]]] = {}
    for path, scope in sorted(view.paths.items()):
        directory, name = posixpath.split(path)
        match = COMPOSE.match(name)
        if match is None or scope not in scopes:
            continue
        env = match.group("env")
        if env is not None:
            role = environment_role(settings, env)
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
    # A Helm chart's templates are Go templates, not manifests applied as they are: the chart is a helm system.
    paths = [p for p, kinds in sorted(view.kinds.items())
             if kinds & _MANIFEST_KINDS and "helm-template" not in kinds and view.paths.get(p) in scopes
             and posixpath.dirname(p) not in inside
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
    document = first_mapping(view, path)
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
