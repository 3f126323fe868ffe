"""Shared helpers for the fetcher tests: a recorded-response server on 127.0.0.1 and settings.

No test here; the fixtures are imported by the test_fetch_* modules.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.core.fetch.settings import FetchSettings
from pipelines.core.rawstore import ManifestEvent, RawStore

FIXTURES = Path(__file__).parent / "fixtures" / "fetch"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stop_server: bool = False  # the server dies right after sending this reply

    def data(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Reply | Callable[[Hit], Reply]


class RecordedServer:
    """Serves recorded replies by "METHOD /path?query" (exact) or "METHOD /path".

    A route holds a list of replies consumed in order; the last one repeats. Unknown routes 404.
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Route]] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hit = Hit(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
                reply = server._reply_for(hit)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.stop_server:
                    server.stop()  # closes the listening socket before the reply goes out
                    reply.headers["Connection"] = "close"
                data = reply.data() if self.command != "HEAD" else b""
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.data())))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self._stopped = False
        self._stop_lock = threading.Lock()

    def route(self, key: str, *replies: Route) -> None:
        self.routes[key] = list(replies)

    def _reply_for(self, hit: Hit) -> Reply:
        with self._lock:
            self.hits.append(hit)
            path_only = hit.path.split("?", 1)[0]
            for key in (f"{hit.method} {hit.path}", f"{hit.method} {path_only}"):
                replies = self.routes.get(key)
                if replies:
                    r = replies.pop(0) if len(replies) > 1 else replies[0]
                    return r(hit) if callable(r) else r
        return Reply(404, b"not found")

    def count(self, method: str, path_prefix: str) -> int:
        return sum(1 for h in self.hits if h.method == method and h.path.startswith(path_prefix))

    def stop(self) -> None:
        with self._stop_lock:
            if not self._stopped:
                self._stopped = True
                self.httpd.shutdown()
                self.httpd.server_close()


@pytest.fixture(name="server")
def server_fixture() -> Iterator[RecordedServer]:
    srv = RecordedServer()
    yield srv
    srv.stop()


@pytest.fixture(name="store")
def store_fixture(tmp_path: Path) -> RawStore:
    s = RawStore(tmp_path / "raw")
    s.ensure()
    return s


def fast_settings(base: str = "http://127.0.0.1:9", **http: object) -> FetchSettings:
    """Settings for tests: no delays, no backoff, short timeouts, every base URL on `base`."""
    http_defaults: dict[str, object] = {
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "max_attempts": 3,
        "backoff_initial": 0.0,
        "backoff_max": 0.0,
        "jitter": 0.0,
        "polite_delay": 0.0,
        "host_delays": {},
        "retry_after_cap": 30.0,
        "total_budget": 60.0,
    }
    http_defaults.update(http)
    return FetchSettings.model_validate(
        {
            "http": http_defaults,
            "youtube": {"base_url": base},
            "arxiv": {"api_base": f"{base}/api/query", "pdf_base": f"{base}/pdf/"},
            "github": {"api_base": f"{base}/gh", "rate_limit_wait_cap": 30.0},
        }
    )


class SleepRecorder:
    """An injectable sleep: records what would have been slept, sleeps nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def events(store: RawStore, **match: object) -> list[ManifestEvent]:
    return [e for e in store.events() if all(getattr(e, k) == v for k, v in match.items())]


def stored_files(store: RawStore) -> list[Path]:
    return [p for p in store.files() if "store" in p.parts]


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
