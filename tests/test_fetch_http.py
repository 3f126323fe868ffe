"""The shared HTTP layer: timeouts, retries, Retry-After, breakers, redaction, size cap."""

from __future__ import annotations

import time

import pytest
import requests
from test_fetch_support import (
    RecordedServer,
    Reply,
    SleepRecorder,
    fast_settings,
    server_fixture,  # noqa: F401 - pytest fixtures
)

from pipelines.core.fetch.errors import (
    CircuitOpen,
    FetchError,
    HostUnreachable,
    NotCollectable,
    RateLimited,
    TransientError,
    redact,
)
from pipelines.core.fetch.runtime import FetchRuntime, parse_retry_after, request
from pipelines.core.fetch.session import make_session


def test_session_has_user_agent_default_timeout_and_no_ambient_env() -> None:
    settings = fast_settings(connect_timeout=1.5, read_timeout=2.5)
    s = make_session(settings, env={})
    assert s.headers["User-Agent"].startswith("thinker-corpus/0.1 (+https://github.com/")
    assert s.default_timeout == (1.5, 2.5)  # type: ignore[attr-defined]
    assert s.trust_env is False and not s.proxies
    s2 = make_session(settings, env={"CORPUS_HTTPS_PROXY": "http://user:pw@proxy.local:8080"})
    assert s2.proxies == {
        "http": "http://user:pw@proxy.local:8080",
        "https": "http://user:pw@proxy.local:8080",
    }


def test_redact_removes_credentials_and_env_secrets() -> None:
    env = {"GITHUB_TOKEN": "ghp_supersecretvalue", "CORPUS_WEBSHARE_PASSWORD": "pw-12345"}
    text = "ProxyError http://bob:pw-12345@p.example:80/ token ghp_supersecretvalue Authorization: Bearer abcdefghijkl"
    out = redact(text, env)
    assert "pw-12345" not in out and "ghp_supersecretvalue" not in out and "abcdefghijkl" not in out
    assert "http://***@p.example:80/" in out


def test_retry_after_parsing() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 10) == pytest.approx(10.0)


def test_429_with_retry_after_is_honoured(server: RecordedServer) -> None:
    server.route("GET /x", Reply(429, b"", {"Retry-After": "7"}), Reply(200, b"fine"))
    settings = fast_settings()
    sleeps = SleepRecorder()
    rt = FetchRuntime(settings, sleep=sleeps)
    res = request(make_session(settings), "GET", f"{server.base}/x", runtime=rt)
    assert res.content == b"fine" and res.attempts == 2
    assert sleeps.calls == [7.0]


def test_retry_after_beyond_cap_gives_up_and_opens_host_breaker(server: RecordedServer) -> None:
    server.route("GET /x", Reply(429, b"", {"Retry-After": "3600"}))
    settings = fast_settings(retry_after_cap=10)
    sleeps = SleepRecorder()
    rt = FetchRuntime(settings, sleep=sleeps)
    with pytest.raises(RateLimited) as info:
        request(make_session(settings), "GET", f"{server.base}/x", runtime=rt)
    assert info.value.attempts == 1 and sleeps.calls == []
    with pytest.raises(CircuitOpen):
        request(make_session(settings), "GET", f"{server.base}/y", runtime=rt)


def test_slow_server_times_out_and_fails(server: RecordedServer) -> None:
    server.route("GET /slow", Reply(200, b"late", delay=1.0))
    settings = fast_settings(read_timeout=0.2, max_attempts=2)
    t0 = time.monotonic()
    with pytest.raises(TransientError) as info:
        request(make_session(settings), "GET", f"{server.base}/slow", runtime=FetchRuntime(settings))
    assert time.monotonic() - t0 < 1.5
    assert info.value.attempts == 2 and "Timeout" in info.value.message


def test_404_is_not_collectable_without_retry(server: RecordedServer) -> None:
    settings = fast_settings()
    with pytest.raises(NotCollectable) as info:
        request(make_session(settings), "GET", f"{server.base}/missing", runtime=FetchRuntime(settings))
    assert info.value.http_status == 404 and info.value.attempts == 1
    assert server.count("GET", "/missing") == 1


def test_other_4xx_fails_without_retry(server: RecordedServer) -> None:
    server.route("GET /forbidden", Reply(401, b"no"))
    settings = fast_settings()
    with pytest.raises(FetchError) as info:
        request(make_session(settings), "GET", f"{server.base}/forbidden", runtime=FetchRuntime(settings))
    assert type(info.value) is FetchError and info.value.attempts == 1


def test_unresolvable_host_fails_fast_and_opens_breaker() -> None:
    settings = fast_settings(max_attempts=5, backoff_initial=10)
    rt = FetchRuntime(settings)
    s = make_session(settings)
    t0 = time.monotonic()
    with pytest.raises(HostUnreachable) as info:
        request(s, "GET", "http://nonexistent.invalid/", runtime=rt)
    assert info.value.attempts == 1
    for i in range(20):
        with pytest.raises(CircuitOpen):
            request(s, "GET", f"http://nonexistent.invalid/{i}", runtime=rt)
    assert time.monotonic() - t0 < 5
    assert "nonexistent.invalid" in rt.breakers.open


def test_connection_refused_trips_breaker_after_threshold(server: RecordedServer) -> None:
    base = server.base
    server.stop()
    settings = fast_settings(max_attempts=2, breaker_threshold=2)
    rt = FetchRuntime(settings)
    s = make_session(settings)
    for _ in range(2):
        with pytest.raises(TransientError) as info:
            request(s, "GET", f"{base}/a", runtime=rt)
        assert info.value.attempts == 2
    with pytest.raises(CircuitOpen):
        request(s, "GET", f"{base}/b", runtime=rt)


def test_body_size_cap(server: RecordedServer) -> None:
    server.route("GET /big", Reply(200, b"x" * 5000))
    settings = fast_settings(max_response_bytes=1000)
    with pytest.raises(FetchError, match="cap"):
        request(make_session(settings), "GET", f"{server.base}/big", runtime=FetchRuntime(settings))


def test_budget_exhausted_stops_before_network(server: RecordedServer) -> None:
    settings = fast_settings()
    rt = FetchRuntime(settings, budget=0)
    with pytest.raises(FetchError, match="budget"):
        request(make_session(settings), "GET", f"{server.base}/x", runtime=rt)
    assert server.hits == []


def test_polite_delay_between_requests_to_same_host(server: RecordedServer) -> None:
    server.route("GET /p", Reply(200, b"ok"))
    settings = fast_settings(polite_delay=2.0)
    sleeps = SleepRecorder()
    rt = FetchRuntime(settings, sleep=sleeps)
    s = make_session(settings)
    request(s, "GET", f"{server.base}/p", runtime=rt)
    request(s, "GET", f"{server.base}/p", runtime=rt)
    assert len(sleeps.calls) == 1 and 1.5 < sleeps.calls[0] <= 2.0


def test_plain_requests_session_is_accepted(server: RecordedServer) -> None:
    server.route("GET /p", Reply(200, b"ok"))
    settings = fast_settings()
    res = request(requests.Session(), "GET", f"{server.base}/p", runtime=FetchRuntime(settings))
    assert res.content == b"ok"
