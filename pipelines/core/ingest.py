"""Scan raw/ and parse every file: one Snapshot per file (or per fetch that landed nothing).

Nothing is silently skipped: each file ends as ``accepted`` (it yielded documents),
``metadata`` (it only enriches other records), ``skipped`` (recognised, deliberately not corpus
text, with the reason), or ``rejected`` (no parser, too big, or unreadable, with the reason).
Dedup against other files happens later (``assemble``) and may mark a snapshot ``duplicate``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISLNK
from typing import Any

from pipelines.core import isolation
from pipelines.core.hashcache import HashCache, file_key, now_ns
from pipelines.core.parsecache import ParseCache, summarize
from pipelines.core.parsers import ParserSpec, all_parsers, find_parser
from pipelines.core.rawstore import ManifestEvent, RawStore, sha256_file
from pipelines.core.records import ParseError, ParseResult
from pipelines.core.textutil import to_utf8
from pipelines.core.vetting import EARLIEST_PLAUSIBLE, escape_controls, vet_result

__all__ = ["EARLIEST_PLAUSIBLE", "ParsedFile", "Snapshot", "parse_path", "scan_and_parse", "vet_result"]

HEAD_BYTES = 64 * 1024
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES_ENV = "CORPUS_MAX_FILE_BYTES"
MAX_ERROR_CHARS = 1000


def max_file_bytes() -> int:
    """The size limit for one raw file: CORPUS_MAX_FILE_BYTES (bytes) if set, else 256 MiB.

    Files up to the limit are read into memory to parse; a bigger file is hashed in chunks (never
    read whole) and rejected with the limit in the reason."""
    return int(isolation.env_number(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES, minimum=1, whole=True))


def display_path(rel: str) -> str:
    """A raw/-relative path as printable UTF-8 text, for snapshots.path and the run summary: the bytes of
    a non-UTF-8 file name, control characters (terminal escapes) and invisible format characters (bidi
    overrides) appear as \\xNN / \\uNNNN escapes. Any other name is returned unchanged."""
    if rel.isascii() and rel.isprintable():  # no control, format or undecodable character: as it is
        return rel
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        rel = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in rel):
        rel = "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in ("Cc", "Cf") else c for c in rel)
    return rel


@dataclass
class Snapshot:
    snapshot_id: str
    path: str | None  # relative to raw/; None for a fetch that landed nothing
    sha256: str | None
    bytes: int | None
    seen_at: datetime
    origin: str
    fetcher: str
    format: str | None
    status: str
    error: str | None = None
    source_id: str | None = None
    http_status: int | None = None


@dataclass
class ParsedFile:
    snapshot: Snapshot
    result: ParseResult | None
    summary: dict[str, Any] | None = None  # of the parse (``summarize``), when the file was parsed or its summary read


def snapshot_id(path: str, sha: str | None) -> str:
    """Stable id of a raw file: its content hash plus a hash of where it sits."""
    where = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"{(sha or 'none')[:16]}-{where}"


def _failure(spec: ParserSpec | None, stage: str, e: BaseException) -> str:
    """The snapshot error for an exception the guard caught at ``stage``."""
    who = f"{spec.name}: " if spec else ""
    if isinstance(e, RecursionError):
        return f"{who}nested too deeply to read (recursion limit)"
    if isinstance(e, MemoryError):
        return f"{who}ran out of memory while {stage}"
    if stage == "parsing":
        return f"{who}unexpected {type(e).__name__}: {e}"
    return f"{who}{stage} failed: unexpected {type(e).__name__}: {e}"


def _printable(message: str) -> str:
    message = escape_controls(message)
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"


def _symlink(store: RawStore, path: Path) -> ParsedFile:
    """A symbolic link is recorded, never followed: its target may lie outside raw/."""
    rel = display_path(f"{store.relpath(path.parent)}/{path.name}")
    target = os.readlink(path)
    return ParsedFile(
        Snapshot(
            snapshot_id=snapshot_id(rel, None),
            path=rel,
            sha256=None,
            bytes=None,
            seen_at=datetime.fromtimestamp(path.lstat().st_mtime, UTC),
            origin=f"inbox:{rel.removeprefix('inbox/')}" if rel.startswith("inbox/") else rel,
            fetcher="inbox" if rel.startswith("inbox/") else "unknown",
            format=None,
            status="rejected",
            error=f"symbolic link (to {display_path(target)[:200]!r}): not followed; copy the file into raw/ instead",
        ),
        None,
    )


def _new_snapshot(
    store: RawStore, path: Path, origins: dict[str, ManifestEvent], known_sha: str | None = None,
    known_stat: tuple[str, os.stat_result] | None = None,
) -> Snapshot:
    """A file's snapshot before parsing: where it came from, its size and content hash (rejected until parsed).
    ``known_sha`` is the hash the hash cache holds for the file's unchanged stat; ``known_stat`` the
    file's raw-relative path and stat when the caller has just taken them."""
    rel, stat = known_stat if known_stat is not None else (display_path(store.relpath(path)), path.stat())
    event = origins.get(rel)
    origin = event.origin if event else f"inbox:{rel.removeprefix('inbox/')}" if rel.startswith("inbox/") else rel
    fetcher = event.fetcher if event else "inbox" if rel.startswith("inbox/") else "unknown"
    seen_at = datetime.fromisoformat(event.at) if event else datetime.fromtimestamp(stat.st_mtime, UTC)
    sha = known_sha or sha256_file(path)  # in chunks: a file over the limit is never read whole
    return Snapshot(
        snapshot_id=snapshot_id(rel, sha),
        path=rel,
        sha256=sha,
        bytes=stat.st_size,
        seen_at=seen_at,
        origin=origin,
        fetcher=fetcher,
        format=None,
        status="rejected",
        source_id=event.source_id if event else None,
        http_status=event.http_status if event else None,
    )


