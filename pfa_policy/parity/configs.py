"""Configuration that names its environment in a file or directory name: `settings.staging.yaml` beside
`settings.prod.yaml` (over `settings.yaml`), `.env.staging` beside `.env.production`, and directories per
environment (`deploy/staging/`, `deploy/prod/`) holding plain manifests or configuration files."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from pfa_policy.model import Span
from pfa_policy.parity.located import Val, deep_merge, load
from pfa_policy.parity.model import Environment, RepoView, System, environment_role
from pfa_policy.parity.settings import ParitySettings

_STEM_ENV = re.compile(r"^(?P<stem>[\w.-]+?)[-_.](?P<env>[A-Za-z][A-Za-z0-9]*)\.(?P<ext>ya?ml|json)$")
_DOTENV = re.compile(r"^(?:\.env[-_.](?P<a>[A-Za-z][\w-]*)|(?P<b>[A-Za-z][\w-]*)\.env)$")
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_CONFIG = (".yaml", ".yml", ".json")
_ENV_DIRS = ("overlays", "envs", "environments", "env", "stages", "config", "configs", "deploy", "deployments")
# Files other sources read, or that are not configuration of a deployed system.
_SKIP = re.compile(r"(?:^|/)(?:\.github|\.gitlab|\.circleci|node_modules|templates?)/|(?:^|/)(?:values[^/]*|"
                   r"(?:docker-)?compose[^/]*|kustomization\.ya?ml|Chart\.yaml|package(?:-lock)?\.json|"
                   r"tsconfig[^/]*|[^/]*-config(?:-template)?\.json)$")


def config_systems(view: RepoView, settings: ParitySettings, scopes: frozenset[str],
                   claimed: frozenset[str]) -> Iterable[System]:
    """Systems from named configuration files and from directories per environment; `claimed` are files other
    sources already compare."""
    candidates = {p: s for p, s in view.paths.items() if s in scopes and p not in claimed and not _SKIP.search(p)}
    yield from _named_files(view, settings, candidates)
    yield from _directories(view, settings, candidates)


def _named_files(view: RepoView, settings: ParitySettings, candidates: dict[str, str]) -> Iterable[System]:
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for path in candidates:
        directory, name = posixpath.split(path)
        match = _STEM_ENV.match(name)
        dotenv = _DOTENV.match(name)
        if match is not None:
            key, env = (directory, f"{match.group('stem')}.{match.group('ext')}"), match.group("env")
        elif dotenv is not None:
            key, env = (directory, ".env"), dotenv.group("a") or dotenv.group("b")
        else:
            continue
        role = environment_role(settings, env)
        if role is not None:
            groups.setdefault(key, []).append((env, role, path))
    for (directory, stem), members in sorted(groups.items()):
        base_path = posixpath.join(directory, stem) if directory else stem
        base = _values(view, base_path) if base_path in view.paths else None
        system = System(base_path, "config-files")
        for env, role, path in sorted(members):
            values = _values(view, path)
            if values is None:
                continue
            merged = deep_merge(base, values) if base is not None else values
            system.environments.append(Environment(env, role, path, "config-files", values=merged,
                                                   files=[p for p in (base_path if base else None, path) if p]))
        yield system


def _directories(view: RepoView, settings: ParitySettings, candidates: dict[str, str]) -> Iterable[System]:
    tree = view.tree()
    groups: dict[str, dict[tuple[str, str, str], list[str]]] = {}
    for path in candidates:
        if not (path.endswith(_CONFIG) or _DOTENV.match(posixpath.basename(path))):
            continue
        parts = path.split("/")
        for depth in range(len(parts) - 1):
            name = parts[depth]
            role = environment_role(settings, name)
            if role is None:
                continue
            directory = "/".join(parts[: depth + 1])
            if tree.kustomization(directory) is not None:
                break
            parent = "/".join(parts[:depth])
            owner = posixpath.dirname(parent) if posixpath.basename(parent) in _ENV_DIRS else parent
            groups.setdefault(owner or ".", {}).setdefault((name, role, directory), []).append(path)
            break
    for owner, environments in sorted(groups.items()):
        found = System(owner, "env-directories")
        for (env, role, directory), paths in sorted(environments.items()):
            environment = Environment(env, role, sorted(paths)[0], "env-directories", files=sorted(paths))
            values: dict[str, Val] = {}
            for path in sorted(paths):
                documents = load(path, view.read(path)) if path.endswith(_CONFIG) else []
                manifests = [d for d in documents if d.get("kind") is not None and d.get("apiVersion") is not None]
                environment.resources.extend(manifests)
                relative = path[len(directory) + 1:]
                if not manifests:
                    value = documents[0] if documents else _values(view, path)
                    if value is not None and isinstance(value.value, dict):
                        values[relative] = value
            environment.values = Val(values, environment.anchor) if values else None
            found.environments.append(environment)
        yield found


def _values(view: RepoView, path: str) -> Val | None:
    if path.endswith(_CONFIG):
        documents = load(path, view.read(path))
        return documents[0] if documents and isinstance(documents[0].value, dict) else None
    return parse_dotenv(path, view.read(path))


def parse_dotenv(path: str, text: str) -> Val:
    """`KEY=value` lines of a dotenv file (quotes removed, comments and `export` skipped), positions exact."""
    values: dict[str, Val] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.match(line)
        if match is None:
            continue
        name, raw = match.groups()
        if raw[:1] in "\"'" and raw[-1:] == raw[:1] and len(raw) >= 2:
            raw = raw[1:-1]
        elif " #" in raw:
            raw = raw.split(" #", 1)[0].rstrip()
        column = line.index(name) + 1
        values[name] = Val(raw, path, Span(number, column, number, len(line) + 1),
                           Span(number, column, number, column + len(name)))
    return Val(values, path)

