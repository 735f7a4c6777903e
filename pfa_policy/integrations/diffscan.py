"""Diff-aware scans: findings on the lines a change adds or edits, plus the repository-level findings it
introduces (those absent when the same rules run on the merge-base tree).

Rules run on the changed files only. Repository rules need every file's facts, on both sides: from a cached
snapshot of the merge-base tree (any full scan of a clean checkout, or an earlier diff scan, stores one) the
cost is the changed files alone; without one, the unchanged files give their facts (no other rule runs on
them) and the merge-base's view is the head's with the changed files' base versions read from git.
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
from pfa_policy.engine.cache import ResultCache
from pfa_policy.engine.classify import chart_directories
from pfa_policy.engine.discovery import DEFAULT_EXCLUDES
from pfa_policy.engine.globs import path_matches
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.plan import FileTask
from pfa_policy.engine.repository import RepoContext, RepoFile, read_text
from pfa_policy.engine.runner import (
    FileScan,
    ScanOptions,
    assemble,
    build_plan,
    file_hits,
    repository_context,
    repository_hits,
    run_files,
    scan,
    scan_files,
    to_finding,
)
from pfa_policy.integrations.git import Changes, blob_bytes, blob_text, changes_since, open_repo, tree_id
from pfa_policy.model import DiffBase, FactOccurrence, Finding, Notification, ScanResult
from pfa_policy.policy import EffectivePolicy

Scored = list[tuple[Finding, str]]


def scored_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions) -> tuple[ScanResult, Scored]:
    """A plain scan with each finding's fingerprint (computed on the whole, unfiltered result)."""
    result = scan(catalog, policy, options)
    return result, pairs(result.findings)


def diff_scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
              base_ref: str) -> tuple[ScanResult, Scored]:
    changes = changes_since(options.root, base_ref)
    head, base_repository = _scan_change(catalog, policy, options, changes)
    head_scored = pairs(head.findings)
    scored = [(f, fp) for f, fp in head_scored if not catalog.rules[f.rule_id].is_repository_rule
              and (options.only is None or f.path in options.only)
              and f.path in changes.files and changes.files[f.path].touches(f.span)]
    notifications = [n for n in head.notifications if n.path is None or n.path in changes.files]
    repository = [(f, fp) for f, fp in head_scored if catalog.rules[f.rule_id].is_repository_rule]
    if repository and options.repository_rules:
        scored.extend(introduced(repository, base_repository()))
    notifications.append(Notification(
        "note", f"diff-aware scan: {len(changes.files)} file(s) changed since {changes.merge_base[:12]}, the "
        f"merge-base with {base_ref}; only findings on added or changed lines and new repository-level findings "
        "are reported"))
    scored.sort(key=lambda pair: _order(pair[0]))
    result = ScanResult(head.root, tuple(f for f, _ in scored), tuple(_unique(notifications)),
                        head.files_scanned, policy.rule_ids, coverage=head.coverage,
                        diff=DiffBase(base_ref, changes.merge_base, len(changes.files)),
                        partial=(*head.partial, "diff"))
    return result, scored


def _scan_change(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
                 changes: Changes) -> tuple[ScanResult, Callable[[], list[Finding]]]:
    """The head result (rules on the changed files, repository rules on the head's view) and how to get the
    merge-base's repository findings, by the cheapest way available:

    1. the merge-base tree's snapshot is cached: scan the changed files only;
    2. otherwise: the facts alone of the unchanged files, the merge-base's view being the head's with the
       changed files' base versions (read from git) in their place; the snapshot is stored for next time;
    3. a Helm chart appeared or went (unchanged values files change kind): both trees whole, the merge-base's
       in a temporary worktree."""
    snapshot_key = _snapshot_key(catalog, policy, options, changes)
    base = snapshot.load(options.cache_dir, snapshot_key) if options.cache_dir and snapshot_key else None
    if base is not None:
        known = base.by_path()

        def changed(task: FileTask) -> bool:
            before = known.get(task.path)
            return task.path in changes.files or before is None or before.size != task.size

        files = scan_files(catalog, policy, dataclasses.replace(options, only=None), selected=changed)
        if files.charts == base.charts:
            return _results(catalog, policy, options, files, _head_context(files, base, known), base, changes)
    files = scan_files(catalog, policy, dataclasses.replace(options, only=None),
                       facts_only=lambda task: task.path not in changes.files)
    base = _base_view(policy, options, files, changes)
    if base is not None:
        if options.cache_dir and snapshot_key:
            snapshot.save(options.cache_dir, snapshot_key, base)
        return _results(catalog, policy, options, files, repository_context(files), base, changes)
    head = scan(catalog, policy, dataclasses.replace(options, only=None))
    return head, lambda: _base_repository_findings(catalog, policy, options, changes)


