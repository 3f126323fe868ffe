"""core/db.py: ``values_table`` hands DuckDB a list as a registered Arrow table, never as a bound
list (DuckDB's Python client looks for pandas once per element of a bound list)."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from pipelines.core import db


def test_values_table_is_a_table_for_the_block() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE d AS SELECT 'doc-' || i AS doc_id FROM range(5000) t(i)")
    ids = [f"doc-{i}" for i in range(0, 5000, 2)] + ["doc-x"]
    with db.values_table(con, ids) as name, db.values_table(con, [1, 2, 3]) as other:
        assert name != other
        assert con.execute(f"SELECT count(*) FROM d WHERE doc_id IN (SELECT v FROM {name})").fetchone() == (2500,)  # noqa: S608
        assert con.execute(f"SELECT sum(v) FROM {other}").fetchone() == (6,)  # noqa: S608
    with pytest.raises(duckdb.CatalogException):
        con.execute(f"SELECT * FROM {name}")  # noqa: S608  - gone after the block


def test_values_table_does_not_look_for_pandas_per_element() -> None:
    """In a fresh interpreter (other tests may have imported or stubbed pandas): a bound list of 500
    looks for pandas at least 500 times when it is not installed; the same values as a table, not."""
    code = r"""
import importlib.machinery, importlib.util
if importlib.util.find_spec("pandas") is not None:
    print("installed"); raise SystemExit(0)
import duckdb, pyarrow
from pipelines.core import db
looked = []
orig = importlib.machinery.PathFinder.find_spec
def spy(name, path=None, target=None):
    looked.append(name)
    return orig(name, path, target)
importlib.machinery.PathFinder.find_spec = staticmethod(spy)
con = duckdb.connect()
ids = [str(i) for i in range(500)]
with db.values_table(con, ids) as t:
    n = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
table = looked.count("pandas")
con.execute("SELECT count(*) FROM (SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()
print(n, table, looked.count("pandas") - table)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    if out == ["installed"]:
        pytest.skip("pandas is installed here")
    n, table, bound = map(int, out)
    assert n == 500 and table <= 2 and bound >= 500



def test_the_table_helpers_see_the_warehouse_only_and_the_nlp_cache_detaches(tmp_path) -> None:  # noqa: ANN001
    """The table helpers list the warehouse's own tables, not those of a database attached to the
    same connection (the NLP cache's ``docs``); the NLP cache detaches itself when its block ends."""
    from pipelines.core import warehouse as wh
    from pipelines.core.nlp.cache import NlpCache

    path = tmp_path / "work.duckdb"
    con = wh.connect(path)
    try:
        con.execute("CREATE TABLE documents (doc_id VARCHAR)")
        with NlpCache(con, tmp_path / "nlp.duckdb"):
            assert "nlp_cache" in {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
            assert db.base_tables(con) == ["documents"] and not db.table_exists(con, "docs")
            assert db.column_names(con, "documents") == {"doc_id"} and db.table_names(con) == {"documents"}
        assert "nlp_cache" not in {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    finally:
        con.close()


def test_rows_of_dicts_insert_as_arrow_and_fall_back_to_executemany_with_the_same_rows() -> None:
    """``insert`` with rows of dicts: typed columns (lists, times, missing keys) give the rows
    executemany gives; a value of another type than its column's (an int for a VARCHAR) still
    goes in, cast by DuckDB as before."""
    from datetime import UTC, date, datetime

    cols = [("a", "VARCHAR PRIMARY KEY"), ("b", "INTEGER"), ("c", "DOUBLE"), ("d", "TIMESTAMPTZ"), ("e", "VARCHAR[]"),
            ("f", "BOOLEAN"), ("g", "DATE")]
    rows = [{"a": "x", "b": 1, "c": 2.5, "d": datetime(2020, 1, 2, 3, 4, tzinfo=UTC), "e": ["p", "q"], "f": True,
             "g": date(2021, 5, 6)}, {"a": "y"}]
    con = duckdb.connect()
    for t in ("via_insert", "reference"):
        db.create_table(con, t, cols)
    db.insert(con, "via_insert", cols, rows)
    con.executemany("INSERT INTO reference VALUES (?, ?, ?, ?, ?, ?, ?)", [[r.get(n) for n, _ in cols] for r in rows])
    assert con.execute("SELECT * FROM via_insert ORDER BY a").fetchall() == con.execute("SELECT * FROM reference ORDER BY a").fetchall()
    assert db._as_arrow(cols, rows) is not None  # the Arrow path, not the fallback
    odd = [{"a": 7, "b": "8"}]
    assert db._as_arrow(cols, odd) is None
    db.insert(con, "via_insert", cols, odd)
    assert con.execute("SELECT a, b FROM via_insert WHERE a = '7'").fetchall() == [("7", 8)]
