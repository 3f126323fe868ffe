"""YouTube transcripts against a local server replaying recorded watch/player/timedtext replies."""

from __future__ import annotations

import time

import pytest
from test_fetch_support import (  # noqa: F401 - pytest fixtures
    RecordedServer,
    Reply,
    SleepRecorder,
    events,
    fast_settings,
    fixture_bytes,
    load_json,
    server_fixture,
    store_fixture,
)
from youtube_transcript_api.proxies import GenericProxyConfig, WebshareProxyConfig

from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import make_session
from pipelines.core.fetch.settings import DEFAULT_USER_AGENT
from pipelines.core.fetch.youtube import fetch_transcript, proxy_config_from_env, watch_url
from pipelines.core.rawstore import RawStore

VID = "abcdefghijk"
VID2 = "ABCDEFGHIJK"


def serve_video(
    srv: RecordedServer, vid: str = VID, player: str = "player_ok.json", watch: str = "watch.html"
) -> None:
    srv.route(f"GET /watch?v={vid}", Reply(200, fixture_bytes(watch), {"Content-Type": "text/html"}))
    player_body = fixture_bytes(player).replace(b"VIDEOID", vid.encode())
    srv.route("POST /youtubei/v1/player", Reply(200, player_body, {"Content-Type": "application/json"}))
    srv.route(f"GET /api/timedtext?v={vid}&lang=en", Reply(200, fixture_bytes("timedtext_manual.xml")))
    srv.route(f"GET /api/timedtext?v={vid}&lang=en&kind=asr", Reply(200, fixture_bytes("timedtext_asr.xml")))


def test_success_prefers_manual_and_lands_json(server: RecordedServer, store: RawStore) -> None:
    serve_video(server)
    settings = fast_settings(server.base)
    out = fetch_transcript(VID, store, settings, make_session(settings), "talk-1")
    assert out.outcome == "ok" and out.attempts == 1 and out.bytes_landed > 0
    [path] = out.paths
    assert path.endswith(f"{VID}.youtube-transcript.json")
    doc = load_json(store.root / path)
    assert set(doc) == {
        "video_id",
        "language",
        "language_code",
        "is_generated",
        "library",
        "library_version",
        "fetched_at",
        "snippets",
    }
    assert doc["video_id"] == VID and doc["language_code"] == "en" and doc["is_generated"] is False
    assert doc["library"] == "youtube-transcript-api" and doc["library_version"] == "1.2.5"
    assert doc["snippets"][0] == {
        "text": "Hello and welcome to a synthetic lecture.",
        "start": 0.0,
        "duration": 2.5,
    }
    assert doc["snippets"][1]["text"] == "Today we build a tiny & toy model."
    [ev] = events(store, status="ok")
    assert (
        ev.origin == watch_url(VID)
        and ev.source_id == "talk-1"
        and ev.fetcher == "youtube"
        and ev.http_status == 200
    )
    assert ev.meta["is_generated"] is False
    # our session went out: project User-Agent on every request, the generated track never fetched
    assert all(h.headers.get("User-Agent") == DEFAULT_USER_AGENT for h in server.hits)
    assert server.count("GET", f"/api/timedtext?v={VID}&lang=en&kind=asr") == 0
    # a second run skips the video (a good snapshot exists) without touching the network
    n = len(server.hits)
    again = fetch_transcript(VID, store, settings, make_session(settings), "talk-1")
    assert again.outcome == "skipped" and len(server.hits) == n
    refreshed = fetch_transcript(VID, store, settings, make_session(settings), "talk-1", refresh=True)
    assert refreshed.outcome == "ok" and len(server.hits) > n


def test_generated_used_when_no_manual(server: RecordedServer, store: RawStore) -> None:
    serve_video(server)
    body = fixture_bytes("player_ok.json").replace(b"VIDEOID", VID.encode())
    import json

    data = json.loads(body)
    tracks = data["captions"]["playerCaptionsTracklistRenderer"]["captionTracks"]
    data["captions"]["playerCaptionsTracklistRenderer"]["captionTracks"] = [
        t for t in tracks if t.get("kind") == "asr"
    ]
    server.route("POST /youtubei/v1/player", Reply(200, json.dumps(data)))
    settings = fast_settings(server.base)
    out = fetch_transcript(VID, store, settings, make_session(settings), "talk-1")
    assert out.outcome == "ok"
    assert load_json(store.root / out.paths[0])["is_generated"] is True


def test_transcripts_disabled_is_not_collectable(server: RecordedServer, store: RawStore) -> None:
    serve_video(server, player="player_disabled.json")
    settings = fast_settings(server.base)
    out = fetch_transcript(VID, store, settings, make_session(settings), "talk-1")
    assert out.outcome == "not_collectable" and out.attempts == 1
    assert "TranscriptsDisabled" in (out.error or "")
    [ev] = store.events()
    assert ev.status == "not_collectable" and ev.path is None and "TranscriptsDisabled" in (ev.error or "")


def test_video_unavailable_is_not_collectable(server: RecordedServer, store: RawStore) -> None:
    serve_video(server, player="player_unavailable.json")
    settings = fast_settings(server.base)
    out = fetch_transcript(VID, store, settings, make_session(settings), "talk-1")
    assert out.outcome == "not_collectable" and "VideoUnavailable" in (out.error or "") and out.attempts == 1


