"""arXiv: API metadata then PDF, against a local server."""

from __future__ import annotations

from test_fetch_support import (  # noqa: F401 - pytest fixtures
    RecordedServer,
    Reply,
    SleepRecorder,
    events,
    fast_settings,
    fixture_bytes,
    server_fixture,
    store_fixture,
    stored_files,
)

from pipelines.core.config import Source
from pipelines.core.fetch.papers import fetch_paper
from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import make_session
from pipelines.core.rawstore import RawStore

AID = "1234.56789"


def paper(aid: str = AID) -> Source:
    return Source(id="paper-1", kind="paper", title="Synthetic paper", arxiv_id=aid)


def test_paper_lands_metadata_and_pdf_then_skips(server: RecordedServer, store: RawStore) -> None:
    server.route(
        f"GET /api/query?id_list={AID}",
        Reply(200, fixture_bytes("arxiv_atom.xml"), {"Content-Type": "application/atom+xml"}),
    )
    server.route(
        f"GET /pdf/{AID}", Reply(200, fixture_bytes("paper.pdf"), {"Content-Type": "application/pdf"})
    )
    settings = fast_settings(server.base)
    out = fetch_paper(paper(), store, settings, make_session(settings))
    assert out.outcome == "ok" and out.attempts == 2 and len(out.paths) == 2
    meta_ev, pdf_ev = events(store, status="ok")
    assert (
        meta_ev.path.endswith(f"{AID}.arxiv.xml")
        and meta_ev.meta["title"] == "A Synthetic Paper on Toy Networks"
    )
    assert pdf_ev.path.endswith(f"{AID}.pdf") and pdf_ev.origin == f"{server.base}/pdf/{AID}"
    assert (store.root / pdf_ev.path).read_bytes() == fixture_bytes("paper.pdf")
    n = len(server.hits)
    again = fetch_paper(paper(), store, settings, make_session(settings))
    assert again.outcome == "skipped" and len(server.hits) == n


def test_unknown_id_is_not_collectable_and_pdf_not_asked(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /api/query", Reply(200, fixture_bytes("arxiv_error.xml")))
    settings = fast_settings(server.base)
    out = fetch_paper(paper("9999.99999"), store, settings, make_session(settings))
    assert out.outcome == "not_collectable"
    assert server.count("GET", "/pdf/") == 0
    assert [e.status for e in store.events()] == ["not_collectable"]


def test_pdf_404_is_not_collectable_metadata_kept(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /api/query", Reply(200, fixture_bytes("arxiv_atom.xml")))
    settings = fast_settings(server.base)
    out = fetch_paper(paper(), store, settings, make_session(settings))
    assert out.outcome == "not_collectable" and len(out.paths) == 1
    assert [e.status for e in store.events()] == ["ok", "not_collectable"]


def test_pdf_that_is_not_a_pdf_is_refused(server: RecordedServer, store: RawStore) -> None:
    server.route("GET /api/query", Reply(200, fixture_bytes("arxiv_atom.xml")))
    server.route(f"GET /pdf/{AID}", Reply(200, b"<html>captcha</html>", {"Content-Type": "text/html"}))
    settings = fast_settings(server.base)
    out = fetch_paper(paper(), store, settings, make_session(settings))
    assert out.outcome == "failed" and "not a PDF" in out.warnings[0]
    assert len(stored_files(store)) == 1


def test_api_429_retry_after_then_success(server: RecordedServer, store: RawStore) -> None:
    server.route(
        "GET /api/query", Reply(429, b"", {"Retry-After": "3"}), Reply(200, fixture_bytes("arxiv_atom.xml"))
    )
    server.route(f"GET /pdf/{AID}", Reply(503, b""), Reply(200, fixture_bytes("paper.pdf")))
    settings = fast_settings(server.base)
    sleeps = SleepRecorder()
    out = fetch_paper(
        paper(), store, settings, make_session(settings), runtime=FetchRuntime(settings, sleep=sleeps)
    )
    assert out.outcome == "ok" and out.attempts == 4
    assert 3.0 in sleeps.calls
