"""Diff-aware scans: findings on the lines a change adds or edits, plus the repository-level findings it
introduces (those absent when the same rules run on the merge-base tree).

With a snapshot of the merge-base tree in the cache (any full scan of a clean checkout stores one), only the
changed files are scanned: the head's repository view is the base's with their outcomes swapped in, so the cost
follows the change. Without one, both trees are scanned whole (the merge-base in a temporary worktree); the
per-file cache still serves every unchanged file, and the base scan leaves the snapshot for the next run.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pfa_policy.baseline import pairs
from pfa_policy.engine import snapshot
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.repository import RepoContext, RepoFile, read_text
from pfa_policy.engine.runner import (
    FileScan,
    ScanOptions,
    assemble,
    build_plan,
    file_hits,
    repository_hits,
    scan,
    scan_files,
    to_finding,
)
from pfa_policy.integrations.git import Changes, blob_text, changes_since, open_repo, tree_id
from pfa_policy.model import FactOccurrence, Finding, Notification, ScanResult
from pfa_policy.policy import EffectivePolicy

Scored = list[tuple[Finding, str]]


def scored_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions) -> tuple[ScanResult, Scored]:
    """A plain scan with each finding's fingerprint (computed on the whole, unfiltered result)."""
    result = scan(catalog, policy, options)
    return result, pairs(result.findings)


def diff_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
              base_ref: str) -> tuple[ScanResult, Scored]:
    changes = changes_since(options.root, base_ref)
    proportional = _changed_files_scan(catalog, policy, options, changes)
    if proportional is not None:
        head, base_repository = proportional
    else:
        # The whole tree with the whole rule set: with the result cache every unchanged file is a cache hit,
        # and the same plan on the merge-base tree hits the same entries.
        head, base_repository = scan(catalog, policy, dataclasses.replace(options, only=None)), None
    head_scored = pairs(head.findings)
    scored = [(f, fp) for f, fp in head_scored if not catalog.rules[f.rule_id].is_repository_rule
              and (options.only is None or f.path in options.only)
              and f.path in changes.files and changes.files[f.path].touches(f.span)]
    notifications = [n for n in head.notifications if n.path is None or n.path in changes.files]
    repository = [(f, fp) for f, fp in head_scored if catalog.rules[f.rule_id].is_repository_rule]
    if repository and options.repository_rules:
        if base_repository is None:
            base_repository = _base_repository_findings(catalog, policy, options, changes)
        scored.extend(introduced(repository, base_repository))
    notifications.append(Notification(
        "note", f"diff-aware scan: {len(changes.files)} file(s) changed since {changes.merge_base[:12]}, the "
        f"merge-base with {base_ref}; only findings on added or changed lines and new repository-level findings "
        "are reported"))
    scored.sort(key=lambda pair: _order(pair[0]))
    result = ScanResult(head.root, tuple(f for f, _ in scored), tuple(_unique(notifications)),
                        head.files_scanned, policy.rule_ids, {"diff_base": changes.merge_base})
    return result, scored


def _changed_files_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
                        changes: Changes) -> tuple[ScanResult, list[Finding]] | None:
    """Scan only what changed, against the cached snapshot of the merge-base tree: the head result (changed
    files, repository rules on the head view) and the base's repository findings. None: no usable snapshot."""
    if options.cache_dir is None:
        return None
    tree = tree_id(options.root, changes.merge_base)
    if tree is None:
        return None
    digest = build_plan(catalog, policy, frozenset()).digest
    key = snapshot.snapshot_key(digest, policy.scope_rules, policy.excludes + options.excludes, tree)
    base = snapshot.load(options.cache_dir, key)
    if base is None:
        return None
    known = base.by_path()

    def changed(task: Any) -> bool:
        before = known.get(task.path)
        return task.path in changes.files or before is None or before.size != task.size

    files = scan_files(catalog, policy, dataclasses.replace(options, only=None), selected=changed)
    if files.charts != base.charts:
        return None  # a chart appeared or went: unchanged values files may change kind; scan whole instead
    head_context = _head_context(files, base, known)
    base_context = RepoContext(files.root, base.files, base.facts, reader=_base_reader(files, changes))
    head = assemble(catalog, policy, options, files,
                    [*file_hits(files), *repository_hits(catalog, policy, head_context)])
    base_findings = [to_finding(catalog, policy, rule_id, path, hit)
                     for rule_id, path, hit in repository_hits(catalog, policy, base_context)]
    return head, base_findings


def _head_context(files: FileScan, base: snapshot.TreeSnapshot, known: dict[str, RepoFile]) -> RepoContext:
    """The base's repository view with the scanned files' outcomes in place of their base entries, in the
    order a full scan would list them."""
    base_facts: dict[str, list[FactOccurrence]] = {}
    for fact in base.facts:
        base_facts.setdefault(fact.path, []).append(fact)
    repo_files: list[RepoFile] = []
    facts: list[FactOccurrence] = []
    for task in files.tasks:
        outcome = files.outcomes.get(task.path)
        if outcome is not None:
            repo_files.append(RepoFile(task.path, task.size, task.scope, outcome.kinds))
            facts.extend(outcome.facts)
        else:
            repo_files.append(RepoFile(task.path, task.size, task.scope, known[task.path].kinds))
            facts.extend(base_facts.get(task.path, ()))
    return RepoContext(files.root, tuple(repo_files), tuple(facts))


def _base_reader(files: FileScan, changes: Changes) -> Callable[[str], str]:
    """Reads a file as the merge-base has it: from git for changed or removed files, else from the work tree."""
    present = {task.path for task in files.tasks}
    relative = files.root.relative_to(changes.git_root).as_posix()
    prefix = "" if relative == "." else relative + "/"

    def read(path: str) -> str:
        if path in changes.files or path not in present:
            return blob_text(changes.git_root, changes.merge_base, prefix + path)
        return read_text(files.root, path)

    return read


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
