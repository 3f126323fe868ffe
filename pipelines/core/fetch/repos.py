"""GitHub repositories through the REST API.

- ``GET {api_base}/repos/{owner}/{repo}`` lands the API's JSON (description, stargazers_count,
  created_at, pushed_at, ...) as ``<owner>_<repo>.github-repo.json`` (fetcher "github").
- ``GET {api_base}/repos/{owner}/{repo}/readme`` with ``Accept: application/vnd.github.raw``
  lands as ``<owner>_<repo>.README.md``; a repo without README is ``not_collectable`` for that
  URL only.

Both are conditional requests (ETag / Last-Modified of the last good snapshot; a 304 does not
count against GitHub's rate limit). An optional token comes from ``GITHUB_TOKEN`` and is sent
only to the API host, never logged. Rate limits: a 403/429 with ``X-RateLimit-Remaining: 0``
waits until ``X-RateLimit-Reset`` when that is within ``github.rate_limit_wait_cap``; otherwise
the GitHub fetcher stops for this run (the "github" breaker opens, with a clear message).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

import requests

from pipelines.core.config import Source
from pipelines.core.fetch.errors import ENV_GITHUB_TOKEN, RateLimited
from pipelines.core.fetch.landing import get_and_land, safe_slug
from pipelines.core.fetch.outcomes import FAILED, NOT_COLLECTABLE, OK, SKIPPED, SourceOutcome
from pipelines.core.fetch.runtime import FetchRuntime
from pipelines.core.fetch.session import host_of
from pipelines.core.fetch.settings import FetchSettings
from pipelines.core.rawstore import RawStore

FETCHER = "github"
SERVICE = "github"
API_VERSION = "2022-11-28"


def github_headers(
    settings: FetchSettings, accept: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = os.environ if env is None else env
    headers = {"Accept": accept, "X-GitHub-Api-Version": API_VERSION}
    token = env.get(ENV_GITHUB_TOKEN)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def repo_urls(github_repo: str, settings: FetchSettings) -> tuple[str, str]:
    base = f"{settings.github.api_base}/repos/{github_repo}"
    return base, f"{base}/readme"


def _rate_limit_message(exc: RateLimited, cap: float) -> str:
    when = ""
    if exc.retry_after is not None:
        reset = datetime.fromtimestamp(datetime.now(UTC).timestamp() + exc.retry_after, UTC)
        when = f" until {reset.isoformat(timespec='seconds')} ({exc.retry_after:.0f}s, more than the {cap:.0f}s cap)"
    return (
        f"GitHub rate limit exhausted{when}; GitHub fetching stopped for this run "
        f"(set {ENV_GITHUB_TOKEN} for a higher limit, or run again later)"
    )


def fetch_repo(
    source: Source,
    store: RawStore,
    settings: FetchSettings,
    session: requests.Session,
    *,
    runtime: FetchRuntime | None = None,
    refresh: bool = False,
    env: Mapping[str, str] | None = None,
) -> SourceOutcome:
    """Land one repository's API metadata and its README."""
    runtime = runtime or FetchRuntime(settings)
    cap = settings.github.rate_limit_wait_cap  # GitHub's reset wait has its own cap

    repo = source.github_repo or ""
    if not repo:
        return SourceOutcome(source.id, FETCHER, "", FAILED, error="no github_repo in the catalog")
    meta_url, readme_url = repo_urls(repo, settings)
    stem = safe_slug(repo.replace("/", "_"))
    steps = [(meta_url, f"{stem}.github-repo.json", "application/vnd.github+json")]
    if settings.github.fetch_readme:
        steps.append((readme_url, f"{stem}.README.md", "application/vnd.github.raw"))

    out = SourceOutcome(source.id, FETCHER, meta_url, SKIPPED)
    results = []
    for url, name, accept in steps:
        landed = get_and_land(
            session,
            url,
            store=store,
            runtime=runtime,
            name=name,
            fetcher=FETCHER,
            source_id=source.id,
            headers=github_headers(settings, accept, env),
            conditional=not refresh,
            service=SERVICE,
            meta={"github_repo": repo},
            retry_after_cap=cap,
        )
        out.attempts += landed.attempts
        out.bytes_landed += landed.bytes
        results.append(landed.status)
        if landed.status == OK and landed.event and landed.event.path:
            out.paths.append(landed.event.path)
        if landed.result is not None and url == meta_url:
            out.http_status = landed.result.status
        exc = landed.error
        if exc is None:
            continue
        if isinstance(exc, RateLimited) and (exc.retry_after is None or exc.retry_after > cap):
            message = _rate_limit_message(exc, cap)
            runtime.breakers.trip(SERVICE, message)
            runtime.breakers.open.pop(host_of(url), None)  # the service breaker says it better
            runtime.breakers.trip(host_of(url), message)
        if url == meta_url:
            out.error, out.http_status = exc.message, exc.http_status
            if landed.status == NOT_COLLECTABLE or runtime.breakers.reason(SERVICE):
                break
        else:
            out.warnings.append(f"README: {landed.status}: {exc.message}")
    out.outcome = _combine(results)
    return out


def _combine(results: list[str]) -> str:
    if not results:
        return SKIPPED
    first = results[0]  # the repository itself decides; a missing README is a warning
    if first in (FAILED, NOT_COLLECTABLE, "blocked"):
        return first
    if FAILED in results:
        return FAILED
    return OK if OK in results else first
