"""Baselines: a reviewed file of accepted findings, so a legacy repository gates only on what is new.

Entries are keyed by the content-based fingerprint of pfa_policy.fingerprint (rule + path + matched code or
key path + ordinal among identical anchors), so they survive line shifts and unrelated edits, and one accepted
finding never hides a second, identical one. The file is JSON, versioned and sorted, one entry per finding,
with the rule, path and message kept for the reviewer. `ratchet` only ever removes entries.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfa_policy.fingerprint import fingerprints
from pfa_policy.model import Finding, Notification, PfaError, ScanResult

FORMAT_VERSION = 1
_NOTE = ("Findings accepted when pfa-policy was adopted. Only findings NOT listed here are reported. "
         "Shrink it with `pfa-policy baseline ratchet`; never add to it by hand.")


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    path: str
    rule_id: str
    message: str
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "path": self.path, "fingerprint": self.fingerprint,
                "message": self.message}


@dataclass(frozen=True)
class Baseline:
    entries: tuple[Entry, ...]

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.entries)

    def render(self) -> str:
        body = {
            "version": FORMAT_VERSION,
            "tool": "pfa-policy",
            "note": _NOTE,
            "count": len(self.entries),
            "findings": [e.as_dict() for e in sorted(self.entries)],
        }
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")


def pairs(findings: Sequence[Finding]) -> list[tuple[Finding, str]]:
    """Each finding with its fingerprint; `findings` must be a whole scan result (sorted, unfiltered)."""
    return list(zip(findings, fingerprints(findings), strict=True))


def create(findings: Sequence[Finding]) -> Baseline:
    """Accept every open finding; suppressed findings already carry their justification elsewhere."""
    entries = {Entry(f.path, f.rule_id, f.message, fp) for f, fp in pairs(findings) if f.suppression is None}
    return Baseline(tuple(sorted(entries)))


def load(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PfaError("baseline file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PfaError(f"cannot read baseline: {error}", path=str(path)) from None
    except json.JSONDecodeError as error:
        raise PfaError(f"not a JSON baseline: {error.msg}", path=str(path), line=error.lineno) from None
    if not isinstance(data, dict) or data.get("tool") != "pfa-policy" or "findings" not in data:
        raise PfaError("not a pfa-policy baseline (create one with `pfa-policy baseline create`)", path=str(path))
    if data.get("version") != FORMAT_VERSION:
        raise PfaError(f"unsupported baseline version {data.get('version')!r} (this pfa-policy reads "
                       f"version {FORMAT_VERSION})", path=str(path))
    return Baseline(tuple(sorted(_entry(item, path) for item in _list(data["findings"], path))))


def _list(value: Any, path: Path) -> list[Any]:
    if not isinstance(value, list):
        raise PfaError("`findings` must be a list", path=str(path))
    return value


def _entry(item: Any, path: Path) -> Entry:
    keys = ("rule_id", "path", "fingerprint", "message")
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in keys):
        raise PfaError(f"every baseline entry needs the strings {', '.join(keys)}: {item!r}", path=str(path))
    return Entry(item["path"], item["rule_id"], item["message"], item["fingerprint"])


def restrict(result: ScanResult, scored: Sequence[tuple[Finding, str]], baseline: Baseline,
             source: str) -> tuple[ScanResult, list[tuple[Finding, str]]]:
    """The result without the findings the baseline accepts (fingerprints kept alongside), with a note."""
    accepted = baseline.fingerprints
    kept = [(f, fp) for f, fp in scored if fp not in accepted]
    note = Notification("note", f"{len(scored) - len(kept)} finding(s) accepted in the baseline {source} are not "
                        "shown")
    filtered = dataclasses.replace(result, findings=tuple(f for f, _ in kept),
                                   notifications=(*result.notifications, note), partial=(*result.partial, "baseline"))
    return filtered, kept


def ratchet(baseline: Baseline, findings: Sequence[Finding]) -> tuple[Baseline, int]:
    """Drop entries whose finding no longer occurs (fixed, or suppressed with a reason); never add one."""
    still_open = {fp for f, fp in pairs(findings) if f.suppression is None}
    kept = tuple(e for e in baseline.entries if e.fingerprint in still_open)
    return Baseline(kept), len(baseline.entries) - len(kept)
