"""The DuckDB warehouse: schema, loading, and publishing a consistent file for readers.

The pipeline writes only to the *working* database (``warehouse/work.duckdb``). When a run
has finished writing, ``publish`` records the row count of every table in ``_publish_info``,
checkpoints, copies the file to a temp file beside ``warehouse/corpus.duckdb``, fsyncs, and
renames it into place. SQL users open ``corpus.duckdb`` read-only: a rename is atomic, so they
see the previous complete state or the new one, never a half-written file, and the writer never
holds a lock on their file. A run killed at any point leaves the previous published file as it
was; the next publish removes the dead run's temp file. See docs/reliability.md.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.core import db
from pipelines.core.schema import CORE as SCHEMAS

if TYPE_CHECKING:
    import polars as pl


class _PandasIsMissing:
    """A meta-path finder that answers "no such module" for pandas at once (see below)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")
        return None


def _cache_missing_pandas() -> None:
    """duckdb's Python client tries ``import pandas`` for every parameter it converts; without pandas
    installed each try searches sys.path again (about 0.3 ms, hundreds of times per search query).
    When pandas is not installed, a finder first in line says so at once, as the search would."""
    import importlib.util
    import sys

    if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
        if not any(isinstance(f, _PandasIsMissing) for f in sys.meta_path):
            sys.meta_path.insert(0, _PandasIsMissing())


_cache_missing_pandas()

def _polars_types() -> dict[str, Any]:
    """DuckDB column types -> Polars dtypes (polars is imported when a frame is made, not when the
    code location loads: ~0.2 s of start-up)."""
    import polars as pl

    tz = pl.Datetime("us", "UTC")
    return {
        "VARCHAR": pl.Utf8, "DATE": pl.Date, "BOOLEAN": pl.Boolean, "BIGINT": pl.Int64, "INTEGER": pl.Int32,
        "DOUBLE": pl.Float64, "TIMESTAMPTZ": tz, "VARCHAR[]": pl.List(pl.Utf8),
    }


class WarehouseBusy(RuntimeError):
    """Another run holds the writer lock."""


FAULT_ENV = "CORPUS_FAULT"
PUBLISH_INFO = "_publish_info"
_TEMP_PREFIX = ".publish-"


