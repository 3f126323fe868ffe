"""Validated fetch configuration: ``analysis/fetch.yaml``.

Everything a fetcher needs that is not a secret: base URLs, timeouts, retries, polite delays,
language preference and an ``enabled`` switch per fetcher. Secrets (proxy credentials, the
GitHub token) come only from environment variables, never from this file; see ``errors.py``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines.core.config import load_yaml_model

PROJECT_URL = "https://github.com/thinker-corpus/thinker-corpus"
DEFAULT_USER_AGENT = f"thinker-corpus/0.1 (+{PROJECT_URL}; corpus research)"
FETCHERS = ("youtube", "feed", "arxiv", "github")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _strip_slash(v: str) -> str:
    return v.rstrip("/")


class HttpSettings(_Model):
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    # Attempts per request, the first included (1 = no retry).
    max_attempts: int = Field(default=4, ge=1, le=10)
    # Exponential backoff: initial * 2**n, capped at backoff_max, plus up to `jitter` seconds.
    backoff_initial: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=1.0, ge=0)
    # Longest Retry-After (or rate-limit reset) we are willing to sleep for; longer gives up.
    retry_after_cap: float = Field(default=60.0, ge=0)
    # Polite delay between two requests to the same host, and per-host overrides.
    polite_delay: float = Field(default=1.0, ge=0)
    host_delays: dict[str, float] = Field(default_factory=lambda: {"export.arxiv.org": 3.0, "arxiv.org": 3.0})
    # Consecutive failed requests to one host (after their retries) that open its circuit.
    breaker_threshold: int = Field(default=3, ge=1)
    # Largest response body accepted (PDFs are the big ones).
    max_response_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    # Wall-clock budget for one fetch_all run, in seconds.
    total_budget: float = Field(default=1800.0, gt=0)


class YouTubeSettings(_Model):
    enabled: bool = True
    # The library always talks to https://www.youtube.com; another base URL here makes the
    # session rewrite those requests to it (a mirror, a recording proxy, a test server).
    base_url: str = "https://www.youtube.com"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    # How many times the library itself re-tries a blocked request through a rotating proxy
    # (only with CORPUS_WEBSHARE_USER/PASSWORD set).
    retries_when_blocked: int = Field(default=3, ge=0, le=10)

    _base = field_validator("base_url")(_strip_slash)


class FeedOverride(_Model):
    url: str | None = None
    enabled: bool = True
    # True: entries carry only summaries, fetch every entry's page. None: decide per entry.
    summary_only: bool | None = None


class FeedSettings(_Model):
    enabled: bool = True
    # Per catalog source id: another feed URL, disabled, or summary-only.
    overrides: dict[str, FeedOverride] = Field(default_factory=dict)
    # An entry whose content (HTML stripped) is shorter than this is treated as a summary.
    summary_max_chars: int = Field(default=1500, ge=0)
    fetch_pages: bool = True
    max_pages_per_feed: int = Field(default=200, ge=0)


class ArxivSettings(_Model):
    enabled: bool = True
    api_base: str = "http://export.arxiv.org/api/query"
    pdf_base: str = "https://arxiv.org/pdf/"
    fetch_pdf: bool = True

    @field_validator("pdf_base")
    @classmethod
    def _slash(cls, v: str) -> str:
        return v if v.endswith("/") else v + "/"


class GitHubSettings(_Model):
    enabled: bool = True
    api_base: str = "https://api.github.com"
    # Longest wait for X-RateLimit-Reset before stopping the GitHub fetcher for the run.
    rate_limit_wait_cap: float = Field(default=120.0, ge=0)
    fetch_readme: bool = True

    _base = field_validator("api_base")(_strip_slash)


class FetchSettings(_Model):
    http: HttpSettings = Field(default_factory=HttpSettings)
    youtube: YouTubeSettings = Field(default_factory=YouTubeSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)

    def enabled(self, fetcher: str) -> bool:
        return {
            "youtube": self.youtube.enabled,
            "feed": self.feeds.enabled,
            "arxiv": self.arxiv.enabled,
            "github": self.github.enabled,
        }.get(fetcher, False)


def load_fetch_settings(path: Path | None) -> FetchSettings:
    """Load ``analysis/fetch.yaml``; a missing file means the defaults."""
    if path is None or not Path(path).exists():
        return FetchSettings()
    return load_yaml_model(Path(path), FetchSettings)