def failed_file(store: RawStore, path: Path, origins: dict[str, ManifestEvent], error: str, fmt: str | None = None) -> ParsedFile:
    """The rejected snapshot of a file whose parsing failed outside ``parse_path`` (its worker died or ran
    out of time), with as much of the snapshot as can still be read."""
    try:
        snap = _new_snapshot(store, path, origins)
    except Exception:  # the file itself is gone or unreadable: name it anyway
        try:
            rel = display_path(store.relpath(path))
        except Exception:
            rel = display_path(str(path))
        snap = Snapshot(snapshot_id(rel, None), rel, None, None, datetime.now(UTC), rel, "unknown", None, "rejected")
    snap.format = fmt
    snap.error = _printable(error)
    return ParsedFile(snap, None)


def parse_path(
    store: RawStore,
    path: Path,
    *,
    cache: ParseCache,
    parsers: list[ParserSpec],
    origins: dict[str, ManifestEvent],
    max_bytes: int | None = None,
    keep_result: bool = True,
    known_sha: str | None = None,
) -> ParsedFile:
    """One file: its snapshot and (with ``keep_result``) its vetted parse result. ``known_sha``: its
    content hash from the hash cache (the file is then not hashed again).

    Every step for the file — reading, sniffing, parsing, vetting, writing the parse cache — runs inside
    one guard: whatever the file holds, the outcome is this file's snapshot (``rejected`` with the
    stage and the reason), never an exception for the caller."""
    done = _parse_path(store, path, cache=cache, parsers=parsers, origins=origins, max_bytes=max_bytes,
                       keep_result=keep_result, known_sha=known_sha)
    assert done is not None  # noqa: S101 - only cached_only returns None
    return done


