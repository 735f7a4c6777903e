"""Environment parity rules: one predicate per aspect, all reading one analysis of the repository's
environments (pfa_policy.parity). A finding points at the production side; the pilot side is its related
location."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.repository import RepoContext, RepositoryApplies, RepositoryPredicate
from pfa_policy.model import Hit, Related
from pfa_policy.parity import features
from pfa_policy.parity.compare import Analysis, Difference, analyse
from pfa_policy.parity.model import RepoView
from pfa_policy.parity.settings import ParitySettings


def analysis(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> Analysis:
    """The parity analysis of this repository view, computed once for all the parity rules of a scan."""
    settings = ParitySettings.from_policy(params.get("parity"))
    cache: dict[tuple[ParitySettings, frozenset[str]], Analysis] = context.__dict__.setdefault("_parity", {})
    key = (settings, scopes)
    if key not in cache:
        view = RepoView({f.path: f.scope for f in context.files}, context.read_text,
                        {f.path: f.kinds for f in context.files if f.kinds})
        cache[key] = analyse(view, settings, scopes)
    return cache[key]


_SAID = {features.PRESENT: "it", features.ABSENT: "none"}


def hit(difference: Difference) -> tuple[str, Hit]:
    pilot, production = difference.pilot, difference.production
    values = (("system", difference.system), ("key", difference.key), ("pilot_env", pilot.environment),
              ("pilot", _SAID.get(pilot.value, pilot.value)), ("pilot_at", pilot.at),
              ("production_env", production.environment),
              ("production", _SAID.get(production.value, production.value)), ("value", production.value))
    related = Related(pilot.path, pilot.span, f"{pilot.environment}: {pilot.value}")
    anchor = f"parity:{difference.system}:{pilot.environment}->{production.environment}:{difference.key}"
    return production.path, Hit(production.span, values, anchor, (related,))


def _predicate(aspect: str) -> RepositoryPredicate:
    def predicate(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> Iterator[tuple[str, Hit]]:
        for difference in analysis(context, params, scopes).findings(aspect):
            yield hit(difference)

    return predicate


def _compared(context: RepoContext, params: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    """A parity rule has something to judge when a system has a pilot and a production environment."""
    return bool(analysis(context, params, scopes).comparisons)


_NAMES = {features.STORE: "parity_store", features.SERVING: "parity_serving",
          features.COMPONENT_RESILIENCE: "parity_resilience", features.COMPONENT_TELEMETRY: "parity_telemetry",
          features.COMPONENT_AUDIT: "parity_audit", features.ACCESS: "parity_access_control",
          features.ENCRYPTION: "parity_encryption", features.MOCK: "parity_mock", features.IMAGE: "parity_image"}
REPOSITORY: dict[str, RepositoryPredicate] = {name: _predicate(aspect) for aspect, name in _NAMES.items()}
REPOSITORY_APPLIES: dict[str, RepositoryApplies] = {name: _compared for name in _NAMES.values()}
