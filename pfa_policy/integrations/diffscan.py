"""Diff-aware scans: findings on the lines a change adds or edits, plus the repository-level findings it
introduces (those absent when the same rules run on the merge-base tree, checked out in a temporary worktree).

Both trees are scanned whole, with the whole rule set, so that the per-file result cache serves every unchanged
file (and the merge-base tree's files from a scan of the base branch): a warm diff scan costs the changed files.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pfa_policy.baseline import pairs
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.runner import ScanOptions, scan
from pfa_policy.integrations.git import Changes, changes_since, open_repo
from pfa_policy.model import Finding, Notification, ScanResult
from pfa_policy.policy import EffectivePolicy

Scored = list[tuple[Finding, str]]


def scored_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions) -> tuple[ScanResult, Scored]:
    """A plain scan with each finding's fingerprint (computed on the whole, unfiltered result)."""
    result = scan(catalog, policy, options)
    return result, pairs(result.findings)


def diff_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
              base_ref: str) -> tuple[ScanResult, Scored]:
    changes = changes_since(options.root, base_ref)
    # One scan of the whole tree with the whole rule set: with the result cache (the default, and what the
    # action restores) every unchanged file is a cache hit, so the cost follows the change; and the same
    # plan on the merge-base tree hits the same entries.
    head = scan(catalog, policy, dataclasses.replace(options, only=None))
    head_scored = pairs(head.findings)
    scored = [(f, fp) for f, fp in head_scored if not catalog.rules[f.rule_id].is_repository_rule
              and (options.only is None or f.path in options.only)
              and f.path in changes.files and changes.files[f.path].touches(f.span)]
    notifications = [n for n in head.notifications if n.path is None or n.path in changes.files]
    repository = [(f, fp) for f, fp in head_scored if catalog.rules[f.rule_id].is_repository_rule]
    if repository and options.repository_rules:
        scored.extend(introduced(repository, _base_repository_findings(catalog, policy, options, changes)))
    notifications.append(Notification(
        "note", f"diff-aware scan: {len(changes.files)} file(s) changed since {changes.merge_base[:12]}, the "
        f"merge-base with {base_ref}; only findings on added or changed lines and new repository-level findings "
        "are reported"))
    scored.sort(key=lambda pair: _order(pair[0]))
    result = ScanResult(head.root, tuple(f for f, _ in scored), tuple(_unique(notifications)),
                        head.files_scanned, policy.rule_ids, {"diff_base": changes.merge_base})
    return result, scored


def _base_repository_findings(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
                              changes: Changes) -> list[Finding]:
    """The repository-level findings of the merge-base tree, checked out in a temporary worktree."""
    relative = options.root.resolve().relative_to(changes.git_root)
    with _worktree(changes.git_root, changes.merge_base) as tree:
        base_root = tree / relative
        if not base_root.is_dir():
            return []
        base = scan(catalog, policy, dataclasses.replace(options, root=base_root, only=None))
    return [f for f in base.findings if catalog.rules[f.rule_id].is_repository_rule]


def introduced(head: Scored, base: Sequence[Finding]) -> Scored:
    """Head findings with no counterpart on the base, matched by rule and anchor.

    A repository-level finding is about the repository, and where it points is often incidental: "no tests"
    points at pyproject.toml when there is one, else at some Python file, so adding pyproject.toml moves it
    without introducing anything. Same rule and anchor at the same path match first; the base findings left
    over then match head findings at other paths (moved). What remains on the head side is new.
    """
    exact = Counter((f.rule_id, f.anchor, f.path) for f in base)
    unmatched: Scored = []
    for finding, fingerprint in head:
        key = (finding.rule_id, finding.anchor, finding.path)
        if exact[key]:
            exact[key] -= 1
        else:
            unmatched.append((finding, fingerprint))
    moved: Counter[tuple[str, str]] = Counter()
    for (rule_id, anchor, _), count in exact.items():
        moved[(rule_id, anchor)] += count
    new: Scored = []
    for finding, fingerprint in unmatched:
        if moved[(finding.rule_id, finding.anchor)]:
            moved[(finding.rule_id, finding.anchor)] -= 1
        else:
            new.append((finding, fingerprint))
    return new


@contextmanager
def _worktree(git_root: Path, commit: str) -> Iterator[Path]:
    """A detached, temporary checkout of `commit`, removed afterwards."""
    import git

    repo: Any = open_repo(git_root)
    holder = Path(tempfile.mkdtemp(prefix="pfa-policy-base-"))
    tree = holder / "tree"
    try:
        repo.git.worktree("add", "--detach", "--quiet", str(tree), commit)
        yield tree
    finally:
        try:
            repo.git.worktree("remove", "--force", str(tree))
        except git.GitCommandError:
            shutil.rmtree(tree, ignore_errors=True)
            repo.git.worktree("prune")
        shutil.rmtree(holder, ignore_errors=True)


def _order(finding: Finding) -> tuple[str, int, int, str, str]:
    return finding.path, finding.span.line, finding.span.column, finding.rule_id, finding.message


def _unique(notifications: Iterable[Notification]) -> Sequence[Notification]:
    return sorted(set(notifications), key=lambda n: (n.path or "", n.line, n.column, n.level, n.message))
