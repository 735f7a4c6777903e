"""Readiness: per pillar and overall, the share of applicable checks that pass, weighted by severity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pfa_policy.model import PILLARS, Finding, Severity

_WEIGHT = {Severity.ERROR: 5, Severity.WARNING: 2, Severity.NOTE: 1}


@dataclass(frozen=True, slots=True)
class PillarScore:
    pillar: str
    checks: int
    failing: int
    score: float  # 0..100

    def as_dict(self) -> dict[str, object]:
        return {"checks": self.checks, "failing": self.failing, "score": self.score}


@dataclass(frozen=True, slots=True)
class Readiness:
    pillars: tuple[PillarScore, ...]
    overall: float
    level: str

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall,
            "level": self.level,
            "pillars": {p.pillar: p.as_dict() for p in self.pillars},
        }


def readiness(rule_pillars: Mapping[str, str], rule_severities: Mapping[str, Severity],
              findings: Sequence[Finding]) -> Readiness:
    """Each selected rule is one check; it passes when it has no open finding.

    A check's weight follows its severity, so a failing error costs more than a failing note."""
    failing = {f.rule_id for f in findings if f.suppression is None}
    pillars = []
    total_weight = passed_weight = 0
    for pillar in PILLARS:
        ids = [r for r, p in rule_pillars.items() if p == pillar]
        weight = sum(_WEIGHT[rule_severities[r]] for r in ids)
        passed = sum(_WEIGHT[rule_severities[r]] for r in ids if r not in failing)
        total_weight += weight
        passed_weight += passed
        score = round(100.0 * passed / weight, 1) if weight else 100.0
        pillars.append(PillarScore(pillar, len(ids), sum(1 for r in ids if r in failing), score))
    overall = round(100.0 * passed_weight / total_weight, 1) if total_weight else 100.0
    blocking = any(f.severity is Severity.ERROR for f in findings if f.suppression is None)
    level = "production-ready" if not blocking and overall >= 90 else ("pilot-ready" if overall >= 50 else "not ready")
    return Readiness(tuple(pillars), overall, level)
