"""GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` annotation per open finding.

GitHub shows at most 10 annotations of each level per step, so we print at most 10 per level and then one
notice pointing at the job summary and the SARIF results for the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

from pfa_policy.reporters import Report

MAX_PER_LEVEL = 10
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def repository_path(report: Report, path: str) -> str:
    """`path` (relative to the scan root) relative to GITHUB_WORKSPACE, the root GitHub resolves paths from."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return path
    try:
        prefix = Path(report.result.root).resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return path
    return path if prefix == "." else f"{prefix}/{path}"


def render(report: Report) -> str:
    lines: list[str] = []
    shown = {"error": 0, "warning": 0, "note": 0}
    hidden = 0
    for finding in report.result.findings:
        if finding.suppression is not None:
            continue
        level = finding.severity.label
        if shown[level] >= MAX_PER_LEVEL:
            hidden += 1
            continue
        shown[level] += 1
        span = finding.span
        rule = report.rules[finding.rule_id]
        properties = [
            f"file={escape_property(repository_path(report, finding.path))}",
            f"line={span.line}",
            f"endLine={span.end_line}",
            f"col={span.column}",
        ]
        if span.end_line == span.line and span.end_column > span.column:
            properties.append(f"endColumn={span.end_column}")
        properties.append(f"title={escape_property(f'{finding.rule_id} {rule.name}')}")
        message = f"{finding.message}\nfix: {rule.fix}"
        lines.append(f"::{_COMMAND[level]} {','.join(properties)}::{escape_data(message)}")
    if hidden:
        lines.append(f"::notice title=pfa-policy::{hidden} more finding(s) not annotated here (GitHub shows "
                     f"{MAX_PER_LEVEL} per level): see the job summary or the code scanning results")
    return "\n".join(lines) + "\n" if lines else ""
