"""Policy packs and project configuration -> the effective policy a scan applies."""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy.engine.classify import ScopeRules
from pfa_policy.engine.globs import path_matches
from pfa_policy.engine.loader import Catalog, load_catalog
from pfa_policy.engine.rule import Rule
from pfa_policy.engine.validation import check, load_data_file, validator
from pfa_policy.model import PILLARS, PfaError, Severity, Span
from pfa_policy.parsers.tree import Node
from pfa_policy.resources import builtin_dir

DEFAULT_POLICY = "production"
CONFIG_FILES = (".pfa-policy.yaml", ".pfa-policy.yml")


@dataclass(frozen=True, slots=True)
class PolicyException:
    rules: tuple[str, ...]
    paths: tuple[str, ...]
    justification: str
    expires: dt.date | None
    source: str

    def covers(self, rule_id: str, path: str) -> bool:
        if not any(fnmatch.fnmatchcase(rule_id, pattern) for pattern in self.rules):
            return False
        return not self.paths or path_matches(path, self.paths)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today


@dataclass(frozen=True)
class Layer:
    """One policy or configuration file, validated."""

    data: Mapping[str, Any]
    source: str
    directory: Path


@dataclass(frozen=True)
class EffectivePolicy:
    name: str
    sources: tuple[str, ...]
    fail_on: Severity | None
    rule_ids: tuple[str, ...]
    severities: Mapping[str, Severity]
    params: Mapping[str, Mapping[str, Any]]
    scope_rules: ScopeRules
    excludes: tuple[str, ...]
    exceptions: tuple[PolicyException, ...]
    rule_paths: tuple[Path, ...]

    def describe(self) -> dict[str, Any]:
        """The effective configuration, as `pfa-policy config` prints it."""
        return {
            "policy": self.name,
            "sources": list(self.sources),
            "fail_on": self.fail_on.label if self.fail_on else "never",
            "rules": list(self.rule_ids),
            "severity": {k: v.label for k, v in sorted(self.severities.items())},
            "params": {k: dict(v) for k, v in sorted(self.params.items()) if v},
            "scopes": {scope: list(globs) for scope, globs in self.scope_rules.entries},
            "exclude": list(self.excludes),
            "rule_paths": [str(p) for p in self.rule_paths],
            "exceptions": [
                {"rules": list(e.rules), "paths": list(e.paths), "justification": e.justification,
                 "expires": e.expires.isoformat() if e.expires else None, "source": e.source}
                for e in self.exceptions
            ],
        }


def builtin_policies() -> list[str]:
    return sorted(p.stem for p in builtin_dir("policies").glob("*.yaml"))


def _policy_path(reference: str, base: Path) -> Path:
    candidate = builtin_dir("policies") / f"{reference}.yaml"
    if "/" not in reference and not reference.endswith((".yaml", ".yml")):
        if candidate.is_file():
            return candidate
        raise PfaError(f"unknown policy '{reference}' (built-in: {', '.join(builtin_policies())})")
    path = (base / reference).resolve()
    if not path.is_file():
        raise PfaError("policy file not found", path=str(path))
    return path


def load_policy_file(path: Path) -> Layer:
    data, _ = load_data_file(path, "policy.schema.yaml")
    return Layer(data, str(path), path.parent)


def _chain(reference: str, base: Path, seen: tuple[str, ...] = ()) -> list[Layer]:
    path = _policy_path(reference, base)
    if str(path) in seen:
        raise PfaError("policy extends itself in a cycle", path=str(path))
    layer = load_policy_file(path)
    parent = layer.data.get("extends")
    parents = _chain(parent, layer.directory, (*seen, str(path))) if parent else []
    return [*parents, layer]


def find_project_config(root: Path) -> Layer | None:
    for name in CONFIG_FILES:
        candidate = root / name
        if candidate.is_file():
            return load_policy_file(candidate)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        return _pyproject_layer(pyproject)
    return None


