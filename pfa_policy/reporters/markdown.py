"""The job summary (also fit for a pull-request comment): readiness per pillar, counts by severity, the top
findings with links to the exact lines, and the repository-level findings GitHub cannot show in a diff.

Links point at `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/blob/$GITHUB_SHA/<path>#L<line>` when those variables
are set (inside GitHub Actions); elsewhere findings show as `path:line`.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from pfa_policy.model import Finding
from pfa_policy.reporters import Report
from pfa_policy.reporters.github import repository_path

TOP = 20
_ICON = {"error": "🔴", "warning": "🟠", "note": "🔵"}


def render(report: Report) -> str:
    counts = report.counts()
    readiness = report.readiness
    gate = report.fail_on.label if report.fail_on else "never"
    open_findings = [f for f in report.result.findings if f.suppression is None]
    file_level = [f for f in open_findings if not report.rules[f.rule_id].is_repository_rule]
    repo_level = [f for f in open_findings if report.rules[f.rule_id].is_repository_rule]
    failing = report.fail_on is not None and any(f.severity >= report.fail_on for f in open_findings)
    lines = [
        "## pfa-policy",
        "",
        f"{'❌ **Failing**' if failing else '✅ **Passing**'} — policy `{report.policy_name}`, fail-on `{gate}`, "
        f"{report.result.files_scanned} file(s) scanned. Readiness **{readiness.overall:g}%** ({readiness.level}).",
        "",
        "| Errors | Warnings | Notes | Suppressed |",
        "|---:|---:|---:|---:|",
        f"| {counts['error']} | {counts['warning']} | {counts['note']} | {counts['suppressed']} |",
        "",
        "| Pillar | Readiness | Failing checks |",
        "|---|---:|---:|",
    ]
    lines.extend(f"| {p.pillar} | {p.score:g}% | {p.failing} of {p.checks} |" for p in readiness.pillars)
    lines.append("")
    if file_level:
        ordered = sorted(file_level, key=lambda f: (-f.severity, f.path, f.span.line, f.rule_id))
        lines.append(f"### Top findings ({min(TOP, len(ordered))} of {len(ordered)})")
        lines.append("")
        lines.extend(_table(report, ordered[:TOP]))
        lines.append("")
    if repo_level:
        lines.append(f"### Repository-level findings ({len(repo_level)})")
        lines.append("")
        lines.append("These concern the repository as a whole, so they rarely sit on a changed line and GitHub "
                     "does not annotate them in the diff.")
        lines.append("")
        lines.extend(_table(report, repo_level))
        lines.append("")
    if not open_findings:
        lines.append("No open findings. 🎉")
        lines.append("")
    notes = [n for n in report.result.notifications if n.level in ("error", "warning")]
    if notes:
        lines.append(f"<details><summary>{len(notes)} tool notification(s)</summary>")
        lines.append("")
        lines.extend(f"- {n.level}: {_cell(n.path or '-')}: {_cell(n.message)}" for n in notes)
        lines.append("")
        lines.append("</details>")
        lines.append("")
    return "\n".join(lines)


def _table(report: Report, findings: list[Finding]) -> list[str]:
    rows = ["| Severity | Rule | Location | Message |", "|---|---|---|---|"]
    for finding in findings:
        level = finding.severity.label
        rule = report.rules[finding.rule_id]
        rows.append(f"| {_ICON[level]} {level} | `{finding.rule_id}` {_cell(rule.name)} | "
                    f"{_location(report, finding)} | {_cell(finding.message)} |")
    return rows


def _location(report: Report, finding: Finding) -> str:
    path = repository_path(report, finding.path)
    label = f"`{_cell(path)}:{finding.span.line}`"
    server, repository, sha = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                               "GITHUB_SHA"))
    if not (server and repository and sha):
        return label
    return f"[{label}]({server.rstrip('/')}/{repository}/blob/{sha}/{quote(path)}#L{finding.span.line})"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
