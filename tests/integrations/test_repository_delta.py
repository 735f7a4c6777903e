"""Which repository-level findings a change introduces: matched by rule and anchor, path only as a tiebreak."""

from __future__ import annotations

from pfa_policy.integrations.diffscan import introduced
from pfa_policy.model import FILE_START, Finding, Severity, Span


def _f(rule: str, path: str, anchor: str, line: int = 1) -> Finding:
    return Finding(rule, path, Span(line) if line > 1 else FILE_START, "m", Severity.ERROR, anchor)


def test_a_moved_absence_finding_is_not_new() -> None:
    head = [(_f("CI-3", "pyproject.toml", "ci-no-tests"), "fp1")]
    assert introduced(head, [_f("CI-3", "app.py", "ci-no-tests")]) == []


def test_a_second_occurrence_in_a_new_file_is_new_and_points_at_it() -> None:
    base = [_f("TEL-1", "serving/a.py", "fact:serving-app:fastapi.FastAPI", 3)]
    head = [(_f("TEL-1", "serving/a.py", "fact:serving-app:fastapi.FastAPI", 5), "a"),
            (_f("TEL-1", "serving/b.py", "fact:serving-app:fastapi.FastAPI", 2), "b")]
    assert [fp for _, fp in introduced(head, base)] == ["b"]


def test_a_new_anchor_or_rule_is_new_and_an_unchanged_set_is_not() -> None:
    base = [_f("DG-1", "data/x.bin", "large-binary:data/x.bin")]
    head = [(_f("DG-1", "data/x.bin", "large-binary:data/x.bin"), "x"),
            (_f("DG-1", "data/y.bin", "large-binary:data/y.bin"), "y"),
            (_f("CI-1", "README.md", "repository"), "ci")]
    assert [fp for _, fp in introduced(head, base)] == ["y", "ci"]
    assert introduced(head[:1], base) == []
