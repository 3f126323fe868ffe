"""GitHub: repo metadata and README, token handling, rate limits."""

from __future__ import annotations

import json
import time

from test_fetch_support import (  # noqa: F401 - pytest fixtures
    Hit,
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
from pipelines.core.fetch.repos import fetch_repo
from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import make_session
from pipelines.core.rawstore import RawStore

REPO = "someone/tinyrepo"


def repo(name: str = REPO, sid: str = "tinyrepo") -> Source:
    return Source(id=sid, kind="repo", title="tinyrepo", github_repo=name)


def serve_repo(srv: RecordedServer, name: str = REPO) -> None:
    def meta(hit: Hit) -> Reply:
        if hit.headers.get("If-None-Match") == '"r1"':
            return Reply(304, b"")
        return Reply(200, fixture_bytes("repo.json"), {"ETag": '"r1"', "Content-Type": "application/json"})

    def readme(hit: Hit) -> Reply:
        assert hit.headers.get("Accept") == "application/vnd.github.raw"
        return Reply(200, fixture_bytes("readme.md"), {"Content-Type": "text/plain"})

    srv.route(f"GET /gh/repos/{name}", meta)
    srv.route(f"GET /gh/repos/{name}/readme", readme)


def test_repo_metadata_and_readme_with_token(server: RecordedServer, store: RawStore) -> None:
    serve_repo(server)
    settings = fast_settings(server.base)
    env = {"GITHUB_TOKEN": "ghp_testtoken123"}
    out = fetch_repo(repo(), store, settings, make_session(settings), env=env)
    assert out.outcome == "ok" and out.attempts == 2
    meta_ev, readme_ev = events(store, status="ok")
    assert meta_ev.path.endswith("someone_tinyrepo.github-repo.json")
    data = json.loads((store.root / meta_ev.path).read_text())
    assert data["stargazers_count"] == 42 and data["description"] and data["created_at"] and data["pushed_at"]
    assert readme_ev.path.endswith("someone_tinyrepo.README.md")
    assert all(h.headers.get("Authorization") == "Bearer ghp_testtoken123" for h in server.hits)
    assert "ghp_testtoken123" not in store.manifest_path.read_text()
    # second run: the repo answers 304 (nothing new landed)
    files = stored_files(store)
    again = fetch_repo(repo(), store, settings, make_session(settings), env={})
    assert again.outcome == "ok"  # README re-landed (same bytes, same path), metadata not modified
    assert events(store, status="not_modified")[0].origin.endswith(f"/repos/{REPO}")
    assert stored_files(store) == files


def test_missing_repo_is_not_collectable(server: RecordedServer, store: RawStore) -> None:
    settings = fast_settings(server.base)
    out = fetch_repo(repo("someone/gone"), store, settings, make_session(settings), env={})
    assert out.outcome == "not_collectable" and out.attempts == 1
    assert server.count("GET", "/gh/repos/someone/gone/readme") == 0


def test_missing_readme_is_a_warning(server: RecordedServer, store: RawStore) -> None:
    serve_repo(server)
    server.route(f"GET /gh/repos/{REPO}/readme", Reply(404, b"{}"))
    settings = fast_settings(server.base)
    out = fetch_repo(repo(), store, settings, make_session(settings), env={})
    assert out.outcome == "ok" and "README: not_collectable" in out.warnings[0]


def test_rate_limit_reset_within_cap_waits_then_succeeds(server: RecordedServer, store: RawStore) -> None:
    serve_repo(server)
    reset = str(int(time.time()) + 5)
    limited = Reply(
        403,
        b'{"message": "API rate limit exceeded"}',
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )
    server.route(f"GET /gh/repos/{REPO}", limited, Reply(200, fixture_bytes("repo.json")))
    settings = fast_settings(server.base)
    sleeps = SleepRecorder()
    out = fetch_repo(
        repo(), store, settings, make_session(settings), runtime=FetchRuntime(settings, sleep=sleeps), env={}
    )
    assert out.outcome == "ok" and out.attempts == 3
    assert len(sleeps.calls) == 1 and 3 <= sleeps.calls[0] <= 6


def test_rate_limit_beyond_cap_stops_github_for_the_run(server: RecordedServer, store: RawStore) -> None:
    reset = str(int(time.time()) + 3600)
    server.route(
        "GET /gh/repos/someone/a",
        Reply(403, b"{}", {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
    )
    serve_repo(server, "someone/b")
    settings = fast_settings(server.base)
    sleeps = SleepRecorder()
    rt = FetchRuntime(settings, sleep=sleeps)
    first = fetch_repo(repo("someone/a", "a"), store, settings, make_session(settings), runtime=rt, env={})
    second = fetch_repo(repo("someone/b", "b"), store, settings, make_session(settings), runtime=rt, env={})
    assert first.outcome == "failed" and first.attempts == 1 and sleeps.calls == []
    assert "stopped" in (rt.breakers.reason("github") or "") and "GITHUB_TOKEN" in (
        rt.breakers.reason("github") or ""
    )
    assert second.outcome == "failed" and "not attempted" in (second.error or "")
    assert server.count("GET", "/gh/repos/someone/b") == 0
