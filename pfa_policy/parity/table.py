"""`pfa-policy parity`: each system's environments and the keys that differ, side by side (text, JSON, Markdown)."""

from __future__ import annotations

import json
from typing import Any

from pfa_policy.parity.compare import Analysis, Comparison, Difference

_ORDER = {"kind": 0, "waived": 1, "not-compared": 2, "size": 3}
_STATUS = {"kind": "differs in kind", "waived": "waived", "not-compared": "not compared",
           "size": "size (not a finding)"}


def _rows(comparison: Comparison) -> list[Difference]:
    return sorted(comparison.differences, key=lambda d: (_ORDER[d.status], d.rule_id, d.key))


def as_dict(analysis: Analysis) -> dict[str, Any]:
    return {
        "systems": [{
            "system": system.name, "source": system.source,
            "environments": [{"name": e.name, "role": e.role, "files": e.files} for e in system.environments],
        } for system in analysis.systems],
        "comparisons": [{
            "system": c.system.name, "pilot": c.pilot.name, "production": c.production.name,
            "differences": [{
                "status": d.status, "rule": d.rule_id or None, "aspect": d.aspect or None, "key": d.key,
                "pilot": {"value": d.pilot.value, "at": d.pilot.at},
                "production": {"value": d.production.value, "at": d.production.at},
                **({"note": d.note} if d.note else {}),
            } for d in _rows(c)],
        } for c in analysis.comparisons],
        "summary": {status: sum(1 for c in analysis.comparisons for d in c.differences if d.status == status)
                    for status in _ORDER},
    }


def render(analysis: Analysis, format_name: str) -> str:
    if format_name == "json":
        return json.dumps(as_dict(analysis), indent=2) + "\n"
    markdown = format_name == "markdown"
    lines: list[str] = ["# Environment parity", ""] if markdown else []
    if not analysis.systems:
        lines.append("No system with both a pilot (pilot, staging, qa, uat, preprod ...) and a production environment.")
        return "\n".join(lines) + "\n"
    for comparison in analysis.comparisons:
        lines.extend(_comparison(comparison, markdown))
    summary = as_dict(analysis)["summary"]
    lines.append(f"{len(analysis.systems)} system(s), {len(analysis.comparisons)} comparison(s): {summary['kind']} "
                 f"difference(s) in kind, {summary['waived']} waived, {summary['not-compared']} not compared, "
                 f"{summary['size']} in size (not findings)")
    return "\n".join(lines) + "\n"


def _comparison(comparison: Comparison, markdown: bool) -> list[str]:
    system = comparison.system
    environments = ", ".join(f"{e.name} ({e.role}, {e.anchor})" for e in system.environments)
    title = f"{system.name} [{system.source}]: {comparison.pilot.name} -> {comparison.production.name}"
    header = ["status", "rule", "key", comparison.pilot.name, comparison.production.name]
    rows = [[_STATUS[d.status] + (f": {d.note}" if d.note else ""), d.rule_id, d.key,
             f"{d.pilot.value or '-'} ({d.pilot.at})", f"{d.production.value or '-'} ({d.production.at})"]
            for d in _rows(comparison)]
    if markdown:
        out = [f"## {_md(title)}", "", f"Environments: {_md(environments)}", ""]
        if not rows:
            return [*out, "No difference.", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out.extend("| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows)
        return [*out, ""]
    out = [title, f"  environments: {environments}"]
    if not rows:
        return [*out, "  no difference", ""]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.append("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return [*out, ""]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") if text else "-"


def analyse_tree(root: Any, settings_data: Any, excludes: tuple[str, ...], scope_rules: Any) -> Analysis:
    """The parity analysis of a directory, as `pfa-policy parity` runs it (no scan needed)."""
    from pfa_policy.engine.classify import chart_directories, content_kinds, path_kind
    from pfa_policy.engine.discovery import discover
    from pfa_policy.engine.repository import read_text
    from pfa_policy.parity.compare import analyse
    from pfa_policy.parity.model import RepoView
    from pfa_policy.parity.settings import ParitySettings

    found = discover(root, excludes, frozenset())
    charts = chart_directories(f.path for f in found.files)
    paths = {f.path: scope_rules.scope_of(f.path) for f in found.files}
    kinds: dict[str, frozenset[str]] = {}
    for path in paths:
        kind = path_kind(path, charts)
        if kind in ("yaml", "json"):
            kinds[path] = content_kinds(kind, read_text(root, path))
    view = RepoView(paths, lambda path: read_text(root, path), kinds)
    return analyse(view, ParitySettings.from_policy(settings_data), frozenset({"production"}))
