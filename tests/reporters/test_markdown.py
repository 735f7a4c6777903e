"""The Markdown job summary: counts that agree with the totals, and repository text that cannot inject markup."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from pfa_policy.cli import main
from pfa_policy.engine.loader import Catalog
from pfa_policy.model import Finding, ScanResult, Severity, Span
from pfa_policy.reporters import Report, render
from tests.conftest import REPO_ROOT

_PILOT = REPO_ROOT / "fixtures" / "churn-pilot"
_NO_GITHUB = {"GITHUB_SERVER_URL": None, "GITHUB_REPOSITORY": None, "GITHUB_SHA": None, "GITHUB_WORKSPACE": None}


def _report(catalog: Catalog, *findings: Finding) -> Report:
    result = ScanResult("/repo", findings, (), 1, ("PFA-OP-003",))
    return Report.build(result, catalog, "production", Severity.ERROR, {})


def test_counts_agree_with_the_totals_and_the_sections() -> None:
    args = ["scan", str(_PILOT), "--no-cache", "-j", "1", "--fail-on", "never"]
    totals = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)["summary"]["counts"]
    markdown = CliRunner(env=_NO_GITHUB).invoke(main, [*args, "--format", "markdown"]).stdout
    row = f"| {totals['error']} | {totals['warning']} | {totals['note']} | {totals['suppressed']} |"
    assert row == "| 41 | 78 | 3 | 0 |" and row in markdown.splitlines()
    top = re.search(r"^### Top findings \((\d+) of (\d+)\)$", markdown, re.MULTILINE)
    repository = re.search(r"^### Repository-level findings \((\d+)\)$", markdown, re.MULTILINE)
    assert top is not None and repository is not None
    shown, in_files, about_repository = int(top[1]), int(top[2]), int(repository[1])
    assert (shown, in_files + about_repository) == (20, totals["error"] + totals["warning"] + totals["note"])
    rows = [line for line in markdown.splitlines() if line.startswith(("| 🔴", "| 🟠", "| 🔵"))]
    assert len(rows) == shown + about_repository


def test_markdown_and_html_in_messages_and_paths_are_escaped(catalog: Catalog) -> None:
    message = "`<img src=x onerror=alert(1)>` is *called* | [here](https://evil.example) & $x$ <b>now</b>"
    finding = Finding("PFA-OP-003", "src/we`ird|name.py", Span(3), message, Severity.WARNING)
    text = render("markdown", _report(catalog, finding))
    assert ("| 🟠 warning | `PFA-OP-003` http-call-without-timeout | ``src/we`ird\\|name.py:3`` | "
            "`<img src=x onerror=alert(1)>` is \\*called\\* \\| \\[here\\](https://evil.example) \\& \\$x\\$ "
            "\\<b\\>now\\</b\\> |") in text.splitlines()


def test_a_value_with_a_backtick_of_its_own_leaves_no_span_open(catalog: Catalog) -> None:
    finding = Finding("PFA-OP-003", "app.py", Span(1), "`a`b` <i>x</i>", Severity.WARNING)
    assert "| \\`a\\`b\\` \\<i\\>x\\</i\\> |" in render("markdown", _report(catalog, finding))


def test_annotations_escape_per_the_workflow_command_rules(catalog: Catalog) -> None:
    finding = Finding("PFA-OP-003", "a,b:c.py", Span(2), "50% done\r\nnext", Severity.WARNING)
    line = render("github", _report(catalog, finding)).splitlines()[0]
    assert line.startswith("::warning file=a%2Cb%3Ac.py,line=2,endLine=2,col=1,"
                           "title=PFA-OP-003 http-call-without-timeout::50%25 done%0D%0Anext%0Afix: ")
