"""NLP on every core: a chunk's documents split across worker processes, results back in order.

spaCy's tokenizer is the bulk of the NLP step, and it holds the GIL, so threads do not help. Each
worker builds the lexicon's pipeline once (``TextProcessor``) and analyses contiguous pieces of a
chunk; the calling process keeps the one DuckDB writer and stores the results, in document order,
while the workers analyse the next chunk. The results equal a single process's: the analysis of a
document reads nothing but that document (``tests/test_nlp.py`` compares them).

``CORPUS_NLP_WORKERS`` sets the number of workers (default: the CPU count, at most
``MAX_DEFAULT_WORKERS``); ``0`` or ``1`` analyses in the calling process. Work smaller than
``MIN_PARALLEL_WORDS`` words is analysed in the calling process too: starting the workers (a
forkserver importing spaCy, each worker building the pipeline) costs about 1.5 s, which a 1x corpus
(560K words, 3.6 s either way on 2 cores) does not win back. Workers start from a forkserver (never a fork of
a process with threads). A worker that dies costs nothing but time: its piece is analysed again in
the calling process, with a warning.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import polars as pl

from pipelines.core.isolation import env_number
from pipelines.core.lexicon import Lexicon
from pipelines.core.nlp.frames import concat, result_frames
from pipelines.core.nlp.processor import Segments, TextProcessor

log = logging.getLogger(__name__)

WORKERS_ENV = "CORPUS_NLP_WORKERS"
MAX_DEFAULT_WORKERS = 4
MIN_PARALLEL_WORDS = 1_000_000
PARALLEL_CHUNK_CHARS = 400_000  # the smallest chunk when analysing in workers (a 1x corpus is ~3.3M characters)
PIECES_PER_WORKER = 4  # a chunk is cut into this many pieces per worker, so that they finish together

Item = tuple[str, str, str, Segments | None]  # (cache key, content sha256, text, caption spans)
Frames = dict[str, pl.DataFrame]

_worker: TextProcessor | None = None
PRELOAD = ["spacy", "pipelines.core.nlp.processor"]


def nlp_workers() -> int:
    return int(env_number(WORKERS_ENV, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1), minimum=0))


def _init(lexicon: Lexicon, batch_size: int) -> None:  # in each worker
    global _worker
    _worker = TextProcessor(lexicon, batch_size=batch_size)


def analyse(proc: TextProcessor, items: Sequence[Item], lex_hash: str, code_version: str) -> Frames:
    """The cache tables' frames of these documents (``frames.result_frames``)."""
    results = proc.process((text, segs) for _, _, text, segs in items)
    rows = [(key, sha, text, r) for (key, sha, text, _), r in zip(items, results, strict=True)]
    return result_frames(rows, lex_hash, code_version)


def _analyse(items: list[Item], lex_hash: str, code_version: str) -> Frames:  # in a worker
    if _worker is None:
        raise RuntimeError("nlp worker used before its initializer ran")
    return analyse(_worker, items, lex_hash, code_version)


def _ready() -> bool:  # in a worker: nothing; its initializer has built the pipeline
    return _worker is not None


def pieces(items: Sequence[Item], n: int) -> list[list[Item]]:
    """``items`` cut into at most ``n`` contiguous pieces of about equal characters."""
    total = sum(len(item[2]) for item in items) or 1
    target = total / max(1, n)
    out: list[list[Item]] = [[]]
    before = 0  # characters in the pieces so far
    for item in items:
        if out[-1] and before >= len(out) * target and len(out) < n:
            out.append([])
        out[-1].append(item)
        before += len(item[2])
    return [p for p in out if p]


class PendingChunk:
    """A chunk handed to the workers; ``frames()`` waits for it."""

    def __init__(self, pool: ParallelProcessor, parts: list[list[Item]], futures: list[Future[Frames]]):
        self.pool, self.parts, self.futures = pool, parts, futures

    def frames(self) -> Frames:
        """The chunk's cache frames, its documents in order."""
        out: list[Frames] = []
        for part, fut in zip(self.parts, self.futures, strict=True):
            try:
                out.append(fut.result())
            except BrokenProcessPool as e:
                log.warning("nlp: a worker process died (%s); %d document(s) analysed in this process instead", e, len(part))
                out.append(analyse(self.pool.local(), part, self.pool.lex_hash, self.pool.code_version))
        return concat(out)


class ParallelProcessor:
    """Worker processes running ``TextProcessor``; ``submit`` a chunk, then read its ``frames``."""

    def __init__(self, lexicon: Lexicon, workers: int, batch_size: int, lex_hash: str, code_version: str):
        self.lexicon, self.workers, self.batch_size = lexicon, workers, batch_size
        self.lex_hash, self.code_version = lex_hash, code_version
        self._local: TextProcessor | None = None
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)  # only when no forkserver runs yet (parsing preloads these too)
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx,
            initializer=_init, initargs=(lexicon, batch_size),
        )
        # start the workers now, from a thread: the forkserver imports spaCy meanwhile, while this
        # process reads the first chunk
        self._warm = threading.Thread(target=self._start_workers, name="nlp-workers", daemon=True)
        self._warm.start()

    def _start_workers(self) -> None:
        try:
            for f in [self.executor.submit(_ready) for _ in range(self.workers)]:
                f.result()
        except Exception as e:  # noqa: BLE001 - a dead pool shows again, and is handled, on submit
            log.debug("nlp: starting the workers failed: %s", e)

    def local(self) -> TextProcessor:
        if self._local is None:
            self._local = TextProcessor(self.lexicon, batch_size=self.batch_size)
        return self._local

    def submit(self, items: Sequence[Item]) -> PendingChunk:
        parts = pieces(items, self.workers * PIECES_PER_WORKER)
        futures: list[Future[Frames]] = []
        for part in parts:
            try:
                futures.append(self.executor.submit(_analyse, part, self.lex_hash, self.code_version))
            except BrokenProcessPool as e:
                failed: Future[Frames] = Future()
                failed.set_exception(e)
                futures.append(failed)
        return PendingChunk(self, parts, futures)

    def close(self) -> None:
        self._warm.join()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParallelProcessor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
