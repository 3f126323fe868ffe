"""Blog feeds: conditional GET, bozo handling, DOCTYPE/ENTITY refusal, summary-only pages."""

from __future__ import annotations

from test_fetch_support import (  # noqa: F401 - pytest fixtures
    Hit,
    RecordedServer,
    Reply,
    events,
    fast_settings,
    fixture_bytes,
    server_fixture,
    store_fixture,
    stored_files,
)

from pipelines.core.config import Source
from pipelines.core.fetch.feeds import fetch_feed
from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import make_session
from pipelines.core.rawstore import RawStore

ETAG = '"v1-abc"'
MODIFIED = "Wed, 01 Jan 2020 00:00:00 GMT"


def feed_source(url: str, sid: str = "blog") -> Source:
    return Source(id=sid, kind="blog_feed", title="Synthetic blog", feed_url=url)


def conditional_feed(body: bytes):
    def reply(hit: Hit) -> Reply:
        if hit.headers.get("If-None-Match") == ETAG:
            return Reply(304, b"")
        return Reply(
            200, body, {"ETag": ETAG, "Last-Modified": MODIFIED, "Content-Type": "application/rss+xml"}
        )

    return reply


def test_full_content_feed_lands_then_304(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /feed.xml", conditional_feed(fixture_bytes("feed_full.xml")))
    settings = fast_settings(server.base)
    session = make_session(settings)
    out = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, session)
    assert out.outcome == "ok" and out.attempts == 1 and out.warnings == []
    [ev] = events(store, status="ok")
    assert ev.fetcher == "feed" and ev.source_id == "blog" and ev.http_status == 200
    assert ev.meta["etag"] == ETAG and ev.meta["last_modified"] == MODIFIED and ev.meta["entries"] == 1
    assert (store.root / ev.path).read_bytes() == fixture_bytes("feed_full.xml")
    assert server.count("GET", "/2020") == 0  # full content: no page fetched
    files_before = stored_files(store)

    again = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, session)
    assert again.outcome == "not_modified" and again.bytes_landed == 0
    assert server.hits[-1].headers["If-None-Match"] == ETAG
    assert server.hits[-1].headers["If-Modified-Since"] == MODIFIED
    assert stored_files(store) == files_before
    assert [e.status for e in store.events()] == ["ok", "not_modified"]


def test_summary_only_feed_fetches_each_page_once(server: RecordedServer, store: RawStore) -> None:
    feed = fixture_bytes("feed_summary.xml").replace(b"PAGEBASE", server.base.encode())
    server.route("GET /atom.xml", Reply(200, feed, {"Content-Type": "application/atom+xml"}))
    server.route(
        "GET /posts/first-note.html", Reply(200, fixture_bytes("page.html"), {"Content-Type": "text/html"})
    )
    server.route("GET /posts/second-note/", Reply(404, b"gone"))
    settings = fast_settings(server.base)
    session = make_session(settings)
    page_url = f"{server.base}/posts/first-note.html"
    out = fetch_feed(
        feed_source(f"{server.base}/atom.xml"),
        store,
        settings,
        session,
        url_to_source={page_url: "first-note"},
    )
    assert out.outcome == "ok"
    assert (
        len(out.warnings) == 1 and "second-note" in out.warnings[0] and "not_collectable" in out.warnings[0]
    )
    [page] = events(store, fetcher="page", status="ok")
    assert (
        page.origin == page_url and page.path.endswith("/first-note.html") and page.source_id == "first-note"
    )
    assert page.meta["feed_source_id"] == "blog"
    [gone] = events(store, fetcher="page", status="not_collectable")
    assert gone.http_status == 404
    # second run: the landed page is not asked for again
    fetch_feed(feed_source(f"{server.base}/atom.xml"), store, settings, session)
    assert server.count("GET", "/posts/first-note.html") == 1


def test_feed_404_is_not_collectable(server: RecordedServer, store: RawStore) -> None:
    settings = fast_settings(server.base)
    out = fetch_feed(feed_source(f"{server.base}/nope.xml"), store, settings, make_session(settings))
    assert out.outcome == "not_collectable" and out.http_status == 404 and out.attempts == 1
    [ev] = store.events()
    assert ev.status == "not_collectable" and ev.path is None


def test_malformed_feed_without_entries_fails(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /feed.xml", Reply(200, fixture_bytes("feed_malformed.xml")))
    settings = fast_settings(server.base)
    out = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, make_session(settings))
    assert out.outcome == "failed" and "malformed" in (out.error or "")
    assert [e.status for e in store.events()] == ["failed"] and stored_files(store) == []


def test_bozo_feed_with_entries_lands_with_warning(server: RecordedServer, store: RawStore) -> None:
    body = fixture_bytes("feed_full.xml").replace(b"</channel>", b"<bad>&nbsp;</channel>")
    server.route("GET /feed.xml", Reply(200, body))
    settings = fast_settings(server.base)
    out = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, make_session(settings))
    assert out.outcome == "ok" and out.warnings and "not well-formed" in out.warnings[0]
    assert events(store, status="ok")[0].meta["bozo"] is True


def test_feed_with_entity_is_refused(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /feed.xml", Reply(200, fixture_bytes("feed_entity.xml")))
    settings = fast_settings(server.base)
    out = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, make_session(settings))
    assert out.outcome == "failed" and "DOCTYPE/ENTITY" in (out.error or "")
    assert stored_files(store) == []


def test_feed_500_then_success(server: RecordedServer, store: RawStore) -> None:
    server.route(
        "GET /feed.xml", Reply(500, b"x"), Reply(502, b"x"), Reply(200, fixture_bytes("feed_full.xml"))
    )
    settings = fast_settings(server.base, max_attempts=4)
    out = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, make_session(settings))
    assert out.outcome == "ok" and out.attempts == 3


def test_feed_failure_keeps_last_good_snapshot(server: RecordedServer, store: RawStore) -> None:
    server.route(
        "GET /feed.xml", Reply(200, fixture_bytes("feed_full.xml"), {"ETag": ETAG}), Reply(503, b"down")
    )
    settings = fast_settings(server.base, max_attempts=2)
    session = make_session(settings)
    fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, session)
    [good] = stored_files(store)
    out = fetch_feed(feed_source(f"{server.base}/feed.xml"), store, settings, session)
    assert out.outcome == "failed" and out.attempts == 2
    assert stored_files(store) == [good] and good.read_bytes() == fixture_bytes("feed_full.xml")
    assert store.latest_event(f"{server.base}/feed.xml").path == store.relpath(good)


def test_slow_feed_times_out(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /feed.xml", Reply(200, fixture_bytes("feed_full.xml"), delay=1.0))
    settings = fast_settings(server.base, read_timeout=0.2, max_attempts=2)
    out = fetch_feed(
        feed_source(f"{server.base}/feed.xml"),
        store,
        settings,
        make_session(settings),
        runtime=FetchRuntime(settings),
    )
    assert out.outcome == "failed" and out.attempts == 2 and "Timeout" in (out.error or "")
