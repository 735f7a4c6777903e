"""Output formats. Each module renders a Report to text; the registry maps format names to them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.rule import Rule
from pfa_policy.fingerprint import fingerprints
from pfa_policy.model import ScanResult, Severity
from pfa_policy.readiness import Readiness, readiness


@dataclass(frozen=True)
class Report:
    """Everything a reporter may show, computed once."""

    result: ScanResult
    rules: dict[str, Rule]  # the selected rules, by id
    policy_name: str
    fail_on: Severity | None
    fingerprints: tuple[str, ...]
    readiness: Readiness
    category: str = ""
    color: bool = False

    @classmethod
    def build(cls, result: ScanResult, catalog: Catalog, policy_name: str, fail_on: Severity | None,
              severities: dict[str, Severity], category: str = "", color: bool = False) -> Report:
        rules = {rule_id: catalog.rules[rule_id] for rule_id in result.rule_ids}
        effective = {rule_id: severities.get(rule_id, rule.severity) for rule_id, rule in rules.items()}
        score = readiness({r.id: r.pillar for r in rules.values()}, effective, result.findings, result.coverage,
                          result.partial)
        return cls(result, rules, policy_name, fail_on, tuple(fingerprints(result.findings)), score, category,
                   color)

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "note": 0, "suppressed": 0}
        for finding in self.result.findings:
            if finding.suppression is not None:
                counts["suppressed"] += 1
            else:
                counts[finding.severity.label] += 1
        return counts


Renderer = Callable[[Report], str]

# Format name -> module; imported on use so `--version` and other commands stay fast.
FORMATS: dict[str, str] = {
    "text": "pfa_policy.reporters.text",
    "json": "pfa_policy.reporters.json_report",
    "sarif": "pfa_policy.reporters.sarif",
    "github": "pfa_policy.reporters.github",
    "markdown": "pfa_policy.reporters.markdown",
}


def render(format_name: str, report: Report) -> str:
    module = importlib.import_module(FORMATS[format_name])
    renderer: Renderer = module.render
    return renderer(report)
