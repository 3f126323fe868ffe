"""Fetch assets: collect what the catalog names into raw/ (YouTube, feeds, arXiv, GitHub).

``fetched_sources`` runs every enabled fetcher once per run (it is upstream of ``raw_files``, so
`corpus run` fetches, then parses). Offline it finishes quickly: each unreachable host trips its
circuit breaker and every source is recorded as not collected, with the reason, in raw/.

``youtube_transcript`` is the same YouTube fetch, one partition per catalog video id, so a single
video can be fetched, retried or backfilled from the UI. At most one YouTube fetch runs at a time
(concurrency pool ``youtube``); transient failures are retried with exponential backoff and jitter.
"""

import os

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Backoff,
    Config,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    StaticPartitionsDefinition,
    asset,
)

from pipelines.core import progress
from pipelines.core.config import Catalog
from pipelines.core.fetch import FetchRuntime, fetch_all, fetch_transcript, load_fetch_settings, make_session
from pipelines.core.fetch.errors import TransientError
from pipelines.core.fetch.outcomes import FAILED
from pipelines.defs.resources import CorpusProject


class FetchConfig(Config):
    """Run config: ``refresh`` re-fetches sources that already have a good snapshot."""

    refresh: bool = False
    offline: bool = False


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class _FetchProgress:
    """One progress line (or a live bar) per source fetched: fetcher, host, outcome."""

    def __init__(self) -> None:
        self.task: progress.Task | None = None

    def __call__(self, i: int, n: int, line: str) -> None:
        if self.task is None:
            self.task = progress.task("fetch", n, "sources")
        self.task.advance(i - self.task.done, line)
        if i == n:
            self.task.finish()


@asset(group_name="ingest", kinds={"python"}, pool="fetch")
def fetched_sources(context: AssetExecutionContext, config: FetchConfig, corpus: CorpusProject) -> MaterializeResult:
    """Every source of {thinker}'s catalog that a fetcher serves, fetched into raw/ unless already collected.

    `corpus run --refresh` (or run config ``refresh: true``) fetches again; `corpus run --offline`
    (or ``CORPUS_OFFLINE=1``) skips the network entirely.
    """
    p = corpus.project
    offline = config.offline or _env_flag("CORPUS_OFFLINE")
    if offline:
        context.log.info("offline: nothing fetched (raw/ is used as it is)")
        return MaterializeResult(metadata={"offline": True, "fetched": 0})
    catalog = corpus.catalog()
    settings = load_fetch_settings(p.analysis / "fetch.yaml")
    store = corpus.raw_store()
    store.ensure()
    report = fetch_all(
        catalog,
        store,
        settings,
        refresh=config.refresh or _env_flag("CORPUS_REFRESH"),
        log=context.log.debug,
        progress=_FetchProgress(),
    )
    for line in report.summary_lines():
        context.log.info(line)
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return MaterializeResult(
        metadata={
            "outcomes": MetadataValue.json(counts),
            "bytes_landed": report.bytes_landed,
            "given_up": MetadataValue.json(dict(report.stopped)),
            "not_collected": MetadataValue.md(
                "\n".join(f"- `{o.source_id}` ({o.fetcher}): {o.error}" for o in report.failed) or "none"
            ),
            "elapsed_seconds": report.elapsed_seconds,
        }
    )


def catalog_video_ids(catalog: Catalog) -> list[str]:
    """Partition keys of ``youtube_transcript``: the catalog's YouTube ids (Known Gaps left out)."""
    return sorted({s.youtube_id for s in catalog.sources if s.youtube_id and not s.known_gap})


def build_youtube_transcript(video_ids: list[str]) -> AssetsDefinition:
    """The per-video fetch asset, one partition per video of the project's catalog."""

    @asset(
        group_name="ingest",
        kinds={"youtube"},
        partitions_def=StaticPartitionsDefinition(video_ids),
        pool="youtube",
        retry_policy=RetryPolicy(max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS),
    )
    def youtube_transcript(context: AssetExecutionContext, config: FetchConfig, corpus: CorpusProject) -> MaterializeResult:
        """One video's transcript fetched into raw/ (per-video partition: fetch, retry or backfill one)."""
        video_id = context.partition_key
        p = corpus.project
        settings = load_fetch_settings(p.analysis / "fetch.yaml")
        catalog = corpus.catalog()
        source = next((s for s in catalog.sources if s.youtube_id == video_id), None)
        store = corpus.raw_store()
        store.ensure()
        outcome = fetch_transcript(
            video_id,
            store,
            settings,
            make_session(settings),
            source.id if source else None,
            refresh=config.refresh,
            runtime=FetchRuntime(settings),
        )
        context.log.info(f"{video_id}: {outcome.outcome}{' - ' + outcome.error if outcome.error else ''}")
        if outcome.outcome == FAILED and outcome.retryable:
            raise TransientError(outcome.error or "transient failure")  # let the RetryPolicy back off and try again
        return MaterializeResult(
            metadata={
                "outcome": outcome.outcome,
                "error": outcome.error or "",
                "source_id": source.id if source else "",
                "bytes_landed": outcome.bytes_landed,
            }
        )

    return youtube_transcript