@pytest.mark.parametrize(
    "setup",
    ["bot_check", "recaptcha", "http_429"],
)
def test_blocked_stops_youtube_for_the_run(server: RecordedServer, store: RawStore, setup: str) -> None:
    if setup == "bot_check":
        serve_video(server, player="player_bot.json")
    elif setup == "recaptcha":
        serve_video(server, watch="watch_recaptcha.html")
    else:
        serve_video(server)
        server.route(f"GET /watch?v={VID}", Reply(429, b"slow down"))
    serve_video_2 = Reply(200, fixture_bytes("watch.html"))
    server.route(f"GET /watch?v={VID2}", serve_video_2)
    settings = fast_settings(server.base)
    runtime = FetchRuntime(settings)
    session = make_session(settings)
    out = fetch_transcript(VID, store, settings, session, "talk-1", runtime=runtime)
    assert out.outcome == "blocked" and out.attempts == 1, out
    assert runtime.breakers.reason("youtube")
    n = len(server.hits)
    second = fetch_transcript(VID2, store, settings, session, "talk-2", runtime=runtime)
    assert second.outcome == "failed" and "not attempted" in (second.error or "")
    assert len(server.hits) == n  # nothing more was asked of YouTube
    assert [e.status for e in store.events()] == ["failed", "failed"]
    assert "blocked" in (store.events()[0].error or "")


def test_500_then_success_is_retried(server: RecordedServer, store: RawStore) -> None:
    serve_video(server)
    server.route(f"GET /watch?v={VID}", Reply(500, b"oops"), Reply(200, fixture_bytes("watch.html")))
    settings = fast_settings(server.base, backoff_initial=0.5, backoff_max=4.0)
    sleeps = SleepRecorder()
    out = fetch_transcript(
        VID, store, settings, make_session(settings), "talk-1", runtime=FetchRuntime(settings, sleep=sleeps)
    )
    assert out.outcome == "ok" and out.attempts == 2
    assert server.count("GET", f"/watch?v={VID}") == 2
    assert sleeps.calls == [0.5]  # one backoff wait between the two attempts


def test_persistent_500_fails_after_bounded_retries(server: RecordedServer, store: RawStore) -> None:
    serve_video(server)
    server.route(f"GET /watch?v={VID}", Reply(503, b"down"))
    settings = fast_settings(server.base, max_attempts=3)
    out = fetch_transcript(VID, store, settings, make_session(settings), "talk-1")
    assert out.outcome == "failed" and out.attempts == 3 and "503" in (out.error or "")
    assert out.retryable  # a 5xx is transient: the partition's RetryPolicy tries again later
    assert server.count("GET", f"/watch?v={VID}") == 3
    assert [e.status for e in store.events()] == ["failed"]


def test_the_video_asset_raises_for_its_retry_policy_only_on_transient_failures(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The youtube_transcript partition re-raises a transient failure (so Dagster's RetryPolicy backs
    off and retries) and records a permanent one as a materialization."""
    import shutil
    from pathlib import Path

    from dagster import build_asset_context

    import pipelines.defs.fetch as fetch_defs
    from pipelines.core.fetch.errors import TransientError
    from pipelines.core.fetch.outcomes import SourceOutcome
    from pipelines.defs.resources import CorpusProject

    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "analysis" / "catalog.yaml", root / "analysis" / "catalog.yaml")
    vid = "7xTGNNLPyMI"
    for retryable, outcome in ((True, "failed"), (False, "not_collectable")):
        monkeypatch.setattr(
            fetch_defs, "fetch_transcript",
            lambda *a, _o=outcome, _r=retryable, **k: SourceOutcome("s", "youtube", "o", _o, error="503 down", retryable=_r),
        )
        with build_asset_context(partition_key=vid) as ctx:
            project = CorpusProject(root=str(root))
            if retryable:
                with pytest.raises(TransientError):
                    fetch_defs.build_youtube_transcript([vid])(ctx, fetch_defs.FetchConfig(), project)
            else:
                result = fetch_defs.build_youtube_transcript([vid])(ctx, fetch_defs.FetchConfig(), project)
                assert result.metadata["outcome"] == "not_collectable"


def test_unresolvable_host_fails_fast(store: RawStore) -> None:
    settings = fast_settings("http://nonexistent.invalid", max_attempts=4, backoff_initial=5.0)
    runtime = FetchRuntime(settings)
    session = make_session(settings)
    t0 = time.monotonic()
    first = fetch_transcript(VID, store, settings, session, "talk-1", runtime=runtime)
    second = fetch_transcript(VID2, store, settings, session, "talk-2", runtime=runtime)
    assert time.monotonic() - t0 < 5
    assert first.outcome == "failed" and first.attempts == 1 and "unreachable" in (first.error or "")
    assert second.outcome == "failed" and second.attempts == 0 and "not attempted" in (second.error or "")


def test_proxy_config_from_env_only() -> None:
    settings = fast_settings()
    assert proxy_config_from_env(settings, env={}) is None
    generic = proxy_config_from_env(settings, env={"CORPUS_HTTP_PROXY": "http://proxy.local:3128"})
    assert (
        isinstance(generic, GenericProxyConfig)
        and generic.to_requests_dict()["https"] == "http://proxy.local:3128"
    )
    ws = proxy_config_from_env(
        settings, env={"CORPUS_WEBSHARE_USER": "u", "CORPUS_WEBSHARE_PASSWORD": "secretpw"}
    )
    assert (
        isinstance(ws, WebshareProxyConfig)
        and ws.retries_when_blocked == settings.youtube.retries_when_blocked
    )
