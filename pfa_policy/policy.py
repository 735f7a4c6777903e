"""Policy packs and project configuration -> the effective policy a scan applies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy.engine.classify import ScopeRules
from pfa_policy.engine.globs import path_matches
from pfa_policy.engine.loader import Catalog, load_catalog
from pfa_policy.engine.rule import Rule
from pfa_policy.engine.validation import short_text
from pfa_policy.layers import CONFIG_FILES as CONFIG_FILES
from pfa_policy.layers import Layer as Layer
from pfa_policy.layers import discover, read_policy_file
from pfa_policy.layers import load_policy_file as load_policy_file
from pfa_policy.model import PILLARS, PfaError, Severity
from pfa_policy.parity.settings import parity_param
from pfa_policy.policy_check import layer_problems
from pfa_policy.resources import builtin_dir
from pfa_policy.suggest import did_you_mean

DEFAULT_POLICY = "production"


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
    config_file: str | None = None  # the project configuration applied, if any
    config_note: str = ""  # how it was found, or where none was

    def describe(self) -> dict[str, Any]:
        """The effective configuration, as `pfa-policy config` prints it."""
        return {
            "config": {"file": self.config_file, "found": self.config_note},
            "policy": self.name,
            "sources": list(self.sources),
            "fail_on": self.fail_on.label if self.fail_on else "never",
            "rules": list(self.rule_ids),
            "severity": {k: v.label for k, v in sorted(self.severities.items())},
            "params": {k: dict(v) for k, v in sorted(self.params.items()) if v},
            "scopes": self.scope_rules.as_dict(),
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


def _policy_path(reference: str, base: Path, referrer: Layer | None = None) -> Path:
    """The file a pack reference names: a built-in pack's name, or a path relative to the referring file."""
    def error(message: str) -> PfaError:
        if referrer is None:
            return PfaError(message)
        return referrer.error([referrer.parent_key], message)

    names = builtin_policies()
    if "/" not in reference and not reference.endswith((".yaml", ".yml", ".toml")):
        if reference in names:
            return builtin_dir("policies") / f"{reference}.yaml"
        raise error(f"unknown policy '{short_text(reference)}'{did_you_mean(reference, names)} (built-in: "
                    f"{', '.join(names)}; or a path to a policy file)")
    try:
        path = (base / reference).resolve()
        if path.is_file():
            return path
    except (OSError, ValueError) as failure:  # a name too long, a NUL byte
        raise error(f"policy file cannot be read: {short_text(reference)} ({failure})") from None
    raise error(f"policy file not found: {short_text(str(path))}")


def _chain(reference: str, base: Path, referrer: Layer | None = None, seen: tuple[str, ...] = ()) -> list[Layer]:
    path = _policy_path(reference, base, referrer)
    if str(path) in seen:
        raise PfaError("policy extends itself in a cycle: " + " -> ".join((*seen, str(path))), path=str(path))
    layer = load_policy_file(path)
    parent = layer.parent
    parents = _chain(parent, layer.directory, layer, (*seen, str(path))) if parent else []
    return [*parents, layer]


def find_project_config(root: Path) -> Layer | None:
    """The nearest project configuration from `root` up to the git root (see layers.discover)."""
    return discover(root).layer


def prepare(root: Path, *, policy: str | None = None, config: Path | None = None,
            rule_paths: Sequence[Path] = (), cache_dir: Path | None = None) -> tuple[Catalog, EffectivePolicy]:
    """Everything a scan needs before it reads a file: the layers, the rules they load (their validated data
    kept in `cache_dir` when given), the combination."""
    if config is not None:
        layer: Layer | None = load_policy_file(config)
        note = f"{config} (given with --config)"
    else:
        search = discover(root)
        layer, note = search.layer, search.describe()
    base = layer.directory if layer is not None else Path.cwd()
    reference = policy or (layer.parent if layer else None) or DEFAULT_POLICY
    if layer is None and policy is None:
        note += f"; the built-in default policy '{DEFAULT_POLICY}' applies"
    layers = _chain(reference, base, None if policy else layer)
    if layer is not None:
        layers.append(layer)
    paths = list(rule_paths)
    for each in layers:
        paths.extend(_rule_paths(each))
    catalog = load_catalog(paths, cache_dir=cache_dir)
    effective = combine(catalog, layers)
    return catalog, dataclasses.replace(effective, config_file=layer.source if layer else None, config_note=note)


