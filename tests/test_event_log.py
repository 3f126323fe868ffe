"""The pooled SQLite event log `corpus run` uses writes what Dagster's stock class reads back."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster import (
    AssetCheckResult,
    AssetKey,
    DagsterInstance,
    Definitions,
    asset,
    asset_check,
    define_asset_job,
)
from dagster._core.instance.ref import InstanceRef

from pipelines.defs.event_log import MAX_OPEN_SHARDS, PooledSqliteEventLogStorage, pooled_storage_ref


@asset
def words() -> int:
    return 3


@asset
def doubled(words: int) -> int:
    return 2 * words


@asset_check(asset=doubled)
def doubled_is_even(doubled: int) -> AssetCheckResult:
    return AssetCheckResult(passed=doubled % 2 == 0, metadata={"value": doubled})


def _ref(home: Path, storage: dict) -> InstanceRef:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}, **storage}))
    return InstanceRef.from_dir(str(home))


def test_pooled_runs_are_read_back_by_the_stock_storage(tmp_path: Path) -> None:
    ref = _ref(tmp_path, {"storage": {"sqlite": {"base_dir": str(tmp_path / "storage")}}})
    defs = Definitions(
        assets=[words, doubled], asset_checks=[doubled_is_even], jobs=[define_asset_job("all")]
    )
    job = defs.resolve_job_def("all")
    with DagsterInstance.from_ref(pooled_storage_ref(ref)) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        results = [job.execute_in_process(instance=instance) for _ in range(MAX_OPEN_SHARDS + 2)]
        assert all(r.success for r in results)
        assert len(instance.event_log_storage._engines) <= MAX_OPEN_SHARDS  # old runs' shards are closed
    with DagsterInstance.from_ref(ref) as stock:
        assert type(stock.event_log_storage).__name__ == "SqliteEventLogStorage"
        reference = job.execute_in_process(instance=stock)  # the same job, stored by Dagster's own class

        def types(run_id: str) -> list[str]:
            return sorted(e.dagster_event.event_type_value for e in stock.all_logs(run_id) if e.dagster_event)

        assert "ASSET_MATERIALIZATION" in types(reference.run_id)
        for result in results:
            assert types(result.run_id) == types(
                reference.run_id
            )  # every event of every pooled run committed
        latest = stock.get_latest_materialization_event(AssetKey("doubled"))
        assert latest is not None and latest.run_id == reference.run_id
        assert len(stock.fetch_materializations(AssetKey("doubled"), limit=100).records) == len(results) + 1
        check = stock.event_log_storage.get_latest_asset_check_execution_by_key([doubled_is_even.check_key])
        assert check[doubled_is_even.check_key].run_id == reference.run_id


def test_other_storages_are_left_alone(tmp_path: Path) -> None:
    storage = {
        "run_storage": {
            "module": "dagster._core.storage.runs",
            "class": "SqliteRunStorage",
            "config": {"base_dir": str(tmp_path / "r")},
        },
        "event_log_storage": {
            "module": "dagster._core.storage.event_log",
            "class": "SqliteEventLogStorage",
            "config": {"base_dir": str(tmp_path / "e")},
        },
        "schedule_storage": {
            "module": "dagster._core.storage.schedules",
            "class": "SqliteScheduleStorage",
            "config": {"base_dir": str(tmp_path / "s")},
        },
    }
    ref = _ref(tmp_path, storage)
    assert pooled_storage_ref(ref) == ref
