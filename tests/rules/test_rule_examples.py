"""Every example of every rule, run through the real engine: invalid ones report exactly their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.engine.loader import load_catalog
from pfa_policy.engine.rule import Example, Rule
from tests.conftest import scan_tree, write_tree

_CATALOG = load_catalog()


def _cases() -> list[object]:
    cases = []
    for rule in _CATALOG.rules.values():
        for kind, examples in (("invalid", rule.invalid_examples), ("valid", rule.valid_examples)):
            for position, example in enumerate(examples):
                cases.append(pytest.param(rule, example, id=f"{rule.id}/{kind}-{position}"))
    return cases


@pytest.mark.parametrize(("rule", "example"), _cases())
def test_example(rule: Rule, example: Example, tmp_path: Path) -> None:
    write_tree(tmp_path, {example.path: example.code, **dict(example.files)})
    params = {rule.id: dict(example.params)} if example.params else None
    result = scan_tree(tmp_path, _CATALOG, rules=[rule.id], params=params)
    reported = sorted((f.path, f.span.line) for f in result.findings if f.rule_id == rule.id)
    expected = sorted((example.path, line) for line in example.lines)
    assert reported == expected, [f.message for f in result.findings]
    internal = [n for n in result.notifications if "internal error" in n.message]
    assert not internal, internal
