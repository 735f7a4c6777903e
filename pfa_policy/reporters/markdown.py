"""The job summary (also fit for a pull-request comment): readiness per pillar, counts by severity, the top
findings with links to the exact lines, and the repository-level findings GitHub cannot show in a diff.

Links point at `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/blob/$GITHUB_SHA/<path>#L<line>` when those variables
are set (inside GitHub Actions); elsewhere findings show as `path:line`.

Text that comes from the scanned repository (messages quote names and values from it, paths) is escaped: a
message keeps its `code` spans, and everything else that Markdown, HTML or GitHub's math would interpret is
backslash-escaped, so a finding cannot inject formatting, links or markup into the summary.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

from pfa_policy.model import Finding
from pfa_policy.reporters import Report
from pfa_policy.reporters.github import repository_path

TOP = 20
_ICON = {"error": "🔴", "warning": "🟠", "note": "🔵"}
# What Markdown, inline HTML, entities, GitHub's strikethrough and math would read in running text.
_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~$])")
_BACKTICKS = re.compile(r"`+")


def render(report: Report) -> str:
    counts = report.counts()
    readiness = report.readiness
    gate = report.fail_on.label if report.fail_on else "never"
    open_findings = [f for f in report.result.findings if f.suppression is None]
    file_level = [f for f in open_findings if not report.rules[f.rule_id].is_repository_rule]
    repo_level = [f for f in open_findings if report.rules[f.rule_id].is_repository_rule]
    failing = report.fail_on is not None and any(f.severity >= report.fail_on for f in open_findings)
    score = "nothing to assess" if readiness.overall is None else f"**{readiness.overall:g}%** ({readiness.level})"
    caveat = f" ({readiness.caveat()})" if readiness.caveat() else ""
    lines = [
        "## pfa-policy",
        "",
        f"{'❌ **Failing**' if failing else '✅ **Passing**'} — policy {_code(report.policy_name)}, fail-on `{gate}`, "
        f"{report.result.files_scanned} file(s) scanned. Readiness {score}{caveat}.",
        "",
    ]
    diff = report.result.diff
    if diff is not None:
        lines.append(f"Diff scan against {_code(diff.ref)} (merge-base `{diff.merge_base[:12]}`, {diff.changed_files} "
                     "file(s) changed): only findings on added or changed lines, and the repository-level findings "
                     "the change introduces.")
        lines.append("")
    lines.extend([
        "| Errors | Warnings | Notes | Suppressed |",
        "|---:|---:|---:|---:|",
        f"| {counts['error']} | {counts['warning']} | {counts['note']} | {counts['suppressed']} |",
        "",
        "| Pillar | Readiness | Failing checks |",
        "|---|---:|---:|",
    ])
    lines.extend(f"| {p.pillar} | {p.label()} | {f'{p.failing} of {p.checks}' if p.checks else 'none apply'} |"
                 for p in readiness.pillars)
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
        lines.extend(f"- {n.level}: {_text(n.path or '-')}: {_message(n.message)}" for n in notes)
        lines.append("")
        lines.append("</details>")
        lines.append("")
    return "\n".join(lines)


def _table(report: Report, findings: list[Finding]) -> list[str]:
    rows = ["| Severity | Rule | Location | Message |", "|---|---|---|---|"]
    for finding in findings:
        level = finding.severity.label
        rule = report.rules[finding.rule_id]
        rows.append(f"| {_ICON[level]} {level} | {_code(finding.rule_id)} {_text(rule.name)} | "
                    f"{_location(report, finding)} | {_message(finding.message)} |")
    return rows


def _location(report: Report, finding: Finding) -> str:
    path = repository_path(report, finding.path)
    label = _code(f"{path}:{finding.span.line}")
    server, repository, sha = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                               "GITHUB_SHA"))
    if not (server and repository and sha):
        return label
    return f"[{label}]({server.rstrip('/')}/{repository}/blob/{sha}/{quote(path)}#L{finding.span.line})"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _text(text: str) -> str:
    """Plain text, on one line, that renders as itself (also inside a table cell)."""
    return _escape(_flat(text))


def _code(text: str) -> str:
    """A code span that holds `text` whatever backticks it has (also inside a table cell)."""
    text = _flat(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _message(text: str) -> str:
    """A message with its `code` spans kept and everything else escaped. When a quoted value brought a backtick
    of its own the spans cannot be told apart: then all of it is escaped text."""
    parts = _flat(text).split("`")
    if len(parts) % 2 == 0:
        return _escape(_flat(text))
    return "".join(_code(part) if index % 2 else _escape(part) for index, part in enumerate(parts))
