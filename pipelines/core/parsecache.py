"""A cache of parse results keyed by (content sha256, parser name, parser version).

A re-run parses only files whose bytes (or whose parser) changed. Entries are JSON, one file
each, written atomically; a damaged entry is treated as a miss. Beside each entry a small summary
(``<sha>.sum.json``: documents, metadata, skip reason, first error) lets the ingest step decide a
file's status without decoding its documents. A light copy (``<sha>.light.json``) holds the
documents without the text and segments of non-tweets, only each text's length and hash: what the
warehouse's first pass over every file needs (``pipelines.core.assemble``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.core.records import ParsedDocument, ParseIssue, ParseResult, Segment, TweetFields


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return {"__dt__": o.isoformat()}
    raise TypeError(f"cannot serialise {type(o).__name__}")


def _hook(d: dict[str, Any]) -> Any:
    if set(d) == {"__dt__"}:
        return datetime.fromisoformat(d["__dt__"])
    return d


def result_to_json(result: ParseResult) -> str:
    return json.dumps(asdict(result), default=_default, ensure_ascii=False)


def result_from_json(text: str) -> ParseResult:
    return _result_from_dict(json.loads(text, object_hook=_hook))


@dataclass(frozen=True)
class TextFacts:
    """What the first assembly pass needs of a document's dropped text: its length and the sha256
    of the stripped text (an id-less document's identity)."""

    length: int
    blank: bool
    stripped_sha256: str

    @classmethod
    def of(cls, text: str) -> TextFacts:
        stripped = text.strip()
        return cls(len(text), not stripped, hashlib.sha256(stripped.encode()).hexdigest())


@dataclass
class LightResult:
    """A parse result with the text and segments of its non-tweet documents dropped; ``facts[i]``
    describes document i's text (None for a tweet, kept whole)."""

    result: ParseResult
    facts: list[TextFacts | None]


def lighten(result: ParseResult) -> LightResult:
    docs: list[ParsedDocument] = []
    facts: list[TextFacts | None] = []
    for d in result.documents:
        if d.kind == "tweet":
            docs.append(d)
            facts.append(None)
        else:
            docs.append(dataclasses.replace(d, text="", segments=[]))
            facts.append(TextFacts.of(d.text))
    return LightResult(dataclasses.replace(result, documents=docs), facts)


def _light_to_json(light: LightResult) -> str:
    if all(f is None for f in light.facts):
        return json.dumps({"same": True})  # nothing was dropped: the full entry is read
    return json.dumps({"facts": [asdict(f) if f else None for f in light.facts], "result": asdict(light.result)},
                      default=_default, ensure_ascii=False)


def _result_from_dict(d: dict[str, Any]) -> ParseResult:
    docs = []
    for doc in d["documents"]:
        doc["segments"] = [Segment(**s) for s in doc["segments"]]
        if doc.get("tweet"):
            doc["tweet"] = TweetFields(**doc["tweet"])
        docs.append(ParsedDocument(**doc))
    return ParseResult(
        format=d["format"],
        documents=docs,
        issues=[ParseIssue(**i) for i in d["issues"]],
        metadata=d.get("metadata") or {},
        listings=d.get("listings") or [],
        skipped_reason=d.get("skipped_reason"),
    )


def summarize(result: ParseResult) -> dict[str, Any]:
    """What a snapshot's status needs from a parse result, without its text."""
    first_error = next(([i.position, i.message] for i in result.issues if i.severity == "error"), None)
    return {
        "documents": len(result.documents),
        "metadata": bool(result.metadata or result.listings),
        "skipped_reason": result.skipped_reason,
        "first_error": first_error,
        "issues": len(result.issues),
    }


def _write_atomic(p: Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, p)
    except BaseException:  # a value that cannot be encoded, a full disk: no half-written temp left behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ParseCache:
    def __init__(self, root: Path | None):
        self.root = Path(root) if root else None
        self._root_str = str(self.root) if self.root else ""

    def _name(self, sha: str, parser: str, version: int, suffix: str = ".json") -> str:
        """Where an entry lives, as a string (``os.path`` on a hot path is cheaper than pathlib)."""
        if self.root is None:
            raise RuntimeError("parse cache has no folder")
        return os.path.join(self._root_str, f"{parser}-v{version}", sha[:2], f"{sha}{suffix}")

    def _path(self, sha: str, parser: str, version: int) -> Path:
        return Path(self._name(sha, parser, version))

    def get(self, sha: str, parser: str, version: int) -> ParseResult | None:
        if self.root is None:
            return None
        return self._read(self._path(sha, parser, version))

    @staticmethod
    def _read(p: Path) -> ParseResult | None:
        try:
            return result_from_json(p.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def has_summary(self, sha: str, parser: str, version: int) -> bool:
        """Whether the entry's summary is there (one stat, no read)."""
        return self.root is not None and os.path.isfile(self._name(sha, parser, version, ".sum.json"))

    def summary(self, sha: str, parser: str, version: int) -> dict[str, Any] | None:
        """The entry's summary; written from the full entry when only that exists (older caches)."""
        if self.root is None:
            return None
        p = self._path(sha, parser, version)
        try:
            d = json.loads(p.with_suffix(".sum.json").read_text(encoding="utf-8"))
            if isinstance(d, dict) and {"documents", "metadata", "skipped_reason", "first_error"} <= set(d):
                return d
        except (OSError, ValueError):
            pass
        full = self.get(sha, parser, version)
        if full is None:
            return None
        d = summarize(full)
        _write_atomic(p.with_suffix(".sum.json"), json.dumps(d))
        return d

    def light(self, sha: str, parser: str, version: int) -> LightResult | None:
        """The entry without the text of its non-tweet documents (``lighten``); written from the
        full entry when only that exists."""
        if self.root is None:
            return None
        entry = self._path(sha, parser, version)
        p = entry.with_suffix(".light.json")
        try:
            d = json.loads(p.read_text(encoding="utf-8"), object_hook=_hook)
            if d.get("same") is True:
                full = self._read(entry)
                return LightResult(full, [None] * len(full.documents)) if full is not None else None
            return LightResult(_result_from_dict(d["result"]), [TextFacts(**f) if f else None for f in d["facts"]])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        full = self._read(entry)
        if full is None:
            return None
        light = lighten(full)
        _write_atomic(p, _light_to_json(light))
        return light

    def put(self, sha: str, parser: str, version: int, result: ParseResult) -> None:
        if self.root is None:
            return
        p = self._path(sha, parser, version)
        _write_atomic(p, result_to_json(result))
        _write_atomic(p.with_suffix(".sum.json"), json.dumps(summarize(result)))
        _write_atomic(p.with_suffix(".light.json"), _light_to_json(lighten(result)))
