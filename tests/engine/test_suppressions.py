"""Inline suppressions and policy exceptions: justified, visible in the output, reported when stale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.suppressions import find_suppressions
from tests.conftest import scan_tree, write_tree

_RULES = ["PFA-OP-003", "PFA-SUP-001", "PFA-SUP-002"]
_CODE = """import requests


def features(user_id: str) -> dict:
    return requests.get(f"https://fs.internal/{user_id}").json()  # pfa-policy: ignore[PFA-OP-003] 2s deadline


def scores(batch: list) -> dict:
    # pfa-policy: ignore[PFA-OP-003, PFA-EN-001] batch scoring, retried by the orchestrator
    return requests.post(
        "https://scorer.internal/v1/score", json=batch
    ).json()


def registry() -> dict:
    return requests.get("https://registry.internal/models").json()  # pfa-policy: ignore[PFA-OP-003]


def health() -> bool:
    # pfa-policy: ignore[PFA-OP-003] left over from an old version
    return requests.get("https://fs.internal/health", timeout=1).ok
"""


def test_comment_parsing() -> None:
    found = find_suppressions(_CODE)
    assert [(s.line, s.applies_to, s.rule_ids, bool(s.reason)) for s in found] == [
        (5, 5, ("PFA-OP-003",), True),
        (9, 10, ("PFA-OP-003", "PFA-EN-001"), True),
        (16, 16, ("PFA-OP-003",), False),
        (20, 21, ("PFA-OP-003",), True),
    ]


def test_inline_suppressions(tmp_path: Path, catalog: Catalog) -> None:
    write_tree(tmp_path, {"serving/clients.py": _CODE})
    result = scan_tree(tmp_path, catalog, rules=_RULES)
    summary = sorted((f.rule_id, f.span.line, f.suppression.justification if f.suppression else None)
                     for f in result.findings)
    assert summary == [
        ("PFA-OP-003", 5, "2s deadline"),
        ("PFA-OP-003", 10, "batch scoring, retried by the orchestrator"),
        ("PFA-OP-003", 16, None),  # a suppression without a reason does not suppress
        ("PFA-SUP-001", 16, None),
        ("PFA-SUP-002", 20, None),
    ]


def test_no_ignores_reports_everything(tmp_path: Path, catalog: Catalog) -> None:
    write_tree(tmp_path, {"serving/clients.py": _CODE})
    result = scan_tree(tmp_path, catalog, rules=_RULES, no_ignores=True)
    assert [(f.rule_id, f.span.line, f.suppression) for f in result.findings] == [
        ("PFA-OP-003", 5, None), ("PFA-OP-003", 10, None), ("PFA-OP-003", 16, None),
    ]


def test_policy_exceptions_and_expiry(tmp_path: Path, catalog: Catalog) -> None:
    code = "import requests\n\n\ndef f(url):\n    return requests.get(url)\n"
    write_tree(tmp_path, {"legacy/batch.py": code, "serving/app.py": code})
    policy = {"exceptions": [
        {"rules": ["PFA-OP-003"], "paths": ["legacy/**"], "justification": "legacy batch job, retired in Q1",
         "expires": "2027-03-31"},
        {"rules": ["PFA-OP-0*"], "paths": ["serving/**"], "justification": "accepted during the pilot phase",
         "expires": "2026-01-31"},
    ]}
    result = scan_tree(tmp_path, catalog, rules=["PFA-OP-003"], policy=policy, today=dt.date(2026, 11, 25))
    assert [(f.path, f.suppression.kind if f.suppression else None) for f in result.findings] == [
        ("legacy/batch.py", "external"), ("serving/app.py", None),
    ]
    expired = [n for n in result.notifications if "expired" in n.message]
    assert len(expired) == 1 and "2026-01-31" in expired[0].message
    before_expiry = scan_tree(tmp_path, catalog, rules=["PFA-OP-003"], policy=policy, today=dt.date(2026, 1, 1))
    assert all(f.suppression is not None for f in before_expiry.findings)


def test_rule_ids_in_suppressions_are_case_insensitive(tmp_path: Path, catalog: Catalog) -> None:
    code = ("import requests\n\n\ndef f(url):\n"
            "    return requests.get(url)  # pfa-policy: ignore[pfa-op-003] bounded by the caller's deadline\n")
    assert find_suppressions(code)[0].rule_ids == ("PFA-OP-003",)
    write_tree(tmp_path, {"serving/app.py": code})
    result = scan_tree(tmp_path, catalog, rules=_RULES)
    assert [(f.rule_id, f.suppression.justification if f.suppression else None) for f in result.findings] == [
        ("PFA-OP-003", "bounded by the caller's deadline")]
    assert result.notifications == ()


def test_a_mistyped_id_is_reported_with_the_closest_rule(tmp_path: Path, catalog: Catalog) -> None:
    code = ("import requests\n\n\ndef f(url):\n"
            "    return requests.get(url)  # pfa-policy: ignore[PFA-OP-03, NOT-A-RULE] bounded by the caller\n")
    write_tree(tmp_path, {"serving/app.py": code})
    result = scan_tree(tmp_path, catalog, rules=_RULES)
    assert [(n.level, n.path, n.line, n.message) for n in result.notifications] == [
        ("warning", "serving/app.py", 5, "unknown rule NOT-A-RULE in suppression"),
        ("warning", "serving/app.py", 5, "unknown rule PFA-OP-03 in suppression (did you mean PFA-OP-003?)"),
    ]
    # The typo silences nothing: the finding stays open and the comment is unused.
    assert [(f.rule_id, f.span.line, f.suppression) for f in result.findings] == [
        ("PFA-SUP-002", 5, None), ("PFA-OP-003", 5, None)]
    assert scan_tree(tmp_path, catalog, rules=_RULES, no_ignores=True).notifications == ()
