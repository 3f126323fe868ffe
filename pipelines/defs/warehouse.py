"""Warehouse assets: sources, snapshots, documents, segments, tweets; and the published file."""


from datetime import datetime
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset,
)

from pipelines.core import assemble as assemble_mod
from pipelines.core import assembly_keys, db, records
from pipelines.core import fingerprint as fp
from pipelines.core import warehouse as wh
from pipelines.core.assemble import Reuse, assemble_stream
from pipelines.core.ingest import Snapshot
from pipelines.core.parsecache import ParseCache
from pipelines.core.records import DOC_KINDS
from pipelines.core.searchindex import refresh_search_index
from pipelines.defs.ingest import STAGE_TABLE, raw_files
from pipelines.defs.resources import CorpusProject
from pipelines.defs.util import CHECK_RESULTS, preview, reused_check

# Published only once the derived tables are rebuilt, so readers never see new documents with old counts.
ANALYSIS_DEPS = ["sentences", "phrase_frequencies", "citation_tallies", "ngrams", "timeline", "first_uses",
                 "claims", "claim_evidence", "coverage", "coverage_by_kind"]
CORE_TABLES = ["sources", "snapshots", "parse_issues", "documents", "segments", "tweets", "merges", "listings", "speaker_turns"]
_DESCRIPTIONS = {
    "sources": "Catalog sources plus uncatalogued sources found in raw/ (in_catalog = false).",
    "snapshots": "One row per file in raw/ (and per fetch that landed nothing): status and reason.",
    "parse_issues": "Records a parser rejected or kept with a caveat: file, position, message.",
    "documents": "One row per unit of text of {thinker}'s corpus (a tweet, a transcript, a post, a paper, a README).",
    "segments": "Ordered pieces of documents: caption cues with start/end seconds, paragraphs.",
    "tweets": "Tweet fields: id, created_at, reply/retweet/quote flags, expanded URLs, counts.",
    "merges": "Every merge of copies of one item into one row: which files, which rule, days apart.",
    "listings": "Items index pages list (a blog's post index, a channel catalog): which exist and when.",
    "speaker_turns": "Who speaks when in recordings whose chapters name their speakers; is_own marks {thinker}.",
}
PREVIEW_SQL = {
    "documents": "SELECT * EXCLUDE (text) FROM documents ORDER BY published_at DESC NULLS LAST",
    "snapshots": "SELECT * FROM snapshots ORDER BY status DESC, path",
}
SNAPSHOT_FIELDS = list(Snapshot.__dataclass_fields__)


def _staged_snapshots(con) -> tuple[list[Snapshot], dict[str, int | None]]:
    """The snapshots raw_files staged, and the parser version of each (for the parse cache)."""
    snaps: list[Snapshot] = []
    versions: dict[str, int | None] = {}
    for r in db.rows(con, f"SELECT * FROM {STAGE_TABLE}"):  # noqa: S608 - identifiers are module constants, never user input
        if r.get("snapshot_id") is None:
            continue
        snap = Snapshot(**{k: r.get(k) for k in SNAPSHOT_FIELDS})  # type: ignore[arg-type]  # columns of the staging table
        if isinstance(snap.seen_at, str):
            snap.seen_at = datetime.fromisoformat(snap.seen_at)
        snaps.append(snap)
        v = r.get("parser_version")
        versions[snap.snapshot_id] = int(v) if v is not None else None
    return snaps, versions


def _table_meta(con, t: str) -> dict[str, Any]:
    n = db.count(con, t)
    meta: dict[str, Any] = {"dagster/row_count": n, "preview": preview(con, PREVIEW_SQL.get(t, f"SELECT * FROM {t}"))}  # noqa: S608 - identifiers are module constants, never user input
    if t == "documents":
        meta["by_kind"] = MetadataValue.json(
            {k: {"documents": n_, "words": w} for k, n_, w in con.execute(
                "SELECT kind, count(*), sum(word_count) FROM documents GROUP BY 1 ORDER BY 1").fetchall()}
        )
    return meta


STEP = "warehouse_tables"


