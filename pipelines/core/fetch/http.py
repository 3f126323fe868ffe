"""The HTTP layer every fetcher shares.

- ``make_session``: a ``requests.Session`` with the project's User-Agent, a default
  (connect, read) timeout on every request, proxies from environment variables only, and
  optional host rewriting (a configured base URL for a host a library hard-codes).
- ``FetchRuntime``: what one run shares across calls: per-host/per-service circuit breakers,
  polite per-host delays, a total time budget, and an injectable ``sleep`` (tests).
- ``request``: one GET/POST with bounded retries (tenacity; exponential backoff + jitter) for
  transient errors (connection errors, timeouts, 5xx, 429 honouring Retry-After up to a cap),
  fail-fast on name-resolution errors (the host's breaker opens at once), and a body size cap.
- ``SourceOutcome`` / ``FetchReport``: what a fetcher returns.
- ``land`` / ``record``: write outcomes to raw/ (bytes via ``land_bytes``, else an event).

Secrets (proxy URLs with credentials, tokens) come from environment variables only and are
redacted from every error message that is recorded or raised.
"""

from __future__ import annotations

import email.utils
import errno
import os
import random
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import BaseAdapter, HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_any
from tenacity.stop import stop_base

from pipelines.core.fetch.settings import FetchSettings, HttpSettings
from pipelines.core.rawstore import ManifestEvent, RawStore, now_utc

# Environment variables (the only place secrets may come from).
ENV_HTTP_PROXY = "CORPUS_HTTP_PROXY"
ENV_HTTPS_PROXY = "CORPUS_HTTPS_PROXY"
ENV_WEBSHARE_USER = "CORPUS_WEBSHARE_USER"
ENV_WEBSHARE_PASSWORD = "CORPUS_WEBSHARE_PASSWORD"  # noqa: S105 - a variable name, not a secret
ENV_GITHUB_TOKEN = "GITHUB_TOKEN"  # noqa: S105
SECRET_ENV_VARS = (
    ENV_HTTP_PROXY,
    ENV_HTTPS_PROXY,
    ENV_WEBSHARE_USER,
    ENV_WEBSHARE_PASSWORD,
    ENV_GITHUB_TOKEN,
)

MAX_ERROR_CHARS = 400
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]*@")
_BEARER = re.compile(r"(?i)\b(token|bearer)\s+[A-Za-z0-9_.\-]{8,}")


# ---- secrets ---------------------------------------------------------------------------------
def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """Remove secrets from text bound for a log, the manifest or an exception."""
    env = os.environ if env is None else env
    out = _URL_CREDENTIALS.sub(r"\1***@", text)
    out = _BEARER.sub(r"\1 ***", out)
    for var in SECRET_ENV_VARS:
        value = env.get(var)
        if value and len(value) >= 4:
            out = out.replace(value, "***")
    return out


def short_error(exc: BaseException | str, limit: int = MAX_ERROR_CHARS) -> str:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    text = redact(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- session ---------------------------------------------------------------------------------
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


# ---- errors ----------------------------------------------------------------------------------
class FetchError(Exception):
    """A fetch that did not produce a body. ``outcome`` is the manifest status to record."""

    outcome = "failed"

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ):
        super().__init__(short_error(message))
        self.http_status = http_status
        self.attempts = attempts
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class NotCollectable(FetchError):
    """Permanent: 404/410, transcripts disabled, video unavailable... Never retried."""

    outcome = "not_collectable"


class TransientError(FetchError):
    """Worth retrying: connection errors, timeouts, 5xx, 429."""


class RateLimited(TransientError):
    """429, or a 403 with X-RateLimit-Remaining: 0."""


class HostUnreachable(FetchError):
    """Name resolution failed or the network is unreachable: no retry, the host's breaker opens."""


class CircuitOpen(FetchError):
    """Not attempted: this host or service was given up on earlier in the run."""


class BudgetExhausted(FetchError):
    """Not attempted: the run's time budget is spent."""


class Blocked(FetchError):
    """The service refuses us (YouTube bot check / IP block): stop it for this run."""


