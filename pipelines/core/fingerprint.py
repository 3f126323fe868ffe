"""Step fingerprints: a step whose inputs did not change since its last run keeps its tables.

A fingerprint is a sha256 over what a step reads: configuration files, the code that computes it,
and digests of the tables it reads. It is stored in the working database (``_step_inputs``), with
one rule that keeps it safe: a step *forgets* its fingerprint before it rewrites anything and
records the new one only after every table is written. A run killed half-way therefore always
rebuilds on the next run. ``rebuild_unless_unchanged`` is that sequence, for the steps to call.

Digests of a step's output tables are memoised: ``rebuild_unless_unchanged`` records which tables
a step writes (``_step_outputs``), and a digest of one of them is kept (``_table_digests``) with
the fingerprint its writer had recorded when it was computed. While that fingerprint stands, the
table is what it was (a step's tables are a function of its inputs), so readers downstream take
the kept digest instead of scanning the table again: at 100x a run with nothing new hashed
millions of rows per step. Forgetting a step drops its tables' digests; a table no step claims is
scanned every time.
"""

# SQL identifiers here are module constants or come from the pipeline's own table list; values
# are parameters.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import duckdb

from pipelines.core import db

TABLE = "_step_inputs"
T = TypeVar("T")


OUTPUTS = "_step_outputs"  # (step, tbl): the tables a step writes
DIGESTS = "_table_digests"  # (tbl, cols, writer_fingerprint, digest)


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (step VARCHAR PRIMARY KEY, fingerprint VARCHAR, recorded_at TIMESTAMPTZ)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {OUTPUTS} (step VARCHAR, tbl VARCHAR PRIMARY KEY)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {DIGESTS} (tbl VARCHAR, cols VARCHAR, writer VARCHAR, digest VARCHAR, "
                "PRIMARY KEY (tbl, cols))")


def table_digest(con: duckdb.DuckDBPyConnection, table: str, columns: str = "*") -> str:
    """Row count plus an order-independent sum of row hashes: one vectorised scan, no sort. For a
    table a step writes, the digest kept since its writer's fingerprint was recorded, if any."""
    if not db.table_exists(con, table):
        return f"{table}:absent"
    writer = None
    if db.table_exists(con, OUTPUTS) and db.table_exists(con, TABLE) and db.table_exists(con, DIGESTS):
        row = con.execute(f"SELECT f.fingerprint FROM {OUTPUTS} o JOIN {TABLE} f USING (step) WHERE o.tbl = ?",
                          [table]).fetchone()
        writer = row[0] if row else None
        if writer is not None:
            kept = con.execute(f"SELECT digest FROM {DIGESTS} WHERE tbl = ? AND cols = ? AND writer = ?",
                               [table, columns, writer]).fetchone()
            if kept:
                return str(kept[0])
    digest = _scan_digest(con, table, columns)
    if writer is not None:
        try:
            con.execute(f"INSERT OR REPLACE INTO {DIGESTS} VALUES (?, ?, ?, ?)", [table, columns, writer, digest])
        except duckdb.Error:  # a read-only connection: the digest is computed again next time, that is all
            pass
    return digest


