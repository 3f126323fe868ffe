"""Scan raw/ and parse every file: one Snapshot per file (or per fetch that landed nothing).

Nothing is silently skipped: each file ends as ``accepted`` (it yielded documents),
``metadata`` (it only enriches other records), ``skipped`` (recognised, deliberately not corpus
text, with the reason), or ``rejected`` (no parser, too big, or unreadable, with the reason).
Dedup against other files happens later (``assemble``) and may mark a snapshot ``duplicate``.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.core.parsecache import ParseCache, summarize
from pipelines.core.parsers import ParserSpec, all_parsers, find_parser
from pipelines.core.rawstore import ManifestEvent, RawStore, sha256_file
from pipelines.core.records import ParseError, ParseIssue, ParseResult

HEAD_BYTES = 64 * 1024
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES_ENV = "CORPUS_MAX_FILE_BYTES"
# The date rule (docs/reliability.md): a date before EARLIEST_PLAUSIBLE or more than a day after the
# parse is kept as the file says, and flagged with a parse_issues warning.
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)


def max_file_bytes() -> int:
    """The size limit for one raw file: CORPUS_MAX_FILE_BYTES (bytes) if set, else 256 MiB.

    Files up to the limit are read into memory to parse; a bigger file is hashed in chunks (never
    read whole) and rejected with the limit in the reason."""
    raw = os.environ.get(MAX_FILE_BYTES_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_FILE_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_FILE_BYTES_ENV}={raw!r} is not a whole number of bytes") from None
    if value <= 0:
        raise ValueError(f"{MAX_FILE_BYTES_ENV}={raw!r} must be positive")
    return value


def display_path(rel: str) -> str:
    """A raw/-relative path as printable UTF-8 text, for snapshots.path and the run summary: the bytes of
    a non-UTF-8 file name, control characters (terminal escapes) and invisible format characters (bidi
    overrides) appear as \\xNN / \\uNNNN escapes. Any other name is returned unchanged."""
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


def snapshot_id(path: str, sha: str | None) -> str:
    """Stable id of a raw file: its content hash plus a hash of where it sits."""
    where = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"{(sha or 'none')[:16]}-{where}"


def _describe(i: int, doc: object) -> str:
    ext = getattr(doc, "external_id", None)
    title = getattr(doc, "title", None)
    label = f"id {ext}" if ext else f"title {str(title)[:60]!r}" if title else None
    return f"document {i}" + (f" ({label})" if label else "")


def vet_result(result: ParseResult, now: datetime | None = None) -> ParseResult:
    """Checks every parser's output gets, in one place (docs/reliability.md):

    * dates before 1990-01-01 or more than a day in the future are kept and flagged (warning);
    * a document link that is not http(s) (``javascript:``, ``file:``, ``data:``) is dropped (warning),
      so no page can turn a scraped link into active content.
    """
    now = now or datetime.now(UTC)
    latest = now + timedelta(days=1)
    for i, doc in enumerate(result.documents, 1):
        dates = [("date", doc.published_at)]
        if doc.tweet is not None and doc.tweet.created_at != doc.published_at:
            dates.append(("created_at", doc.tweet.created_at))
        for label, when in dates:
            if when is None:
                continue
            aware = when if when.tzinfo else when.replace(tzinfo=UTC)
            if aware < EARLIEST_PLAUSIBLE:
                result.issues.append(ParseIssue(_describe(i, doc), f"{label} {aware.date().isoformat()} is before 1990: kept, flagged as implausible", "warning"))
            elif aware > latest:
                result.issues.append(ParseIssue(_describe(i, doc), f"{label} {aware.date().isoformat()} is in the future: kept, flagged as implausible", "warning"))
        if doc.url is not None and not str(doc.url).lower().startswith(("http://", "https://")):
            result.issues.append(ParseIssue(_describe(i, doc), f"link {str(doc.url)[:60]!r} is not http(s): dropped", "warning"))
            doc.url = None
    return result


def _parse_one(
    data: bytes, name: str, spec: ParserSpec, cache: ParseCache, sha: str
) -> tuple[ParseResult | None, str | None]:
    cached = cache.get(sha, spec.name, spec.version)
    if cached is not None:
        return cached, None
    try:
        result = vet_result(spec.parse(data, name))
    except ParseError as e:
        return None, f"{spec.name}: {e}"
    except RecursionError:
        return None, f"{spec.name}: nested too deeply to read (recursion limit)"
    except Exception as e:  # a parser bug is this file's failure, not the run's
        return None, f"{spec.name}: unexpected {type(e).__name__}: {e}"
    cache.put(sha, spec.name, spec.version, result)
    return result, None


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


def parse_path(
    store: RawStore,
    path: Path,
    *,
    cache: ParseCache,
    parsers: list[ParserSpec],
    origins: dict[str, ManifestEvent],
    max_bytes: int | None = None,
    keep_result: bool = True,
) -> ParsedFile:
    max_bytes = max_file_bytes() if max_bytes is None else max_bytes
    if path.is_symlink():
        return _symlink(store, path)
    rel = display_path(store.relpath(path))
    stat = path.stat()
    event = origins.get(rel)
    origin = event.origin if event else f"inbox:{rel.removeprefix('inbox/')}" if rel.startswith("inbox/") else rel
    fetcher = event.fetcher if event else "inbox" if rel.startswith("inbox/") else "unknown"
    seen_at = datetime.fromisoformat(event.at) if event else datetime.fromtimestamp(stat.st_mtime, UTC)
    sha = sha256_file(path)  # in chunks: a file over the limit is never read whole
    snap = Snapshot(
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
    if stat.st_size == 0:
        snap.error = "empty file (0 bytes)"
        return ParsedFile(snap, None)
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    spec = find_parser(rel, head, parsers)
    if spec is None:
        ext = path.suffix or "(no extension)"
        snap.error = f"no parser recognises this file (extension {ext}, starts with {head[:24]!r})"
        return ParsedFile(snap, None)
    snap.format = spec.name
    if stat.st_size > max_bytes:
        snap.error = (
            f"file is {stat.st_size:,} bytes, over the {max_bytes:,}-byte limit for one file; "
            "split it or raise CORPUS_MAX_FILE_BYTES"
        )
        return ParsedFile(snap, None)
    if not keep_result:
        summary = cache.summary(sha, spec.name, spec.version)
        if summary is not None:
            _set_status(snap, summary)
            return ParsedFile(snap, None)
    result, error = _parse_one(path.read_bytes(), rel, spec, cache, sha)
    if result is None:
        snap.error = error
        return ParsedFile(snap, None)
    _set_status(snap, summarize(result))
    return ParsedFile(snap, result if keep_result else None)


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
    and a cached file's status comes from its small summary): memory does not grow with the corpus."""
    max_bytes = max_file_bytes() if max_bytes is None else max_bytes
    parsers = parsers if parsers is not None else all_parsers()
    cache = ParseCache(cache_dir)
    events = store.events()
    origins: dict[str, ManifestEvent] = {}
    for e in events:
        if e.path:
            origins.setdefault(e.path, e)  # the first landing is the file's provenance
    files = store.files()
    out: list[ParsedFile] = []
    for i, path in enumerate(files, 1):
        out.append(
            parse_path(store, path, cache=cache, parsers=parsers, origins=origins, max_bytes=max_bytes, keep_result=keep_results)
        )
        if progress:
            progress(i, len(files), out[-1].snapshot.path or "")
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