_DNS_MARKERS = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "no address associated with hostname",
    "getaddrinfo failed",
    "failed to resolve",
)
_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


def _exception_chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None), *getattr(e, "args", ())):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def is_unreachable(exc: BaseException) -> bool:
    """True for a name-resolution failure or an unreachable network (no point retrying)."""
    for e in _exception_chain(exc):
        if isinstance(e, socket.gaierror | urllib3.exceptions.NameResolutionError):
            return True
        if isinstance(e, OSError) and e.errno in _UNREACHABLE_ERRNOS:
            return True
        if any(m in str(e).lower() for m in _DNS_MARKERS):
            return True
    return False


def safe_slug(text: str, default: str = "item") -> str:
    """A short file-name-safe slug."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:80]
    return slug or default


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_ts = time.time() if now is None else now
    return max(0.0, when.timestamp() - now_ts)


# ---- run state -------------------------------------------------------------------------------
class Breakers:
    """Circuit breakers keyed by host ("api.github.com") or service ("youtube", "github")."""

    def __init__(self, threshold: int = 3):
        self.threshold = threshold
        self.open: dict[str, str] = {}
        self._failures: Counter[str] = Counter()

    def reason(self, key: str) -> str | None:
        return self.open.get(key)

    def trip(self, key: str, reason: str) -> None:
        self.open.setdefault(key, short_error(reason))

    def failure(self, key: str, reason: str) -> None:
        self._failures[key] += 1
        if self._failures[key] >= self.threshold:
            self.trip(key, f"{self._failures[key]} consecutive failures, last: {reason}")

    def success(self, key: str) -> None:
        self._failures.pop(key, None)


class FetchRuntime:
    """State shared by every request of one run: breakers, polite delays, the time budget."""

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        budget: float | None = None,
    ):
        self.settings = settings or FetchSettings()
        self.sleep = sleep
        self.clock = clock
        self.breakers = Breakers(self.settings.http.breaker_threshold)
        self.started = clock()
        self.deadline = self.started + (budget if budget is not None else self.settings.http.total_budget)
        self._last_request: dict[str, float] = {}

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def check(self, url: str, service: str | None = None) -> None:
        """Raise if this request must not be attempted (budget spent, breaker open)."""
        if self.remaining() <= 0:
            raise BudgetExhausted("not attempted: the run's time budget is exhausted")
        for key in (service, host_of(url)):
            if key and (why := self.breakers.reason(key)):
                raise CircuitOpen(f"not attempted: {key} was given up on earlier in this run ({why})")

    def polite(self, url: str) -> None:
        """Wait until the configured delay since the last request to this host has passed."""
        host = host_of(url)
        delay = self.settings.http.host_delays.get(host, self.settings.http.polite_delay)
        last = self._last_request.get(host)
        if last is not None and delay > 0:
            wait = last + delay - self.clock()
            if wait > 0:
                self.sleep(min(wait, max(0.0, self.remaining())))
        self._last_request[host] = self.clock()


# ---- requests with retries -------------------------------------------------------------------
@dataclass
class HttpResult:
    response: requests.Response
    attempts: int

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def content(self) -> bytes:
        return self.response.content


def _read_capped(resp: requests.Response, cap: int) -> bytes:
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        resp.close()
        raise FetchError(
            f"response of {declared} bytes exceeds the {cap}-byte cap", http_status=resp.status_code
        )
    chunks, size = [], 0
    for chunk in resp.iter_content(64 * 1024):
        size += len(chunk)
        if size > cap:
            resp.close()
            raise FetchError(f"response exceeds the {cap}-byte cap", http_status=resp.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


def classify_response(resp: requests.Response, now: float | None = None) -> FetchError | None:
    """None for a usable response (2xx, 304); else the error it means."""
    code = resp.status_code
    if 200 <= code < 300 or code == 304:
        return None
    reason = f"HTTP {code} {resp.reason or ''} for {resp.url}".strip()
    remaining = resp.headers.get("X-RateLimit-Remaining")
    if code in (403, 429) and remaining == "0":
        reset = resp.headers.get("X-RateLimit-Reset")
        now_ts = time.time() if now is None else now
        wait = max(0.0, float(reset) - now_ts) if reset and reset.isdigit() else None
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return RateLimited(
            f"rate limit exhausted: {reason}",
            http_status=code,
            retry_after=retry_after if retry_after is not None else wait,
        )
    if code == 429:
        return RateLimited(
            f"too many requests: {reason}",
            http_status=code,
            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
        )
    if code >= 500:
        return TransientError(
            reason, http_status=code, retry_after=parse_retry_after(resp.headers.get("Retry-After"))
        )
    if code in (404, 410, 451):
        return NotCollectable(reason, http_status=code)
    return FetchError(reason, http_status=code)


def _classify_exception(exc: BaseException, url: str) -> FetchError:
    if isinstance(exc, FetchError):
        return exc
    if is_unreachable(exc):
        return HostUnreachable(f"{host_of(url)} unreachable (name resolution / network): {short_error(exc)}")
    if isinstance(
        exc, requests.Timeout | requests.ConnectionError | requests.exceptions.ChunkedEncodingError
    ):
        return TransientError(short_error(exc))
    if isinstance(exc, requests.RequestException):
        return FetchError(short_error(exc))
    raise exc


def backoff_wait(
    settings: HttpSettings, rng: random.Random | None = None, retry_after_cap: float | None = None
) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter; Retry-After (when given and within the cap) wins."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    cap = settings.retry_after_cap if retry_after_cap is None else retry_after_cap

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, FetchError) and exc.retry_after is not None:
            return min(exc.retry_after, cap)
        n = state.attempt_number - 1
        base = min(settings.backoff_max, settings.backoff_initial * (2**n))
        return base + (rng.uniform(0, settings.jitter) if settings.jitter else 0.0)

    return wait


def retrying(
    settings: HttpSettings,
    runtime: FetchRuntime,
    retry_on: tuple[type[BaseException], ...] = (TransientError,),
    retry_after_cap: float | None = None,
) -> Retrying:
    """A bounded tenacity Retrying: max attempts, never past the budget or a too-long Retry-After."""
    cap = settings.retry_after_cap if retry_after_cap is None else retry_after_cap
    wait = backoff_wait(settings, retry_after_cap=cap)

    class too_long(stop_base):  # noqa: N801 - reads like tenacity's own stop_* conditions
        """Stop when the server asks for a wait beyond the cap, or the wait outlasts the budget."""

        def __call__(self, state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, FetchError) and exc.retry_after is not None and exc.retry_after > cap:
                return True
            return wait(state) >= runtime.remaining()

    return Retrying(
        stop=stop_any(stop_after_attempt(settings.max_attempts), too_long()),
        wait=wait,
        retry=retry_if_exception_type(retry_on),
        sleep=runtime.sleep,
        reraise=True,
    )


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    runtime: FetchRuntime,
    headers: Mapping[str, str] | None = None,
    service: str | None = None,
    retry_after_cap: float | None = None,
) -> HttpResult:
    """One HTTP request with the run's retries, breakers, polite delay and body cap.

    Returns the response for 2xx and 304; raises a ``FetchError`` subclass otherwise, with
    ``attempts`` set. A name-resolution failure opens the host's breaker at once; a request
    that still fails after its retries counts towards the host's breaker threshold.
    """
    settings = runtime.settings.http
    cap = settings.retry_after_cap if retry_after_cap is None else retry_after_cap
    host = host_of(url)
    attempts = 0
    try:
        for attempt in retrying(settings, runtime, retry_after_cap=cap):
            with attempt:
                runtime.check(url, service)
                runtime.polite(url)
                attempts += 1
                try:
                    resp = session.request(
                        method,
                        url,
                        headers=dict(headers or {}),
                        stream=True,
                        allow_redirects=True,
                        timeout=(settings.connect_timeout, settings.read_timeout),
                    )
                    error = classify_response(resp)
                    if error is not None:
                        resp.close()
                        raise error
                    resp._content = _read_capped(resp, settings.max_response_bytes)  # noqa: SLF001
                except FetchError:
                    raise
                except Exception as exc:  # noqa: BLE001 - classified, or re-raised when not HTTP
                    raise _classify_exception(exc, url) from exc
    except HostUnreachable as exc:
        exc.attempts = attempts
        runtime.breakers.trip(host, exc.message)
        raise
    except (CircuitOpen, BudgetExhausted) as exc:
        exc.attempts = attempts
        raise
    except TransientError as exc:
        exc.attempts = attempts
        if not isinstance(exc, RateLimited):
            runtime.breakers.failure(host, exc.message)
        elif exc.retry_after is not None and exc.retry_after > cap:
            runtime.breakers.trip(host, f"rate limited for {exc.retry_after:.0f}s (cap {cap:.0f}s)")
        raise
    except FetchError as exc:
        exc.attempts = attempts
        raise
    runtime.breakers.success(host)
    return HttpResult(resp, attempts)


# ---- outcomes --------------------------------------------------------------------------------
OK, NOT_MODIFIED, FAILED, NOT_COLLECTABLE, SKIPPED, BLOCKED = (
    "ok",
    "not_modified",
    "failed",
    "not_collectable",
    "skipped",
    "blocked",
)


@dataclass
class SourceOutcome:
    """What happened to one catalog source in one run."""

    source_id: str
    fetcher: str
    origin: str
    outcome: str  # ok | not_modified | failed | not_collectable | blocked | skipped
    error: str | None = None
    http_status: int | None = None
    bytes_landed: int = 0
    attempts: int = 0
    paths: list[str] = field(default_factory=list)  # raw/ paths landed this run
    warnings: list[str] = field(default_factory=list)  # partial problems (a page, a README)
    retryable: bool = False  # the failure was transient (timeouts, 5xx, 429): a later attempt may succeed

    @property
    def reached(self) -> bool:
        return self.outcome in (OK, NOT_MODIFIED, SKIPPED)


@dataclass
class FetchReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)  # service/host -> why it was given up
    started_at: str = field(default_factory=lambda: now_utc().isoformat())
    elapsed_seconds: float = 0.0

    def add(self, outcome: SourceOutcome) -> SourceOutcome:
        self.outcomes.append(outcome)
        return outcome

    def extend(self, other: FetchReport) -> None:
        self.outcomes.extend(other.outcomes)
        self.stopped.update(other.stopped)

    def by_outcome(self, outcome: str, fetcher: str | None = None) -> list[SourceOutcome]:
        return [
            o for o in self.outcomes if o.outcome == outcome and (fetcher is None or o.fetcher == fetcher)
        ]

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.outcome in (FAILED, BLOCKED)]

    @property
    def bytes_landed(self) -> int:
        return sum(o.bytes_landed for o in self.outcomes)

    def summary_lines(self) -> list[str]:
        """One line per fetcher: counts per outcome, and the ids that could not be reached."""
        lines = []
        for fetcher in sorted({o.fetcher for o in self.outcomes}):
            mine = [o for o in self.outcomes if o.fetcher == fetcher]
            counts = Counter(o.outcome for o in mine)
            parts = [f"{n} {k}" for k, n in sorted(counts.items())]
            bad = [o.source_id for o in mine if o.outcome in (FAILED, BLOCKED, NOT_COLLECTABLE)]
            line = f"{fetcher}: " + ", ".join(parts)
            if bad:
                shown = ", ".join(bad[:8]) + (f" (+{len(bad) - 8} more)" if len(bad) > 8 else "")
                line += f"; not reached: {shown}"
            lines.append(line)
        for key, why in sorted(self.stopped.items()):
            lines.append(f"stopped {key}: {why}")
        return lines


def conditional_headers(store: RawStore, origin: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last good snapshot of this URL."""
    last = store.latest_event(origin, ("ok",))
    if last is None:
        return {}
    out = {}
    if etag := last.meta.get("etag"):
        out["If-None-Match"] = str(etag)
    if modified := last.meta.get("last_modified"):
        out["If-Modified-Since"] = str(modified)
    return out


