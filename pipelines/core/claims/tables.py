"""The one writer of the ``claims`` and ``claim_evidence`` tables (their columns are in
pipelines.core.schema)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from pipelines.core import db
from pipelines.core.schema import CLAIMS_COLUMNS, EVIDENCE_COLUMNS, columns

__all__ = ["CLAIMS_COLUMNS", "EVIDENCE_COLUMNS", "replace_claim_tables"]


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


def replace_claim_tables(
    con: duckdb.DuckDBPyConnection,
    claims_rows: Sequence[dict[str, Any]],
    evidence_rows: Sequence[dict[str, Any]],
) -> None:
    """Replace ``claims`` and ``claim_evidence`` in one transaction. Rows go in as one Arrow scan;
    ``executemany`` (which converts every value on its own, about a second for a few hundred
    claims) only when a value does not fit its column's Arrow type as is."""
    tables = []
    for table, rows in (("claims", claims_rows), ("claim_evidence", evidence_rows)):
        cols = columns(table)
        arrow = _arrow_rows(cols, rows) if rows else None
        tables.append((table, cols, arrow if arrow is not None else list(rows)))
    db.replace_tables(con, tables)
