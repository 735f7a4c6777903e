"""Pilot against production, feature by feature: what differs in kind, what cannot be compared, and (for the
side-by-side table) the keys that differ only in size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pfa_policy.model import FILE_START, Span
from pfa_policy.parity import features as f
from pfa_policy.parity.located import Val, flatten
from pfa_policy.parity.model import Environment, RepoView, System
from pfa_policy.parity.settings import PILOT, PRODUCTION, ParitySettings, Waiver
from pfa_policy.parity.sources import discover

# Which rule reports each aspect.
RULES = {f.STORE: "PFA-OP-201", f.SERVING: "PFA-OP-202", f.COMPONENT_RESILIENCE: "PFA-OP-203",
         f.COMPONENT_TELEMETRY: "PFA-TE-201", f.COMPONENT_AUDIT: "PFA-AU-201", f.ACCESS: "PFA-AC-201",
         f.ENCRYPTION: "PFA-EN-201", f.MOCK: "PFA-AI-201", f.IMAGE: "PFA-CI-201"}
# A compose pilot and a Kubernetes production are matched by image: only what a compose file can say is compared.
_COMPOSE_ASPECTS = frozenset({f.STORE, f.MOCK})


@dataclass(frozen=True, slots=True)
class Side:
    environment: str
    value: str
    path: str
    span: Span

    @property
    def at(self) -> str:
        return f"{self.path}:{self.span.line}"


@dataclass(frozen=True, slots=True)
class Difference:
    system: str
    aspect: str
    key: str
    pilot: Side
    production: Side
    status: str  # kind | not-compared | size | waived
    note: str = ""  # why not compared, or the waiver's justification

    @property
    def rule_id(self) -> str:
        return RULES.get(self.aspect, "")


@dataclass
class Comparison:
    system: System
    pilot: Environment
    production: Environment
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Analysis:
    systems: list[System]
    comparisons: list[Comparison]

    def findings(self, aspect: str) -> Iterator[Difference]:
        for comparison in self.comparisons:
            for difference in comparison.differences:
                if difference.status == "kind" and difference.aspect == aspect:
                    yield difference


def analyse(view: RepoView, settings: ParitySettings, scopes: frozenset[str]) -> Analysis:
    systems = discover(view, settings, scopes)
    comparisons = []
    for system in systems:
        for pilot in (e for e in system.environments if e.role == PILOT):
            for production in (e for e in system.environments if e.role == PRODUCTION):
                if settings.paired(pilot.name, production.name):
                    comparisons.append(compare(system, pilot, production, settings))
    return Analysis(systems, comparisons)


def compare(system: System, pilot: Environment, production: Environment, settings: ParitySettings) -> Comparison:
    comparison = Comparison(system, pilot, production)
    mixed = (pilot.source == "compose") != (production.source == "compose")
    by_image = mixed
    left = f.environment_features(pilot, by_image=by_image)
    right = f.environment_features(production, by_image=by_image)
    judged: set[str] = set()
    for key in dict.fromkeys([*right, *left]):
        a, b = left.get(key), right.get(key)
        aspect = (b or a).aspect  # type: ignore[union-attr]
        if mixed and aspect not in _COMPOSE_ASPECTS:
            continue
        difference = _difference(system.name, key, aspect, a, b, pilot, production)
        if difference is None:
            continue
        for location in (a, b):
            if location is not None and location.where is not None:
                judged.add(f"{location.where.file}:{location.where.span.line}")
        waiver = settings.waiver(difference.rule_id, system.name, key) if difference.status == "kind" else None
        comparison.differences.append(_waived(difference, waiver) if waiver else difference)
    for reason in dict.fromkeys([*pilot.unrendered, *production.unrendered]):
        side = Side("", "", pilot.anchor, FILE_START)
        comparison.differences.append(Difference(system.name, "", "rendering", side, side, "not-compared", reason))
    if not mixed:
        comparison.differences.extend(_size_differences(system.name, pilot, production, judged))
    return comparison


def _waived(difference: Difference, waiver: Waiver) -> Difference:
    return Difference(difference.system, difference.aspect, difference.key, difference.pilot, difference.production,
                      "waived", waiver.justification)


def _side(environment: Environment, feature: f.Feature | None) -> Side:
    if feature is None:
        return Side(environment.name, f.ABSENT, environment.anchor, FILE_START)
    if feature.where is None:
        return Side(environment.name, feature.value, environment.anchor, FILE_START)
    return Side(environment.name, feature.value, feature.where.file, feature.where.at)


def _difference(system: str, key: str, aspect: str, a: f.Feature | None, b: f.Feature | None,
                pilot: Environment, production: Environment) -> Difference | None:
    left, right = _side(pilot, a), _side(production, b)
    unknown = (a.unknown if a is not None else "") or (b.unknown if b is not None else "")
    if unknown:
        if a is None or b is None:
            return None
        return Difference(system, aspect, key, left, right, "not-compared", unknown)
    if aspect in f.PRESENCE_ASPECTS:
        if (a is None or b is None) and (a or b).scoped:  # type: ignore[union-attr]
            return None  # the workload it is said of runs in one environment only, or a flag is set in one only
        if left.value == right.value or {left.value, right.value} != {f.PRESENT, f.ABSENT}:
            return None
        if (a is None and b is not None and b.where is None) or (b is None and a is not None and a.where is None):
            return None  # a feature known only from a whole environment on one side only
        return Difference(system, aspect, key, left, right, "kind")
    if a is None or b is None or a.value == b.value or not a.value or not b.value:
        return None
    return Difference(system, aspect, key, left, right, "kind")


def _size_differences(system: str, pilot: Environment, production: Environment,
                      judged: set[str]) -> Iterator[Difference]:
    left, right = _flat(pilot), _flat(production)
    for key in sorted(set(left) & set(right)):
        a, b = left[key], right[key]
        if a.text() == b.text() or not f.is_size_key(key.split(":", 1)[-1]):
            continue
        if f"{b.file}:{b.span.line}" in judged:
            continue
        yield Difference(system, "", key, Side(pilot.name, a.text(), a.file, a.at),
                         Side(production.name, b.text(), b.file, b.at), "size")


def _flat(environment: Environment) -> dict[str, Val]:
    flat: dict[str, Val] = {}
    for resource in environment.resources:
        kind = (resource.get("kind") or Val("", "")).text()
        name = (resource.path("metadata.name") or Val("", "")).text()
        for key, value in flatten(resource):
            flat[f"{kind}/{name}:{key}"] = value
    for source in (environment.values,):
        if source is not None:
            flat.update(flatten(source))
    return flat
