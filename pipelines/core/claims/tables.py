"""The ``claims`` and ``claim_evidence`` tables: their columns and their one writer."""

# SQL here is assembled only from table names and column lists defined in this module.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

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


def _ph(n: int) -> str:
    return ",".join("?" * n)


def _arrow_rows(cols: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]]) -> Any:
    """``rows`` as an Arrow table of the columns' types, or None when a value does not fit as is
    (then DuckDB's own parameter conversion decides, as it always has)."""
    import pyarrow as pa

    types = {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    }
    arrays = {}
    for name, decl in cols:
        values = [r.get(name) for r in rows]
        kind = decl.split()[0]
        if kind == "TIMESTAMPTZ" and any(
            v is not None and (not isinstance(v, datetime) or v.tzinfo is None) for v in values
        ):
            return None  # a naive or non-datetime value: its time zone is DuckDB's to decide
        try:
            arrays[name] = pa.array(values, type=types[kind], from_pandas=False)
        except (KeyError, pa.ArrowException, TypeError, ValueError, OverflowError):
            return None
    return pa.table(arrays)


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    cols: Sequence[tuple[str, str]],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Insert ``rows`` in one Arrow scan; ``executemany`` converts every value on its own, which
    costs about a second for a few hundred claims."""
    names = [n for n, _ in cols]
    arrow = _arrow_rows(cols, rows)
    if arrow is None:
        con.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({_ph(len(names))})",
            [[r.get(n) for n in names] for r in rows],
        )
        return
    view = f"_{table}_incoming"
    con.register(view, arrow)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {view}")
    finally:
        con.unregister(view)


def replace_claim_tables(
    con: duckdb.DuckDBPyConnection,
    claims_rows: Sequence[dict[str, Any]],
    evidence_rows: Sequence[dict[str, Any]],
) -> None:
    """Replace ``claims`` and ``claim_evidence`` in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, cols, rows in (
            ("claims", CLAIMS_COLUMNS, claims_rows),
            ("claim_evidence", EVIDENCE_COLUMNS, evidence_rows),
        ):
            con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{n} {t}' for n, t in cols)})")
            if rows:
                _insert_rows(con, table, cols, rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
