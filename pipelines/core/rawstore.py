"""raw/: the landing zone and source of truth.

Layout (everything under one project's ``raw/``):

- ``inbox/``  files users drop, in any folder layout. The pipeline reads them, never changes them.
- ``store/<sha256[:2]>/<sha256>/<name>``  content-addressed copies: files brought in with
  ``corpus import`` and every response a fetcher lands. A path here is never rewritten.
- ``manifest.jsonl``  append-only provenance log, one JSON object per line: every landing
  (origin URL or original path, fetcher, fetched_at, HTTP status) and every fetch that
  produced no bytes (failed, not_modified, not_collectable) with its reason.

Writes are atomic: bytes go to ``.tmp/`` first, are fsynced, then renamed into place, so a
crash or a full disk never leaves a partial file that looks valid.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.jsonl"
CHUNK = 1 << 20
IGNORED_NAMES = {".gitkeep", "README.md", MANIFEST}
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def now_utc() -> datetime:
    return datetime.now(UTC)


def safe_filename(name: str, default: str = "file") -> str:
    """A file name safe to create inside raw/: no separators, no leading dots, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_CHARS.sub("_", base).lstrip("._")[:120]
    return base or default


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class ManifestEvent:
    """One line of raw/manifest.jsonl."""

    status: str  # ok | not_modified | failed | not_collectable | imported
    origin: str  # URL fetched, or the original path of an imported file
    fetcher: str  # "import", "youtube", "feed", "page", "arxiv", "github", ...
    at: str  # ISO-8601 UTC
    path: str | None = None  # relative to raw/, when bytes landed
    sha256: str | None = None
    bytes: int | None = None
    source_id: str | None = None
    error: str | None = None
    http_status: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _walk(folder: str, out: list[str]) -> None:
    """Append the corpus files under ``folder`` (``RawStore.files``'s rules) to ``out``: one
    ``scandir`` per folder, whose entry types need no further stat."""
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name.startswith("."):  # hidden: neither listed nor descended into
                continue
            if e.is_symlink():  # listed, never followed
                if e.name not in IGNORED_NAMES:
                    out.append(e.path)
            elif e.is_dir(follow_symlinks=False):
                _walk(e.path, out)
            elif e.is_file(follow_symlinks=False) and e.name not in IGNORED_NAMES:
                out.append(e.path)


class RawStore:
    """Lands bytes and records provenance under one raw/ directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # ---- paths -----------------------------------------------------------------------------
    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def ensure(self) -> None:
        for d in (self.root, self.inbox, self.store, self.root / ".tmp"):
            d.mkdir(parents=True, exist_ok=True)

    def relpath(self, path: Path) -> str:
        """``path`` relative to raw/, '/'-separated: by its spelling first (raw/inbox may itself be a link
        to a folder elsewhere, e.g. a shared corpus), else with links resolved."""
        here, root = os.path.abspath(path), os.path.abspath(self.root)
        if here.startswith(root + os.sep):  # the usual case, without pathlib's slower relative_to
            return here[len(root) + 1 :].replace(os.sep, "/")
        try:
            return Path(here).relative_to(root).as_posix()
        except ValueError:
            return path.resolve().relative_to(self.root.resolve()).as_posix()

    def _store_path(self, sha: str, name: str) -> Path:
        return self.store / sha[:2] / sha / safe_filename(name)

    # ---- writing ---------------------------------------------------------------------------
    def _atomic_write(self, dest: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Write chunks to a temp file, fsync, rename to dest. Returns (sha256, size)."""
        tmp_dir = self.root / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="landing-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                os.unlink(tmp_name)  # same content already landed: raw/ is never rewritten
            else:
                os.replace(tmp_name, dest)
                _fsync_dir(dest.parent)  # the rename itself survives a power cut
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return h.hexdigest(), size

    def land_bytes(
        self,
        data: bytes,
        name: str,
        *,
        origin: str,
        fetcher: str,
        source_id: str | None = None,
        http_status: int | None = None,
        meta: dict[str, Any] | None = None,
        status: str = "ok",
    ) -> ManifestEvent:
        """Land one response or file body content-addressed, and log it in the manifest."""
        self.ensure()
        sha = hashlib.sha256(data).hexdigest()
        dest = self._store_path(sha, name)
        if not dest.exists():
            self._atomic_write(dest, [data])
        event = ManifestEvent(
            status=status,
            origin=origin,
            fetcher=fetcher,
            at=now_utc().isoformat(),
            path=self.relpath(dest),
            sha256=sha,
            bytes=len(data),
            source_id=source_id,
            http_status=http_status,
            meta=meta or {},
        )
        self.append_event(event)
        return event

    def import_file(self, src: Path) -> ManifestEvent:
        """Copy a file from anywhere into the store (streamed; the original is only read)."""
        self.ensure()
        src = Path(src)
        sha = sha256_file(src)
        dest = self._store_path(sha, src.name)
        if not dest.exists():

            def chunks() -> Iterator[bytes]:
                with src.open("rb") as f:
                    while chunk := f.read(CHUNK):
                        yield chunk

            self._atomic_write(dest, chunks())
            shutil.copystat(src, dest, follow_symlinks=True)
        event = ManifestEvent(
            status="imported",
            origin=str(src.resolve()),
            fetcher="import",
            at=now_utc().isoformat(),
            path=self.relpath(dest),
            sha256=sha,
            bytes=dest.stat().st_size,
        )
        self.append_event(event)
        return event

    def import_paths(self, paths: Iterable[Path]) -> list[ManifestEvent]:
        events: list[ManifestEvent] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                files = sorted(f for f in p.rglob("*") if f.is_file() and not f.is_symlink())
            elif p.is_file():
                files = [p]
            else:
                raise FileNotFoundError(f"{p}: no such file or directory")
            events.extend(self.import_file(f) for f in files)
        return events

    def record(self, event: ManifestEvent) -> None:
        """Record a fetch outcome that landed no bytes (failed, not_modified, not_collectable)."""
        self.ensure()
        self.append_event(event)

    def append_event(self, event: ManifestEvent) -> None:
        """Append one line. A last line left without its newline (a crash or a full disk mid-append)
        is closed first, so the damage stays on that one line and this event is read back whole."""
        line = (json.dumps(asdict(event), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self.manifest_path.open("ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                end = f.seek(0, os.SEEK_END)
                if end:
                    f.seek(end - 1)
                    if f.read(1) != b"\n":
                        line = b"\n" + line
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ---- reading ---------------------------------------------------------------------------
    def events(self) -> list[ManifestEvent]:
        """Every manifest event. A damaged line (e.g. cut by a crash) is skipped, not fatal."""
        if not self.manifest_path.exists():
            return []
        out = []
        with self.manifest_path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    d = json.loads(line)
                    out.append(ManifestEvent(**d))
                except (json.JSONDecodeError, TypeError):
                    continue
        return out

    def files(self) -> list[Path]:
        """Every corpus file under inbox/ and store/, sorted, hidden files excluded.

        Symbolic links are listed (so the scan can record them as rejected) but never followed: a link
        to a directory is not descended into and a link to a file is not read."""
        out: list[str] = []
        for top in (self.inbox, self.store):
            if top.exists():
                _walk(str(top), out)
        return [Path(p) for p in sorted(out, key=lambda p: p.split(os.sep))]  # in Path order

    def latest_event(self, origin: str, statuses: tuple[str, ...] = ("ok",)) -> ManifestEvent | None:
        """The newest event for an origin (e.g. the last good fetch of a URL)."""
        found = None
        for e in self.events():
            if e.origin == origin and e.status in statuses:
                found = e
        return found
