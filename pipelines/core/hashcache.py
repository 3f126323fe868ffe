"""Content hashes of raw files, kept by (size, mtime_ns, ctime_ns, inode) so an unchanged file is
not re-read on every run (the idea of git's index).

A file's entry holds the stat taken *before* it was hashed and the time of that stat. It is used
again only when the file's stat is identical and the file was already older than
``RACY_SECONDS`` when it was hashed: a file written in the same clock tick as its hashing could be
rewritten with the same size and mtime, so such an entry is re-hashed once more ("racily clean" in
git). Anything else — another size, mtime, ctime or inode, a replaced file — is hashed again.

An entry also remembers the parser the file's head was sniffed as and the summary of its parse
(status, documents, first error), so that an unchanged file is neither opened again to be sniffed
nor its summary read from the parse cache (6,000 files at 100x: seconds). That memo holds while
``sniffers``, a digest of the sniffing code and the parser list (with versions), is the one it was
recorded with.

The table is one JSON file beside the parse cache, written atomically; a damaged one is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

RACY_SECONDS = 2.0
FILE = "hashes.json"
VERSION = 1


def file_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


class HashCache:
    """rel path -> [size, mtime_ns, ctime_ns, inode, dev, checked_ns, sha256, sniffed format or None,
    parse summary or None]."""

    def __init__(self, root: Path | None, sniffers: str = ""):
        self.path = root / FILE if root else None
        self.sniffers = sniffers
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        if self.path and self.path.is_file():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("version") == VERSION and isinstance(data.get("files"), dict):
                    self.entries = data["files"]
                    if data.get("sniffers") != sniffers or not sniffers:  # other sniffing code: formats unknown
                        for e in self.entries.values():
                            if isinstance(e, list) and len(e) == 9:
                                e[7] = e[8] = None

    def lookup(self, rel: str, st: os.stat_result) -> str | None:
        """The recorded sha256 when ``st`` is the stat it was recorded with and not racy, else None."""
        e = self.entries.get(rel)
        if not isinstance(e, list) or len(e) not in (7, 8, 9) or e[:5] != file_key(st):  # 8: a format, no summary yet
            return None
        if e[1] > e[5] - RACY_SECONDS * 1e9:  # modified within RACY_SECONDS of being hashed
            return None
        return str(e[6])

    def sniffed(self, rel: str) -> str | None:
        """The format the file was sniffed as by the current sniffers; ask only after ``lookup`` gave its hash."""
        e = self.entries.get(rel)
        return e[7] if isinstance(e, list) and len(e) == 9 and isinstance(e[7], str) else None

    def summary(self, rel: str) -> dict[str, Any] | None:
        """The parse summary kept with the sniffed format, if any."""
        e = self.entries.get(rel)
        return e[8] if isinstance(e, list) and len(e) == 9 and isinstance(e[7], str) and isinstance(e[8], dict) else None

    def remember(self, rel: str, before: os.stat_result, checked_ns: int, sha: str, fmt: str | None = None,
                 summary: dict[str, Any] | None = None) -> None:
        """Record ``sha`` (and the format sniffed and the parse summary, if known) for the file whose
        stat before hashing (at ``checked_ns``) was ``before``."""
        known = bool(self.sniffers and fmt)
        entry = [*file_key(before), checked_ns, sha, fmt if known else None, summary if known else None]
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self.dirty = True

    def remember_format(self, rel: str, fmt: str | None, summary: dict[str, Any] | None = None) -> None:
        """Add the sniffed format and the parse summary to the entry ``lookup`` just found."""
        e = self.entries.get(rel)
        if not self.sniffers or not fmt or not isinstance(e, list) or len(e) not in (7, 8, 9):
            return
        e.extend([None] * (9 - len(e)))
        if e[7] != fmt or e[8] != summary:
            e[7], e[8] = fmt, summary
            self.dirty = True

    def keep_only(self, rels: set[str]) -> None:
        """Forget files no longer in raw/."""
        gone = set(self.entries) - rels
        for rel in gone:
            del self.entries[rel]
        self.dirty = self.dirty or bool(gone)

    def save(self) -> None:
        if not self.path or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-hashes-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": VERSION, "sniffers": self.sniffers, "files": self.entries}, f)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.dirty = False


def now_ns() -> int:
    return time.time_ns()