def _parse_path(
    store: RawStore,
    path: Path,
    *,
    cache: ParseCache,
    parsers: list[ParserSpec],
    origins: dict[str, ManifestEvent],
    max_bytes: int | None = None,
    keep_result: bool = True,
    known_sha: str | None = None,
    cached_only: bool = False,
    known_format: str | None = None,
    known_summary: dict[str, Any] | None = None,
    known_stat: tuple[str, os.stat_result] | None = None,
) -> ParsedFile | None:
    """``parse_path``; with ``cached_only``, None instead of parsing a file the parse cache lacks.
    ``known_format`` (with ``known_sha``) is the parser the hash cache says this unchanged file was
    sniffed as: its head is not read again; ``known_summary`` its parse summary, used while the parse
    cache still holds it. ``known_stat`` is (raw-relative path, stat) of a file the caller has just
    found not to be a link."""
    max_bytes = max_file_bytes() if max_bytes is None else max_bytes
    try:
        if known_stat is None and path.is_symlink():
            return _symlink(store, path)
        snap = _new_snapshot(store, path, origins, known_sha, known_stat)
    except Exception as e:
        return failed_file(store, path, origins, f"cannot read the file: {type(e).__name__}: {e}")
    stage = ["reading"]
    spec: ParserSpec | None = None
    try:
        if snap.bytes == 0:
            snap.error = "empty file (0 bytes)"
            return ParsedFile(snap, None)
        if known_sha is not None and known_format is not None:
            spec = next((p for p in parsers if p.name == known_format), None)
        if spec is None:
            with path.open("rb") as f:
                head = f.read(HEAD_BYTES)
            stage[0] = "sniffing"
            spec = find_parser(snap.path or "", to_utf8(head, partial=True), parsers)
        if spec is None:
            ext = path.suffix or "(no extension)"
            snap.error = _printable(f"no parser recognises this file (extension {ext}, starts with {head[:24]!r})")
            return ParsedFile(snap, None)
        snap.format = spec.name
        if (snap.bytes or 0) > max_bytes:
            snap.error = (
                f"file is {snap.bytes:,} bytes, over the {max_bytes:,}-byte limit for one file; "
                "split it or raise CORPUS_MAX_FILE_BYTES"
            )
            return ParsedFile(snap, None)
        sha = snap.sha256 or ""
        stage[0] = "reading the parse cache"
        if not keep_result:
            kept = known_summary is not None and spec.name == known_format and cache.has_summary(sha, spec.name, spec.version)
            summary = known_summary if kept else cache.summary(sha, spec.name, spec.version)
            if summary is not None:
                _set_status(snap, summary)
                return ParsedFile(snap, None, summary)
        result = cache.get(sha, spec.name, spec.version)
        if result is None and cached_only:
            return None
        if result is None:
            stage[0] = "reading"
            data = path.read_bytes()
            stage[0] = "parsing"
            try:
                parsed = spec.parse(to_utf8(data), snap.path or "")
            except ParseError as e:
                snap.error = _printable(f"{spec.name}: {e}")
                return ParsedFile(snap, None)
            del data
            stage[0] = "vetting"
            result = vet_result(parsed)
            stage[0] = "writing the parse cache"
            cache.put(sha, spec.name, spec.version, result)
        summary = summarize(result)
        _set_status(snap, summary)
        return ParsedFile(snap, result if keep_result else None, summary)
    except Exception as e:  # the guard: a parser bug, a value no rule foresaw, a full disk cost this file only
        snap.status = "rejected"
        snap.error = _printable(_failure(spec, stage[0], e))
        return ParsedFile(snap, None)


def _set_status(snap: Snapshot, summary: dict[str, Any]) -> None:
    """accepted / skipped / metadata, or rejected with the first error, from a parse summary."""
    if summary["skipped_reason"]:
        snap.status, snap.error = "skipped", summary["skipped_reason"]
    elif summary["documents"]:
        snap.status = "accepted"
    elif summary["metadata"]:
        snap.status = "metadata"
    else:
        bad = summary["first_error"]
        snap.error = f"no documents: {bad[0]}: {bad[1]}" if bad else "no documents found in file"


