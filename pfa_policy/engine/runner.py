"""A whole scan: discover, run the file checks (in parallel), the repository rules, then suppressions."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pfa_policy.engine import predicates, repository
from pfa_policy.engine.cache import ResultCache
from pfa_policy.engine.classify import chart_directories, path_kind
from pfa_policy.engine.discovery import discover
from pfa_policy.engine.loader import Catalog
from pfa_policy.engine.plan import Check, FileOutcome, FileTask, WorkPlan, plan_digest
from pfa_policy.engine.suppressions import InlineSuppression
from pfa_policy.engine.worker import process
from pfa_policy.model import Finding, Hit, Notification, ScanResult, Severity, Span, Suppression
from pfa_policy.policy import EffectivePolicy

# Below this many files a process pool costs more than it saves.
_POOL_THRESHOLD = 64


@dataclass(frozen=True)
class ScanOptions:
    root: Path
    jobs: int = 0  # 0: every core
    excludes: tuple[str, ...] = ()
    no_ignores: bool = False
    only: frozenset[str] | None = None  # file-level checks only on these paths (pre-commit, diff)
    repository_rules: bool = True
    today: dt.date = field(default_factory=dt.date.today)
    cache_dir: Path | None = None  # None: no cache
    progress: Callable[[int, int], None] | None = None  # called with (files done, total)


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


_WORKER_STATE: tuple[WorkPlan, Path, ResultCache | None] | None = None


def _init_worker(plan: WorkPlan, root: Path, cache: ResultCache | None) -> None:
    global _WORKER_STATE
    _WORKER_STATE = (plan, root, cache)


def _process_in_worker(task: FileTask) -> FileOutcome:
    assert _WORKER_STATE is not None
    plan, root, cache = _WORKER_STATE
    return process(plan, root, task, cache)


def run_files(plan: WorkPlan, root: Path, tasks: Sequence[FileTask], jobs: int,
              cache: ResultCache | None = None) -> Iterator[FileOutcome]:
    """Outcomes in task order; in a process pool when there are enough files to pay for one."""
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(tasks) < _POOL_THRESHOLD:
        for task in tasks:
            yield process(plan, root, task, cache)
        return
    chunk = max(1, min(64, len(tasks) // (workers * 8)))
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(plan, root, cache)) as pool:
        yield from pool.map(_process_in_worker, tasks, chunksize=chunk)


def scan(catalog: Catalog, policy: EffectivePolicy, options: ScanOptions) -> ScanResult:
    found = discover(options.root, policy.excludes + options.excludes)
    root = found.root
    charts = chart_directories(f.path for f in found.files)
    tasks = [FileTask(f.path, f.size, policy.scope_rules.scope_of(f.path)) for f in found.files]
    plan = build_plan(catalog, policy, charts)
    selected = [t for t in tasks if options.only is None or t.path in options.only]
    cache = ResultCache(options.cache_dir) if options.cache_dir is not None else None
    outcomes: dict[str, FileOutcome] = {}
    for outcome in run_files(plan, root, selected, options.jobs, cache):
        outcomes[outcome.path] = outcome
        if options.progress is not None:
            options.progress(len(outcomes), len(selected))
    notifications = list(found.notifications)
    raw: list[tuple[str, str, Hit]] = []
    for outcome in outcomes.values():
        notifications.extend(outcome.notifications)
        raw.extend((rule_id, outcome.path, hit) for rule_id, hit in outcome.hits)
    if options.repository_rules:
        raw.extend(_repository_hits(catalog, policy, root, tasks, outcomes, charts))
    findings = [_finding(catalog, policy, rule_id, path, hit) for rule_id, path, hit in raw]
    inline = {o.path: o.suppressions for o in outcomes.values() if o.suppressions}
    findings, extra, notes = apply_suppressions(catalog, policy, findings, inline, options)
    notifications.extend(notes)
    findings.extend(extra)
    findings.sort(key=lambda f: (f.path, f.span.line, f.span.column, f.rule_id, f.message))
    notifications.sort(key=lambda n: (n.path or "", n.line, n.column, n.level, n.message))
    return ScanResult(str(root), tuple(findings), tuple(notifications), len(selected), policy.rule_ids)


def _repository_hits(catalog: Catalog, policy: EffectivePolicy, root: Path, tasks: Sequence[FileTask],
                     outcomes: dict[str, FileOutcome], charts: frozenset[str]) -> Iterator[tuple[str, str, Hit]]:
    files = []
    for task in tasks:
        outcome = outcomes.get(task.path)
        kind = path_kind(task.path, charts)
        kinds = outcome.kinds if outcome is not None else frozenset({kind} if kind else ())
        files.append(repository.RepoFile(task.path, task.size, task.scope, kinds))
    facts = tuple(fact for outcome in outcomes.values() for fact in outcome.facts)
    context = repository.RepoContext(root, tuple(files), facts)
    for rule_id in policy.rule_ids:
        match = catalog.repository.get(rule_id)
        if match is None:
            continue
        rule = catalog.rules[rule_id]
        params = policy.params.get(rule_id, {})
        for path, hit in repository.evaluate(match, rule.scopes, context, params, predicates.REPOSITORY):
            yield rule_id, path, hit


def _finding(catalog: Catalog, policy: EffectivePolicy, rule_id: str, path: str, hit: Hit) -> Finding:
    rule = catalog.rules[rule_id]
    values = dict(hit.values)
    values.setdefault("path", path)
    message = rule.render_message(values, policy.params.get(rule_id, {}))
    severity = policy.severities.get(rule_id, rule.severity)
    return Finding(rule_id, path, hit.span, message, severity, hit.anchor)


def apply_suppressions(catalog: Catalog, policy: EffectivePolicy, findings: Iterable[Finding],
                       inline: dict[str, tuple[InlineSuppression, ...]], options: ScanOptions,
                       ) -> tuple[list[Finding], list[Finding], list[Notification]]:
    """Inline comments first, then policy exceptions; reports bad and unused suppressions."""
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
    extra = [] if options.no_ignores else list(_suppression_findings(catalog, policy, inline, used))
    return kept, extra, notes


def _with(finding: Finding, suppression: Suppression) -> Finding:
    return Finding(finding.rule_id, finding.path, finding.span, finding.message, finding.severity,
                   finding.anchor, suppression)


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
