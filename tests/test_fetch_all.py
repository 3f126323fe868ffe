"""fetch_all over a catalog: every kind, known gaps, no network, a server dying mid-run."""

from __future__ import annotations

import time

from test_fetch_support import (  # noqa: F401 - pytest fixtures
    RecordedServer,
    Reply,
    fast_settings,
    fixture_bytes,
    server_fixture,
    store_fixture,
    stored_files,
)

from pipelines.core.config import Catalog, Source, Thinker
from pipelines.core.fetch import fetch_all, fetcher_for
from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import make_session
from pipelines.core.rawstore import RawStore

VIDS = ["abcdefghijk", "bbcdefghijk", "cbcdefghijk"]


def catalog(feed_url: str, videos: list[str] = VIDS[:1]) -> Catalog:
    sources = [
        Source(id=f"talk-{i}", kind="video", title=f"Talk {i}", youtube_id=v) for i, v in enumerate(videos)
    ]
    sources += [
        Source(id="paper-1", kind="paper", title="Paper", arxiv_id="1234.56789"),
        Source(id="repo-1", kind="repo", title="Repo", github_repo="someone/tinyrepo"),
        Source(id="gap-1", kind="video", title="Lost talk", youtube_id="zzzzzzzzzzz", known_gap=True),
        Source(id="tweets", kind="tweet_archive", title="Tweets"),
        Source(id="blog", kind="blog_feed", title="Blog", feed_url=feed_url),
        Source(id="post-1", kind="blog_post", title="A post", feed_url=feed_url, url="http://blog.example/p"),
    ]
    return Catalog(thinker=Thinker(name="Test Person"), sources=sources)


def serve_everything(srv: RecordedServer) -> None:
    srv.route("GET /feed.xml", Reply(200, fixture_bytes("feed_full.xml"), {"ETag": '"f1"'}))
    for v in VIDS:
        srv.route(f"GET /watch?v={v}", Reply(200, fixture_bytes("watch.html")))
        srv.route(f"GET /api/timedtext?v={v}&lang=en", Reply(200, fixture_bytes("timedtext_manual.xml")))
    srv.route(
        "POST /youtubei/v1/player",
        Reply(200, fixture_bytes("player_ok.json").replace(b"VIDEOID", VIDS[0].encode())),
    )
    srv.route("GET /api/query", Reply(200, fixture_bytes("arxiv_atom.xml")))
    srv.route("GET /pdf/1234.56789", Reply(200, fixture_bytes("paper.pdf")))
    srv.route("GET /gh/repos/someone/tinyrepo", Reply(200, fixture_bytes("repo.json")))
    srv.route("GET /gh/repos/someone/tinyrepo/readme", Reply(200, fixture_bytes("readme.md")))


def test_fetch_all_success_and_report(server: RecordedServer, store: RawStore) -> None:
    serve_everything(server)
    settings = fast_settings(server.base)
    cat = catalog(f"{server.base}/feed.xml")
    report = fetch_all(cat, store, settings, make_session(settings))
    by_id = {o.source_id: o for o in report.outcomes}
    assert (
        by_id["talk-0"].outcome == "ok"
        and by_id["paper-1"].outcome == "ok"
        and by_id["repo-1"].outcome == "ok"
    )
    assert by_id["blog"].outcome == "ok"
    assert by_id["gap-1"].outcome == "skipped" and by_id["gap-1"].error == "known gap"
    assert (
        "post-1" not in by_id and "tweets" not in by_id
    )  # same feed fetched once; nothing to fetch for tweets
    assert server.count("GET", "/feed.xml") == 1
    assert report.failed == [] and report.bytes_landed > 0
    names = sorted(p.name for p in stored_files(store))
    assert names == sorted(
        [
            "abcdefghijk.youtube-transcript.json",
            "1234.56789.arxiv.xml",
            "1234.56789.pdf",
            "someone_tinyrepo.github-repo.json",
            "someone_tinyrepo.README.md",
            "blog.feed.xml",
        ]
    )
    assert any(line.startswith("youtube: 1 ok") for line in report.summary_lines())

    only = fetch_all(cat, store, settings, make_session(settings), only_kinds=["paper"])
    assert {o.fetcher for o in only.outcomes} == {"arxiv"} and only.outcomes[0].outcome == "skipped"


def test_disabled_fetcher_is_not_run(server: RecordedServer, store: RawStore) -> None:
    settings = fast_settings(server.base).model_copy(
        update={"github": fast_settings().github.model_copy(update={"enabled": False})}
    )
    cat = catalog(f"{server.base}/feed.xml")
    assert fetcher_for(cat.by_id()["repo-1"], settings) == "github"
    report = fetch_all(cat, store, settings, make_session(settings), only_kinds=["repo"])
    assert report.outcomes == [] and server.hits == []


def test_no_network_run_finishes_in_seconds(store: RawStore) -> None:
    base = "http://nonexistent.invalid"
    settings = fast_settings(base, max_attempts=4, backoff_initial=5.0, connect_timeout=3.0)
    cat = catalog(f"{base}/feed.xml", videos=VIDS)
    t0 = time.monotonic()
    report = fetch_all(cat, store, settings, make_session(settings))
    assert time.monotonic() - t0 < 5
    failed = {o.source_id for o in report.failed}
    assert failed == {"talk-0", "talk-1", "talk-2", "paper-1", "repo-1", "blog"}
    # one failed lookup for YouTube (its breaker is per service) and one for the other fetchers'
    # shared host; every later request is skipped without touching the network
    assert sum(o.attempts for o in report.outcomes) == 2
    assert "nonexistent.invalid" in report.stopped
    statuses = [(e.source_id, e.status) for e in store.events()]
    assert len(statuses) == 6 and all(s == "failed" for _, s in statuses)
    assert any("not reached" in line and "talk-1" in line for line in report.summary_lines())


def test_server_dying_mid_run_keeps_earlier_snapshots(server: RecordedServer, store: RawStore) -> None:
    serve_everything(server)
    # the feed is fetched first; the server dies right after answering it
    server.route("GET /feed.xml", Reply(200, fixture_bytes("feed_full.xml"), stop_server=True))
    settings = fast_settings(server.base, max_attempts=2, breaker_threshold=2)
    cat = catalog(f"{server.base}/feed.xml", videos=VIDS)
    t0 = time.monotonic()
    report = fetch_all(cat, store, settings, make_session(settings), runtime=FetchRuntime(settings))
    assert time.monotonic() - t0 < 5
    by_id = {o.source_id: o for o in report.outcomes}
    assert by_id["blog"].outcome == "ok"
    [feed_file] = stored_files(store)
    assert feed_file.read_bytes() == fixture_bytes("feed_full.xml")
    assert {o.source_id for o in report.failed} == {"talk-0", "talk-1", "talk-2", "paper-1", "repo-1"}
    assert by_id["talk-0"].attempts == 2  # connection refused is retried, boundedly
    assert "not attempted" in (by_id["repo-1"].error or "")  # the breaker opened on the way
    lines = report.summary_lines()
    assert any(line.startswith("github:") and "repo-1" in line for line in lines)
    # a later run with the server still down keeps the good snapshot and adds only failed events
    before = stored_files(store)
    fetch_all(cat, store, settings, make_session(settings))
    assert stored_files(store) == before
    assert store.latest_event(f"{server.base}/feed.xml").path == store.relpath(feed_file)
