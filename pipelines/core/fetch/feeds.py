"""Blog feeds (RSS/Atom through ``feedparser``), and the pages of summary-only entries.

``fetch_feed`` sends a conditional GET (If-None-Match / If-Modified-Since from the last good
snapshot): 304 records ``not_modified``; 200 is checked and parsed *before* it lands:

- a DOCTYPE or ENTITY declaration is refused (entity expansion attacks) -> ``failed``;
- bozo with no entries -> ``failed`` with the parser's error (the last good snapshot stays
  the newest good one);
- bozo with entries -> lands, with a warning in the report and ``meta.bozo``.

Then every entry that carries only a summary (no content, content shorter than
``summary_max_chars``, or the feed marked ``summary_only`` in fetch.yaml) has its page fetched
and landed as ``<slug>.html`` with origin = the page URL (fetcher "page"), once: a page with a
good snapshot is not fetched again unless ``refresh``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]
import requests

from pipelines.core.config import Source
from pipelines.core.fetch.errors import FetchError
from pipelines.core.fetch.landing import get_and_land, safe_slug
from pipelines.core.fetch.outcomes import FAILED, OK, SourceOutcome
from pipelines.core.fetch.runtime import FetchRuntime, HttpResult
from pipelines.core.fetch.settings import FetchSettings
from pipelines.core.rawstore import RawStore

FETCHER = "feed"
PAGE_FETCHER = "page"
FEED_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)\b", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


class RefusedFeed(FetchError):
    """The body declares a DOCTYPE or ENTITY; it is not parsed."""


def feed_url_of(source: Source, settings: FetchSettings) -> str | None:
    override = settings.feeds.overrides.get(source.id)
    if override and override.url:
        return override.url
    return source.feed_url


def check_declarations(data: bytes) -> None:
    if _DECLARATION.search(data):
        raise RefusedFeed("refused: the feed declares a DOCTYPE/ENTITY (not parsed)")


def parse_feed(data: bytes) -> tuple[Any, list[str]]:
    """Parse a (declaration-free) feed body; raise FetchError when it yields nothing usable."""
    check_declarations(data)
    parsed = feedparser.parse(data)
    warnings = []
    if parsed.get("bozo"):
        err = parsed.get("bozo_exception")
        msg = f"{type(err).__name__}: {err}" if err else "malformed feed"
        if not parsed.entries:
            raise FetchError(f"malformed feed with no entries: {msg}")
        warnings.append(f"feed is not well-formed ({msg}); {len(parsed.entries)} entries read anyway")
    return parsed, warnings


def entry_text_length(entry: Mapping[str, Any]) -> int:
    """Characters of text the entry carries: its content, or its description/summary (an RSS
    <description> may hold the whole article, as karpathy.github.io's does)."""
    texts = [c.get("value", "") for c in entry.get("content") or []] + [entry.get("summary") or ""]
    return max(len(" ".join(_TAGS.sub(" ", t).split())) for t in texts)


def needs_page(entry: Mapping[str, Any], settings: FetchSettings, summary_only: bool | None) -> bool:
    if not entry.get("link"):
        return False
    if summary_only is not None:
        return summary_only
    return entry_text_length(entry) < settings.feeds.summary_max_chars


def page_name(url: str) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p]
    last = parts[-1] if parts else urlsplit(url).hostname or "page"
    last = re.sub(r"\.(html?|php|aspx?)$", "", last, flags=re.IGNORECASE)
    return f"{safe_slug(last)}.html"


def _norm(url: str) -> str:
    return url.rstrip("/").replace("http://", "https://", 1).lower()


def fetch_page(
    url: str,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session,
    *,
    runtime: FetchRuntime,
    source_id: str | None = None,
    refresh: bool = False,
    meta: dict[str, Any] | None = None,
) -> tuple[str, int, int, str | None]:
    """Fetch one article page. Returns (outcome, bytes landed, attempts, error)."""
    if not refresh and store.latest_event(url, ("ok",)) is not None:
        return "skipped", 0, 0, None
    landed = get_and_land(
        session,
        url,
        store=store,
        runtime=runtime,
        name=page_name(url),
        fetcher=PAGE_FETCHER,
        source_id=source_id,
        headers={"Accept": PAGE_ACCEPT},
        conditional=refresh,
        meta=meta,
    )
    return landed.status, landed.bytes, landed.attempts, landed.error.message if landed.error else None


def fetch_feed(
    source: Source,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session,
    *,
    runtime: FetchRuntime | None = None,
    refresh: bool = False,
    url_to_source: Mapping[str, str] | None = None,
) -> SourceOutcome:
    """Fetch one feed (conditionally), land it, then the pages of its summary-only entries."""
    runtime = runtime or FetchRuntime(settings)
    url = feed_url_of(source, settings)
    if not url:
        return SourceOutcome(source.id, FETCHER, "", FAILED, error="no feed_url in the catalog or fetch.yaml")
    override = settings.feeds.overrides.get(source.id)
    parsed_box: dict[str, Any] = {}

    def check(result: HttpResult) -> dict[str, Any]:
        parsed, warnings = parse_feed(result.content)
        parsed_box.update(parsed=parsed, warnings=warnings)
        return {"entries": len(parsed.entries), "bozo": bool(warnings) or None}

    landed = get_and_land(
        session,
        url,
        store=store,
        runtime=runtime,
        name=_feed_name(url, source.id),
        fetcher=FETCHER,
        source_id=source.id,
        headers={"Accept": FEED_ACCEPT},
        conditional=not refresh,
        check=check,
    )
    out = SourceOutcome(
        source.id,
        FETCHER,
        url,
        landed.status,
        http_status=landed.result.status if landed.result else None,
        bytes_landed=landed.bytes,
        attempts=landed.attempts,
        error=landed.error.message if landed.error else None,
        paths=[landed.event.path] if landed.status == OK and landed.event and landed.event.path else [],
    )
    if landed.error is not None:
        out.http_status = landed.error.http_status
    if landed.status != OK:
        return out
    out.warnings.extend(parsed_box.get("warnings", []))
    if not settings.feeds.fetch_pages:
        return out

    by_url = {_norm(k): v for k, v in (url_to_source or {}).items()}
    summary_only = override.summary_only if override else None
    pages = [e for e in parsed_box["parsed"].entries if needs_page(e, settings, summary_only)]
    for entry in pages[: settings.feeds.max_pages_per_feed]:
        link = entry["link"]
        status, nbytes, attempts, error = fetch_page(
            link,
            store,
            settings,
            session,
            runtime=runtime,
            refresh=refresh,
            source_id=by_url.get(_norm(link)),
            meta={"feed": url, "feed_source_id": source.id},
        )
        out.attempts += attempts
        out.bytes_landed += nbytes
        if status not in (OK, "skipped", "not_modified"):
            out.warnings.append(f"page {link}: {status}: {error}")
    if len(pages) > settings.feeds.max_pages_per_feed:
        out.warnings.append(
            f"{len(pages) - settings.feeds.max_pages_per_feed} pages left for a later run (max_pages_per_feed)"
        )
    return out


def _feed_name(url: str, source_id: str) -> str:
    return f"{source_id}.feed.xml"
