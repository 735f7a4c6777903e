"""What a scanned tree gives the selected rules to judge, so a readiness score counts only those.

A file-level rule applies when some file in one of its scopes is of one of its target kinds: a CloudFormation
rule does not pass in a repository without CloudFormation, it does not count. A repository-level rule applies
when what it is about is there: its `fact` and `files` conditions hold, and its predicate's precondition does
(each repository predicate registers one beside itself).

Independently, a tree with no ML or production artefact (no code, notebook, container or manifest outside
tests, docs and dev setups) has nothing to assess, however many checks its configuration files let apply.
"""

from __future__ import annotations

from pfa_policy.engine import predicates, repository
from pfa_policy.engine.loader import Catalog
from pfa_policy.model import Coverage, Notification
from pfa_policy.policy import EffectivePolicy

ARTEFACT_KINDS = frozenset({"python", "notebook", "dockerfile", "kubernetes", "kserve", "seldon", "helm-values",
                            "compose", "cloudformation", "mlproject", "dvc", "bentofile", "terraform", "azureml"})
_ARTEFACT_SCOPES = frozenset({"production", "notebook"})
_NO_ARTEFACT = Notification("warning", "nothing to assess: no code, notebook, container or deployment manifest "
                            "outside tests, docs and dev setups, so no readiness score")
_NO_RULE = Notification("warning", "nothing to assess: no selected rule applies to the files here, so no readiness "
                        "score")


def coverage(catalog: Catalog, policy: EffectivePolicy, context: repository.RepoContext) -> Coverage:
    applicable = frozenset(rule_id for rule_id in policy.rule_ids if _applies(catalog, policy, rule_id, context))
    return Coverage(applicable, context.has_kinds(ARTEFACT_KINDS, _ARTEFACT_SCOPES))


def _applies(catalog: Catalog, policy: EffectivePolicy, rule_id: str, context: repository.RepoContext) -> bool:
    rule = catalog.rules[rule_id]
    match = catalog.repository.get(rule_id)
    if match is None:
        return context.has_kinds(rule.targets, rule.scopes)
    return repository.applies(match, rule.scopes, context, policy.params.get(rule_id, {}),
                              predicates.REPOSITORY_APPLIES)


def notice(covered: Coverage) -> Notification | None:
    """The warning a scan reports when its tree has nothing to assess."""
    if not covered.artefacts:
        return _NO_ARTEFACT
    return None if covered.applicable else _NO_RULE
