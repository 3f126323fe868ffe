"""Progress a person can watch on long work: fetching, parsing, NLP, claims.

``task(label, total, unit)`` returns a ``Task`` whose ``advance(n, detail)`` reports progress. On a
terminal (stderr is a TTY) it is a live ``rich`` bar with rate and time left; in a pipe or a CI log
it is plain lines, at most one every ``PLAIN_EVERY_S`` seconds plus the first and the last, so a
log stays readable. ``NO_COLOR`` is honoured (rich reads it); ``CORPUS_PROGRESS=plain`` forces plain
lines and ``CORPUS_PROGRESS=off`` silences progress. No Dagster import: the core reports through a
callback, and the assets create the task.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

PLAIN_EVERY_S = 5.0


def mode(stream: TextIO | None = None) -> str:
    """"live", "plain" or "off", from CORPUS_PROGRESS and whether the stream is a terminal."""
    forced = os.environ.get("CORPUS_PROGRESS", "").strip().lower()
    if forced in ("off", "plain", "live"):
        return forced
    s = stream or sys.stderr
    return "live" if hasattr(s, "isatty") and s.isatty() and os.environ.get("TERM") != "dumb" else "plain"


class Task:
    """One unit of long work with a known (or unknown: 0) total."""

    def __init__(self, label: str, total: int, unit: str = "items", *, stream: TextIO | None = None,
                 rate_of: Callable[[int, float], str] | None = None):
        self.label, self.total, self.unit = label, max(0, int(total)), unit
        self.stream = stream or sys.stderr
        self.rate_of = rate_of  # more to say per line, from (done, elapsed seconds): "1,204 words/s"
        self.done = 0
        self.started = time.monotonic()
        self._last_plain = 0.0
        self.mode = mode(self.stream)
        self._bar: Any = None
        if self.mode == "live":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(self.unit),
                TimeRemainingColumn(), TextColumn("{task.fields[detail]}"),
                console=Console(file=self.stream), transient=False,
            )
            self._bar.start()
            self._id = self._bar.add_task(label, total=self.total or None, detail="")

    def _line(self, detail: str) -> str:
        elapsed = time.monotonic() - self.started
        of = f"/{self.total:,}" if self.total else ""
        more = self.rate_of(self.done, elapsed) if self.rate_of else ""
        parts = [f"  {self.label}: {self.done:,}{of} {self.unit}", more, detail]
        return " · ".join(p for p in parts if p)

    def advance(self, n: int = 1, detail: str = "") -> None:
        self.done += n
        if self.mode == "off":
            return
        if self._bar is not None:
            self._bar.update(self._id, advance=n, detail=detail[:60])
            return
        now = time.monotonic()
        last = bool(self.total) and self.done >= self.total
        if (self.done == n and n) or last or now - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = now
            print(self._line(detail), file=self.stream, flush=True)

    def finish(self, summary: str = "") -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            if summary:
                print(f"  {self.label}: {summary}", file=self.stream, flush=True)
        elif self.mode == "plain" and summary:
            print(f"  {self.label}: {summary}", file=self.stream, flush=True)


def task(label: str, total: int, unit: str = "items", **kw: Any) -> Task:
    return Task(label, total, unit, **kw)


def rate(unit: str, count: Callable[[int], float] | None = None) -> Callable[[int, float], str]:
    """A ``rate_of`` for Task: "<n> <unit>/s" from a running count (default: the items done)."""

    def fmt(done: int, elapsed: float) -> str:
        n = count(done) if count else done
        return f"{n / elapsed:,.0f} {unit}/s" if elapsed > 0.5 else ""

    return fmt