def validate_file(path: Path) -> list[PfaError]:
    """Every problem of one policy or configuration file (`policy validate`): its schema problems, else those
    its chain (what it extends), the rules it loads and the catalogue reveal. Each names file, line and key."""
    try:
        layer, problems = read_policy_file(path)
        if problems:
            return problems
        layers = [*(_chain(layer.parent, layer.directory, layer) if layer.parent else []), layer]
        catalog = load_catalog([p for each in layers for p in _rule_paths(each)])
    except PfaError as error:
        return [error]
    problems = [problem for each in layers for problem in layer_problems(each, catalog)]
    return problems or _combined(catalog, layers)


def _combined(catalog: Catalog, layers: Sequence[Layer]) -> list[PfaError]:
    try:
        combine(catalog, layers)
    except PfaError as error:
        return [error]
    return []


def _rule_paths(layer: Layer) -> list[Path]:
    found = []
    for position, relative in enumerate(layer.data.get("rule_paths", ())):
        try:
            path = (layer.directory / relative).resolve()
            exists = path.exists()
        except (OSError, ValueError) as failure:
            raise layer.error(["rule_paths", position], f"rule path cannot be read ({failure})") from None
        if not exists:
            raise layer.error(["rule_paths", position], f"rule path does not exist: {short_text(str(path))}")
        found.append(path)
    return found


def combine(catalog: Catalog, layers: Sequence[Layer]) -> EffectivePolicy:
    """The layers, parent first, checked against the catalogue and merged; the first problem raises."""
    for layer in layers:
        for problem in layer_problems(layer, catalog):
            raise problem
    fail_on = "error"
    severities: dict[str, Severity] = {}
    params: dict[str, dict[str, Any]] = {}
    scopes: dict[str, list[str]] = {}
    excludes: list[str] = []
    exceptions: list[PolicyException] = []
    rule_paths: list[Path] = []
    for layer in layers:
        data = layer.data
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
    selected = selection(catalog, layers)
    parity = [layer.data.get("parity", {}) for layer in layers]
    return EffectivePolicy(
        name=next((str(layer.data["name"]) for layer in reversed(layers) if "name" in layer.data), "custom"),
        sources=tuple(layer.source for layer in layers),
        fail_on=None if fail_on == "never" else Severity.parse(fail_on),
        rule_ids=tuple(rule.id for rule in selected),
        severities=severities,
        params={rule.id: {**rule.params, **params.get(rule.id, {}), **parity_param(rule.tags, parity)}
                for rule in selected},
        scope_rules=ScopeRules.build(scopes),
        excludes=tuple(excludes),
        exceptions=tuple(exceptions),
        rule_paths=tuple(rule_paths),
    )


def selection(catalog: Catalog, layers: Sequence[Layer]) -> list[Rule]:
    """The rules the layers enable, like ruff's select / extend-select / ignore across `extend`: every rule
    to begin with; then, layer by layer (parent first), `include` replaces the selection, `extend_include`
    adds to it and `exclude` takes from it. A layer without `rules` (or with an empty one) keeps it."""
    rules = list(catalog.rules.values())
    chosen = {rule.id for rule in rules}
    for layer in layers:
        spec = layer.data.get("rules", {})
        if "include" in spec:
            chosen = {rule.id for rule in select_rules(rules, spec["include"], [])}
        chosen |= {rule.id for rule in select_rules(rules, spec.get("extend_include", ()), [])}
        chosen -= {rule.id for rule in select_rules(rules, spec.get("exclude", ()), [])}
    return [rule for rule in rules if rule.id in chosen]


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
