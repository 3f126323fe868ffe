"""A `corpus run` killed mid-run leaves its Dagster run marked started; the next run frees it."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.storage.dagster_run import DagsterRun

from pipelines.cli import CLI_TAG, release_dead_cli_runs


def test_release_fails_only_the_started_cli_runs(tmp_path: Path) -> None:
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        runs = {
            "dead-cli": DagsterRun(job_name="corpus_everything", run_id="dead-cli", status=DagsterRunStatus.STARTED, tags=dict([CLI_TAG])),
            "ui": DagsterRun(job_name="corpus_everything", run_id="ui", status=DagsterRunStatus.STARTED, tags={}),
            "done-cli": DagsterRun(job_name="corpus_everything", run_id="done-cli", status=DagsterRunStatus.SUCCESS, tags=dict([CLI_TAG])),
        }
        for run in runs.values():
            instance.add_run(run)
        assert release_dead_cli_runs(instance) == ["dead-cli"]
        status = {rid: instance.get_run_by_id(rid).status for rid in runs}  # type: ignore[union-attr]
        assert status == {"dead-cli": DagsterRunStatus.FAILURE, "ui": DagsterRunStatus.STARTED, "done-cli": DagsterRunStatus.SUCCESS}
        assert release_dead_cli_runs(instance) == []  # nothing left to free
