"""arXiv papers: the API's Atom entry (metadata), then the PDF.

- ``<api_base>?id_list=<arxiv_id>`` lands as ``<arxiv_id>.arxiv.xml`` (fetcher "arxiv"). The
  API answers 200 with an "Error" entry, or no entry, for an unknown id: that is
  ``not_collectable``.
- ``<pdf_base><arxiv_id>`` lands as ``<arxiv_id>.pdf`` (fetcher "arxiv"); a body that is not a
  PDF is refused (``failed``).

Each URL with a good snapshot is not fetched again unless ``refresh``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import feedparser  # type: ignore[import-untyped]
import requests

from pipelines.core.config import Source
from pipelines.core.fetch.errors import FetchError, NotCollectable
from pipelines.core.fetch.feeds import check_declarations
from pipelines.core.fetch.landing import get_and_land, safe_slug
from pipelines.core.fetch.outcomes import FAILED, NOT_COLLECTABLE, OK, SKIPPED, SourceOutcome
from pipelines.core.fetch.runtime import FetchRuntime, HttpResult
from pipelines.core.fetch.settings import FetchSettings
from pipelines.core.rawstore import RawStore

FETCHER = "arxiv"
SERVICE = "arxiv"


def api_url(arxiv_id: str, settings: FetchSettings) -> str:
    return f"{settings.arxiv.api_base}?{urlencode({'id_list': arxiv_id})}"


def pdf_url(arxiv_id: str, settings: FetchSettings) -> str:
    return f"{settings.arxiv.pdf_base}{arxiv_id}"


def _check_atom(result: HttpResult) -> dict[str, Any]:
    check_declarations(result.content)
    parsed = feedparser.parse(result.content)
    entries = [e for e in parsed.entries if (e.get("title") or "").strip().lower() != "error"]
    if parsed.get("bozo") and not parsed.entries:
        raise FetchError(f"arXiv API answer is not Atom: {parsed.get('bozo_exception')}")
    if not entries:
        raise NotCollectable("arXiv API has no entry for this id")
    return {"title": " ".join((entries[0].get("title") or "").split())[:300] or None}


def _check_pdf(result: HttpResult) -> dict[str, Any]:
    if not result.content.startswith(b"%PDF"):
        ctype = result.response.headers.get("Content-Type", "?")
        raise FetchError(f"not a PDF (Content-Type {ctype}, {len(result.content)} bytes)")
    return {}


def fetch_paper(
    source: Source,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session,
    *,
    runtime: FetchRuntime | None = None,
    refresh: bool = False,
) -> SourceOutcome:
    """Land one paper's arXiv metadata and PDF."""
    runtime = runtime or FetchRuntime(settings)
    arxiv_id = (source.arxiv_id or "").strip()
    if not arxiv_id:
        return SourceOutcome(source.id, FETCHER, "", FAILED, error="no arxiv_id in the catalog")
    stem = safe_slug(arxiv_id.replace("/", "_"))
    steps = [
        (api_url(arxiv_id, settings), f"{stem}.arxiv.xml", _check_atom, {"Accept": "application/atom+xml"})
    ]
    if settings.arxiv.fetch_pdf:
        steps.append((pdf_url(arxiv_id, settings), f"{stem}.pdf", _check_pdf, {"Accept": "application/pdf"}))

    out = SourceOutcome(source.id, FETCHER, steps[0][0], SKIPPED)
    results = []
    for url, name, check, headers in steps:
        if not refresh and store.latest_event(url, ("ok",)) is not None:
            results.append(SKIPPED)
            continue
        landed = get_and_land(
            session,
            url,
            store=store,
            runtime=runtime,
            name=name,
            fetcher=FETCHER,
            source_id=source.id,
            headers=headers,
            service=SERVICE,
            check=check,
            meta={"arxiv_id": arxiv_id},
        )
        out.attempts += landed.attempts
        out.bytes_landed += landed.bytes
        if landed.status == OK and landed.event and landed.event.path:
            out.paths.append(landed.event.path)
            out.http_status = landed.result.status if landed.result else None
        if landed.error is not None:
            out.error = out.error or landed.error.message
            out.http_status = landed.error.http_status
            if url != steps[0][0]:
                out.warnings.append(f"{url}: {landed.status}: {landed.error.message}")
        results.append(landed.status)
        if landed.status == NOT_COLLECTABLE and url == steps[0][0]:
            break  # no such paper: do not ask for its PDF
    out.outcome = _combine(results)
    return out


def _combine(results: list[str]) -> str:
    """The source's outcome: the worst step's (failed > not_collectable > ok > not_modified > skipped)."""
    for status in (FAILED, NOT_COLLECTABLE, OK, "not_modified"):
        if status in results:
            return status
    return SKIPPED
