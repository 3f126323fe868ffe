"""Parsing in worker processes, so that nothing a file holds can stop the run (docs/reliability.md,
"Isolation").

Parsers run third-party C code (lexbor, cmark-gfm, zlib, expat) on untrusted bytes. In-process, a native crash (SIGSEGV) kills the run and a runaway parser stalls it.
Each file is parsed in a worker process (a ``pebble`` pool; workers forked from a forkserver that has
the parsers imported) with

* a **time budget** per file: ``CORPUS_PARSE_SECONDS`` (default 60) plus ``SECONDS_PER_MIB`` per MiB
  of the file; past it the worker is killed and the file is rejected with the budget in the reason;
* a **memory limit** per worker (``RLIMIT_AS``): ``CORPUS_PARSE_MEMORY_MB`` (default 8192); past it the
  parse fails with MemoryError (or the worker dies) and only that file is rejected;
* a **dead worker** (a signal, a native abort) costs its file, rejected with the signal's name; the
  pool starts a new worker for the next file. Workers are also replaced every ``TASKS_PER_WORKER``
  files, so that memory fragmented by one huge file does not count against the limit for later ones.

``CORPUS_PARSE_WORKERS`` sets the number of workers (default: the CPU count, at most 4); ``0`` parses
in the calling process, without time or memory limits (for debugging).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

WORKERS_ENV = "CORPUS_PARSE_WORKERS"
SECONDS_ENV = "CORPUS_PARSE_SECONDS"
MEMORY_ENV = "CORPUS_PARSE_MEMORY_MB"
DEFAULT_SECONDS = 60.0
SECONDS_PER_MIB = 10.0
DEFAULT_MEMORY_MB = 8192
MAX_DEFAULT_WORKERS = 4
TASKS_PER_WORKER = 100  # a worker is replaced after this many files: memory one file fragmented is not the next one's
# Imported once in the forkserver, so that a worker starts in milliseconds with every parser loaded.
PRELOAD = ["pipelines.core.ingest", "pipelines.core.parsers.blog", "pipelines.core.parsers.generic",
           "pipelines.core.parsers.transcripts", "pipelines.core.parsers.tweets", "pypdf"]

T = TypeVar("T")


def env_number(name: str, default: float, *, minimum: float, whole: bool = False) -> float:
    """A number from the environment (``_`` allowed: ``64_000_000``), or ``default`` when unset;
    ValueError naming the variable when it is not a number (a whole one with ``whole``) or below ``minimum``."""
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = float(int(raw)) if whole else float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a {'whole ' if whole else ''}number") from None
    if value < minimum:
        raise ValueError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def parse_workers() -> int:
    return int(env_number(WORKERS_ENV, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1), minimum=0))


def file_budget_seconds(size_bytes: int) -> float:
    """How long one file of this size may take to parse: CORPUS_PARSE_SECONDS + SECONDS_PER_MIB per MiB."""
    return env_number(SECONDS_ENV, DEFAULT_SECONDS, minimum=0.1) + SECONDS_PER_MIB * size_bytes / (1 << 20)


def memory_limit_mb() -> int:
    return int(env_number(MEMORY_ENV, DEFAULT_MEMORY_MB, minimum=256))


def _limit_memory(megabytes: int) -> None:  # the pool's initializer, in each worker
    limit = megabytes << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:  # pragma: no cover - every Linux has it
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_forkserver_early() -> bool:
    """Start the parse workers' forkserver now, so that it imports the parsers on another core while
    the run starts up (Dagster's imports): the first file parsed then does not wait ~0.35 s for it.
    Only with two or more cores and parse workers on; a run with nothing to parse leaves it idle.
    Returns whether it was started."""
    try:
        if parse_workers() == 0 or (os.cpu_count() or 1) < 2:
            return False
    except ValueError:  # a bad CORPUS_PARSE_WORKERS is reported by the step that parses
        return False
    ctx = _context()
    if ctx.get_start_method() != "forkserver":  # pragma: no cover - every Linux has it
        return False
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return True


class WorkerPool:
    """A pool of parse workers with a memory limit each; ``submit`` takes a per-task time budget."""

    def __init__(self, workers: int, memory_mb: int | None = None, tasks_per_worker: int = TASKS_PER_WORKER):
        self.memory_mb = memory_mb or memory_limit_mb()
        self.pool = ProcessPool(max_workers=max(1, workers), max_tasks=tasks_per_worker, initializer=_limit_memory,
                                initargs=(self.memory_mb,), context=_context())

    def submit(self, fn: Callable[..., T], timeout: float, *args: Any) -> Future[T]:
        return self.pool.schedule(fn, args=args, timeout=timeout)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.pool.stop()
        self.close()


def signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def outcome(future: Future[Any], budget: float, memory_mb: int | None = None) -> tuple[Any, str | None]:
    """(the task's result, None), or (None, why it has none): over its time budget, its worker died."""
    try:
        return future.result(), None
    except FutureTimeout:
        return None, (
            f"parsing stopped after the {budget:,.0f}-second budget for a file of this size "
            f"({SECONDS_ENV}, default {DEFAULT_SECONDS:.0f}, + {SECONDS_PER_MIB:.0f} s per MiB): the file is rejected, the run goes on"
        )
    except ProcessExpired as e:
        mem = memory_mb or memory_limit_mb()
        return None, (
            f"the parser's worker process died ({signal_name(e.exitcode)}; memory limit {mem:,} MB, {MEMORY_ENV}): "
            "the file is rejected, the run goes on"
        )
    except Exception as e:  # the task could not be sent or its result not returned (pickling)
        return None, f"parsing in a worker failed: {type(e).__name__}: {e}"
