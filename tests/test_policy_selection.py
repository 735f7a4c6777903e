"""A child policy's `rules:` refines its parent's selection, like ruff's select / extend-select / ignore across
`extend`: `include` replaces it, `extend_include` adds to it, `exclude` takes from it; no `rules`, keep it."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.engine.loader import Catalog
from pfa_policy.policy import prepare


def _enabled(tmp_path: Path, *chain: str) -> tuple[Catalog, set[str]]:
    """The catalogue and the rules of a chain of policy files (each extends the previous; the first extends
    production)."""
    parent = "production"
    for position, body in enumerate(chain):
        path = tmp_path / f"layer{position}.yaml"
        path.write_text(f"extends: {parent}\n{body}", encoding="utf-8")
        parent = f"./{path.name}"
    catalog, effective = prepare(tmp_path, policy=str(tmp_path / f"layer{len(chain) - 1}.yaml"))
    return catalog, set(effective.rule_ids)


def _strict_only(catalog: Catalog) -> set[str]:
    return {rule.id for rule in catalog.rules.values() if "strict-only" in rule.tags}


def test_built_in_packs_keep_their_selection(tmp_path: Path) -> None:
    catalog, production = prepare(tmp_path, policy="production")
    every = set(catalog.rules)
    assert set(production.rule_ids) == every - _strict_only(catalog) and _strict_only(catalog)
    assert set(prepare(tmp_path, policy="pilot")[1].rule_ids) == set(production.rule_ids)  # no `rules`: inherited
    assert set(prepare(tmp_path, policy="strict")[1].rule_ids) == every  # include replaces


def test_a_child_exclude_narrows_the_parent_selection(tmp_path: Path) -> None:
    catalog, enabled = _enabled(tmp_path, "rules:\n  exclude: [PFA-OP-003]\n")
    # The parent's exclusion of the strict-only rules still holds: exclude refines, it does not reset.
    assert enabled == set(catalog.rules) - _strict_only(catalog) - {"PFA-OP-003"}


def test_a_child_include_replaces_and_extend_include_adds(tmp_path: Path) -> None:
    catalog, enabled = _enabled(tmp_path, "rules:\n  include: ['pillar:cicd']\n")
    assert enabled == {rule.id for rule in catalog.rules.values() if rule.pillar == "cicd"}
    strict_only = sorted(_strict_only(catalog))
    catalog, added = _enabled(tmp_path, f"rules:\n  extend_include: [{strict_only[0]}]\n")
    assert added == set(catalog.rules) - _strict_only(catalog) | {strict_only[0]}


def test_layers_apply_in_order_and_an_empty_rules_keeps_the_selection(tmp_path: Path) -> None:
    catalog, enabled = _enabled(
        tmp_path,
        "rules:\n  include: [PFA-OP-*]\n  exclude: [PFA-OP-003]\n",  # within a layer, exclude wins
        "rules: {}\n",
        "rules:\n  extend_include: [PFA-OP-003, PFA-CI-001]\n  exclude: [PFA-OP-001]\n",
    )
    operability = {rule_id for rule_id in catalog.rules if rule_id.startswith("PFA-OP-")}
    assert enabled == operability - {"PFA-OP-001"} | {"PFA-CI-001"}


def test_the_project_configuration_is_the_last_layer(tmp_path: Path) -> None:
    (tmp_path / ".pfa-policy.yaml").write_text("policy: strict\nrules:\n  exclude: ['tag:strict-only']\n")
    catalog, effective = prepare(tmp_path)
    assert set(effective.rule_ids) == set(catalog.rules) - _strict_only(catalog)
