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


def test_a_held_warehouse_is_joined_and_its_helpers_see_the_warehouse_only(tmp_path) -> None:  # noqa: ANN001
    """While ``held_open`` keeps the file open (as `corpus run` does), a step's connection joins that
    database, sees what an earlier step wrote, and the table helpers see the warehouse's own tables
    only, not those of a database another step attached (the NLP cache's ``docs``); the NLP cache
    detaches itself when its block ends."""
    from pipelines.core import warehouse as wh
    from pipelines.core.nlp.cache import NlpCache

    path = tmp_path / "work.duckdb"
    with wh.held_open(path):
        first = wh.connect(path)
        first.execute("CREATE TABLE documents (doc_id VARCHAR)")
        with NlpCache(first, tmp_path / "nlp.duckdb"):
            assert "nlp_cache" in {r[0] for r in first.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
            assert "docs" not in db.base_tables(first) and not db.table_exists(first, "docs")
        first.close()
        second = wh.connect(path)
        try:
            assert db.base_tables(second) == ["documents"] and db.column_names(second, "documents") == {"doc_id"}
            assert "nlp_cache" not in {r[0] for r in second.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        finally:
            second.close()
    con = duckdb.connect(str(path))  # the block closed the last connection: the file opens afresh
    try:
        assert db.base_tables(con) == ["documents"]
    finally:
        con.close()


def test_held_open_holds_nothing_while_another_process_has_the_file(tmp_path) -> None:  # noqa: ANN001
    """A run launched from the UI may have the working file: `corpus run` then goes on without
    holding it (each step waits for the file on its own) instead of failing on DuckDB's lock."""
    from pipelines.core import warehouse as wh

    path = tmp_path / "work.duckdb"
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE t (x INT)'); "
            "print('ready', flush=True); time.sleep(30)")
    other = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "ready"
        with wh.held_open(path):
            with pytest.raises(duckdb.IOException, match="(?i)lock"):
                wh.connect(path)  # not held: a step's own connection meets the other process's lock
    finally:
        other.kill()
        other.wait()
    with wh.held_open(path):  # the other process gone: held
        assert db.base_tables(wh.connect(path)) == ["t"]