def _pyproject_layer(path: Path) -> Layer | None:
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PfaError(f"cannot read [tool.pfa-policy]: {error}", path=str(path)) from None
    data = document.get("tool", {}).get("pfa-policy")
    if data is None:
        return None
    line = next((n for n, t in enumerate(text.splitlines(), 1) if t.strip().startswith("[tool.pfa-policy")), 1)
    # TOML carries no positions: errors point at the table header.
    check(data, Node(data, Span(line)), validator("policy.schema.yaml"), str(path))
    return Layer(data, str(path), path.parent)


def prepare(root: Path, *, policy: str | None = None, config: Path | None = None,
            rule_paths: Sequence[Path] = ()) -> tuple[Catalog, EffectivePolicy]:
    """Everything a scan needs before it reads a file: the layers, the rules they load, the combination."""
    layer = load_policy_file(config) if config is not None else find_project_config(root)
    base = layer.directory if layer is not None else Path.cwd()
    reference = policy or (layer.data.get("policy") if layer else None) or DEFAULT_POLICY
    layers = _chain(reference, base)
    if layer is not None:
        layers.append(layer)
    paths = list(rule_paths)
    for each in layers:
        paths.extend((each.directory / p).resolve() for p in each.data.get("rule_paths", ()))
    catalog = load_catalog(paths)
    return catalog, combine(catalog, layers)


def combine(catalog: Catalog, layers: Sequence[Layer]) -> EffectivePolicy:
    selection: Mapping[str, Any] = {"include": ["*"]}
    fail_on = "error"
    severities: dict[str, Severity] = {}
    params: dict[str, dict[str, Any]] = {}
    scopes: dict[str, list[str]] = {}
    excludes: list[str] = []
    exceptions: list[PolicyException] = []
    rule_paths: list[Path] = []
    for layer in layers:
        data = layer.data
        selection = data.get("rules", selection)
        fail_on = data.get("fail_on", fail_on)
        for rule_id, level in data.get("severity", {}).items():
            severities[rule_id] = Severity.parse(level)
        for rule_id, values in data.get("params", {}).items():
            params.setdefault(rule_id, {}).update(values)
        for scope, globs in data.get("scopes", {}).items():
            scopes[scope] = list(globs) + scopes.get(scope, [])
        excludes.extend(data.get("exclude", ()))
        rule_paths.extend((layer.directory / p).resolve() for p in data.get("rule_paths", ()))
        exceptions.extend(_exception(e, layer.source) for e in data.get("exceptions", ()))
    known = set(catalog.rules)
    for rule_id in list(severities) + list(params):
        if rule_id not in known:
            raise PfaError(f"unknown rule id {rule_id}", path=layers[-1].source)
    selected = select_rules(catalog.rules.values(), selection.get("include", ["*"]), selection.get("exclude", []))
    return EffectivePolicy(
        name=next((str(layer.data["name"]) for layer in reversed(layers) if "name" in layer.data), "custom"),
        sources=tuple(layer.source for layer in layers),
        fail_on=None if fail_on == "never" else Severity.parse(fail_on),
        rule_ids=tuple(rule.id for rule in selected),
        severities=severities,
        params={rule.id: {**rule.params, **params.get(rule.id, {})} for rule in selected},
        scope_rules=ScopeRules.build(scopes),
        excludes=tuple(excludes),
        exceptions=tuple(exceptions),
        rule_paths=tuple(rule_paths),
    )


def _exception(data: Mapping[str, Any], source: str) -> PolicyException:
    expires = dt.date.fromisoformat(data["expires"]) if "expires" in data else None
    return PolicyException(tuple(data["rules"]), tuple(data.get("paths", ())), data["justification"], expires,
                           source)


def _selected(rule: Rule, selector: str) -> bool:
    if selector == "*":
        return True
    if selector.startswith("pillar:"):
        pillar = selector[len("pillar:"):]
        if pillar not in PILLARS:
            raise PfaError(f"unknown pillar in selector '{selector}' (known: {', '.join(PILLARS)})")
        return rule.pillar == pillar
    if selector.startswith("tag:"):
        return selector[len("tag:"):] in rule.tags
    return fnmatch.fnmatchcase(rule.id, selector)


def select_rules(rules: Any, include: Sequence[str], exclude: Sequence[str]) -> list[Rule]:
    return [
        rule for rule in rules
        if any(_selected(rule, s) for s in include) and not any(_selected(rule, s) for s in exclude)
    ]
