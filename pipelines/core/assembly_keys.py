"""The emission keys of the last assembly: which documents' rows the warehouse already holds.

``assemble.assemble_stream`` builds a document's rows (text, word count, timing facts, segments,
speaker turns) from its parse result. With ``assemble.Reuse`` it skips a document whose emission
key (``assemble.emission_key``: the row so far, the parse result and the document's place in it,
the metadata facts, the thinker's names, and the code below) equals the one recorded for that
doc_id by the last build; the warehouse step then copies the document's rows from the tables it
is about to replace. One new file at 100x the corpus reads and builds one file's documents, not
every file's.

The keys live in ``_assembly_keys`` (doc_id, key), next to the tables they describe. They are
taken (read and dropped) before a build writes anything and recorded after every table is
written, so a build killed half-way leaves no key and the next one builds everything.
"""

# SQL identifiers here are module constants; values are parameters or registered Arrow tables.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from pipelines.core import db

TABLE = "_assembly_keys"

# The code a document's rows are built by: a change to any of it builds every document again.
CODE = [f"pipelines.core.{m}" for m in (
    "assemble", "assembly_keys", "authorship", "matching", "records", "schema", "textutil", "transcript_facts",
    "tweet_merge", "warehouse",
)]


def take(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The recorded keys (none unless the documents table is there too), dropped from the database."""
    if not db.table_exists(con, TABLE):
        return {}
    held = dict(con.execute(f"SELECT doc_id, key FROM {TABLE}").fetchall()) if db.table_exists(con, "documents") else {}
    con.execute(f"DROP TABLE {TABLE}")
    return held


def record(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]]) -> None:
    """Record the keys of the build just written (every table of it)."""
    import pyarrow as pa

    con.register("_keys_in", pa.table({"doc_id": pa.array([k[0] for k in keys], pa.string()),
                                       "key": pa.array([k[1] for k in keys], pa.string())}))
    try:
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT doc_id, key FROM _keys_in ORDER BY doc_id")
    finally:
        con.unregister("_keys_in")


def kept_rows(con: duckdb.DuckDBPyConnection, table: str, doc_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The current rows of ``table`` for these documents (a per-document table not built in batches)."""
    if not doc_ids or not db.table_exists(con, table):
        return []
    with db.values_table(con, list(doc_ids)) as ids:
        return db.rows(con, f"SELECT * FROM {table} WHERE doc_id IN (SELECT v FROM {ids})")
