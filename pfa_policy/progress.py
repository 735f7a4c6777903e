"""A one-line progress indicator for long scans, on a terminal only."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Rewrites `files done / total, elapsed` in place at most a few times a second."""

    def __init__(self, stream: TextIO, interval: float = 0.2) -> None:
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.shown_at < self.interval:
            return
        self.shown_at = now
        line = f"pfa-policy: {done}/{total} files, {now - self.started:.1f} s"
        self.width = max(self.width, len(line))
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def for_terminal(enabled: bool) -> Progress | None:
    """A Progress on stderr when it is a terminal; silent (None) in CI, pipes and files."""
    return Progress(sys.stderr) if enabled and sys.stderr.isatty() else None