@multi_asset(
    specs=[
        AssetSpec(t, group_name="warehouse", kinds={"duckdb"}, deps=[raw_files], description=_DESCRIPTIONS[t])
        for t in CORE_TABLES
    ],
    pool="warehouse",
)
def warehouse_tables(context: AssetExecutionContext, corpus: CorpusProject):
    """Match parsed documents to the catalog, deduplicate, and load the core tables.

    Skipped (tables kept) when the staged files, the catalog and this code are unchanged since the
    last run. Documents and segments stream into DuckDB in batches (``assemble_stream``)."""
    p = corpus.project
    with corpus.work_db() as con:
        inputs = fp.fingerprint(con, files=[p.catalog_path], modules=[assemble_mod, wh, records], tables=[STAGE_TABLE])

        def build() -> None:
            catalog = corpus.catalog()
            cache = ParseCache(p.cache_dir / "parse")
            snaps, versions = _staged_snapshots(con)

            def load(snap: Snapshot):
                v = versions.get(snap.snapshot_id)
                if not snap.sha256 or not snap.format or v is None or snap.status == "rejected":
                    return None
                return cache.get(snap.sha256, snap.format, v)

            def load_light(snap: Snapshot):
                v = versions.get(snap.snapshot_id)
                if not snap.sha256 or not snap.format or v is None or snap.status == "rejected":
                    return None
                return cache.light(snap.sha256, snap.format, v)

            # a document built last time under the same emission key is copied from the tables, not
            # read from its file and built again; the keys are forgotten before anything is written
            held = assembly_keys.take(con)
            code = fp.fingerprint(None, modules=assembly_keys.CODE)

            def snapshot_key(snap: Snapshot) -> str | None:
                v = versions.get(snap.snapshot_id)
                return f"{snap.sha256}:{snap.format}:{v}:{code}" if snap.sha256 and v is not None else None

            big = {"documents": wh.StagedTable(con, "documents", "doc_id"),
                   "segments": wh.StagedTable(con, "segments", "doc_id, seq")}
            kept: list[str] = []
            keys: list[tuple[str, str]] = []

            def emit(t: str, row: dict[str, Any]) -> None:
                if t == "reused":
                    kept.append(row["doc_id"])
                    keys.append((row["doc_id"], row["key"]))
                elif t == "keys":
                    keys.append((row["doc_id"], row["key"]))
                else:
                    big[t].add(row)

            tables = assemble_stream(catalog, snaps, load, emit,
                                     Reuse(snapshot_key, lambda doc_id, key: held.get(doc_id) == key), load_light)
            turns = sorted(tables.speaker_turns + assembly_keys.kept_rows(con, "speaker_turns", kept),
                           key=lambda r: (r["doc_id"], r["seq"]))
            for t in CORE_TABLES:
                if t in big:
                    big[t].swap_keeping(kept)
                elif t == "speaker_turns":
                    wh.replace_table(con, t, wh.frame(t, turns))
                else:
                    wh.replace_table(con, t, wh.frame(t, getattr(tables, t)))
            assembly_keys.record(con, keys)
            if kept:
                context.log.info(f"warehouse tables: {len(kept):,} documents kept from the last build, {len(keys) - len(kept):,} built")

        rebuilt, _ = fp.rebuild_unless_unchanged(con, STEP, inputs, CORE_TABLES, build)
        if not rebuilt:
            context.log.info("warehouse tables: raw files and catalog unchanged since the last run; tables kept")
        for t in CORE_TABLES:
            yield MaterializeResult(asset_key=AssetKey(t), metadata=_table_meta(con, t))


# documents with no text (NULL, empty or spaces only: trim() drops spaces only, and a match for any
# other character says the same without a trimmed copy of every text, 0.06 s against 2.6 s at 100x),
# of a kind not in the list, and doc_ids more than once
DOCUMENT_PROBLEMS_SQL = """
    SELECT count(*) FILTER (WHERE text IS NULL OR NOT regexp_matches(text, '[^ ]')),
           count(*) FILTER (WHERE kind NOT IN (SELECT unnest(?::VARCHAR[]))),
           count(*) - count(DISTINCT doc_id)
    FROM documents"""


@asset_check(asset=AssetKey("documents"), pool="warehouse", blocking=True, description="doc_id unique, text and kind present.")
def documents_are_well_formed(context: AssetCheckExecutionContext, corpus: CorpusProject) -> AssetCheckResult:
    def compute() -> tuple[bool, dict[str, Any]]:
        bad = con.execute(DOCUMENT_PROBLEMS_SQL, [list(DOC_KINDS)]).fetchone()
        empty, badkind, dup = bad  # type: ignore[misc]
        return (empty, badkind, dup) == (0, 0, 0), {"empty_text": empty, "bad_kind": badkind, "duplicate_ids": dup}

    with corpus.work_db() as con:
        passed, metadata = reused_check(con, corpus.project.cache_dir / CHECK_RESULTS, "documents_are_well_formed", [STEP], compute)
    return AssetCheckResult(passed=passed, metadata=metadata)


@asset_check(asset=AssetKey("snapshots"), pool="warehouse", description="Every raw file has a status; rejected ones have a reason.")
def snapshots_have_reasons(context: AssetCheckExecutionContext, corpus: CorpusProject) -> AssetCheckResult:
    def compute() -> tuple[bool, dict[str, Any]]:
        missing = db.scalar(con,
            "SELECT count(*) FROM snapshots WHERE status IN ('rejected','skipped','duplicate','failed','not_collectable') AND error IS NULL"
        )
        rejected = db.scalar(con, "SELECT count(*) FROM snapshots WHERE status = 'rejected'")
        return missing == 0, {"without_reason": missing, "rejected": rejected}

    with corpus.work_db() as con:
        passed, metadata = reused_check(con, corpus.project.cache_dir / CHECK_RESULTS, "snapshots_have_reasons", [STEP], compute)
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN, metadata=metadata)


@asset(
    group_name="warehouse",
    kinds={"duckdb"},
    deps=[AssetKey(t) for t in CORE_TABLES + ANALYSIS_DEPS],
    pool="warehouse",
)
def published_warehouse(context: AssetExecutionContext, corpus: CorpusProject) -> MaterializeResult:
    """warehouse/corpus.duckdb: the consistent file SQL users read, swapped in atomically."""
    p = corpus.project
    with corpus.work_db() as con:
        # the search indexes are rebuilt only when what they are built from changed; the passage
        # index then splits and counts only new or changed documents (warehouse/cache/search.duckdb)
        aliases = {s.id: list(s.aliases) for s in corpus.catalog().sources if s.aliases}
        rebuilt = refresh_search_index(con, aliases, cache=p.cache_dir / "search.duckdb")
        if not rebuilt:
            context.log.info("search index: documents unchanged, index kept")
        state = fp.state(con)
    if not rebuilt and state == wh.published_state(p.published_db):
        context.log.info("published warehouse: no step changed anything since the last publish; file kept")
        info = wh.published_info(p.published_db) or {}
        return MaterializeResult(
            metadata={
                "path": MetadataValue.path(str(p.published_db)),
                "tables": MetadataValue.json(info.get("tables", {})),
                "published_at": info.get("published_at", ""),
                "unchanged": True,
            }
        )
    info = wh.publish(p.work_db, p.published_db, state)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(p.published_db)),
            "tables": MetadataValue.json(info["tables"]),
            "published_at": info["published_at"],
        }
    )
