"""The policy's `parity:` section: environment names, explicit pairs and waivers."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PILOT = "pilot"
PRODUCTION = "production"
EXEMPT = "exempt"

DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    PILOT: ("pilot", "staging", "stage", "stg", "qa", "uat", "preprod", "pre-prod", "preproduction"),
    PRODUCTION: ("prod", "production", "prd", "live"),
    EXEMPT: ("dev", "development", "local", "test", "testing", "sandbox", "ci", "e2e", "demo"),
}
_TOKENS = re.compile(r"[-_.\s]+")


@dataclass(frozen=True, slots=True)
class Waiver:
    key: str  # glob over the difference key ("component:ServiceMonitor", "store:env.DATABASE_URL" ...)
    system: str  # glob over the system ("deploy/k8s", "*")
    rules: tuple[str, ...]  # rule id globs; empty: every parity rule
    justification: str

    def covers(self, rule_id: str, system: str, key: str) -> bool:
        if self.rules and not any(fnmatch.fnmatchcase(rule_id, pattern) for pattern in self.rules):
            return False
        return fnmatch.fnmatchcase(system, self.system) and fnmatch.fnmatchcase(key, self.key)


@dataclass(frozen=True, slots=True)
class ParitySettings:
    roles: tuple[tuple[str, tuple[str, ...]], ...]  # (role, names), for each role
    pairs: tuple[tuple[str, str], ...]  # (pilot, production) environment names; empty: every pilot x production
    waivers: tuple[Waiver, ...]

    @classmethod
    def from_policy(cls, data: Mapping[str, Any] | None) -> ParitySettings:
        data = data or {}
        names = {role: tuple(DEFAULT_NAMES[role]) for role in DEFAULT_NAMES}
        given = data.get("environments", {})
        for role in names:
            if role in given:
                names[role] = tuple(str(n).lower() for n in given[role])
        # A name the policy moves to one role leaves the others.
        for role, listed in given.items():
            for other in names:
                if other != role:
                    names[other] = tuple(n for n in names[other] if n not in {str(x).lower() for x in listed})
        pairs = tuple((str(p["pilot"]).lower(), str(p["production"]).lower()) for p in data.get("pairs", ()))
        waivers = tuple(Waiver(str(w.get("key", "*")), str(w.get("system", "*")), tuple(w.get("rules", ())),
                               str(w["justification"])) for w in data.get("waivers", ()))
        return cls(tuple(names.items()), pairs, waivers)

    @property
    def names(self) -> Mapping[str, tuple[str, ...]]:
        return dict(self.roles)

    def role(self, name: str) -> str | None:
        """pilot, production, exempt or None (not an environment name) for a directory or file stem."""
        lowered = name.lower()
        names = self.names
        tokens = [t for t in _TOKENS.split(lowered) if t]
        # The name, else its first word (prod-eu, staging-2): base-preview is a base, not an environment.
        candidates: Sequence[str] = [lowered, *tokens[:1], *(t.rstrip("0123456789") for t in tokens[:1])]
        for role in (EXEMPT, PRODUCTION, PILOT):
            if lowered in names[role]:
                return role
        for candidate in candidates:
            for role in (EXEMPT, PRODUCTION, PILOT):
                if candidate and candidate in names[role]:
                    return role
        return None

    def paired(self, pilot: str, production: str) -> bool:
        if not self.pairs:
            return True
        return (pilot.lower(), production.lower()) in self.pairs

    def waiver(self, rule_id: str, system: str, key: str) -> Waiver | None:
        return next((w for w in self.waivers if w.covers(rule_id, system, key)), None)


DEFAULT_SETTINGS = ParitySettings.from_policy(None)


def merged_section(sections: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The `parity:` sections of a policy's layers, parent first: environment names per role and pairs are
    replaced by a later layer that gives them, waivers add up."""
    merged: dict[str, Any] = {}
    for section in sections:
        for key, value in section.items():
            if key == "environments":
                merged["environments"] = {**merged.get("environments", {}), **value}
            elif key == "waivers":
                merged["waivers"] = [*merged.get("waivers", []), *value]
            else:
                merged[key] = value
    return merged


def parity_param(tags: Sequence[str], sections: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a parity rule (tagged `parity`) receives of the policy's `parity:` sections: its `parity` parameter."""
    if "parity" not in tags:
        return {}
    merged = merged_section([s for s in sections if s])
    return {"parity": merged} if merged else {}
