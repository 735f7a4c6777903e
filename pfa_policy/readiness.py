"""Readiness: per pillar and overall, the severity-weighted share of applicable checks that pass, and a level.

Each selected rule the repository gives something to judge is one check (pfa_policy.engine.applicability); it
passes when it has no open finding. A check weighs 5 (error), 2 (warning) or 1 (note) by its effective
severity. The level reads the score and the failing checks (README, "Readiness"):

- production-ready: no error-severity check fails, and the overall score is at least 90 %;
- pilot-ready: the overall score is at least 70 %, every pillar with checks scores at least 50 %, and at least
  90 % of the error-severity checks pass (blockers are isolated, not pervasive);
- not ready: anything less;
- nothing to assess: the tree holds no ML or production artefact, or no selected rule applies to it; no score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pfa_policy.model import PILLARS, Coverage, Finding, Severity

WEIGHT = {Severity.ERROR: 5, Severity.WARNING: 2, Severity.NOTE: 1}
PRODUCTION_READY = "production-ready"
PILOT_READY = "pilot-ready"
NOT_READY = "not ready"
NOTHING_TO_ASSESS = "nothing to assess"
_PRODUCTION_SCORE = 90.0
_PILOT_SCORE = 70.0
_PILOT_PILLAR_SCORE = 50.0
_PILOT_ERRORS_PASSING = 90.0
# What a partial score leaves out, for people.
_PARTIAL = {"files": "only the given files were checked", "diff": "only what the change introduces counts",
            "baseline": "findings accepted in the baseline count as passing"}


@dataclass(frozen=True, slots=True)
class PillarScore:
    pillar: str
    checks: int  # the applicable ones
    failing: int
    not_applicable: int
    score: float | None  # 0..100; None: no applicable check

    def as_dict(self) -> dict[str, object]:
        return {"checks": self.checks, "failing": self.failing, "not_applicable": self.not_applicable,
                "score": self.score}

    def label(self) -> str:
        return "n/a" if self.score is None else f"{self.score:g}%"


@dataclass(frozen=True, slots=True)
class Readiness:
    pillars: tuple[PillarScore, ...]
    overall: float | None  # None: nothing to assess
    level: str
    partial: tuple[str, ...] = ()  # why the findings are only part of the tree's (ScanResult.partial)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall,
            "level": self.level,
            "partial": list(self.partial),
            "pillars": {p.pillar: p.as_dict() for p in self.pillars},
        }

    def headline(self) -> str:
        """`72.5% (pilot-ready)`, or `nothing to assess`."""
        return NOTHING_TO_ASSESS if self.overall is None else f"{self.overall:g}% ({self.level})"

    def caveat(self) -> str:
        """Why the score is partial, for people; "" when it is not."""
        if not self.partial:
            return ""
        return f"partial score: {'; '.join(_PARTIAL[reason] for reason in self.partial)}"

    def summary(self) -> str:
        return ", ".join(part for part in (self.headline(), self.caveat()) if part)

    def line(self) -> str:
        """The text report's readiness line."""
        pillars = ", ".join(f"{p.pillar} {p.label()}" for p in self.pillars)
        return f"Readiness: {self.summary()} — {pillars}"


def readiness(rule_pillars: Mapping[str, str], rule_severities: Mapping[str, Severity],
              findings: Sequence[Finding], coverage: Coverage | None = None,
              partial: tuple[str, ...] = ()) -> Readiness:
    """Without a coverage (a result from elsewhere), every selected rule counts as applicable."""
    failing = {f.rule_id for f in findings if f.suppression is None}
    applicable = set(rule_pillars) if coverage is None else coverage.applicable & set(rule_pillars) | failing
    pillars = []
    total_weight = passed_weight = 0
    errors = [r for r in applicable if rule_severities.get(r) is Severity.ERROR]
    errors_passing = 100.0 * sum(1 for r in errors if r not in failing) / len(errors) if errors else 100.0
    for pillar in PILLARS:
        ids = [r for r, p in rule_pillars.items() if p == pillar]
        checks = [r for r in ids if r in applicable]
        weight = sum(WEIGHT[rule_severities[r]] for r in checks)
        passed = sum(WEIGHT[rule_severities[r]] for r in checks if r not in failing)
        total_weight += weight
        passed_weight += passed
        score = round(100.0 * passed / weight, 1) if weight else None
        pillars.append(PillarScore(pillar, len(checks), sum(1 for r in checks if r in failing),
                                   len(ids) - len(checks), score))
    if (coverage is not None and not coverage.assessable) or not total_weight:
        return Readiness(tuple(pillars), None, NOTHING_TO_ASSESS, partial)
    overall = round(100.0 * passed_weight / total_weight, 1)
    return Readiness(tuple(pillars), overall, _level(overall, pillars, errors_passing), partial)


def _level(overall: float, pillars: Sequence[PillarScore], errors_passing: float) -> str:
    if overall >= _PRODUCTION_SCORE and errors_passing == 100.0:
        return PRODUCTION_READY
    if (overall >= _PILOT_SCORE and errors_passing >= _PILOT_ERRORS_PASSING
            and all(p.score is None or p.score >= _PILOT_PILLAR_SCORE for p in pillars)):
        return PILOT_READY
    return NOT_READY
