"""YouTube transcripts through ``youtube-transcript-api`` (1.2.5), with our session.

The library fetches the watch page, POSTs the innertube player API and GETs the timedtext
URL, all through the ``requests.Session`` we hand it (so our User-Agent, timeouts, proxies and
host rewriting apply). We choose the transcript: a manually created one in a preferred
language beats a generated one; and we store it as JSON named ``<video_id>.youtube-transcript.json``:

    {"video_id", "language", "language_code", "is_generated", "library": "youtube-transcript-api",
     "library_version": "1.2.5", "fetched_at", "snippets": [{"text", "start", "duration"}]}

Errors: transient ones (connection errors, timeouts, ``YouTubeRequestFailed`` for 5xx) are
retried with backoff; ``RequestBlocked``/``IpBlocked`` open the run's "youtube" breaker so no
further video is tried; permanent ones (transcripts disabled, no transcript in the preferred
languages, video unavailable/unplayable, age restricted, invalid id) are ``not_collectable``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

import requests
from youtube_transcript_api import (
    AgeRestricted,
    CouldNotRetrieveTranscript,
    FetchedTranscript,
    InvalidVideoId,
    IpBlocked,
    NoTranscriptFound,
    NotTranslatable,
    PoTokenRequired,
    RequestBlocked,
    Transcript,
    TranscriptList,
    TranscriptsDisabled,
    TranslationLanguageNotAvailable,
    VideoUnavailable,
    VideoUnplayable,
    YouTubeDataUnparsable,
    YouTubeRequestFailed,
    YouTubeTranscriptApi,
)
from youtube_transcript_api.proxies import GenericProxyConfig, ProxyConfig, WebshareProxyConfig

from pipelines.core.fetch.errors import ENV_WEBSHARE_PASSWORD as _WS_PASSWORD
from pipelines.core.fetch.errors import ENV_WEBSHARE_USER as _WS_USER
from pipelines.core.fetch.errors import (
    Blocked,
    FetchError,
    HostUnreachable,
    NotCollectable,
    TransientError,
    outcome_of,
    short_error,
)
from pipelines.core.fetch.landing import record_error
from pipelines.core.fetch.outcomes import BLOCKED, OK, SKIPPED, SourceOutcome
from pipelines.core.fetch.runtime import FetchRuntime, _classify_exception, retrying
from pipelines.core.fetch.session import env_proxies, host_of
from pipelines.core.fetch.settings import FetchSettings
from pipelines.core.rawstore import RawStore, now_utc

FETCHER = "youtube"
SERVICE = "youtube"
LIBRARY = "youtube-transcript-api"
WATCH_URL = "https://www.youtube.com/watch?v={video_id}"
PERMANENT = (
    TranscriptsDisabled,
    NoTranscriptFound,
    VideoUnavailable,
    InvalidVideoId,
    AgeRestricted,
    VideoUnplayable,
    NotTranslatable,
    TranslationLanguageNotAvailable,
    PoTokenRequired,
)


def library_version() -> str:
    try:
        return dist_version(LIBRARY)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def transcript_name(video_id: str) -> str:
    return f"{video_id}.youtube-transcript.json"


def watch_url(video_id: str) -> str:
    return WATCH_URL.format(video_id=video_id)


def proxy_config_from_env(
    settings: FetchSettings, env: Mapping[str, str] | None = None
) -> ProxyConfig | None:
    """Webshare rotating proxies (CORPUS_WEBSHARE_USER/PASSWORD) or a generic proxy (CORPUS_HTTP(S)_PROXY)."""
    env = os.environ if env is None else env
    user, password = env.get(_WS_USER), env.get(_WS_PASSWORD)
    if user and password:
        return WebshareProxyConfig(user, password, retries_when_blocked=settings.youtube.retries_when_blocked)
    proxies = env_proxies(env)
    if proxies:
        return GenericProxyConfig(http_url=proxies["http"], https_url=proxies["https"])
    return None


def choose_transcript(transcripts: TranscriptList, languages: list[str]) -> Transcript:
    """A manually created transcript in any preferred language, else a generated one."""
    try:
        return transcripts.find_manually_created_transcript(languages)
    except NoTranscriptFound:
        return transcripts.find_generated_transcript(languages)


def transcript_json(fetched: FetchedTranscript) -> bytes:
    doc = {
        "video_id": fetched.video_id,
        "language": fetched.language,
        "language_code": fetched.language_code,
        "is_generated": fetched.is_generated,
        "library": LIBRARY,
        "library_version": library_version(),
        "fetched_at": now_utc().isoformat(),
        "snippets": [{"text": s.text, "start": s.start, "duration": s.duration} for s in fetched.snippets],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _reason(exc: CouldNotRetrieveTranscript) -> str:
    cause = " ".join(str(exc.cause).split())
    first = re.split(r"(?<=[.!])\s", cause, maxsplit=1)[0] if cause else ""
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def _status_of(exc: YouTubeRequestFailed) -> int | None:
    m = re.match(r"\s*(\d{3})\b", exc.reason)
    return int(m.group(1)) if m else None


def _translate(exc: BaseException, url: str) -> FetchError:
    """Map a library or requests exception to our outcome classes."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, RequestBlocked):  # IpBlocked included
        return Blocked(
            f"blocked by YouTube: {_reason(exc)}", http_status=429 if isinstance(exc, IpBlocked) else None
        )
    if isinstance(exc, PERMANENT):
        return NotCollectable(_reason(exc))
    if isinstance(exc, YouTubeRequestFailed):
        status = _status_of(exc)
        if status is not None and 400 <= status < 500:
            return FetchError(_reason(exc), http_status=status)
        return TransientError(_reason(exc), http_status=status)
    if isinstance(exc, YouTubeDataUnparsable | CouldNotRetrieveTranscript):
        return FetchError(_reason(exc))
    return _classify_exception(exc, url)


