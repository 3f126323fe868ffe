"""core/db.py: ``values_table`` hands DuckDB a list as a registered Arrow table, never as a bound
list (DuckDB's Python client looks for pandas once per element of a bound list)."""

from __future__ import annotations

import importlib.machinery

import duckdb
import pytest

from pipelines.core import db


def test_values_table_is_a_table_for_the_block_and_looks_for_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[str] = []
    orig = importlib.machinery.PathFinder.find_spec

    def spy(name: str, path: object = None, target: object = None) -> object:
        looked.append(name)
        return orig(name, path, target)  # type: ignore[arg-type]

    con = duckdb.connect()
    con.execute("CREATE TABLE d AS SELECT 'doc-' || i AS doc_id FROM range(5000) t(i)")
    ids = [f"doc-{i}" for i in range(0, 5000, 2)] + ["doc-x"]
    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", staticmethod(spy))
    with db.values_table(con, ids) as name, db.values_table(con, [1, 2, 3]) as other:
        assert name != other
        assert con.execute(f"SELECT count(*) FROM d WHERE doc_id IN (SELECT v FROM {name})").fetchone() == (2500,)  # noqa: S608
        assert con.execute(f"SELECT sum(v) FROM {other}").fetchone() == (6,)  # noqa: S608
    assert looked.count("pandas") <= 5  # importing pyarrow looks for it once or twice: not per element
    before = looked.count("pandas")
    with pytest.raises(duckdb.CatalogException):
        con.execute(f"SELECT * FROM {name}")  # noqa: S608  - gone after the block
    con.execute("SELECT count(*) FROM (SELECT unnest(?::VARCHAR[]))", [ids[:50]]).fetchall()
    try:
        import pandas  # noqa: F401
    except ImportError:  # what values_table avoids: a bound list looks for pandas per element
        assert looked.count("pandas") - before >= 50
