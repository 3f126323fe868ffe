"""`corpus run` against recorded responses on 127.0.0.1 for YouTube, a blog feed, arXiv and GitHub:
everything is fetched and lands in the warehouse; a second run fetches nothing new; a server that is
gone leaves every earlier snapshot intact and the summary names what failed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import query_published as q
from test_fetch_support import RecordedServer, Reply, fixture_bytes, server_fixture  # noqa: F401

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[1]
VID = "abcdefghijk"


def make_project(root: Path, base: str) -> Path:
    (root / "analysis").mkdir(parents=True)
    catalog = {
        "thinker": {"name": "Test Person", "twitter": "testperson"},
        "sources": [
            {"id": "talk-1", "kind": "video", "title": "Talk One", "youtube_id": VID},
            {"id": "paper-1", "kind": "paper", "title": "A Paper", "arxiv_id": "1234.56789"},
            {"id": "repo-1", "kind": "repo", "title": "tinyrepo", "github_repo": "someone/tinyrepo"},
            {"id": "blog", "kind": "blog_feed", "title": "The Blog", "feed_url": f"{base}/feed.xml"},
        ],
    }
    (root / "analysis" / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    fetch = {
        "http": {"connect_timeout": 2, "read_timeout": 2, "max_attempts": 2, "backoff_initial": 0, "backoff_max": 0,
                 "jitter": 0, "polite_delay": 0, "host_delays": {}, "breaker_threshold": 2},
        "youtube": {"base_url": base},
        "arxiv": {"api_base": f"{base}/api/query", "pdf_base": f"{base}/pdf/"},
        "github": {"api_base": f"{base}/gh"},
    }
    (root / "analysis" / "fetch.yaml").write_text(yaml.safe_dump(fetch))
    shutil.copy(REPO / "dagster.yaml", root / "dagster.yaml")
    return root


def serve(srv: RecordedServer) -> None:
    srv.route("GET /feed.xml", Reply(200, fixture_bytes("feed_full.xml"), {"ETag": '"f1"'}))
    srv.route(f"GET /watch?v={VID}", Reply(200, fixture_bytes("watch.html")))
    srv.route(f"GET /api/timedtext?v={VID}&lang=en", Reply(200, fixture_bytes("timedtext_manual.xml")))
    srv.route("POST /youtubei/v1/player", Reply(200, fixture_bytes("player_ok.json").replace(b"VIDEOID", VID.encode())))
    srv.route("GET /api/query", Reply(200, fixture_bytes("arxiv_atom.xml")))
    srv.route("GET /pdf/1234.56789", Reply(200, fixture_bytes("paper.pdf")))
    srv.route("GET /gh/repos/someone/tinyrepo", Reply(200, fixture_bytes("repo.json")))
    srv.route("GET /gh/repos/someone/tinyrepo/readme", Reply(200, fixture_bytes("readme.md")))


def run(root: Path) -> int:
    cwd = Path.cwd()
    try:
        return main(["--project", str(root), "run"])
    finally:
        os.chdir(cwd)


def test_corpus_run_fetches_everything_then_nothing_new_then_survives_the_server_going(
    server: RecordedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server)
    root = make_project(tmp_path / "project", server.base)
    assert run(root) == 0
    kinds = dict(q(root, "SELECT source_id, kind FROM documents WHERE source_id IN ('talk-1', 'paper-1', 'repo-1')"))
    assert kinds == {"talk-1": "video", "paper-1": "paper", "repo-1": "repo"}
    (posts,) = q(root, "SELECT count(*) FROM documents WHERE kind = 'blog_post'")[0]
    assert posts >= 1
    stored = sorted(p.relative_to(root / "raw").as_posix() for p in (root / "raw" / "store").rglob("*") if p.is_file())
    assert any(s.endswith(".youtube-transcript.json") for s in stored)
    hits_before = len(server.hits)

    # Second run: the transcript is cached (no YouTube request), the feed answers 304 to its ETag.
    server.route("GET /feed.xml", Reply(304, b"", {"ETag": '"f1"'}))
    assert run(root) == 0
    second = [h for h in server.hits[hits_before:]]
    assert not any("/watch" in h.path or "/youtubei" in h.path for h in second)
    assert any(h.path == "/feed.xml" and h.headers.get("If-None-Match") == '"f1"' for h in second)
    stored_after = sorted(p.relative_to(root / "raw").as_posix() for p in (root / "raw" / "store").rglob("*") if p.is_file())
    assert stored_after == stored

    # Third run with the server gone: nothing in raw/ changes, the documents stay, the summary names failures.
    server.stop()
    capsys.readouterr()
    before = {p: p.read_bytes() for p in (root / "raw" / "store").rglob("*") if p.is_file()}
    assert run(root, ) == 0
    after = {p: p.read_bytes() for p in (root / "raw" / "store").rglob("*") if p.is_file()}
    assert after == before
    assert dict(q(root, "SELECT source_id, kind FROM documents WHERE source_id IN ('talk-1', 'paper-1', 'repo-1')")) == kinds
    err = capsys.readouterr().err
    assert "not collected by" in err or "failed" in err