def fault_point(name: str) -> None:
    """Fault injection for the reliability tests (tests/test_faults.py); a no-op unless CORPUS_FAULT is set.

    ``CORPUS_FAULT=<point>:<action>``: at the named point, ``kill`` sends this process SIGKILL, ``sleep``
    pauses CORPUS_FAULT_SLEEP seconds (default 60) and goes on, ``raise`` raises RuntimeError. When
    CORPUS_FAULT_FLAG names a file, the pid is written there first, so a test knows the point is reached.
    Points: ``after_table:<table>`` (a core table committed in work.duckdb), ``publish:mid_copy`` (the
    temp copy is partly written), ``publish:before_rename`` (the temp copy is complete, not yet swapped).
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, action = spec.rpartition(":")
    if point != name:
        return
    flag = os.environ.get("CORPUS_FAULT_FLAG")
    if flag:
        Path(flag).write_text(str(os.getpid()))
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "sleep":
        time.sleep(float(os.environ.get("CORPUS_FAULT_SLEEP", "60")))
    elif action == "raise":
        raise RuntimeError(f"fault injected at {name}")


def frame(table: str, rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    import polars as pl

    types = _polars_types()
    schema = {name: types[sqltype.split(" PRIMARY KEY")[0]] for name, sqltype in SCHEMAS[table]}
    return pl.DataFrame(list(rows), schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def create_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    db.create_table(con, table, SCHEMAS[table])


def replace_table(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> int:
    """Delete-then-insert a whole table inside one transaction. Returns the row count."""
    db.replace_table(con, table, SCHEMAS[table], df)
    fault_point(f"after_table:{table}")
    return df.height


class StagedTable:
    """A large table (documents, segments) written in batches: rows are buffered, appended to a
    scratch table every ``max_rows`` rows or ``max_chars`` characters of text, and ``swap_keeping``
    makes the real table those rows (in ``order_by`` order) plus its own rows of the documents kept
    from the last build, in one transaction. Memory holds one batch, whatever the corpus size;
    DuckDB sorts (and spills when it must)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, order_by: str,
                 max_rows: int = 20_000, max_chars: int = 8_000_000) -> None:
        self.con, self.table, self.order_by = con, table, order_by
        self.scratch = f"_staging_{table}"
        self.max_rows, self.max_chars = max_rows, max_chars
        self.rows: list[dict[str, Any]] = []
        self.chars = 0
        self.count = 0
        db.create_table(con, self.scratch, [(n, t.replace(" PRIMARY KEY", "")) for n, t in SCHEMAS[table]])

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.chars += len(row.get("text") or "")
        if len(self.rows) >= self.max_rows or self.chars >= self.max_chars:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        df = frame(self.table, self.rows)
        self.con.register("_incoming", df.to_arrow())
        self.con.execute(f"INSERT INTO {self.scratch} BY NAME SELECT * FROM _incoming")  # noqa: S608 - identifiers are module constants, never user input
        self.con.unregister("_incoming")
        self.count += len(self.rows)
        self.rows, self.chars = [], 0

    def swap(self) -> int:
        """Replace the real table with the scratch table's rows (sorted); drop the scratch table."""
        return self.swap_keeping(())

    def swap_keeping(self, doc_ids: Sequence[str]) -> int:
        """Make the real table the scratch table's rows plus its own rows of these documents (rows
        kept from the last build: ``assemble.Reuse``), in one transaction; drop the scratch table.
        Returns the row count.

        The kept rows stay where they are: the other documents' rows are deleted and the scratch
        rows appended in ``order_by`` order, so a run that built few documents writes few rows (at
        100x the corpus, copying the kept rows and rewriting the table took 18 s). With nothing
        kept, or a table of other columns than the schema's, the table is written anew, sorted."""
        self.flush()
        columns = [n for n, _ in SCHEMAS[self.table]]
        if not doc_ids or db.column_names(self.con, self.table) != set(columns):
            with db.transaction(self.con):
                create_table(self.con, self.table)
                self.con.execute(f"INSERT INTO {self.table} SELECT * FROM {self.scratch} ORDER BY {self.order_by}")  # noqa: S608 - identifiers are module constants, never user input
                self.con.execute(f"DROP TABLE {self.scratch}")
        else:
            with db.transaction(self.con), db.values_table(self.con, list(doc_ids)) as ids:
                self.con.execute(f"DELETE FROM {self.table} WHERE doc_id NOT IN (SELECT v FROM {ids})")  # noqa: S608 - identifiers are module constants, never user input
                self.con.execute(f"INSERT INTO {self.table} BY NAME SELECT * FROM {self.scratch} ORDER BY {self.order_by}")  # noqa: S608 - identifiers are module constants, never user input
                self.con.execute(f"DROP TABLE {self.scratch}")
        fault_point(f"after_table:{self.table}")
        return db.count(self.con, self.table)


def fts_extension_path() -> str | None:
    """Path of the offline FTS extension shipped by the duckdb-extension-fts package."""
    try:
        import duckdb_extension_fts
    except ImportError:
        return None
    base = Path(duckdb_extension_fts.__file__).parent / "extensions"
    found = sorted(base.rglob("fts.duckdb_extension"))
    return str(found[0]) if found else None


MEMORY_ENV = "CORPUS_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"


