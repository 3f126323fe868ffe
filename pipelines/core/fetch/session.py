"""The HTTP session every fetcher shares: ``make_session`` gives a ``requests.Session`` with the
project's User-Agent, a default (connect, read) timeout on every request, proxies from environment
variables only, and optional host rewriting (a configured base URL for a host a library hard-codes)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter

from pipelines.core.fetch.errors import ENV_HTTP_PROXY, ENV_HTTPS_PROXY
from pipelines.core.fetch.settings import FetchSettings, HttpSettings


class CorpusSession(requests.Session):
    """A Session that always applies a (connect, read) timeout when the caller gives none."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class HostRewriteAdapter(BaseAdapter):
    """Send requests for one URL prefix to another base URL (config, mirrors, tests)."""

    def __init__(self, prefix: str, target: str, inner: BaseAdapter | None = None):
        super().__init__()
        self.prefix = prefix.rstrip("/")
        self.target = target.rstrip("/")
        self.inner = inner or HTTPAdapter()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if url.startswith(self.prefix):
            request.url = self.target + url[len(self.prefix) :]
            request.headers.pop("Host", None)
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        self.inner.close()


def env_proxies(env: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    http_p = env.get(ENV_HTTP_PROXY) or None
    https_p = env.get(ENV_HTTPS_PROXY) or None
    if not (http_p or https_p):
        return {}
    return {"http": (http_p or https_p) or "", "https": (https_p or http_p) or ""}


def make_session(
    settings: FetchSettings | HttpSettings | None = None, env: Mapping[str, str] | None = None
) -> requests.Session:
    """The session every fetcher uses: User-Agent, default timeouts, env-only proxies."""
    full = settings if isinstance(settings, FetchSettings) else FetchSettings(http=settings or HttpSettings())
    http = full.http
    s = CorpusSession((http.connect_timeout, http.read_timeout))
    s.headers["User-Agent"] = http.user_agent
    # Never read ~/.netrc or ambient proxy variables: credentials only from CORPUS_* variables.
    s.trust_env = False
    s.proxies.update(env_proxies(env))
    yt_default = "https://www.youtube.com"
    if full.youtube.base_url != yt_default:
        s.mount(yt_default, HostRewriteAdapter(yt_default, full.youtube.base_url))
    return s


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()