def _scan_digest(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> str:
    if columns == "*":
        row = con.execute(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{table}" t').fetchone()
    else:
        row = con.execute(f'SELECT count(*), coalesce(sum(hash({columns})), 0) FROM "{table}"').fetchone()
    return f"{table}:{row[0]}:{row[1]}" if row else f"{table}:absent"


def fingerprint(
    con: duckdb.DuckDBPyConnection | None,
    *,
    files: Iterable[Path] = (),
    modules: Iterable[ModuleType | str] = (),
    tables: Iterable[str | tuple[str, str]] = (),
    extra: Iterable[str] = (),
) -> str:
    """sha256 of the files' bytes, the modules' source, the tables' digests and any extra strings.
    A table is a name (every column) or (name, column expression). A module is a module or its
    dotted name: a name is hashed from its source file without importing it (so a step that keeps its
    tables does not pay for importing spaCy). ``con`` may be None when no table is read."""
    h = hashlib.sha256()
    for path in files:
        p = Path(path)
        h.update(p.name.encode() + b"\0")
        h.update(p.read_bytes() if p.is_file() else b"(absent)")
    for mod in modules:
        if isinstance(mod, str):
            spec = importlib.util.find_spec(mod)
            src, is_package = (spec.origin if spec else None), bool(spec and spec.submodule_search_locations)
            name = mod
        else:
            src, is_package, name = getattr(mod, "__file__", None), bool(getattr(mod, "__path__", None)), mod.__name__
        if is_package and src:  # a package: every module in it
            for f in sorted(Path(src).parent.rglob("*.py")):
                h.update(f.relative_to(Path(src).parent).as_posix().encode() + b"\0" + f.read_bytes())
        else:
            h.update(Path(src).read_bytes() if src else name.encode())
    for t in tables:
        if con is None:
            raise ValueError("fingerprint: a table digest needs a connection")
        name, cols = (t, "*") if isinstance(t, str) else t
        h.update(table_digest(con, name, cols).encode() + b"\0")
    for s in extra:
        h.update(s.encode() + b"\0")
    return h.hexdigest()


def previous(con: duckdb.DuckDBPyConnection, step: str) -> str | None:
    _ensure(con)
    row = con.execute(f"SELECT fingerprint FROM {TABLE} WHERE step = ?", [step]).fetchone()
    return row[0] if row else None


def forget(con: duckdb.DuckDBPyConnection, step: str) -> None:
    """Called before a step rewrites its tables (their kept digests go too)."""
    _ensure(con)
    con.execute(f"DELETE FROM {DIGESTS} WHERE tbl IN (SELECT tbl FROM {OUTPUTS} WHERE step = ?)", [step])
    con.execute(f"DELETE FROM {TABLE} WHERE step = ?", [step])


def claim_outputs(con: duckdb.DuckDBPyConnection, step: str, outputs: Iterable[str]) -> None:
    """Record that ``step`` writes ``outputs`` (and no other step does), so their digests are kept."""
    _ensure(con)
    tables = list(dict.fromkeys(outputs))
    claimed = {r[0] for r in con.execute(f"SELECT tbl FROM {OUTPUTS} WHERE step = ?", [step]).fetchall()}
    if claimed == set(tables):
        return
    con.execute(f"DELETE FROM {DIGESTS} WHERE tbl IN (SELECT tbl FROM {OUTPUTS} WHERE step = ?) OR tbl = ANY(?)",
                [step, tables])
    con.execute(f"DELETE FROM {OUTPUTS} WHERE step = ? OR tbl = ANY(?)", [step, tables])
    if tables:
        con.executemany(f"INSERT INTO {OUTPUTS} VALUES (?, ?)", [(step, t) for t in tables])


def record(con: duckdb.DuckDBPyConnection, step: str, value: str) -> None:
    """Called after every table of the step is written."""
    _ensure(con)
    con.execute(
        f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, now())", [step, value]
    )


def unchanged(con: duckdb.DuckDBPyConnection, step: str, value: str, outputs: Iterable[str] = ()) -> bool:
    """True when the step's recorded fingerprint equals ``value`` and its output tables exist."""
    if previous(con, step) != value:
        return False
    return all(db.table_exists(con, t) for t in outputs)


def rebuild_unless_unchanged(
    con: duckdb.DuckDBPyConnection, step: str, inputs: str, outputs: Iterable[str], build: Callable[[], T]
) -> tuple[bool, T | None]:
    """The skip-if-unchanged sequence of a step: when ``unchanged`` (same inputs, outputs there),
    returns ``(False, None)`` and builds nothing; otherwise forgets the step's fingerprint, calls
    ``build()``, records ``inputs`` once it has returned, and returns ``(True, its result)``. An
    exception in ``build`` leaves the step forgotten, so the next run rebuilds."""
    outputs = list(outputs)
    if unchanged(con, step, inputs, outputs):
        claim_outputs(con, step, outputs)  # a warehouse built before outputs were claimed: claimed now
        return False, None
    forget(con, step)
    result = build()
    claim_outputs(con, step, outputs)
    record(con, step, inputs)
    return True, result


def state(con: duckdb.DuckDBPyConnection) -> str:
    """One digest of every recorded step fingerprint: equal states mean equal warehouse contents."""
    _ensure(con)
    rows = con.execute(f"SELECT step, fingerprint FROM {TABLE} ORDER BY step").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()