def fetch_transcript(
    video_id: str,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session,
    source_id: str | None,
    refresh: bool = False,
    *,
    runtime: FetchRuntime | None = None,
    env: Mapping[str, str] | None = None,
) -> SourceOutcome:
    """Fetch one video's transcript into raw/ and record the outcome.

    The session may be changed by the library (Accept-Language header; proxies when a proxy
    config is set), so give YouTube its own session (``make_session``).
    """
    runtime = runtime or FetchRuntime(settings)
    sid = source_id or video_id
    origin = watch_url(video_id)
    if not refresh and (last := store.latest_event(origin, ("ok",))) is not None:
        return SourceOutcome(sid, FETCHER, origin, SKIPPED, error=f"already collected ({last.path})")

    api = YouTubeTranscriptApi(proxy_config=proxy_config_from_env(settings, env), http_client=session)
    languages = list(settings.youtube.languages)
    attempts = 0

    def one_attempt() -> FetchedTranscript:
        nonlocal attempts
        runtime.check(origin, SERVICE)
        runtime.polite(origin)
        attempts += 1
        try:
            return choose_transcript(api.list(video_id), languages).fetch()
        except Exception as exc:  # noqa: BLE001 - translated into an outcome class
            raise _translate(exc, origin) from exc

    try:
        fetched: FetchedTranscript | None = None
        for attempt in retrying(settings.http, runtime):
            with attempt:
                fetched = one_attempt()
        assert fetched is not None  # noqa: S101 - reraise=True guarantees it
    except FetchError as exc:
        exc.attempts = attempts
        if isinstance(exc, Blocked):
            runtime.breakers.trip(SERVICE, exc.message)
        elif isinstance(exc, HostUnreachable):
            runtime.breakers.trip(host_of(origin), exc.message)
            runtime.breakers.trip(SERVICE, exc.message)
        elif isinstance(exc, TransientError):
            runtime.breakers.failure(SERVICE, exc.message)
        record_error(store, exc, origin=origin, fetcher=FETCHER, source_id=source_id)
        return SourceOutcome(
            sid,
            FETCHER,
            origin,
            outcome_of(exc),
            error=exc.message,
            http_status=exc.http_status,
            attempts=attempts,
            retryable=isinstance(exc, TransientError),
        )

    runtime.breakers.success(SERVICE)
    data = transcript_json(fetched)
    event = store.land_bytes(
        data,
        transcript_name(video_id),
        origin=origin,
        fetcher=FETCHER,
        source_id=source_id,
        http_status=200,
        meta={
            "language_code": fetched.language_code,
            "is_generated": fetched.is_generated,
            "snippets": len(fetched.snippets),
            "attempts": attempts,
            "library_version": library_version(),
        },
    )
    return SourceOutcome(
        sid,
        FETCHER,
        origin,
        OK,
        http_status=200,
        bytes_landed=event.bytes or 0,
        attempts=attempts,
        paths=[event.path or ""],
    )


__all__ = [
    "BLOCKED",
    "choose_transcript",
    "fetch_transcript",
    "proxy_config_from_env",
    "short_error",
    "transcript_name",
    "watch_url",
]
