"""Dagster-free fetchers: YouTube transcripts, blog feeds (and pages), arXiv papers, GitHub repos.

Every fetcher lands what it gets in raw/ through ``RawStore`` (bytes content-addressed, plus a
manifest event) and records every byteless outcome (``not_modified``, ``failed``,
``not_collectable``) as a manifest event; nothing already in raw/ is touched. ``fetch_all``
runs every enabled fetcher over a catalog with shared circuit breakers and a time budget, and
returns a ``FetchReport`` whose ``summary_lines()`` say per fetcher what could not be reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import requests

from pipelines.core.config import Catalog, Source
from pipelines.core.fetch.errors import BudgetExhausted, CircuitOpen, FetchError, redact
from pipelines.core.fetch.feeds import feed_url_of, fetch_feed, fetch_page
from pipelines.core.fetch.landing import record_error
from pipelines.core.fetch.outcomes import FAILED, SKIPPED, FetchReport, SourceOutcome
from pipelines.core.fetch.papers import api_url, fetch_paper
from pipelines.core.fetch.repos import fetch_repo, repo_urls
from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import host_of, make_session
from pipelines.core.fetch.settings import FETCHERS, FetchSettings, load_fetch_settings
from pipelines.core.fetch.youtube import fetch_transcript, watch_url
from pipelines.core.rawstore import RawStore

# Catalog source kinds each fetcher serves, and the service key of its breaker.
SOURCE_KINDS = {
    "youtube": ("video", "podcast"),
    "feed": ("blog_feed", "blog_post"),
    "arxiv": ("paper",),
    "github": ("repo",),
}
SERVICE_OF = {"youtube": "youtube", "feed": None, "arxiv": "arxiv", "github": "github"}


def fetcher_for(source: Source, settings: FetchSettings) -> str | None:
    """Which fetcher collects a catalog source (None: nothing to fetch for it)."""
    if source.youtube_id and source.kind in SOURCE_KINDS["youtube"]:
        return "youtube"
    if source.kind in SOURCE_KINDS["feed"] and feed_url_of(source, settings):
        override = settings.feeds.overrides.get(source.id)
        return "feed" if override is None or override.enabled else None
    if source.arxiv_id:
        return "arxiv"
    if source.github_repo:
        return "github"
    return None


def origin_for(source: Source, fetcher: str, settings: FetchSettings) -> str:
    if fetcher == "youtube":
        return watch_url(source.youtube_id or "")
    if fetcher == "feed":
        return feed_url_of(source, settings) or ""
    if fetcher == "arxiv":
        return api_url(source.arxiv_id or "", settings)
    return repo_urls(source.github_repo or "", settings)[0]


def _wanted(fetcher: str, only_kinds: Iterable[str] | None) -> bool:
    if only_kinds is None:
        return True
    kinds = set(only_kinds)
    return fetcher in kinds or bool(kinds & set(SOURCE_KINDS[fetcher]))


def fetch_all(
    catalog: Catalog,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session | None = None,
    refresh: bool = False,
    only_kinds: Iterable[str] | None = None,
    *,
    runtime: FetchRuntime | None = None,
    youtube_session: requests.Session | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> FetchReport:
    """Run every enabled fetcher over the catalog (known gaps skipped); never raises for a source.

    ``only_kinds`` takes fetcher names ("youtube", "feed", "arxiv", "github") or catalog source
    kinds ("video", "paper", ...). YouTube gets its own session (the library changes the session
    it is given) unless ``youtube_session`` is passed. ``progress(done, planned, line)`` is called
    after each source with "<fetcher> <host>: <outcome>".
    """
    runtime = runtime or FetchRuntime(settings)
    # An injected session serves every fetcher (tests, recordings); otherwise YouTube gets its own.
    yt_session = youtube_session or session
    session = session or make_session(settings)
    started = time.monotonic()
    report = FetchReport()
    url_to_source = {s.url: s.id for s in catalog.sources if s.url}

    plan: list[tuple[str, Source]] = []
    seen_feeds: set[str] = set()
    # Feed sources first, so a blog_post naming the same feed_url does not fetch it again.
    for source in sorted(catalog.sources, key=lambda s: s.kind != "blog_feed"):
        fetcher = fetcher_for(source, settings)
        if fetcher is None or not settings.enabled(fetcher) or not _wanted(fetcher, only_kinds):
            continue
        if source.known_gap:
            report.add(
                SourceOutcome(
                    source.id, fetcher, origin_for(source, fetcher, settings), SKIPPED, error="known gap"
                )
            )
            continue
        if fetcher == "feed":
            url = feed_url_of(source, settings) or ""
            if url in seen_feeds:
                continue
            seen_feeds.add(url)
        plan.append((fetcher, source))
    if yt_session is None and any(f == "youtube" for f, _ in plan):
        yt_session = make_session(settings)

    for i, (fetcher, source) in enumerate(plan, 1):
        origin = origin_for(source, fetcher, settings)
        service = SERVICE_OF[fetcher]
        try:
            runtime.check(origin, service)
        except (CircuitOpen, BudgetExhausted) as exc:
            # Given up on earlier in this run: record the gap, do not touch the network.
            if fetcher == "youtube" and not refresh and store.latest_event(origin, ("ok",)):
                report.add(SourceOutcome(source.id, fetcher, origin, SKIPPED, error="already collected"))
                continue
            record_error(store, exc, origin=origin, fetcher=fetcher, source_id=source.id)
            report.add(SourceOutcome(source.id, fetcher, origin, FAILED, error=exc.message))
            if progress:
                progress(i, len(plan), f"{fetcher} {host_of(origin)}: failed ({exc.message})")
            continue
        try:
            outcome = _run_one(
                fetcher, source, store, settings, session, yt_session, runtime, refresh, url_to_source
            )
        except FetchError as exc:  # defensive: fetchers return outcomes, but one source never stops the run
            record_error(store, exc, origin=origin, fetcher=fetcher, source_id=source.id)
            outcome = SourceOutcome(source.id, fetcher, origin, FAILED, error=exc.message)
        except (requests.RequestException, OSError, ValueError) as exc:
            message = redact(f"unexpected {type(exc).__name__}: {exc}")
            err = FetchError(message)
            record_error(store, err, origin=origin, fetcher=fetcher, source_id=source.id)
            outcome = SourceOutcome(source.id, fetcher, origin, FAILED, error=err.message)
        report.add(outcome)
        if log:
            log(f"{fetcher} {source.id}: {outcome.outcome}{' - ' + outcome.error if outcome.error else ''}")
        if progress:
            progress(i, len(plan), f"{fetcher} {host_of(origin)}: {outcome.outcome}")

    report.stopped.update(runtime.breakers.open)
    report.elapsed_seconds = round(time.monotonic() - started, 3)
    return report


def _run_one(
    fetcher: str,
    source: Source,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session,
    yt_session: requests.Session | None,
    runtime: FetchRuntime,
    refresh: bool,
    url_to_source: dict[str, str],
) -> SourceOutcome:
    if fetcher == "youtube":
        assert yt_session is not None  # noqa: S101
        return fetch_transcript(
            source.youtube_id or "", store, settings, yt_session, source.id, refresh, runtime=runtime
        )
    if fetcher == "feed":
        return fetch_feed(
            source, store, settings, session, runtime=runtime, refresh=refresh, url_to_source=url_to_source
        )
    if fetcher == "arxiv":
        return fetch_paper(source, store, settings, session, runtime=runtime, refresh=refresh)
    return fetch_repo(source, store, settings, session, runtime=runtime, refresh=refresh)


__all__ = [
    "FETCHERS",
    "FetchReport",
    "FetchRuntime",
    "FetchSettings",
    "SourceOutcome",
    "fetch_all",
    "fetch_feed",
    "fetch_page",
    "fetch_paper",
    "fetch_repo",
    "fetch_transcript",
    "fetcher_for",
    "load_fetch_settings",
    "make_session",
]
