"""Small helpers for asset metadata."""

from __future__ import annotations

import duckdb
from dagster import MetadataValue


def preview(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, limit: int = 10) -> MetadataValue:
    """A Markdown table of the first rows of a query (cells escaped and shortened)."""
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", params or [])  # noqa: S608 - identifiers are module constants, never user input
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()

    def cell(v: object) -> str:
        s = "" if v is None else str(v)
        s = s.replace("\n", " ").replace("|", "\\|")
        return (s[:77] + "...") if len(s) > 80 else s

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return MetadataValue.md("\n".join(lines))
