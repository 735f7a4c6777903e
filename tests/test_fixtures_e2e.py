"""End to end over the sample repositories: what the pilot gets flagged for, and what stays quiet.

The pilot's findings are a golden file (path:line rule-id), reviewed like code: regenerate it with
`PFA_UPDATE_GOLDEN=1 python -m pytest tests/test_fixtures_e2e.py` and read the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.engine.loader import Catalog
from tests.conftest import REPO_ROOT, scan_tree

_FIXTURES = REPO_ROOT / "fixtures"
_GOLDEN = Path(__file__).parent / "golden" / "churn-pilot.txt"


def test_pilot_findings_match_the_reviewed_golden_file(catalog: Catalog) -> None:
    result = scan_tree(_FIXTURES / "churn-pilot", catalog, jobs=2)
    lines = [f"{f.path}:{f.span.line} {f.rule_id}" for f in result.findings]
    text = "\n".join(lines) + "\n"
    if os.environ.get("PFA_UPDATE_GOLDEN"):
        _GOLDEN.write_text(text, encoding="utf-8")
    assert text == _GOLDEN.read_text(encoding="utf-8")
    assert result.notifications == ()


def test_pilot_look_alikes_stay_quiet(catalog: Catalog) -> None:
    result = scan_tree(_FIXTURES / "churn-pilot", catalog)
    flagged = {f.path for f in result.findings}
    quiet = {"tests/test_app.py", "tests/conftest.py", "tests/test_train.py", "tests/test_features.py",
             "notebooks/exploration.ipynb", "docker-compose.dev.yml", "README.md"}
    assert flagged.isdisjoint(quiet)


def test_pilot_covers_every_pillar(catalog: Catalog) -> None:
    result = scan_tree(_FIXTURES / "churn-pilot", catalog)
    pillars = {catalog.rules[f.rule_id].pillar for f in result.findings}
    assert len(pillars) == 8


def test_production_grade_service_is_clean() -> None:
    output = CliRunner().invoke(main, ["scan", str(_FIXTURES / "fraud-service"), "--format", "json",
                                       "--no-cache"]).output
    report = json.loads(output)
    assert report["findings"] == []
    assert report["notifications"] == []
    assert report["summary"]["readiness"]["level"] == "production-ready"


def test_strict_pack_adds_only_defence_in_depth_on_the_clean_service(catalog: Catalog) -> None:
    result = scan_tree(_FIXTURES / "fraud-service", catalog, policy={"rules": {"include": ["*"]}})
    assert all("strict-only" in catalog.rules[f.rule_id].tags for f in result.findings)
