"""Worker processes that analyse one item at a time, each under a time budget.

A scanned file can crash the process that parses it (a native parser overflowing its stack on deeply nested
input) or make it run for minutes. Each item is therefore analysed in a worker process: a worker that
dies or overruns its budget is replaced, and only its own item is lost, reported as a failure; every other
item of the scan completes. A worker holds at most `_DEPTH` items and answers them in the order they were sent,
so it never waits for its parent between two items, and a failure still names the item that caused it (the
oldest unanswered one); the items queued behind it go to another worker.

Workers outlive a run: the next run in the same process (a diff scan's second tree, a test session, a
benchmark) reuses them with its own setup, instead of paying a new process and its warm-up (compiled
patterns, parser state: ~20 ms a scan) again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# What a worker is doing now (a rule id, "parsing python"), in memory its parent reads: a worker that crashes or
# overruns cannot say it itself.
_STEP_SIZE = 120
_step: Any = None  # in a worker process: its shared buffer


def report_step(step: str) -> None:
    """Name what this worker does from now on, so that a crash or an overrun can say where it happened."""
    if _step is not None:
        _step.value = step.encode("utf-8", "replace")[:_STEP_SIZE - 1]


def current_step() -> str:
    return _step.value.decode("utf-8", "replace") if _step is not None else ""


@dataclass(frozen=True, slots=True)
class WorkerFailure:
    """Why an item has no result: its worker crashed, overran the budget, or raised."""

    reason: str


@dataclass(frozen=True)
class WorkerSetup(Generic[Item, Result]):
    """What a worker runs: `initializer(*initargs)`, then `function(item)` per item. Both must be module-level
    functions: a setup is pickled to workers kept from an earlier run, and to spawned ones. `key` names what
    the setup holds, so a kept worker that has it already is not sent it again (a rule set pickles slowly)."""

    function: Callable[[Item], Result]
    initializer: Callable[..., None]
    initargs: tuple[Any, ...]
    key: str


def _context() -> BaseContext:
    # Forking is cheapest (the worker inherits the compiled rules); macOS and Windows spawn a fresh interpreter.
    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _serve(connection: Connection, setup: WorkerSetup[Any, Any], step: Any) -> None:
    """A worker's life: messages are ("setup", WorkerSetup) or ("item", item); None or a closed pipe ends it."""
    global _step
    _step = step
    # Ctrl-C reaches the whole process group: the parent decides, and stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup.initializer(*setup.initargs)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        kind, payload = message
        if kind == "setup":
            setup = payload
            setup.initializer(*setup.initargs)
            continue
        report_step("")
        try:
            reply: tuple[bool, Any] = (True, setup.function(payload))
        except RecursionError:
            reply = (False, "nested too deeply to analyse (Python's recursion limit)")
        except Exception as error:  # reported against the item; the worker stays usable
            reply = (False, f"analysis failed: {error!r}")
        connection.send(reply)


# Items a worker holds at once: the one it analyses and the next, sent while it works on the first.
_DEPTH = 2


