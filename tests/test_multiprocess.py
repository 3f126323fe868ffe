"""The whole job under Dagster's multiprocess executor gives the same tables as `corpus run` (the
in-process executor): each step in its own process, the "warehouse" pool keeping DuckDB's single
writer one step at a time (docs/scaling.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.cli import _instance, main
from pipelines.project import Project
from tests.test_end_to_end import make_project
from tests.test_incremental import _published_tables


def test_the_multiprocess_executor_gives_the_same_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import execute_job
    from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

    inproc = make_project(tmp_path / "in-process")
    assert main(["--project", str(inproc), "run", "--offline"]) == 0

    multi = make_project(tmp_path / "multiprocess")
    shutil.rmtree(multi / "raw")
    shutil.copytree(inproc / "raw", multi / "raw")
    monkeypatch.setenv("CORPUS_PROJECT_DIR", str(multi))  # the step processes load the code location of this project
    job = ReconstructableJob(ReconstructableRepository.for_module("pipelines.definitions", "defs"), "corpus_everything")
    run_config = {
        "execution": {"config": {"multiprocess": {"max_concurrent": 2}}},
        "ops": {"fetched_sources": {"config": {"refresh": False, "offline": True}}},
    }
    with _instance(Project(multi)) as instance:
        result = execute_job(job, instance=instance, run_config=run_config, raise_on_error=False)
        assert result.success
        pids = {e.pid for e in result.all_events if e.is_step_start}
    assert len(pids) > 1  # the steps ran in processes of their own

    got, want = _published_tables(multi), _published_tables(inproc)
    assert set(got) == set(want)
    for table in want:
        assert got[table] == want[table], f"{table} differs between the executors"
