"""A whole scan: discover, run the file checks (in parallel), the repository rules, then suppressions."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pfa_policy.engine import applicability, predicates, repository, repository_memo, snapshot
from pfa_policy.engine.cache import ResultCache
from pfa_policy.engine.classify import chart_directories, path_kind
from pfa_policy.engine.deployed_scope import deployed_directories
from pfa_policy.engine.discovery import discover
from pfa_policy.engine.isolation import WorkerFailure, WorkerSetup, supervise
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.masking import SECRETS_TAG, masked
from pfa_policy.engine.plan import Check, FileOutcome, FileTask, WorkPlan, plan_digest
from pfa_policy.engine.snapshot import TreeSnapshot, snapshot_key
from pfa_policy.engine.suppressions import InlineSuppression, unknown_rules
from pfa_policy.engine.trace import Trace, stage, timed
from pfa_policy.engine.worker import Pending, analyse, failed, triage
from pfa_policy.model import (
    DEFAULT_FILE_TIMEOUT,
    Coverage,
    Finding,
    Hit,
    Notification,
    ScanResult,
    Severity,
    Span,
    Suppression,
)
from pfa_policy.policy import EffectivePolicy


@dataclass(frozen=True)
class ScanOptions:
    root: Path
    jobs: int = 0  # 0: every core
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # seconds one file's analysis may take
    excludes: tuple[str, ...] = ()
    no_ignores: bool = False
    only: frozenset[str] | None = None  # file-level checks only on these paths (pre-commit, diff)
    repository_rules: bool = True
    today: dt.date = field(default_factory=dt.date.today)
    cache_dir: Path | None = None  # None: no cache
    progress: Callable[[int, int], None] | None = None  # called with (files done, total)
    own_outputs: frozenset[str] = frozenset()  # repository-relative reports, baseline, cache: never scanned
    trace: Trace | None = None  # filled with stage timings and skipped files (--verbose)


def build_plan(catalog: Catalog, policy: EffectivePolicy, charts: frozenset[str]) -> WorkPlan:
    checks: list[Check] = []
    digest_parts: list[object] = []
    for rule_id in policy.rule_ids:
        matcher = catalog.matchers.get(rule_id)
        if matcher is None:
            continue
        rule = catalog.rules[rule_id]
        params = policy.params.get(rule_id, {})
        checks.append(Check(rule_id, rule.targets, rule.scopes, params, matcher))
        digest_parts.append([rule_id, rule.match, sorted(rule.targets), sorted(rule.scopes), params])
    for name in _needed_facts(catalog, policy):
        fact = catalog.facts[name]
        checks.append(Check(f"fact:{name}", fact.targets, None, {}, catalog.matchers[f"fact:{name}"], fact.files))
        digest_parts.append([name, fact.match, sorted(fact.targets), fact.files])
    suppressions = any(catalog.rules[r].match_type == "engine" for r in policy.rule_ids)
    return WorkPlan(tuple(checks), charts, plan_digest([*digest_parts, suppressions]), suppressions)


def _needed_facts(catalog: Catalog, policy: EffectivePolicy) -> list[str]:
    names: set[str] = set()
    for rule_id in policy.rule_ids:
        match = catalog.repository.get(rule_id)
        if match is None:
            continue
        names.update(str(c.get("fact") or c["no_fact"]) for c in match.require if "fact" in c or "no_fact" in c)
        if match.report_fact:
            names.add(match.report_fact)
        if match.predicate:
            names.update(catalog.facts)  # a predicate may consult any fact
    return sorted(names)


_WORKER_PLAN: WorkPlan | None = None


def _init_worker(plan: WorkPlan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan


def _analyse_in_worker(pending: Pending) -> FileOutcome:
    assert _WORKER_PLAN is not None
    return analyse(_WORKER_PLAN, pending)


def run_files(plan: WorkPlan, root: Path, tasks: Sequence[FileTask], jobs: int, cache: ResultCache | None = None,
              file_timeout: float = DEFAULT_FILE_TIMEOUT) -> Iterator[FileOutcome]:
    """Outcomes in task order. Triage (the cache lookup) runs here; every analysis runs in a worker process,
    which also stores its outcome in the cache, so a file that crashes or hangs its parser costs only its own
    findings."""
    workers = jobs or os.cpu_count() or 1
    done: dict[int, FileOutcome] = {}
    waiting: dict[int, Pending] = {}

    def work() -> Iterator[tuple[int, Pending]]:
        for index, task in enumerate(tasks):
            triaged = triage(plan, root, task, cache)
            if isinstance(triaged, FileOutcome):
                done[index] = triaged
            else:
                waiting[index] = triaged
                yield index, triaged

    emitted = 0

    def in_order() -> Iterator[FileOutcome]:
        nonlocal emitted
        while emitted in done:
            yield done.pop(emitted)
            emitted += 1

    # The digest names the rules and parameters; the charts decide path kinds: together, the whole plan.
    identity = hashlib.sha256("\0".join([plan.digest, *sorted(plan.charts)]).encode()).hexdigest()
    setup = WorkerSetup(_analyse_in_worker, _init_worker, (plan,), identity)
    for index, result in supervise(work(), setup, workers, file_timeout):
        pending = waiting.pop(index)
        # A worker stores what it analysed in the cache; a failure is not cached: the next scan tries again.
        done[index] = failed(pending, result.reason) if isinstance(result, WorkerFailure) else result
        yield from in_order()
    yield from in_order()


@dataclass
class FileScan:
    """The file-level half of a scan: every discovered file, and the outcomes of those that were processed."""

    root: Path
    tasks: list[FileTask]
    charts: frozenset[str]
    outcomes: dict[str, FileOutcome]
    notifications: list[Notification]
    git_root: Path | None
    plan: WorkPlan  # the rules and facts that produced the outcomes


def scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions) -> ScanResult:
    files = scan_files(catalog, policy, options)
    raw = list(file_hits(files))
    covered = None
    if options.repository_rules:
        with stage(options.trace, "repository rules"):
            context = repository_context(files)
            found, covered = repository_results(catalog, policy, files.plan.digest, context, options.cache_dir)
            raw.extend(found)
        if options.only is None and options.cache_dir is not None and files.git_root is not None:
            store_snapshot(policy, options, files, context)
    return assemble(catalog, policy, options, files, raw, covered=covered)


def repository_results(catalog: Catalog, policy: EffectivePolicy, plan_digest: str, context: repository.RepoContext,
                       cache_dir: Path | None) -> tuple[list[tuple[str, str, Hit]], Coverage]:
    """The repository rules' hits and what the tree gives the rules to judge; kept in `cache_dir` with the
    texts they read (repository_memo), so an unchanged tree is not judged again."""
    if cache_dir is None:
        return list(repository_hits(catalog, policy, context)), applicability.coverage(catalog, policy, context)
    key = repository_memo.memo_key(catalog, policy, plan_digest, context)
    kept = repository_memo.load(cache_dir, key, context.read_text)
    if kept is not None:
        return kept
    reader = repository_memo.RecordingReader(context.read_text)
    recording = repository.RepoContext(context.root, context.files, context.facts, reader)
    found = list(repository_hits(catalog, policy, recording))
    covered = applicability.coverage(catalog, policy, recording)
    repository_memo.save(cache_dir, key, found, covered, reader.digests)
    return found, covered


def scan_files(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions,
               selected: Callable[[FileTask], bool] | None = None,
               facts_only: Callable[[FileTask], bool] | None = None) -> FileScan:
    """Discover, then run the file checks on the selected files (default: `options.only`, else all); on those
    `facts_only` picks, only the facts repository rules need."""
    with stage(options.trace, "discover"):
        found = discover(options.root, policy.excludes + options.excludes, options.own_outputs)
    charts = chart_directories(f.path for f in found.files)
    read = partial(repository.read_text, found.root)
    # Teaching material the repository's CI builds and deploys stays production: decided once, from CI files.
    deployed = deployed_directories(found.root, (f.path for f in found.files), policy.scope_rules, read)
    scope_rules = policy.scope_rules.with_deployed(deployed)
    scoped = {f.path: scope_rules.explain(f.path, read) for f in found.files}
    tasks = [FileTask(f.path, f.size, scoped[f.path][0]) for f in found.files]
    if options.trace is not None:
        options.trace.scoped(scoped)
    plan = build_plan(catalog, policy, charts)
    if selected is None:
        only = options.only
        selected = (lambda task: True) if only is None else (lambda task: task.path in only)
    chosen = [t for t in tasks if selected(t)]
    if facts_only is not None:
        chosen = [FileTask(t.path, t.size, t.scope, True) if facts_only(t) else t for t in chosen]
    cache = ResultCache(options.cache_dir) if options.cache_dir is not None else None
    outcomes: dict[str, FileOutcome] = {}
    analysed = run_files(plan, found.root, chosen, options.jobs, cache, options.file_timeout)
    for outcome in timed(options.trace, "analyse", analysed):
        outcomes[outcome.path] = outcome
        if options.progress is not None:
            options.progress(len(outcomes), len(chosen))
    if options.trace is not None:
        options.trace.files(found.skipped, plan, chosen, outcomes)
    notifications = list(found.notifications)
    for outcome in outcomes.values():
        notifications.extend(outcome.notifications)
    return FileScan(found.root, tasks, charts, outcomes, notifications, found.git_root, plan)


def store_snapshot(policy: EffectivePolicy, options: ScanOptions, files: FileScan,
                   context: repository.RepoContext) -> None:
    """Keep the repository view of a clean checkout, for diff-aware scans whose merge-base it is."""
    from pfa_policy.integrations.git import clean_tree_id

    assert options.cache_dir is not None
    tree = clean_tree_id(options.root)
    if tree is not None:
        key = snapshot_key(files.plan.digest, policy.scope_rules, policy.excludes + options.excludes, tree)
        snapshot.save(options.cache_dir, key, TreeSnapshot(context.files, context.facts, files.charts))


def file_hits(files: FileScan) -> Iterator[tuple[str, str, Hit]]:
    for outcome in files.outcomes.values():
        for rule_id, hit in outcome.hits:
            yield rule_id, outcome.path, hit


def repository_context(files: FileScan) -> repository.RepoContext:
    repo_files = []
    for task in files.tasks:
        outcome = files.outcomes.get(task.path)
        kind = path_kind(task.path, files.charts)
        kinds = outcome.kinds if outcome is not None else frozenset({kind} if kind else ())
        repo_files.append(repository.RepoFile(task.path, task.size, task.scope, kinds))
    facts = tuple(fact for outcome in files.outcomes.values() for fact in outcome.facts)
    return repository.RepoContext(files.root, tuple(repo_files), facts)


def repository_hits(catalog: Catalog, policy: EffectivePolicy,
                    context: repository.RepoContext) -> Iterator[tuple[str, str, Hit]]:
    for rule_id in policy.rule_ids:
        match = catalog.repository.get(rule_id)
        if match is None:
            continue
        rule = catalog.rules[rule_id]
        params = policy.params.get(rule_id, {})
        for path, hit in repository.evaluate(match, rule.scopes, context, params, predicates.REPOSITORY):
            yield rule_id, path, hit


def assemble(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions, files: FileScan,
             raw: Iterable[tuple[str, str, Hit]], context: repository.RepoContext | None = None,
             covered: Coverage | None = None) -> ScanResult:
    """Findings from raw hits, with suppressions applied, sorted: the result a reporter renders. `covered` says
    which rules apply, else it is computed from `context`, the tree's repository view (default: the one `files`
    gives)."""
    if covered is None:
        covered = applicability.coverage(catalog, policy, context or repository_context(files))
    notifications = list(files.notifications)
    warning = applicability.notice(covered)
    if warning is not None:
        notifications.append(warning)
    findings = [to_finding(catalog, policy, rule_id, path, hit) for rule_id, path, hit in raw]
    inline = {o.path: o.suppressions for o in files.outcomes.values() if o.suppressions}
    findings, extra, notes = apply_suppressions(catalog, policy, findings, inline, options)
    notifications.extend(notes)
    findings.extend(extra)
    findings.sort(key=lambda f: (f.path, f.span.line, f.span.column, f.rule_id, f.message))
    notifications.sort(key=lambda n: (n.path or "", n.line, n.column, n.level, n.message))
    return ScanResult(str(files.root), tuple(findings), tuple(notifications), len(files.outcomes), policy.rule_ids,
                      coverage=covered, partial=("files",) if options.only is not None else ())


def to_finding(catalog: Catalog, policy: EffectivePolicy, rule_id: str, path: str, hit: Hit) -> Finding:
    rule = catalog.rules[rule_id]
    if SECRETS_TAG in rule.tags:
        hit = masked(hit)
    values = dict(hit.values)
    values.setdefault("path", path)
    message = rule.render_message(values, policy.params.get(rule_id, {}))
    severity = policy.severities.get(rule_id, rule.severity)
    return Finding(rule_id, path, hit.span, message, severity, hit.anchor, related=hit.related)


def apply_suppressions(catalog: Catalog, policy: EffectivePolicy, findings: Iterable[Finding],
                       inline: dict[str, tuple[InlineSuppression, ...]], options: ScanOptions,
                       ) -> tuple[list[Finding], list[Finding], list[Notification]]:
    """Inline comments first, then policy exceptions; reports bad and unused suppressions, and unknown ids."""
    notes: list[Notification] = []
    used: set[tuple[str, int]] = set()
    kept: list[Finding] = []
    active_exceptions = []
    for exception in policy.exceptions:
        if exception.expired(options.today):
            notes.append(Notification(
                "warning", f"policy exception for {', '.join(exception.rules)} expired on "
                f"{exception.expires}: its findings are reported again ({exception.justification})",
                exception.source))
        else:
            active_exceptions.append(exception)
    for finding in findings:
        suppression = None
        if not options.no_ignores:
            suppression = _inline_for(finding, inline.get(finding.path, ()), used)
            if suppression is None:
                for exception in active_exceptions:
                    if exception.covers(finding.rule_id, finding.path):
                        suppression = Suppression("external", exception.justification)
                        break
        kept.append(finding if suppression is None else _with(finding, suppression))
    if options.no_ignores:
        return kept, [], notes
    notes.extend(unknown_rules(catalog.rules, inline))
    return kept, list(_suppression_findings(catalog, policy, inline, used)), notes


def _with(finding: Finding, suppression: Suppression) -> Finding:
    return Finding(finding.rule_id, finding.path, finding.span, finding.message, finding.severity,
                   finding.anchor, suppression, finding.related)


def _inline_for(finding: Finding, comments: tuple[InlineSuppression, ...],
                used: set[tuple[str, int]]) -> Suppression | None:
    for comment in comments:
        if not comment.reason or finding.rule_id not in comment.rule_ids:
            continue
        if comment.applies_to in (finding.span.line, finding.span.end_line) or comment.line == finding.span.line:
            used.add((finding.path, comment.line))
            return Suppression("inSource", comment.reason)
    return None


def _suppression_findings(catalog: Catalog, policy: EffectivePolicy,
                          inline: dict[str, tuple[InlineSuppression, ...]],
                          used: set[tuple[str, int]]) -> Iterator[Finding]:
    by_kind = {catalog.rules[r].match.get("engine"): catalog.rules[r] for r in policy.rule_ids
               if catalog.rules[r].match_type == "engine"}
    for path, comments in inline.items():
        for comment in comments:
            span = Span(comment.line)
            if not comment.reason:
                rule = by_kind.get("invalid-suppression")
                problem = "has no reason"
            elif (path, comment.line) not in used:
                rule = by_kind.get("unused-suppression")
                problem = "matches no finding"
            else:
                continue
            if rule is None:
                continue
            values = {"name": ", ".join(comment.rule_ids), "value": problem}
            message = rule.render_message(values, policy.params.get(rule.id, {}))
            severity = policy.severities.get(rule.id, rule.severity)
            yield Finding(rule.id, path, span, message, severity, f"suppression:{','.join(comment.rule_ids)}")


def gate(result: ScanResult, fail_on: Severity | None) -> int:
    """Exit code 1 when an open finding is at or above the threshold, else 0."""
    if fail_on is None:
        return 0
    open_findings = (f for f in result.findings if f.suppression is None)
    return 1 if any(f.severity >= fail_on for f in open_findings) else 0
