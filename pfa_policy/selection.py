"""`--select` / `--ignore`: narrow the rules a policy enables, with the policy's own selector syntax."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pfa_policy.engine.loader import Catalog
from pfa_policy.model import PfaError
from pfa_policy.policy import EffectivePolicy, select_rules
from pfa_policy.suggest import did_you_mean


def selectors(values: Sequence[str]) -> list[str]:
    """Repeated and comma-separated values; rule ids and id globs are case-insensitive."""
    found = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return [s if s.startswith(("pillar:", "tag:")) else s.upper() for s in found]


def narrow(catalog: Catalog, policy: EffectivePolicy, select: Sequence[str],
           ignore: Sequence[str]) -> tuple[EffectivePolicy, list[str]]:
    """The policy with only the rules it enables that `select` (default: all) picks and `ignore` does not, and
    a warning for each `select` selector that picks none of them. They never enable a rule the policy leaves
    out; a selector that names no rule at all is an error."""
    if not select and not ignore:
        return policy, []
    known = list(catalog.rules.values())
    spellings = [*catalog.rules, *sorted({f"tag:{tag}" for rule in known for tag in rule.tags})]
    for option, given in (("--select", select), ("--ignore", ignore)):
        for selector in given:
            if not select_rules(known, [selector], []):
                raise PfaError(f"{option} {selector}: no rule matches{did_you_mean(selector, spellings)}")
    enabled = [catalog.rules[rule_id] for rule_id in policy.rule_ids]
    kept = select_rules(enabled, select or ["*"], ignore)
    warnings = [f"--select {s} matches no rule the policy {policy.name} enables" for s in select
                if not select_rules(enabled, [s], [])]
    return dataclasses.replace(policy, rule_ids=tuple(rule.id for rule in kept)), warnings