def scan_and_parse(
    store: RawStore,
    *,
    cache_dir: Path | None = None,
    parsers: list[ParserSpec] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    max_bytes: int | None = None,
    keep_results: bool = True,
) -> list[ParsedFile]:
    """Parse every file in raw/ and turn manifest-only fetch outcomes into snapshots.

    With ``keep_results=False`` only the snapshots are returned (results stay in the parse cache,
    and a cached file's status comes from its small summary): memory does not grow with the corpus.

    Files are parsed in worker processes (``isolation``): a parser that crashes the interpreter, runs
    past its time budget or past the memory limit costs its own file, recorded on its snapshot.
    ``CORPUS_PARSE_WORKERS=0`` parses in this process (no time or memory limit).

    With a cache directory, a file whose stat is unchanged since it was last hashed (and that was
    not rejected) is not hashed again (``hashcache``); when its parse is cached it gets its snapshot
    here, without a worker (its head is sniffed again in this process: it was sniffed and parsed
    without trouble in a worker before)."""
    max_bytes = max_file_bytes() if max_bytes is None else max_bytes
    custom = parsers is not None
    parsers = parsers if parsers is not None else all_parsers()
    cache = ParseCache(cache_dir)
    events = store.events()
    origins: dict[str, ManifestEvent] = {}
    for e in events:
        if e.path:
            origins.setdefault(e.path, e)  # the first landing is the file's provenance
    files = store.files()
    hashes = HashCache(cache_dir, "" if custom else sniffers_digest(parsers)) if cache_dir is not None else None
    slots: list[ParsedFile | None] = [None] * len(files)
    pending: list[tuple[int, str, os.stat_result | None, int, str | None]] = []  # index, rel path, stat before hashing, when, known hash
    done = 0
    rels: list[str] = []
    for i, path in enumerate(files):
        rel, st, when = "", None, now_ns()
        with contextlib.suppress(OSError, ValueError):  # parse_path names what is wrong with the file
            rel = display_path(store.relpath(path))
            lst = os.lstat(path)  # of a file that is not a link, its stat
            st = None if S_ISLNK(lst.st_mode) else lst
        rels.append(rel)
        known = hashes.lookup(rel, st) if hashes and st is not None else None
        if known is not None and hashes is not None and st is not None:
            slots[i] = _parse_path(store, path, cache=cache, parsers=parsers, origins=origins, max_bytes=max_bytes,
                                   keep_result=keep_results, known_sha=known, cached_only=True,
                                   known_format=hashes.sniffed(rel), known_summary=hashes.summary(rel),
                                   known_stat=(rel, st))
            if slots[i] is not None and slots[i].snapshot.status != "rejected":  # type: ignore[union-attr]
                hashes.remember_format(rel, slots[i].snapshot.format, slots[i].summary)  # type: ignore[union-attr]
        if slots[i] is None:
            pending.append((i, rel, st, when, known))
        else:
            done += 1
            if progress:
                progress(done, len(files), slots[i].snapshot.path or "")  # type: ignore[union-attr]
    todo = [(files[i], known) for i, _, _, _, known in pending]

    def advance(j: int, n: int, path: str) -> None:
        if progress:
            progress(done + j, len(files), path)

    workers = isolation.parse_workers()
    if workers and not _picklable(parsers):
        workers = 0  # parsers that cannot be sent to a worker (lambdas) run here, unisolated
    if not todo:
        parsed: list[ParsedFile] = []
    elif workers == 0:
        parsed = []
        for j, (path, known) in enumerate(todo, 1):
            parsed.append(
                parse_path(store, path, cache=cache, parsers=parsers, origins=origins, max_bytes=max_bytes,
                           keep_result=keep_results, known_sha=known)
            )
            advance(j, len(todo), parsed[-1].snapshot.path or "")
    else:
        parsed = _parse_isolated(store, todo, cache_dir, parsers if custom else None, origins, max_bytes, keep_results, workers, advance)
    for (i, rel, st, when, _), pf in zip(pending, parsed, strict=True):
        slots[i] = pf
        # A rejected file is hashed (and sniffed, in a worker) again next time: whatever rejected it,
        # a crash or a time-out included, never runs in this process.
        if hashes is not None and st is not None and pf.snapshot.sha256 and pf.snapshot.status != "rejected":
            with contextlib.suppress(OSError):
                if file_key(files[i].stat()) == file_key(st):  # unchanged while it was hashed
                    hashes.remember(rel, st, when, pf.snapshot.sha256, pf.snapshot.format, pf.summary)
    if hashes is not None:
        hashes.keep_only(set(rels))
        with contextlib.suppress(OSError):  # a read-only cache costs speed only
            hashes.save()
    out: list[ParsedFile] = [pf for pf in slots if pf is not None]
    # Fetch outcomes that landed no bytes: keep the newest per origin.
    byteless: dict[str, ManifestEvent] = {}
    for e in events:
        if not e.path:
            byteless[e.origin] = e
    for origin, e in sorted(byteless.items()):
        out.append(
            ParsedFile(
                Snapshot(
                    snapshot_id=snapshot_id(f"{e.fetcher}:{origin}", None),
                    path=None,
                    sha256=None,
                    bytes=None,
                    seen_at=datetime.fromisoformat(e.at),
                    origin=origin,
                    fetcher=e.fetcher,
                    format=None,
                    status=e.status,
                    error=e.error,
                    source_id=e.source_id,
                    http_status=e.http_status,
                ),
                None,
            )
        )
    return out


