"""The one schema registry: the columns and DuckDB types of every table the pipeline writes with a
fixed column list. The public SQL contract built on it is docs/warehouse.md.

``CORE`` holds the tables the warehouse step loads from the parsed records (pipelines.core.warehouse
writes them, with the Polars types it derives from these); ``RESULTS`` the claims and coverage tables
(written by pipelines.core.claims.tables and pipelines.core.coverage). ``create_table`` builds any of
them, so tests build their small warehouses from the same definitions the pipeline uses.
"""

from __future__ import annotations

import duckdb

from pipelines.core import db

# table -> ordered (column, DuckDB type).
CORE: dict[str, list[tuple[str, str]]] = {
    "sources": [
        ("source_id", "VARCHAR PRIMARY KEY"),
        ("kind", "VARCHAR"),
        ("title", "VARCHAR"),
        ("url", "VARCHAR"),
        ("published_at", "DATE"),
        ("date_precision", "VARCHAR"),
        ("youtube_id", "VARCHAR"),
        ("id_confirmed", "BOOLEAN"),
        ("collection", "VARCHAR"),
        ("in_catalog", "BOOLEAN"),
        ("in_profile", "BOOLEAN"),
        ("known_gap", "BOOLEAN"),
        ("claimed_words", "BIGINT"),
        ("claimed_items", "BIGINT"),
        ("notes", "VARCHAR"),
    ],
    "snapshots": [
        ("snapshot_id", "VARCHAR PRIMARY KEY"),
        ("source_id", "VARCHAR"),
        ("path", "VARCHAR"),
        ("sha256", "VARCHAR"),
        ("bytes", "BIGINT"),
        ("seen_at", "TIMESTAMPTZ"),
        ("origin", "VARCHAR"),
        ("fetcher", "VARCHAR"),
        ("format", "VARCHAR"),
        ("status", "VARCHAR"),
        ("error", "VARCHAR"),
        ("http_status", "INTEGER"),
        ("documents_kept", "INTEGER"),
        ("documents_duplicate", "INTEGER"),
        ("issues", "INTEGER"),
    ],
    "parse_issues": [
        ("snapshot_id", "VARCHAR"),
        ("path", "VARCHAR"),
        ("position", "VARCHAR"),
        ("severity", "VARCHAR"),
        ("message", "VARCHAR"),
    ],
    "documents": [
        ("doc_id", "VARCHAR PRIMARY KEY"),
        ("source_id", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("title", "VARCHAR"),
        ("url", "VARCHAR"),
        ("published_at", "TIMESTAMPTZ"),
        ("date_basis", "VARCHAR"),
        ("author", "VARCHAR"),
        ("text", "VARCHAR"),
        ("word_count", "INTEGER"),
        ("content_sha256", "VARCHAR"),
        ("snapshot_id", "VARCHAR"),
        ("format", "VARCHAR"),
        ("quality", "INTEGER"),
        ("is_own", "BOOLEAN"),
        ("speakers_separated", "BOOLEAN"),
        ("versions", "INTEGER"),
        ("timed", "BOOLEAN"),
        ("duration_s", "DOUBLE"),
        ("duration_basis", "VARCHAR"),
    ],
    "segments": [
        ("doc_id", "VARCHAR"),
        ("seq", "INTEGER"),
        ("start_s", "DOUBLE"),
        ("end_s", "DOUBLE"),
        ("start_char", "INTEGER"),
        ("end_char", "INTEGER"),
        ("text", "VARCHAR"),
    ],
    "tweets": [
        ("tweet_id", "VARCHAR PRIMARY KEY"),
        ("doc_id", "VARCHAR"),
        ("created_at", "TIMESTAMPTZ"),
        ("text", "VARCHAR"),
        ("is_retweet", "BOOLEAN"),
        ("is_reply", "BOOLEAN"),
        ("is_quote", "BOOLEAN"),
        ("reply_to_id", "VARCHAR"),
        ("urls", "VARCHAR[]"),
        ("author", "VARCHAR"),
        ("retweet_count", "BIGINT"),
        ("like_count", "BIGINT"),
        ("reply_count", "BIGINT"),
        ("has_id", "BOOLEAN"),
    ],
    "merges": [
        ("doc_id", "VARCHAR"),
        ("kept_snapshot_id", "VARCHAR"),
        ("kept_path", "VARCHAR"),
        ("merged_snapshot_id", "VARCHAR"),
        ("merged_path", "VARCHAR"),
        ("rule", "VARCHAR"),
        ("days_apart", "INTEGER"),
    ],
    "listings": [
        ("snapshot_id", "VARCHAR"),
        ("path", "VARCHAR"),
        ("position", "INTEGER"),
        ("url", "VARCHAR"),
        ("youtube_id", "VARCHAR"),
        ("title", "VARCHAR"),
        ("published_at", "TIMESTAMPTZ"),
        ("duration_s", "DOUBLE"),
        ("source_id", "VARCHAR"),
        ("doc_id", "VARCHAR"),
    ],
    "speaker_turns": [
        ("doc_id", "VARCHAR"),
        ("seq", "INTEGER"),
        ("speaker", "VARCHAR"),
        ("is_own", "BOOLEAN"),
        ("start_s", "DOUBLE"),
        ("end_s", "DOUBLE"),
        ("start_char", "INTEGER"),
        ("end_char", "INTEGER"),
        ("basis", "VARCHAR"),
    ],
}

CLAIMS_COLUMNS: list[tuple[str, str]] = [
    ("claim_id", "VARCHAR PRIMARY KEY"),
    ("section", "VARCHAR"),
    ("type", "VARCHAR"),
    ("quote", "VARCHAR"),
    ("metric", "VARCHAR"),
    ("comparator", "VARCHAR"),
    ("expected", "VARCHAR"),
    ("measured", "VARCHAR"),
    ("verdict", "VARCHAR"),
    ("explanation", "VARCHAR"),
    ("scope_docs", "BIGINT"),
    ("scope_words", "BIGINT"),
    ("expected_docs", "BIGINT"),
    ("expected_words", "BIGINT"),
    ("coverage_ratio", "DOUBLE"),
    ("evidence_count", "BIGINT"),
    ("evidence_shown", "INTEGER"),
    ("expected_value", "DOUBLE"),
    ("measured_value", "DOUBLE"),
    ("quote_class", "VARCHAR"),
    ("later_docs", "BIGINT"),
    ("audit_verdict", "VARCHAR"),
    ("audit_agrees", "BOOLEAN"),
]

EVIDENCE_COLUMNS: list[tuple[str, str]] = [
    ("claim_id", "VARCHAR"),
    ("rank", "INTEGER"),
    ("doc_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("title", "VARCHAR"),
    ("url", "VARCHAR"),
    ("link", "VARCHAR"),
    ("start_s", "DOUBLE"),
    ("published_at", "TIMESTAMPTZ"),
    ("snippet", "VARCHAR"),
    ("matched_text", "VARCHAR"),
    ("score", "DOUBLE"),
    ("match_class", "VARCHAR"),
    ("difference", "VARCHAR"),
]

COVERAGE_COLUMNS: list[tuple[str, str]] = [
    ("source_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("title", "VARCHAR"),
    ("in_catalog", "BOOLEAN"),
    ("known_gap", "BOOLEAN"),
    ("collected", "BOOLEAN"),
    ("documents", "BIGINT"),
    ("words", "BIGINT"),
    ("claimed_words", "BIGINT"),
    ("claimed_items", "BIGINT"),
    ("words_ratio", "DOUBLE"),
    ("status", "VARCHAR"),
    ("reason", "VARCHAR"),
]

BY_KIND_COLUMNS: list[tuple[str, str]] = [
    ("kind", "VARCHAR"),
    ("sources", "BIGINT"),
    ("collected", "BIGINT"),
    ("missing", "BIGINT"),
    ("known_gaps", "BIGINT"),
    ("uncatalogued", "BIGINT"),
    ("documents", "BIGINT"),
    ("words", "BIGINT"),
    ("claimed_words", "BIGINT"),
]

RESULTS: dict[str, list[tuple[str, str]]] = {
    "claims": CLAIMS_COLUMNS,
    "claim_evidence": EVIDENCE_COLUMNS,
    "coverage": COVERAGE_COLUMNS,
    "coverage_by_kind": BY_KIND_COLUMNS,
}
TABLES: dict[str, list[tuple[str, str]]] = {**CORE, **RESULTS}

# Every table a reader of the published file may query (docs/warehouse.md): the core tables above,
# the analysis, claims and coverage tables, and the publish record. Saved queries are checked
# against this list before a run (pipelines.core.validate.check_queries).
PUBLIC_TABLES: tuple[str, ...] = (
    *CORE,
    "sentences", "phrase_hits", "phrase_frequencies", "ngrams", "mentions", "citation_tallies",
    "timeline", "first_uses", "lexicon_phrases", "lexicon_entities",
    "claims", "claim_evidence", "coverage", "coverage_by_kind",
    "_publish_info",
)


def columns(table: str) -> list[tuple[str, str]]:
    """The (column, DuckDB type) pairs of a registered table (KeyError for any other name)."""
    return TABLES[table]


def create_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """CREATE OR REPLACE a registered table, empty."""
    db.create_table(con, table, columns(table))
