"""SARIF 2.1.0 built with sarif-om, shaped the way GitHub code scanning reads it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from pfa_policy import __version__
from pfa_policy.docs import full_description, render_markdown, render_text, short_description
from pfa_policy.engine.rule import Rule
from pfa_policy.model import Finding, Notification, Related, Severity
from pfa_policy.reporters import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "pfaPolicy/v1"
_PRECISION = {"high": "high", "medium": "medium", "low": "low"}
_PROBLEM = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "recommendation"}
# GitHub keeps the first 5,000 results of a run; more would only be dropped on upload.
MAX_RESULTS = 5000


def render(report: Report) -> str:
    return json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n"


def sarif_document(report: Report) -> dict[str, Any]:
    rule_ids = sorted(report.rules)
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    severities = {f.rule_id: f.severity for f in report.result.findings}
    descriptors = [_descriptor(report.rules[r], severities.get(r, report.rules[r].severity)) for r in rule_ids]
    findings = list(zip(report.result.findings, report.fingerprints, strict=True))
    notifications = list(report.result.notifications)
    if len(findings) > MAX_RESULTS:
        notifications.append(Notification("warning", f"{len(findings) - MAX_RESULTS} results beyond the first "
                                          f"{MAX_RESULTS} were left out of this SARIF log"))
        findings = findings[:MAX_RESULTS]
    run = om.Run(
        tool=om.Tool(driver=om.ToolComponent(
            name="pfa-policy",
            semantic_version=__version__,
            information_uri="https://github.com/pfa-policy/pfa-policy",
            rules=descriptors,
        )),
        results=[_result(f, fp, index[f.rule_id]) for f, fp in findings],
        invocations=[om.Invocation(
            execution_successful=True,
            tool_execution_notifications=[_notification(n) for n in notifications] or None,
        )],
        column_kind="unicodeCodePoints",
        automation_details=om.RunAutomationDetails(id=f"{report.category}/") if report.category else None,
        version_control_provenance=_provenance(report),
        properties={"policy": report.policy_name, "readiness": report.readiness.as_dict()},
    )
    log = om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])
    document: dict[str, Any] = to_json(log)
    # sarif-om drops values equal to its defaults, `level: warning` among them; spell every level out.
    run_json = document["runs"][0]
    for descriptor, rule_id in zip(run_json["tool"]["driver"]["rules"], rule_ids, strict=True):
        descriptor["defaultConfiguration"] = {"level": severities.get(rule_id, report.rules[rule_id].severity).label}
    for result, (finding, _) in zip(run_json["results"], findings, strict=True):
        result["level"] = finding.severity.label
        for suppression in result.get("suppressions", ()):
            # sarif-om predates the 2.1.0 `status` property; a justified suppression is an accepted one.
            suppression["status"] = "accepted"
    return document


def _provenance(report: Report) -> list[om.VersionControlDetails] | None:
    """From `result.extras["version_control"]` (set by the CLI inside a git repository with a remote)."""
    details = report.result.extras.get("version_control")
    if not isinstance(details, dict) or not details.get("repositoryUri"):
        return None
    return [om.VersionControlDetails(repository_uri=details["repositoryUri"], revision_id=details.get("revisionId"),
                                     branch=details.get("branch"))]


def _descriptor(rule: Rule, severity: Severity) -> om.ReportingDescriptor:
    tags = [rule.pillar, *rule.tags]
    properties: dict[str, Any] = {"pillar": rule.pillar, "precision": _PRECISION[rule.confidence]}
    if rule.is_security:
        tags.insert(0, "security")
        properties["security-severity"] = f"{rule.security_severity:.1f}"
    else:
        properties["problem.severity"] = _PROBLEM[severity]
    properties["tags"] = list(dict.fromkeys(tags))[:10]
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=short_description(rule)),
        full_description=om.MultiformatMessageString(text=full_description(rule)),
        help=om.MultiformatMessageString(text=render_text(rule), markdown=render_markdown(rule)),
        default_configuration=om.ReportingConfiguration(level=severity.label),
        properties=properties,
    )


def _location(path: str, line: int, column: int, end_line: int, end_column: int) -> om.Location:
    return om.Location(physical_location=om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=quote(path, safe="/")),
        region=om.Region(start_line=line, start_column=column, end_line=end_line, end_column=end_column),
    ))


def _result(finding: Finding, fingerprint: str, rule_index: int) -> om.Result:
    span = finding.span
    suppressions = None
    if finding.suppression is not None:
        suppressions = [om.Suppression(kind=finding.suppression.kind,
                                       justification=finding.suppression.justification)]
    related = [_related(index, item) for index, item in enumerate(finding.related, 1)] or None
    return om.Result(
        rule_id=finding.rule_id,
        rule_index=rule_index,
        message=om.Message(text=finding.message),
        locations=[_location(finding.path, span.line, span.column, span.end_line, span.end_column)],
        related_locations=related,
        partial_fingerprints={FINGERPRINT_KEY: fingerprint},
        suppressions=suppressions,
    )


def _related(index: int, item: Related) -> om.Location:
    """Another place the finding involves (the pilot side of a parity difference), numbered from 1."""
    span = item.span
    location = _location(item.path, span.line, span.column, span.end_line, span.end_column)
    location.id = index
    location.message = om.Message(text=item.message) if item.message else None
    return location


def _notification(note: Notification) -> om.Notification:
    locations = None
    if note.path:
        locations = [_location(note.path, note.line, note.column, note.line, note.column)]
    return om.Notification(message=om.Message(text=note.message), level=note.level, locations=locations)


def to_json(value: Any) -> Any:
    """sarif-om objects -> plain JSON values under the schema's property names, defaults left out."""
    if attr.has(type(value)):
        out: dict[str, Any] = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            default = field.default
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if item is None or item == default:
                continue
            out[field.metadata.get("schema_property_name", field.name)] = to_json(item)
        return out
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value
