"""Ingest assets: everything in raw/ parsed (cached by content hash) into a staging table."""


from collections import Counter

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.core import progress
from pipelines.core import warehouse as wh
from pipelines.core.ingest import scan_and_parse
from pipelines.core.parsers import all_parsers
from pipelines.defs.fetch import fetched_sources
from pipelines.defs.resources import CorpusProject

STAGE_TABLE = "_stage_files"


class _ParseProgress:
    """scan_and_parse's per-file callback, as a progress task (a live bar on a terminal)."""

    def __init__(self) -> None:
        self.task: progress.Task | None = None

    def __call__(self, i: int, n: int, path: str) -> None:
        if self.task is None:
            self.task = progress.task("parse", n, "files", rate_of=progress.rate("files"))
        self.task.advance(i - self.task.done, path.rsplit("/", 1)[-1])
        if i == n:
            self.task.finish()


@asset(group_name="ingest", kinds={"python", "duckdb"}, pool="warehouse", deps=[fetched_sources, AssetKey("youtube_transcript")])
def raw_files(context: AssetExecutionContext, corpus: CorpusProject) -> MaterializeResult:
    """Every file in raw/ (inbox drops, imports, fetched snapshots) identified and parsed.

    Parsing is cached per (sha256, parser, version) in warehouse/cache/, so a re-run reads only
    new or changed files. Fetches that landed nothing (failed, not collectable) come from
    raw/manifest.jsonl.
    """
    p = corpus.project
    store = corpus.raw_store()
    store.ensure()
    versions = {spec.name: spec.version for spec in all_parsers()}
    parsed = scan_and_parse(store, cache_dir=p.cache_dir / "parse", progress=_ParseProgress(), keep_results=False)
    rows = []
    for pf in parsed:
        row = dict(vars(pf.snapshot))  # its fields, in order (all flat: asdict's deep copy is not needed)
        row["parser_version"] = versions.get(pf.snapshot.format or "", None)
        rows.append(row)
    import polars as pl

    df = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    with corpus.work_db() as con:
        con.execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
        if df.height:
            con.register("_incoming", df.to_arrow())
            con.execute(f"CREATE TABLE {STAGE_TABLE} AS SELECT * FROM _incoming")  # noqa: S608 - identifiers are module constants, never user input
        else:
            con.execute(f"CREATE TABLE {STAGE_TABLE} (snapshot_id VARCHAR)")
    by_status = Counter(pf.snapshot.status for pf in parsed)
    by_format = Counter(pf.snapshot.format or "(none)" for pf in parsed)
    context.log.info(f"raw files: {dict(by_status)}")
    return MaterializeResult(
        metadata={
            "files": len(parsed),
            "by_status": MetadataValue.json(dict(by_status)),
            "by_format": MetadataValue.json(dict(by_format)),
            "rejected": MetadataValue.md(
                "\n".join(
                    f"- `{pf.snapshot.path or pf.snapshot.origin}`: {pf.snapshot.error}"
                    for pf in parsed
                    if pf.snapshot.status == "rejected"
                )
                or "none"
            ),
        }
    )


_ = wh  # the staging table lives in the same working database as the warehouse tables
