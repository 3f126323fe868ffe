"""Plain data records that parsers produce and the warehouse loads.

Parsers are pure functions ``parse(data: bytes, name: str) -> ParseResult``. They never
touch the filesystem, the network or Dagster. A parser that cannot read a file at all
raises ``ParseError`` with a message naming what was wrong (and where: line, record,
offset); a parser that can read most of a file returns the good documents and lists
each bad record as a ``ParseIssue``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

# Document kinds in the warehouse (``documents.kind``): the one list. Config models type their
# fields with DocKind; the CLI's --kind choices and the documents check use DOC_KINDS.
DocKind = Literal["video", "podcast", "blog_post", "tweet", "paper", "repo", "other"]
DOC_KINDS: tuple[str, ...] = get_args(DocKind)


class ParseError(ValueError):
    """The whole file is unreadable by this parser. The message names the problem."""


@dataclass
class Segment:
    """An ordered piece of a document: a caption cue, a transcript line, a paragraph."""

    seq: int
    text: str
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class TweetFields:
    tweet_id: str
    created_at: datetime | None
    is_retweet: bool = False
    is_reply: bool = False
    is_quote: bool = False
    reply_to_id: str | None = None
    urls: list[str] = field(default_factory=list)
    retweet_count: int | None = None
    like_count: int | None = None
    reply_count: int | None = None
    author: str | None = None  # screen name when the dump says


@dataclass
class ParsedDocument:
    """One unit of text as a parser read it, before catalog matching and dedup.

    ``kind`` is a document kind (see DOC_KINDS) or None when the parser cannot tell
    (the catalog match decides, else "other").
    ``external_id`` is the natural key the format carries: a YouTube video id, a tweet id,
    a canonical post URL. Two parsed documents with the same (kind, external_id) are the
    same item seen twice; dedup keeps one (see pipelines/core/dedup.py).
    ``quality`` ranks versions of the same item: higher wins (human captions 30,
    Whisper ASR 20, auto captions 10, scraped summaries 5; 0 = unknown).
    """

    kind: str | None
    text: str
    title: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    external_id: str | None = None
    segments: list[Segment] = field(default_factory=list)
    tweet: TweetFields | None = None
    quality: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParseIssue:
    """A record the parser could not take (or took with a caveat)."""

    position: str  # "line 12", "record 5", "byte 1024", "entry 'abc'"
    message: str
    severity: str = "error"  # "error" = record rejected; "warning" = kept with a caveat


@dataclass
class ParseResult:
    format: str
    documents: list[ParsedDocument] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    # Files that carry metadata only (e.g. a YouTube meta.json): facts keyed by external id,
    # merged into documents/sources that share the id. Example:
    # {"youtube:LCEmiRjPEtQ": {"title": "...", "published_at": datetime, "channel": "..."}}
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Index pages (a blog's post list, a channel's video catalog): items that exist, with what the
    # page says of them, even when their text is not in raw/. Each is a dict with any of "url",
    # "youtube_id", "title", "published_at" (datetime), "duration_s". Lands in ``listings``.
    listings: list[dict[str, Any]] = field(default_factory=list)
    # Set when the file is recognised but deliberately carries no corpus text
    # (a licence, a site config): the snapshot is recorded as "skipped" with this reason.
    skipped_reason: str | None = None
