"""Human output: findings grouped by file, rule or severity, each fix hint once per group (after the rule's first
finding in it), wrapped to the terminal width; or the number of findings per rule (--statistics)."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

import click

from pfa_policy.model import Finding
from pfa_policy.reporters import Report

_COLORS = {"error": "red", "warning": "yellow", "note": "cyan"}
# Below this many columns for the text, wrapped lines start at a small indent instead of under the text.
_MIN_TEXT = 30
_NARROW_INDENT = 4


@dataclass(frozen=True)
class Layout:
    group_by: str = "file"  # one of terminal.GROUPINGS
    statistics: bool = False  # counts per rule instead of the findings
    width: int | None = None  # wrap lines to this many columns; None: never wrap
    quiet: bool = False  # findings and errors only: no notes, warnings or summary


def render(report: Report, layout: Layout | None = None) -> str:
    layout = layout or Layout()
    out = _Writer(layout.width, report.color)
    findings = [f for f in report.result.findings if f.suppression is None]
    if layout.statistics:
        _statistics(out, report, findings)
    else:
        for heading, group in _groups(report, findings, layout.group_by):
            out.lines.append(out.style(heading, bold=True))
            _findings(out, report, group, layout.group_by)
            out.lines.append("")
    notifications = [n for n in report.result.notifications if not layout.quiet or n.level == "error"]
    if notifications:
        out.lines.append(out.style("Notifications", bold=True))
        for note in notifications:
            where = f"{_shown(note.path)}:{note.line}" if note.path else "-"
            out.row([(f"{note.level:<7}", _COLORS.get(note.level)), (where, None)], note.message)
        out.lines.append("")
    if not layout.quiet:
        for line in _summary(report).splitlines():
            out.text(line, 0, 2)
    return "".join(line + "\n" for line in out.lines)


def _groups(report: Report, findings: list[Finding], group_by: str) -> Iterator[tuple[str, list[Finding]]]:
    """(heading, findings) per group; files in path order, rules and severities the most severe first."""
    if group_by == "file":
        for path, in_file in groupby(findings, key=lambda f: f.path):
            yield _shown(path), list(in_file)
    elif group_by == "rule":
        ordered = sorted(findings, key=lambda f: (-f.severity, f.rule_id))
        for rule_id, of_rule in groupby(ordered, key=lambda f: f.rule_id):
            group = list(of_rule)
            yield f"{rule_id} {report.rules[rule_id].name} ({_count(len(group), group[0].severity.label)})", group
    else:
        for severity, at_level in groupby(sorted(findings, key=lambda f: -f.severity), key=lambda f: f.severity):
            group = list(at_level)
            yield _count(len(group), severity.label), group


def _shown(path: str) -> str:
    """A path as one terminal line: control characters (a newline in a file name) written as escapes."""
    if path.isprintable():
        return path
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in path)


def _count(number: int, level: str) -> str:
    return f"{number} {level}{'' if number == 1 else 's'}"


def _findings(out: _Writer, report: Report, group: list[Finding], group_by: str) -> None:
    hinted: set[str] = set()
    for finding in group:
        level = finding.severity.label
        position = f"{finding.span.line}:{finding.span.column}"
        columns: list[tuple[str, str | None]]
        if group_by == "file":
            columns = [(f"{position:>8}", None), (f"{level:<7}", _COLORS[level]), (finding.rule_id, None)]
        elif group_by == "rule":
            columns = [(f"{_shown(finding.path)}:{position}", None)]
        else:
            columns = [(finding.rule_id, None), (f"{_shown(finding.path)}:{position}", None)]
        column = out.row(columns, finding.message)
        if finding.rule_id not in hinted:
            hinted.add(finding.rule_id)
            out.text(f"fix: {report.rules[finding.rule_id].fix}", column, column)


def _statistics(out: _Writer, report: Report, findings: list[Finding]) -> None:
    """ruff's --statistics: one line per rule, the most frequent first."""
    counts = Counter(f.rule_id for f in findings)
    levels = {f.rule_id: f.severity.label for f in findings}
    width = max((len(rule_id) for rule_id in counts), default=0)
    for rule_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        level = levels[rule_id]
        out.row([(f"{count:>5}", None), (f"{rule_id:<{width}}", None), (f"{level:<7}", _COLORS[level])],
                report.rules[rule_id].name)
    if counts:
        out.lines.append("")


def _summary(report: Report) -> str:
    counts = report.counts()
    gate = report.fail_on.label if report.fail_on else "never"
    return (
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['note']} note(s), "
        f"{counts['suppressed']} suppressed in {report.result.files_scanned} file(s); "
        f"policy {report.policy_name}, fail-on {gate}\n"
        f"{report.readiness.line()}"
    )


class _Writer:
    """Collects output lines, none wider than `width` when it is set (a long word may still stick out)."""

    def __init__(self, width: int | None, color: bool) -> None:
        self.width = width
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold or None) if self.color and (fg or bold) else text

    def row(self, columns: list[tuple[str, str | None]], text: str) -> int:
        """`  column  column  text`, each column in its colour, the text wrapped under itself; returns the
        text's column."""
        start = sum(len(column) + 2 for column, _ in columns) + 2
        self.text(text, start, start, "".join(f"  {self.style(column, fg=color)}" for column, color in columns) + "  ")
        return start

    def text(self, text: str, start: int, follow: int, lead: str | None = None) -> None:
        """`text` from column `start` (after `lead`, default spaces), continued at column `follow`."""
        if self.width is not None and self.width - follow < _MIN_TEXT:
            follow = min(follow, _NARROW_INDENT)
            start = start if lead is not None else follow  # a row keeps its columns; plain text moves left
        lead = " " * start if lead is None else lead
        if self.width is None:
            self.lines.append(lead + text)
            return
        if self.width - start < _MIN_TEXT // 2:  # the columns leave no room: the text starts below them
            self.lines.append(lead.rstrip())
            lead, start = " " * follow, follow
        pieces = textwrap.wrap(text, self.width, initial_indent=" " * start, subsequent_indent=" " * follow,
                               break_long_words=False, break_on_hyphens=False)
        self.lines.append(lead + (pieces[0][start:] if pieces else ""))
        self.lines.extend(pieces[1:])
