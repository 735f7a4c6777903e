"""Small trees for the parity tests."""

from __future__ import annotations

from pathlib import Path

from pfa_policy.parity.compare import Analysis, analyse
from pfa_policy.parity.model import RepoView
from pfa_policy.parity.settings import ParitySettings


def view(files: dict[str, str], kinds: dict[str, frozenset[str]] | None = None) -> RepoView:
    return RepoView({path: "production" for path in files}, lambda path: files.get(path, ""), kinds or {})


def run(files: dict[str, str], settings: dict[str, object] | None = None) -> Analysis:
    return analyse(view(files), ParitySettings.from_policy(settings), frozenset({"production"}))


def kinds_of(analysis: Analysis, status: str = "kind") -> set[tuple[str, str]]:
    return {(d.rule_id, d.key) for c in analysis.comparisons for d in c.differences if d.status == status}


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}
