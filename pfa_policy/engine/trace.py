"""What a verbose scan tells besides its findings: how long each stage took, which files it left out and why."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the CLI imports this module before it knows whether the engine will run
    from pfa_policy.engine.plan import FileOutcome, FileTask, WorkPlan

T = TypeVar("T")
STAGES = ("load", "discover", "analyse", "repository rules", "report")
_NOT_SCANNED = "not scanned: "  # how a worker words a file it could not read (binary, too large, unreadable)


@dataclass
class Trace:
    """Filled in by the scan as it goes; the CLI prints it with --verbose."""

    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed over repeats
    skipped: set[tuple[str, str]] = field(default_factory=set)  # (path, why)
    # path -> (scope, why): every file outside production, and production files something decided (a policy
    # glob, a CI pipeline that builds and deploys teaching material)
    scopes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def scoped(self, explained: Mapping[str, tuple[str, str]]) -> None:
        """Each file's scope and what decided it; production files by default need no explaining."""
        self.scopes.update((path, how) for path, how in explained.items() if how[0] != "production" or how[1])

    def add(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def files(self, left_out: Iterable[tuple[str, str]], plan: WorkPlan, tasks: Sequence[FileTask],
              outcomes: Mapping[str, FileOutcome]) -> None:
        """The files discovery left out, and those it found that were not read or that no rule applies to."""
        self.skipped.update(left_out)
        for task in tasks:
            outcome = outcomes.get(task.path)
            if outcome is None or task.facts_only:
                continue
            reasons = [n.message for n in outcome.notifications if n.message.startswith(_NOT_SCANNED)]
            if reasons:
                self.skipped.add((task.path, reasons[0].removeprefix(_NOT_SCANNED)))
            elif not _read_by_a_rule(plan, outcome):
                self.skipped.add((task.path, "no rule applies"))


    def lines(self) -> list[str]:
        """What --verbose prints: each skipped file with why, each file outside production with its scope and
        what decided it, then the timings in stage order."""
        skipped = [f"skipped {path}: {why}" for path, why in sorted(self.skipped)]
        scoped = [f"scope {scope} {path}: {why}" for path, (scope, why) in sorted(self.scopes.items())]
        timings = ", ".join(f"{name} {self.timings[name]:.2f} s" for name in STAGES if name in self.timings)
        return [*skipped, *scoped, f"timings: {timings}"]


def _read_by_a_rule(plan: WorkPlan, outcome: FileOutcome) -> bool:
    """A rule checks the file's kind in its scope, or the suppression rules read its comments."""
    if plan.collect_suppressions and outcome.kinds:
        return True
    return any(check.targets & outcome.kinds and (check.scopes is None or outcome.scope in check.scopes)
               for check in plan.checks if not check.key.startswith("fact:"))


def stage(trace: Trace | None, name: str) -> AbstractContextManager[None]:
    """Time a block into `trace`, if there is one."""
    return nullcontext() if trace is None else trace.stage(name)


def timed(trace: Trace | None, name: str, items: Iterable[T]) -> Iterator[T]:
    """`items`, with the time to go through them (the loop's body included) added to `trace`."""
    with stage(trace, name):
        yield from items