def _snapshot_key(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions, changes: Changes) -> str | None:
    tree = tree_id(options.root, changes.merge_base) if options.cache_dir is not None else None
    if tree is None:
        return None
    digest = build_plan(catalog, policy, frozenset()).digest
    return snapshot.snapshot_key(digest, policy.scope_rules, policy.excludes + options.excludes, tree)


def _results(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions, files: FileScan,
             head_context: RepoContext, base: snapshot.TreeSnapshot,
             changes: Changes) -> tuple[ScanResult, Callable[[], list[Finding]]]:
    head = assemble(catalog, policy, options, files,
                    [*file_hits(files), *repository_hits(catalog, policy, head_context)], head_context)
    base_context = RepoContext(files.root, base.files, base.facts, reader=_base_reader(files, changes))
    return head, lambda: [to_finding(catalog, policy, rule_id, path, hit)
                          for rule_id, path, hit in repository_hits(catalog, policy, base_context)]


def _base_view(policy: EffectivePolicy, options: ScanOptions, files: FileScan,
               changes: Changes) -> snapshot.TreeSnapshot | None:
    """The merge-base's repository view from a head scan whose unchanged files gave their facts: theirs are the
    base's too; the files the change modified, renamed away or deleted are read from git and scanned for facts.
    None when a chart directory differs (then path kinds of unchanged files differ too)."""
    head = {task.path: task for task in files.tasks}
    added = {p for p, c in changes.files.items() if c.status in ("added", "untracked", "renamed", "copied")}
    replaced = {p for p, c in changes.files.items() if c.status in ("modified", "type-changed")}
    replaced |= {c.old_path for c in changes.files.values() if c.status == "renamed" and c.old_path}
    excludes = DEFAULT_EXCLUDES + policy.excludes + options.excludes
    replaced |= {p for p in changes.deleted if not path_matches(p, excludes)}
    base_paths = sorted((set(head) - added) | replaced)
    if chart_directories(base_paths) != files.charts:
        return None
    prefix = _prefix(files, changes)
    outcomes = dict(files.outcomes)
    sizes = {p: head[p].size for p in head}
    with tempfile.TemporaryDirectory(prefix="pfa-policy-base-") as temporary:
        tasks = []
        for path in sorted(replaced):
            data = blob_bytes(changes.git_root, changes.merge_base, prefix + path)
            if data is None:
                continue
            target = Path(temporary) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            sizes[path] = len(data)
            tasks.append(FileTask(path, len(data), policy.scope_rules.scope_of(path), facts_only=True))
        cache = ResultCache(options.cache_dir) if options.cache_dir is not None else None
        for outcome in run_files(files.plan, Path(temporary), tasks, options.jobs, cache, options.file_timeout):
            outcomes[outcome.path] = outcome
    present = [p for p in base_paths if p in outcomes]
    repo_files = tuple(RepoFile(p, sizes[p], outcomes[p].scope, outcomes[p].kinds) for p in present)
    facts = tuple(fact for p in present for fact in outcomes[p].facts)
    return snapshot.TreeSnapshot(repo_files, facts, files.charts)


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
    prefix = _prefix(files, changes)

    def read(path: str) -> str:
        if path in changes.files or path not in present:
            return blob_text(changes.git_root, changes.merge_base, prefix + path)
        return read_text(files.root, path)

    return read


def _prefix(files: FileScan, changes: Changes) -> str:
    """The scan root's path inside the repository, as a prefix for git object names."""
    relative = files.root.relative_to(changes.git_root).as_posix()
    return "" if relative == "." else relative + "/"


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