def memory_limit() -> str:
    """DuckDB's memory limit for the pipeline's connections: CORPUS_DUCKDB_MEMORY_LIMIT (e.g. '4GB'),
    default 1GB. Past it, DuckDB spills sorts, joins and aggregates to disk instead of growing. 1GB
    keeps a 100x run (57M words) under 2 GB of peak RSS with Python, the NLP workers and the FTS
    extension's own lists on top (2GB: 3.4 GB); its cold run at 100x was 4.23x the baseline,
    against 4.32x at 2GB (bench/RESULTS.md)."""
    value = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    if not value.replace(".", "").rstrip("KMGTBkmgtbi ").isdigit():
        raise ValueError(f"{MEMORY_ENV}={value!r}: expected a size such as 2GB or 512MB")
    return value


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a warehouse; the FTS extension is loaded by file path so nothing is downloaded. The
    memory limit (``memory_limit``) bounds DuckDB's share of the run's memory."""
    con = duckdb.connect(
        str(path),
        read_only=read_only,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False, "memory_limit": memory_limit()},
    )
    ext = fts_extension_path()
    if ext:
        con.execute(f"LOAD '{ext}'")
    return con


@contextmanager
def writer_lock(warehouse_dir: Path) -> Iterator[None]:
    """One writer at a time. A second run refuses at once with a clear message."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse_dir / ".writer.lock"
    with lock_path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise WarehouseBusy(
                f"another corpus run is writing the warehouse ({holder}); wait for it to finish and retry"
            ) from e
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
        f.flush()
        try:
            # Holding the lock proves no other writer is alive: clear what a killed one left behind.
            # (`corpus run` then frees the Dagster pool slots of dead CLI runs: pipelines.cli.release_dead_cli_runs)
            remove_dead_temps(warehouse_dir)
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_temps(warehouse_dir: Path) -> list[Path]:
    """Delete temp copies left by a publish that was killed (its process is gone). Returns them."""
    removed = []
    for tmp in warehouse_dir.glob(f"{_TEMP_PREFIX}*.duckdb"):
        pid = tmp.name.removeprefix(_TEMP_PREFIX).split("-", 1)[0]
        if pid.isdigit() and _pid_alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_synced(src: Path, dest: str, chunk: int = 4 << 20) -> None:
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        first = True
        while block := fin.read(chunk):
            fout.write(block)
            if first:
                fout.flush()
                fault_point("publish:mid_copy")
                first = False
        fout.flush()
        os.fsync(fout.fileno())


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def published_info(published_db: Path) -> dict[str, Any] | None:
    """What the last publish recorded in published.json (tables, published_at, state), when the
    published file exists."""
    info_path = published_db.parent / "published.json"
    if not published_db.is_file() or not info_path.is_file():
        return None
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _published_field(published_db: Path, name: str) -> str | None:
    value = (published_info(published_db) or {}).get(name)
    return value if isinstance(value, str) else None


def published_state(published_db: Path) -> str | None:
    """The ``state`` recorded by the last publish, if any."""
    return _published_field(published_db, "state")


def published_at(published_db: Path) -> str | None:
    """When the last publish happened (ISO 8601, seconds), if any."""
    return _published_field(published_db, "published_at")


def publish(work_db: Path, published_db: Path, state: str | None = None) -> dict[str, Any]:
    """Copy the finished working database over the published one atomically (write-then-swap).

    ``_publish_info`` (table_name, row_count, published_at) is written into the same file first, so a
    reader can check that what it reads is one complete state: every count matches its table.
    ``state`` (a digest of the steps' fingerprints) goes into published.json, so an unchanged
    warehouse need not be copied again."""
    published_db.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temps(published_db.parent)
    published_at = datetime.now(UTC)
    con = connect(work_db)
    try:
        counts = {t: db.count(con, t) for t in db.base_tables(con) if t != PUBLISH_INFO}
        with db.transaction(con):
            con.execute(f"CREATE OR REPLACE TABLE {PUBLISH_INFO} (table_name VARCHAR, row_count BIGINT, published_at TIMESTAMPTZ)")
            con.executemany(
                f"INSERT INTO {PUBLISH_INFO} VALUES (?, ?, ?)",  # noqa: S608 - a constant table name
                [(t, n, published_at) for t, n in counts.items()],
            )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    fd, tmp = tempfile.mkstemp(dir=published_db.parent, prefix=f"{_TEMP_PREFIX}{os.getpid()}-", suffix=".duckdb")
    os.close(fd)
    try:
        _copy_synced(work_db, tmp)
        fault_point("publish:before_rename")
        os.replace(tmp, published_db)
        _fsync_dir(published_db.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    info: dict[str, Any] = {"published_at": published_at.isoformat(timespec="seconds"), "tables": counts}
    if state is not None:
        info["state"] = state
    _write_atomic(published_db.parent / "published.json", json.dumps(info, indent=2) + "\n")
    return info