def response_meta(resp: requests.Response, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for header, key in (
        ("ETag", "etag"),
        ("Last-Modified", "last_modified"),
        ("Content-Type", "content_type"),
    ):
        if value := resp.headers.get(header):
            meta[key] = value
    if resp.url:
        meta["final_url"] = redact(resp.url)
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def record_event(
    store: RawStore,
    status: str,
    *,
    origin: str,
    fetcher: str,
    source_id: str | None,
    error: str | None = None,
    http_status: int | None = None,
    meta: dict[str, Any] | None = None,
) -> ManifestEvent:
    event = ManifestEvent(
        status=status,
        origin=redact(origin),
        fetcher=fetcher,
        at=datetime.now(UTC).isoformat(),
        source_id=source_id,
        error=short_error(error) if error else None,
        http_status=http_status,
        meta=meta or {},
    )
    store.record(event)
    return event


def record_error(
    store: RawStore, exc: FetchError, *, origin: str, fetcher: str, source_id: str | None
) -> None:
    """A byteless outcome for an error: not_collectable for permanent ones, else failed."""
    status = NOT_COLLECTABLE if exc.outcome == NOT_COLLECTABLE else FAILED
    record_event(
        store,
        status,
        origin=origin,
        fetcher=fetcher,
        source_id=source_id,
        error=exc.message,
        http_status=exc.http_status,
        meta={"attempts": exc.attempts, "error_type": type(exc).__name__},
    )


def outcome_of(exc: FetchError) -> str:
    if isinstance(exc, Blocked):
        return BLOCKED
    return NOT_COLLECTABLE if exc.outcome == NOT_COLLECTABLE else FAILED


@dataclass
class Landed:
    """The result of ``get_and_land``: one URL fetched and its outcome written to raw/."""

    status: str  # ok | not_modified | failed | not_collectable
    attempts: int = 0
    event: ManifestEvent | None = None
    result: HttpResult | None = None
    error: FetchError | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return self.event.bytes or 0 if self.event and self.status == OK else 0


def get_and_land(
    session: requests.Session,
    url: str,
    *,
    store: RawStore,
    runtime: FetchRuntime,
    name: str,
    fetcher: str,
    source_id: str | None,
    headers: Mapping[str, str] | None = None,
    conditional: bool = False,
    service: str | None = None,
    check: Callable[[HttpResult], dict[str, Any] | None] | None = None,
    meta: dict[str, Any] | None = None,
    retry_after_cap: float | None = None,
) -> Landed:
    """GET a URL and write its outcome: the body via ``land_bytes``, else a manifest event.

    ``conditional`` sends If-None-Match / If-Modified-Since from the last good snapshot (a 304
    records ``not_modified``). ``check`` may inspect the body before it lands and raise a
    ``FetchError`` to refuse it; what it returns is merged into the landing's meta.
    """
    hdrs = dict(headers or {})
    if conditional:
        hdrs.update(conditional_headers(store, url))
    try:
        result = request(
            session,
            "GET",
            url,
            runtime=runtime,
            headers=hdrs,
            service=service,
            retry_after_cap=retry_after_cap,
        )
        if result.status == 304:
            event = record_event(
                store,
                NOT_MODIFIED,
                origin=url,
                fetcher=fetcher,
                source_id=source_id,
                http_status=304,
                meta={"attempts": result.attempts},
            )
            return Landed(NOT_MODIFIED, result.attempts, event, result)
        try:
            extra = (check(result) if check else None) or {}
        except FetchError as exc:
            exc.attempts = result.attempts
            exc.http_status = exc.http_status or result.status
            raise
    except FetchError as exc:
        record_error(store, exc, origin=url, fetcher=fetcher, source_id=source_id)
        return Landed(outcome_of(exc), exc.attempts, error=exc)
    event = store.land_bytes(
        result.content,
        name,
        origin=redact(url),
        fetcher=fetcher,
        source_id=source_id,
        http_status=result.status,
        meta=response_meta(result.response, attempts=result.attempts, **(meta or {}), **extra),
    )
    return Landed(OK, result.attempts, event, result, extra=extra)
