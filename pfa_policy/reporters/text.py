"""Human output: findings grouped by file, with the rule, severity, message and how to fix it."""

from __future__ import annotations

from itertools import groupby

import click

from pfa_policy.reporters import Report

_COLORS = {"error": "red", "warning": "yellow", "note": "cyan"}


def render(report: Report) -> str:
    lines: list[str] = []
    style = _styler(report.color)
    findings = [f for f in report.result.findings if f.suppression is None]
    for path, group in groupby(findings, key=lambda f: f.path):
        lines.append(style(path, bold=True))
        for finding in group:
            level = finding.severity.label
            position = f"{finding.span.line}:{finding.span.column}"
            lines.append(f"  {position:>8}  {style(f'{level:<7}', fg=_COLORS[level])}  {finding.rule_id}  "
                         f"{finding.message}")
            lines.append(f"  {'':>8}  {'':7}  {'':{len(finding.rule_id)}}  fix: {report.rules[finding.rule_id].fix}")
        lines.append("")
    if report.result.notifications:
        lines.append(style("Notifications", bold=True))
        for note in report.result.notifications:
            where = f"{note.path}:{note.line}" if note.path else "-"
            lines.append(f"  {style(f'{note.level:<7}', fg=_COLORS.get(note.level))}  {where}  {note.message}")
        lines.append("")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _summary(report: Report) -> str:
    counts = report.counts()
    readiness = report.readiness
    gate = report.fail_on.label if report.fail_on else "never"
    pillars = ", ".join(f"{p.pillar} {p.score:g}%" for p in readiness.pillars)
    return (
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['note']} note(s), "
        f"{counts['suppressed']} suppressed in {report.result.files_scanned} file(s); "
        f"policy {report.policy_name}, fail-on {gate}\n"
        f"Readiness: {readiness.overall:g}% ({readiness.level}) — {pillars}"
    )


class _Styler:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if self.enabled else text


def _styler(enabled: bool) -> _Styler:
    return _Styler(enabled)
