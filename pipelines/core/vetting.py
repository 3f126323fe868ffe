"""The vetting pass: one set of rules for every value a parser lands (docs/reliability.md, "The vetting
pass"). It runs on every parse result before the result is cached, whatever the format:

* **dates** (a document's date, a tweet's ``created_at``, every date in a document's ``meta`` and in a
  metadata file's facts) before ``EARLIEST_PLAUSIBLE`` or more than ``FUTURE_SLACK`` after the parse are
  kept as the file says and flagged (warning) — nothing is nulled, an analyst can filter;
* **cue times** must be finite, at least 0, within the document's duration (``meta['duration_s']``
  when the file gives one, else ``MAX_CUE_SECONDS``) and end no earlier than they start: a timing
  that breaks a rule is dropped (the words stay) with a warning;
* **counts** (a tweet's retweets, likes and replies; ``COUNT_KEYS`` in metadata) must be whole numbers
  >= 0: another value is dropped with a warning;
* **control characters**: no C0/C1 control character, lone surrogate or bidi override in a title, and
  none but line breaks and tabs in text; they are removed with a warning (control characters in issue
  messages are escaped, ``\\x1b``);
* **other values** in ``meta`` and metadata must be plain data (text, numbers, booleans, dates, lists,
  mappings): bytes, sets, NaN and infinities are dropped with a warning, so every result can be cached;
* a **link** that is not http(s) (``javascript:``, ``file:``, ``data:``) is dropped with a warning.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pipelines.core.records import ParsedDocument, ParseIssue, ParseResult

EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
MAX_CUE_SECONDS = 48 * 3600.0
COUNT_KEYS = frozenset({"retweet_count", "like_count", "reply_count", "stars", "forks", "pages", "view_count"})
TITLE_KEYS = frozenset({"title", "channel", "author", "feed_title"})
MAX_META_DEPTH = 16

# In text: C0 controls but tab and line feed, DEL, C1 controls, lone surrogates, bidi embeddings/overrides/isolates.
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# In a title: the same and tab, line feed and carriage return (those become spaces).
_BAD_IN_TITLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def escape_controls(s: str) -> str:
    """``s`` with control characters, lone surrogates and bidi controls written as escapes (``\\x1b``),
    for messages that quote a file: printable, and always encodable as UTF-8."""
    if not _BAD_IN_TITLE.search(s):
        return s
    return _BAD_IN_TITLE.sub(lambda m: m.group(0).encode("unicode_escape", "backslashreplace").decode("ascii"), s)


def describe(i: int, doc: ParsedDocument) -> str:
    """A document's position for an issue: ``document 3 (id 123)`` or ``document 3 (title '...')``."""
    ext = doc.external_id
    title = doc.title
    label = f"id {escape_controls(str(ext))[:60]}" if ext else f"title {str(title)[:60]!r}" if title else None
    return f"document {i}" + (f" ({label})" if label else "")


