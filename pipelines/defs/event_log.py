"""Dagster's SQLite event log, with its connections kept open for the run.

Dagster's ``SqliteEventLogStorage`` creates a new SQLAlchemy engine, opens a SQLite connection and
closes it again for every read and every write, five times per event on average. Closing the last
connection to a database in WAL mode checkpoints the WAL and deletes it, so each event costs about
11 ms: 1.5 to 2 s of a `corpus run` that has nothing new to do (issue 14). This subclass keeps one
engine and one connection per shard (the run's own file and the cross-run index), for the few
shards in use, and is otherwise Dagster's own: same files, same schema, same transactions, each
event still committed before the next. The Dagster UI and the daemon read the same files with
Dagster's stock class.

``pooled_storage_ref`` swaps it into an ``InstanceRef`` whose storage is the stock SQLite one;
any other storage (Postgres, a custom class) is left alone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import yaml
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_SECONDS = 30  # Dagster's own value for its SQLite connections
MAX_OPEN_SHARDS = 4  # the index shard, this run's shard, and a little room for readers of others


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one open connection per shard instead of one per statement."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # type: ignore[override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,  # one DBAPI connection, reused; every use holds self._db_lock
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engines[shard] = engine
            while len(self._engines) > MAX_OPEN_SHARDS:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        with self._engines_lock:
            while self._engines:
                _, engine = self._engines.popitem()
                engine.dispose()
        super().dispose()


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, schedules, event log) with the pooled event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # DagsterSqliteStorage.__init__, with the pooled class for the event log (not built twice)
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # type: ignore[override]
        return cls.from_local(inst_data=inst_data, **config_value)


STOCK = ("dagster._core.storage.sqlite_storage", "DagsterSqliteStorage")


def pooled_storage_ref(ref):
    """The same ``InstanceRef`` with the pooled event log, when its storage is Dagster's SQLite one."""
    data = ref.storage_data
    if data is None or (data.module_name, data.class_name) != STOCK:
        return ref
    config = yaml.safe_load(data.config_yaml) or {}
    pooled = ConfigurableClassData(
        __name__, PooledSqliteStorage.__name__, yaml.dump(config, default_flow_style=False)
    )
    return ref._replace(storage_data=pooled)
