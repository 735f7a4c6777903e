"""The built-in catalogue as a whole: breadth, documentation, examples, and the generated reference."""

from __future__ import annotations

import re
from collections import Counter

from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.docs import render_reference
from pfa_policy.engine.loader import Catalog
from pfa_policy.model import PILLARS
from tests.conftest import REPO_ROOT

_ID = re.compile(r"^PFA-(AI|TE|AU|EN|CI|DG|AC|OP|SUP)-\d{3}$")
_PILLAR_CODE = {"AI": "authentic-integrations", "TE": "telemetry", "AU": "audit-logging", "EN": "encryption",
                "CI": "cicd", "DG": "data-governance", "AC": "access-control", "OP": "operability"}


def test_breadth(catalog: Catalog) -> None:
    per_pillar = Counter(rule.pillar for rule in catalog.rules.values() if not rule.id.startswith("PFA-SUP"))
    assert sum(per_pillar.values()) >= 60
    assert {pillar: per_pillar[pillar] >= 6 for pillar in PILLARS} == {pillar: True for pillar in PILLARS}


def test_every_rule_is_documented_and_exemplified(catalog: Catalog) -> None:
    names = Counter(rule.name for rule in catalog.rules.values())
    assert [n for n, count in names.items() if count > 1] == []
    for rule in catalog.rules.values():
        assert _ID.match(rule.id), rule.id
        code = rule.id.split("-")[1]
        assert code == "SUP" or _PILLAR_CODE[code] == rule.pillar, rule.id
        assert f"/{rule.pillar}/" in rule.source.replace("\\", "/") or "/engine/" in rule.source, rule.source
        for section in (rule.docs.what, rule.docs.why, rule.docs.example, rule.docs.instead):
            assert len(section.strip()) >= 10, rule.id
        assert rule.references, rule.id
        assert rule.invalid_examples and rule.valid_examples, rule.id
        assert rule.security_severity is None or rule.pillar in ("encryption", "access-control",
                                                                 "authentic-integrations", "audit-logging",
                                                                 "cicd", "data-governance"), rule.id


def test_generated_reference_is_current(catalog: Catalog) -> None:
    committed = (REPO_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_reference(catalog.rules.values()), "run `pfa-policy rules docs`"


def test_rules_list_counts_per_pillar_and_target() -> None:
    output = CliRunner().invoke(main, ["rules", "list"]).output
    assert "per pillar: authentic-integrations" in output and "per target:" in output


def test_every_python_check_can_be_pre_filtered(catalog: Catalog) -> None:
    """A Python rule or fact without pre-filter tokens makes every Python file of every repository parse."""
    unfiltered = sorted(key for key, matcher in catalog.matchers.items() if matcher.python and matcher.tokens is None)
    assert unfiltered == [], "add a `prefilter:` to these"


def test_every_built_in_rule_file_passes_the_schema() -> None:
    """What lets an installed wheel load its own rule files without validating them again (loader)."""
    from pfa_policy.engine.loader import rule_files
    from pfa_policy.engine.validation import load_data_file, parse_trusted_data_file
    from pfa_policy.resources import builtin_dir, shipped

    assert shipped("rules") is None and shipped("policies") is None  # a source tree validates every load
    for path in rule_files([builtin_dir("rules")]):
        facts = path.name == "facts.yaml" or path.name.endswith(".facts.yaml")
        data, _ = load_data_file(path, "rule.schema.yaml", "facts_file" if facts else None)
        # A wheel reads them through libyaml instead: it must see the same data.
        assert parse_trusted_data_file(path) == data, path


def test_every_built_in_policy_pack_passes_the_schema() -> None:
    """What lets an installed wheel read its own policy packs without validating them again (layers)."""
    from pfa_policy.layers import read_policy_file
    from pfa_policy.resources import builtin_dir

    packs = sorted(builtin_dir("policies").glob("*.yaml"))
    assert packs
    for path in packs:
        assert read_policy_file(path)[1] == [], path