class _Worker:
    def __init__(self, context: BaseContext, setup: WorkerSetup[Any, Any]) -> None:
        ours, theirs = context.Pipe()
        self.connection = ours
        self.step: Any = context.Array("c", _STEP_SIZE, lock=False)
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs, setup, self.step), daemon=True)
        self.process.start()
        theirs.close()  # only the worker holds its end now, so its death reads as end-of-file here
        self.setup = setup
        # Items sent and not yet answered, oldest first: the head is the one the worker is analysing.
        self.queue: deque[tuple[int, Any]] = deque()
        self.deadline = 0.0  # for the head item
        self.broken = False  # a send failed: it is dead or dying, and is sent nothing more

    def prepare(self, setup: WorkerSetup[Any, Any]) -> None:
        if setup.key != self.setup.key:
            self.connection.send(("setup", setup))
            self.setup = setup

    def assign(self, index: int, item: Any, budget: float) -> None:
        self.connection.send(("item", item))
        if not self.queue:
            self.deadline = time.monotonic() + budget
        self.queue.append((index, item))

    def answered(self, budget: float) -> int:
        """The index of the head item, just answered; the next item's budget starts now."""
        index, _ = self.queue.popleft()
        self.deadline = time.monotonic() + budget
        return index

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()

    def where(self) -> str:
        """` in <step>` when the worker said what it was doing, else nothing."""
        step = self.step.value.decode("utf-8", "replace")
        return f" in {step}" if step else ""

    def death(self) -> str:
        """How the worker ended, once its connection reported end-of-file."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        self.kill()
        if code is not None and code < 0:
            try:
                signal_name = signal.Signals(-code).name
            except ValueError:
                signal_name = f"signal {-code}"
            return f"the analysis crashed ({signal_name}){self.where()}"
        return f"the analysis process exited unexpectedly (exit code {code}){self.where()}"


# Idle workers kept between runs of this process, at most one per core.
_KEPT: list[_Worker] = []


def _take(context: BaseContext, setup: WorkerSetup[Any, Any]) -> _Worker:
    while _KEPT:
        worker = _KEPT.pop()
        if worker.process.is_alive():
            try:
                worker.prepare(setup)
            except OSError:
                worker.kill()
                continue
            return worker
        worker.kill()
    return _Worker(context, setup)


def _keep(workers: list[_Worker]) -> None:
    for worker in workers:
        if len(_KEPT) < (os.cpu_count() or 1) and worker.process.is_alive():
            _KEPT.append(worker)
        else:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
            worker.kill()


def supervise(items: Iterator[tuple[int, Item]], setup: WorkerSetup[Item, Result], workers: int,
              budget: float) -> Iterator[tuple[int, Result | WorkerFailure]]:
    """Results of `(index, item)` pairs, in completion order, from up to `workers` processes.

    Items are drawn from `items` only when a worker has room for one, so the caller may prepare them lazily."""
    context = _context()
    live: list[_Worker] = []
    # Items sent to a worker that died or overran before it reached them: they go out again first.
    again: deque[tuple[int, Item]] = deque()
    drained = False

    def lost(worker: _Worker, reason: str) -> tuple[int, WorkerFailure]:
        live.remove(worker)
        index, _ = worker.queue.popleft()
        again.extend(worker.queue)
        worker.queue.clear()
        return index, WorkerFailure(reason)

    try:
        while True:
            while again or not drained:
                usable = [w for w in live if not w.broken]
                worker = min(usable, key=lambda w: len(w.queue), default=None)
                if (worker is None or worker.queue) and len(live) < workers:
                    worker = _take(context, setup)
                    live.append(worker)
                if worker is None or len(worker.queue) >= _DEPTH:
                    break
                drawn = again.popleft() if again else next(items, None)
                if drawn is None:
                    drained = True
                    break
                try:
                    worker.assign(drawn[0], drawn[1], budget)
                except OSError:  # it died since it last answered: the end-of-file below says how
                    again.appendleft(drawn)
                    worker.broken = True
                    if not worker.queue:
                        live.remove(worker)
                        worker.kill()
            busy = {w.connection: w for w in live if w.queue}
            if not busy:
                if again or not drained:
                    continue
                return
            timeout = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
            for connection in wait(list(busy), timeout):
                assert isinstance(connection, Connection)
                worker = busy[connection]
                try:
                    ok, payload = connection.recv()
                except (EOFError, OSError):
                    yield lost(worker, worker.death())
                    continue
                index = worker.answered(budget)
                if worker.broken and not worker.queue:
                    live.remove(worker)
                    worker.kill()
                yield index, (payload if ok else WorkerFailure(str(payload)))
            now = time.monotonic()
            for worker in [w for w in live if w.queue and w.deadline <= now]:
                worker.kill()
                yield lost(worker, f"the analysis took longer than {budget:g} s{worker.where()} "
                                   "(the per-file budget; raise it with --file-timeout)")
    finally:
        _keep([w for w in live if not w.queue and not w.broken])
        for worker in live:  # interrupted mid-item: its state is unknown
            if worker.queue or worker.broken:
                worker.kill()
