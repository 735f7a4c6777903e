"""Every example of every built-in rule, run through the real engine by the same code as `pfa-policy rules test`:
invalid ones report exactly their lines, valid ones nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfa_policy.engine.loader import load_catalog
from pfa_policy.rule_testing import Case, cases, run_case

_CATALOG = load_catalog()


@pytest.mark.parametrize("case", cases(_CATALOG.rules.values()), ids=lambda case: case.name)
def test_example(case: Case, tmp_path: Path) -> None:
    outcome = run_case(_CATALOG, case, tmp_path)
    assert outcome.passed, outcome.describe()
    assert outcome.describe() == f"ok    {case.name}"
