"""The small DuckDB helpers every module shares: which tables exist, rows as dicts, one value, and
replacing whole tables inside one transaction.

Pure code over a DuckDB connection, no Dagster. Table and column names passed here come from the
schema registry (pipelines.core.schema) or from module constants, never from user input; values
are always bound as parameters.
"""

# SQL here is assembled only from table names and column lists the callers own; values are bound.
# ruff: noqa: S608

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

_names = itertools.count()


@contextmanager
def values_table(con: duckdb.DuckDBPyConnection, values: Sequence[Any], type_: Any = None) -> Iterator[str]:
    """The values as a one-column table (column ``v``) named by the yielded name, for the length of
    the block: ``WHERE doc_id IN (SELECT v FROM {name})``.

    Use it instead of binding a long Python list (``unnest(?::VARCHAR[])``): DuckDB's Python client
    tries to import pandas for every element of a bound list, and where pandas is not installed
    each failed import scans ``sys.path`` again (20,000 ids: 2.4 s, against 0.08 s registered as
    Arrow). ``type_`` is a pyarrow type (default: inferred)."""
    import pyarrow as pa

    name = f"_values_{next(_names)}"
    con.register(name, pa.table({"v": pa.array(list(values), type=type_)}))
    try:
        yield name
    finally:
        con.unregister(name)


def table_names(con: duckdb.DuckDBPyConnection, schema: str = "main") -> set[str]:
    """The names of the tables (and views) in ``schema``."""
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = ?",
            [schema],
        ).fetchall()
    }


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The base tables (no views) of the main schema, sorted by name."""
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True when ``table`` (or a view of that name) exists in the main schema."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' "
        "AND table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])


def column_names(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The column names of ``table`` in the main schema (empty when it does not exist)."""
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_name = ?",
            [table],
        ).fetchall()
    }


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """The result of ``sql`` as a list of {column: value} dicts."""
    cur = con.execute(sql, list(params or ()))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The first column of the first row of ``sql``'s result (None when there is no row)."""
    row = con.execute(sql, list(params or ())).fetchone()
    return None if row is None else row[0]


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The number of rows of ``table``."""
    return int(scalar(con, f'SELECT count(*) FROM "{table}"'))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN; COMMIT when the block ends; ROLLBACK (and re-raise) when it raises anything."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


Columns = Sequence[tuple[str, str]]


def create_table(con: duckdb.DuckDBPyConnection, table: str, columns: Columns) -> None:
    """CREATE OR REPLACE ``table`` with ``columns`` ((name, DuckDB type) pairs)."""
    cols = ", ".join(f'"{n}" {t}' for n, t in columns)
    con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")


def insert(con: duckdb.DuckDBPyConnection, table: str, columns: Columns, data: Any) -> None:
    """Insert ``data`` into ``table``: an Arrow table (or anything with ``to_arrow()``, such as a
    Polars frame) in one scan by column name, or a sequence of dicts (each dict gives the columns it
    has; missing ones are NULL), made an Arrow table of the columns' types when it converts, else
    inserted with ``executemany``."""
    names = [f'"{n}"' for n, _ in columns]
    plain = [n for n, _ in columns]
    if hasattr(data, "to_arrow"):
        data = data.to_arrow()
    if isinstance(data, Sequence):
        if not data:
            return
        arrow = _as_arrow(columns, data)
        if arrow is None:  # a type Arrow is not given here, or a value of another type: DuckDB casts
            con.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({','.join('?' * len(names))})",
                [[r.get(n) for n in plain] for r in data],
            )
            return
        data = arrow
    if not data.num_rows:
        return
    view = f"_{table}_incoming"
    con.register(view, data)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {view}")
    finally:
        con.unregister(view)


_ARROW_TYPES = {
    "VARCHAR": "string", "TEXT": "string", "JSON": "string", "INTEGER": "int32", "INT": "int32", "BIGINT": "int64",
    "SMALLINT": "int16", "DOUBLE": "float64", "FLOAT": "float32", "REAL": "float32", "BOOLEAN": "bool_",
    "DATE": "date32",
}


def _arrow_type(sqltype: str) -> Any:
    """The Arrow type of a column's DuckDB type (its first word: "VARCHAR PRIMARY KEY" is VARCHAR),
    or None for one not mapped here."""
    import pyarrow as pa

    base = sqltype.split()[0].upper() if sqltype.strip() else ""
    if base.endswith("[]"):
        inner = _arrow_type(base[:-2])
        return None if inner is None else pa.list_(inner)
    if base == "TIMESTAMPTZ":
        return pa.timestamp("us", tz="UTC")
    if base == "TIMESTAMP":
        return pa.timestamp("us")
    name = _ARROW_TYPES.get(base)
    return getattr(pa, name)() if name else None


def _as_arrow(columns: Columns, rows: Sequence[dict[str, Any]]) -> Any:
    """Rows of dicts as an Arrow table of the columns' types (a missing key is NULL), or None when a
    type is not mapped or a value does not convert. One Arrow table is inserted in one scan; DuckDB's
    ``executemany`` binds every row on its own (6,302 rows of 16 columns: 7 s against 0.1 s)."""
    import pyarrow as pa

    types = [_arrow_type(t) for _, t in columns]
    if any(t is None for t in types):
        return None
    try:
        return pa.table({n: pa.array([r.get(n) for r in rows], type=t) for (n, _), t in zip(columns, types, strict=True)})
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None


def replace_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[tuple[str, Columns, Any]]) -> None:
    """Replace every (table, columns, data) in one transaction: readers of the connection see all
    the old tables or all the new ones. ``data`` is what ``insert`` takes."""
    with transaction(con):
        for table, columns, data in tables:
            create_table(con, table, columns)
            insert(con, table, columns, data)


def replace_table(con: duckdb.DuckDBPyConnection, table: str, columns: Columns, data: Any) -> None:
    """Replace one table (drop, create, fill) in one transaction."""
    replace_tables(con, [(table, columns, data)])
