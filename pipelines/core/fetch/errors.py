"""What can go wrong in a fetch, and how it is said: the ``FetchError`` family (each with the
manifest status it records), ``is_unreachable`` (no network, no DNS), ``outcome_of``, and the
secret redaction every recorded or raised message goes through. Secrets (proxy URLs with
credentials, tokens) come from the environment variables named here only."""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Iterable, Mapping

import urllib3.exceptions

from pipelines.core.fetch.outcomes import BLOCKED, FAILED, NOT_COLLECTABLE

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


def outcome_of(exc: FetchError) -> str:
    if isinstance(exc, Blocked):
        return BLOCKED
    return NOT_COLLECTABLE if exc.outcome == NOT_COLLECTABLE else FAILED
