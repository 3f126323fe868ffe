"""Writing fetch results to raw/: conditional request headers from the last good snapshot, the
response metadata recorded with a body, ``record_event`` / ``record_error`` for outcomes without
a body, and ``get_and_land`` (fetch one URL and land its bytes or its error)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from pipelines.core.fetch.errors import FetchError, outcome_of, redact, short_error
from pipelines.core.fetch.outcomes import FAILED, NOT_COLLECTABLE, NOT_MODIFIED, OK
from pipelines.core.fetch.runtime import FetchRuntime, HttpResult, request
from pipelines.core.rawstore import ManifestEvent, RawStore


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


def safe_slug(text: str, default: str = "item") -> str:
    """A short file-name-safe slug."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:80]
    return slug or default


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
