"""Machine output: a documented, stable JSON document (see docs/json-format.md)."""

from __future__ import annotations

import json
from typing import Any

from pfa_policy import __version__
from pfa_policy.reporters import Report

SCHEMA_VERSION = 1


def document(report: Report) -> dict[str, Any]:
    findings = []
    for finding, fingerprint in zip(report.result.findings, report.fingerprints, strict=True):
        rule = report.rules[finding.rule_id]
        findings.append({
            "rule_id": finding.rule_id,
            "rule_name": rule.name,
            "pillar": rule.pillar,
            "severity": finding.severity.label,
            "path": finding.path,
            "line": finding.span.line,
            "column": finding.span.column,
            "end_line": finding.span.end_line,
            "end_column": finding.span.end_column,
            "message": finding.message,
            "fix": rule.fix,
            "fingerprint": fingerprint,
            "suppressed": None if finding.suppression is None else {
                "kind": finding.suppression.kind,
                "justification": finding.suppression.justification,
            },
        })
        if finding.related:
            findings[-1]["related"] = [{"path": r.path, "line": r.span.line, "column": r.span.column,
                                        "message": r.message} for r in finding.related]
    diff = report.result.diff
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pfa-policy", "version": __version__},
        "policy": report.policy_name,
        "fail_on": report.fail_on.label if report.fail_on else "never",
        "diff": None if diff is None else {"ref": diff.ref, "merge_base": diff.merge_base,
                                           "changed_files": diff.changed_files},
        "summary": {
            "files_scanned": report.result.files_scanned,
            "rules": len(report.rules),
            "counts": report.counts(),
            "readiness": report.readiness.as_dict(),
        },
        "findings": findings,
        "notifications": [
            {"level": n.level, "message": n.message, "path": n.path, "line": n.line, "column": n.column}
            for n in report.result.notifications
        ],
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"