def sniffers_digest(parsers: list[ParserSpec]) -> str:
    """A digest of what decides a file's format: the parser list (names, versions) and the code that
    sniffs (every parser module, and the decoding of a file's head)."""
    from pipelines.core.fingerprint import fingerprint

    return fingerprint(None, modules=["pipelines.core.parsers", "pipelines.core.textutil", __name__],
                       extra=[f"{p.name}:{p.version}" for p in parsers])[:16]


def _sniffed_format(store: RawStore, path: Path, parsers: list[ParserSpec] | None) -> str | None:
    """The format a file would be parsed as (for the snapshot of a file whose worker failed)."""
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
        spec = find_parser(display_path(store.relpath(path)), to_utf8(head, partial=True), parsers or all_parsers())
    except Exception:
        return None
    return spec.name if spec else None


def _picklable(parsers: list[ParserSpec]) -> bool:
    try:
        pickle.dumps(parsers)
    except Exception:
        return False
    return True


def _parse_in_worker(
    root: str, path: str, cache_dir: str | None, parsers: list[ParserSpec] | None,
    event: ManifestEvent | None, max_bytes: int, keep_result: bool, known_sha: str | None = None,
) -> ParsedFile:
    """One file's ``parse_path``, run in a worker process (arguments are plain data)."""
    store = RawStore(Path(root))
    rel = display_path(store.relpath(Path(path)))
    return parse_path(
        store, Path(path), cache=ParseCache(Path(cache_dir) if cache_dir else None), parsers=parsers or all_parsers(),
        origins={rel: event} if event else {}, max_bytes=max_bytes, keep_result=keep_result, known_sha=known_sha,
    )


def _parse_isolated(
    store: RawStore, files: list[tuple[Path, str | None]], cache_dir: Path | None, parsers: list[ParserSpec] | None,
    origins: dict[str, ManifestEvent], max_bytes: int, keep_results: bool, workers: int,
    progress: Callable[[int, int, str], None] | None,
) -> list[ParsedFile]:
    out: list[ParsedFile] = []
    with isolation.WorkerPool(workers) as pool:
        jobs = []
        for path, known in files:
            try:
                size = path.lstat().st_size
                event = origins.get(display_path(store.relpath(path)))
            except Exception:
                size, event = 0, None
            budget = isolation.file_budget_seconds(min(size, max_bytes))
            future = pool.submit(
                _parse_in_worker, budget, str(store.root), str(path), str(cache_dir) if cache_dir else None,
                parsers, event, max_bytes, keep_results, known,
            )
            jobs.append((path, budget, future))
        for i, (path, budget, future) in enumerate(jobs, 1):
            done, failure = isolation.outcome(future, budget, pool.memory_mb)
            out.append(done if done is not None else failed_file(store, path, origins, failure or "parsing failed", _sniffed_format(store, path, parsers)))
            if progress:
                progress(i, len(files), out[-1].snapshot.path or "")
    return out
