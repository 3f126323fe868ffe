"""One run's fetching discipline: ``FetchRuntime`` (per-host/per-service circuit breakers, polite
per-host delays, a total time budget, an injectable ``sleep`` for tests) and ``request``: one
GET/POST with bounded retries (tenacity; exponential backoff + jitter) for transient errors
(connection errors, timeouts, 5xx, 429 honouring Retry-After up to a cap), fail-fast on
name-resolution errors (the host's breaker opens at once), and a body size cap."""

from __future__ import annotations

import email.utils
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_any
from tenacity.stop import stop_base

from pipelines.core.fetch.errors import (
    BudgetExhausted,
    CircuitOpen,
    FetchError,
    HostUnreachable,
    NotCollectable,
    RateLimited,
    TransientError,
    is_unreachable,
    short_error,
)
from pipelines.core.fetch.session import host_of
from pipelines.core.fetch.settings import FetchSettings, HttpSettings


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
