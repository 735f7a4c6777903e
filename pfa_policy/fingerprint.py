"""Content-based finding fingerprints: stable under line shifts, distinct for distinct findings.

A fingerprint hashes the rule, the path and the finding's anchor (normalised matched code or YAML key path).
Identical anchors in one file are told apart by their order of appearance, so one accepted finding never
hides a second, identical one added elsewhere in the file. Python anchors carry the enclosing `Class.function`, so a
copy added in another function does not borrow the accepted one's identity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pfa_policy.model import REPOSITORY_ANCHOR, Finding


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One fingerprint per finding, in the same order; findings must be sorted by path and position."""
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for finding in findings:
        # An absence finding ("no CI pipeline") points at whichever file is most relevant today; its identity
        # is the rule alone, so adding a pyproject.toml does not make an accepted finding new.
        path = "" if finding.anchor.startswith(REPOSITORY_ANCHOR) else finding.path
        key = (finding.rule_id, path, finding.anchor)
        ordinal = seen.get(key, 0)
        seen[key] = ordinal + 1
        digest = hashlib.sha256("\0".join((*key, str(ordinal))).encode()).hexdigest()
        result.append(digest[:32])
    return result
