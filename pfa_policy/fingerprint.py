"""Content-based finding fingerprints: stable under line shifts, distinct for distinct findings.

A fingerprint hashes the rule, the path and the finding's anchor (normalised matched code or YAML key path).
Identical anchors in one file are told apart by their order of appearance, so one accepted finding never
hides a second, identical one added elsewhere in the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pfa_policy.model import Finding


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One fingerprint per finding, in the same order; findings must be sorted by path and position."""
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for finding in findings:
        key = (finding.rule_id, finding.path, finding.anchor)
        ordinal = seen.get(key, 0)
        seen[key] = ordinal + 1
        digest = hashlib.sha256("\0".join((*key, str(ordinal))).encode()).hexdigest()
        result.append(digest[:32])
    return result
