"""core/db.py: pandas, when not installed, is marked absent so DuckDB's list binding does not scan
sys.path for it once per element; polars and DuckDB still work."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys

import pytest


def test_a_bound_list_does_not_look_for_pandas_once_per_element() -> None:
    code = r"""
import importlib.machinery, importlib.util, sys
if importlib.util.find_spec("pandas") is not None:
    print("installed"); raise SystemExit(0)
looked = []
orig = importlib.machinery.PathFinder.find_spec
def spy(name, path=None, target=None):
    if name == "pandas":
        looked.append(name)
    return orig(name, path, target)
importlib.machinery.PathFinder.find_spec = staticmethod(spy)
import duckdb
con = duckdb.connect()
con.execute("SELECT count(*) FROM (SELECT unnest(?::VARCHAR[]))", [[str(i) for i in range(500)]]).fetchall()
before = len(looked)
from pipelines.core import db
looked.clear()
n = con.execute("SELECT count(*) FROM (SELECT unnest(?::VARCHAR[]))", [[str(i) for i in range(500)]]).fetchone()[0]
import polars as pl
frame = pl.DataFrame({"a": [1, 2]})
print(before, len(looked), n, sys.modules["pandas"] is None, frame.to_arrow().num_rows, db.mark_pandas_absent())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    if out == ["installed"]:
        pytest.skip("pandas is installed here: nothing to mark")
    before, after, n, marked, rows, again = out
    assert int(before) >= 500  # DuckDB looked for pandas at least once per element
    assert (int(after), int(n), marked, int(rows), again) == (0, 500, "True", 2, "True")


def test_the_mark_is_never_set_over_an_imported_module() -> None:
    from pipelines.core import db

    saved = sys.modules.get("pandas", KeyError)
    sys.modules["pandas"] = importlib.machinery.ModuleSpec  # type: ignore[assignment]  # any non-None object
    try:
        assert db.mark_pandas_absent() is False
        assert sys.modules["pandas"] is importlib.machinery.ModuleSpec
    finally:
        if saved is KeyError:
            del sys.modules["pandas"]
        else:
            sys.modules["pandas"] = saved  # type: ignore[assignment]