class _Vetter:
    def __init__(self, issues: list[ParseIssue], now: datetime):
        self.issues = issues
        self.latest = now + FUTURE_SLACK

    def warn(self, where: str, message: str) -> None:
        self.issues.append(ParseIssue(where, message, "warning"))

    # -- text
    def text(self, value: str, where: str, label: str) -> str:
        if not _BAD_IN_TEXT.search(value):
            return value
        n = len(_BAD_IN_TEXT.findall(value))
        self.warn(where, f"{label}: {n} control character(s) removed")
        return _BAD_IN_TEXT.sub("", value)

    def title(self, value: Any, where: str, label: str = "title") -> str | None:
        if value is None:
            return None
        if isinstance(value, date) or isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**20:
            value = str(value)  # a title written as a number or a date (YAML) is that text
        elif isinstance(value, float) and math.isfinite(value):
            value = str(value)
        if not isinstance(value, str):
            self.warn(where, f"{label} is a {type(value).__name__}, not text: dropped")
            return None
        if _BAD_IN_TITLE.search(value):
            n = len(_BAD_IN_TITLE.findall(value))
            value = _BAD_IN_TITLE.sub(lambda m: m.group(0).translate(_LINE_BREAKS) if m.group(0) in "\t\n\r" else "", value).strip()
            self.warn(where, f"{label}: {n} control character(s) removed")
        return value or None

    # -- dates
    def when(self, value: datetime, where: str, label: str) -> datetime:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        if aware < EARLIEST_PLAUSIBLE:
            self.warn(where, f"{label} {aware.date().isoformat()} is before {EARLIEST_PLAUSIBLE.year}: kept, flagged as implausible")
        elif aware > self.latest:
            self.warn(where, f"{label} {aware.date().isoformat()} is in the future: kept, flagged as implausible")
        return aware

    # -- counts
    def count(self, value: Any, where: str, label: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.warn(where, f"{label} {escape_controls(repr(value))[:40]} is not a whole number: dropped")
            return None
        if value < 0:
            self.warn(where, f"{label} {value} is negative: dropped")
            return None
        return value

    # -- cue times
    def cues(self, doc: ParsedDocument, where: str) -> None:
        duration = doc.meta.get("duration_s")
        limit = MAX_CUE_SECONDS
        if isinstance(duration, int | float) and not isinstance(duration, bool) and math.isfinite(duration) and duration > 0:
            limit = min(limit, float(duration) + 1.0)
        for seg in doc.segments:
            times = [t for t in (seg.start_s, seg.end_s) if t is not None]
            if not times:
                continue
            bad = next((t for t in times if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0 or t > limit), None)
            problem = None
            if bad is not None:
                problem = f"time {escape_controls(repr(bad))[:40]} is not a finite time from 0 to {limit:,.0f} s"
            elif seg.start_s is not None and seg.end_s is not None and seg.end_s < seg.start_s:
                problem = f"ends ({seg.end_s}) before it starts ({seg.start_s})"
            if problem:
                self.warn(f"{where}, segment {seg.seq + 1}", f"{problem}: timing dropped")
                seg.start_s = seg.end_s = None
            else:
                seg.start_s = None if seg.start_s is None else float(seg.start_s)
                seg.end_s = None if seg.end_s is None else float(seg.end_s)

    # -- anything in meta / metadata
    def value(self, value: Any, where: str, key: str, depth: int = 0) -> tuple[bool, Any]:
        """(keep, vetted value) for a plain-data value; what cannot be kept is warned about."""
        if value is None or isinstance(value, bool):
            return True, value
        if key in COUNT_KEYS:
            n = self.count(value, where, key)
            return n is not None, n
        if key in TITLE_KEYS:
            t = self.title(value, where, key)
            return t is not None, t
        if isinstance(value, str):
            return True, self.text(value, where, key)
        if isinstance(value, int):
            return True, value
        if isinstance(value, float):
            if math.isfinite(value):
                return True, value
            self.warn(where, f"{key} {value} is not a finite number: dropped")
            return False, None
        if isinstance(value, datetime):
            return True, self.when(value, where, key)
        if isinstance(value, date):
            return True, self.when(datetime(value.year, value.month, value.day, tzinfo=UTC), where, key)
        if isinstance(value, list | tuple | dict):
            if depth >= MAX_META_DEPTH:
                self.warn(where, f"{key} is nested more than {MAX_META_DEPTH} deep: dropped")
                return False, None
            if isinstance(value, dict):
                return True, self.mapping(value, where, depth + 1)
            out = []
            for item in value:
                keep, v = self.value(item, where, key, depth + 1)
                if keep:
                    out.append(v)
            return True, out
        self.warn(where, f"{key} is a {type(value).__name__} value, not plain data: dropped")
        return False, None

    def mapping(self, d: dict[Any, Any], where: str, depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            key = escape_controls(str(k))
            keep, vetted = self.value(v, where, key, depth)
            if keep:
                out[key] = vetted
        return out


def vet_result(result: ParseResult, now: datetime | None = None) -> ParseResult:
    """Apply the vetting rules (module docstring) to ``result`` in place and return it; every value
    dropped or flagged gets a parse issue naming the document (or metadata entry) and the field."""
    v = _Vetter(result.issues, now or datetime.now(UTC))
    for i, doc in enumerate(result.documents, 1):
        where = describe(i, doc)
        doc.title = v.title(doc.title, where)
        doc.text = v.text(doc.text, where, "text")
        if doc.external_id is not None:
            doc.external_id = escape_controls(str(doc.external_id))
        if doc.published_at is not None:
            doc.published_at = v.when(doc.published_at, where, "date")
        tw = doc.tweet
        if tw is not None:
            if tw.created_at is not None:
                tw.created_at = tw.created_at if tw.created_at.tzinfo else tw.created_at.replace(tzinfo=UTC)
                if tw.created_at != doc.published_at:
                    tw.created_at = v.when(tw.created_at, where, "created_at")
            tw.retweet_count = v.count(tw.retweet_count, where, "retweet_count")
            tw.like_count = v.count(tw.like_count, where, "like_count")
            tw.reply_count = v.count(tw.reply_count, where, "reply_count")
            tw.author = v.title(tw.author, where, "author")
            tw.tweet_id = escape_controls(tw.tweet_id)
            tw.reply_to_id = escape_controls(tw.reply_to_id) if tw.reply_to_id else tw.reply_to_id
            tw.urls = [v.text(u, where, "url") for u in tw.urls if isinstance(u, str)]
        for seg in doc.segments:
            seg.text = v.text(seg.text, f"{where}, segment {seg.seq + 1}", "text")
        v.cues(doc, where)
        doc.meta = v.mapping(doc.meta, f"{where}, meta")
        if doc.url is not None:
            url = str(doc.url)
            if not url.lower().startswith(("http://", "https://")):
                v.warn(where, f"link {escape_controls(url[:60])!r} is not http(s): dropped")
                doc.url = None
            elif _BAD_IN_TITLE.search(url):
                v.warn(where, f"link {escape_controls(url[:60])!r} holds control characters: dropped")
                doc.url = None
    result.metadata = {
        escape_controls(str(key)): v.mapping(facts, f"metadata {escape_controls(str(key))[:80]!r}") if isinstance(facts, dict) else {}
        for key, facts in result.metadata.items()
    }
    for issue in result.issues:
        issue.position = escape_controls(str(issue.position))
        issue.message = escape_controls(str(issue.message))
    if result.skipped_reason is not None:
        result.skipped_reason = escape_controls(str(result.skipped_reason))
    return result
