"""What is new in raw/inbox/: the pure core of the file-drop sensor.

The cursor is a small JSON document: ``{"files": {relpath: [size, mtime_ns, sha256]}, "seen": [sha256...]}``.
A file is hashed only when its size or mtime changed; a content hash already in ``seen`` (the same
bytes dropped again, renamed or moved) is never reported twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

MAX_SEEN = 200_000


@dataclass(frozen=True)
class NewFile:
    path: str  # relative to the inbox, '/'-separated
    sha256: str
    bytes: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_cursor(cursor: str | None) -> dict:
    if not cursor:
        return {"files": {}, "seen": []}
    try:
        data = json.loads(cursor)
    except json.JSONDecodeError:
        return {"files": {}, "seen": []}
    return {"files": dict(data.get("files", {})), "seen": list(data.get("seen", []))}


def scan_inbox(inbox: Path, cursor: str | None) -> tuple[list[NewFile], str]:
    """Files in the inbox whose content has not been seen before, and the next cursor."""
    state = load_cursor(cursor)
    files: dict[str, list] = state["files"]
    seen = set(state["seen"])
    order = list(state["seen"])
    new: list[NewFile] = []
    current: dict[str, list] = {}
    if inbox.is_dir():
        for p in sorted(inbox.rglob("*")):
            rel = p.relative_to(inbox).as_posix()
            if not p.is_file() or p.is_symlink() or any(part.startswith(".") for part in p.relative_to(inbox).parts):
                continue
            st = p.stat()
            prev = files.get(rel)
            if prev and prev[0] == st.st_size and prev[1] == st.st_mtime_ns:
                current[rel] = prev
                continue
            sha = _sha256(p)
            current[rel] = [st.st_size, st.st_mtime_ns, sha]
            if sha not in seen:
                seen.add(sha)
                order.append(sha)
                new.append(NewFile(rel, sha, st.st_size))
    next_cursor = json.dumps({"files": current, "seen": order[-MAX_SEEN:]}, separators=(",", ":"))
    return new, next_cursor


def run_key(new: list[NewFile]) -> str:
    """One run per batch of drops, keyed by the content hashes it ingests."""
    return "inbox-" + hashlib.sha256(",".join(sorted(f.sha256 for f in new)).encode()).hexdigest()[:32]
