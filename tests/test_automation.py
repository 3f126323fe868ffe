"""Schedules and the inbox sensor, driven the way Dagster's daemon drives them."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from pipelines.core.inbox_watch import scan_inbox
from pipelines.definitions import build_defs
from pipelines.defs.automation import make_inbox_sensor


def test_scan_inbox_reports_each_content_hash_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "a").mkdir(parents=True)
    (inbox / "a" / "one.txt").write_text("first file")
    new, cursor = scan_inbox(inbox, None)
    assert [f.path for f in new] == ["a/one.txt"]
    # nothing changed: nothing new
    new, cursor = scan_inbox(inbox, cursor)
    assert new == []
    # the same bytes under another name are not new; different bytes are
    (inbox / "copy.txt").write_text("first file")
    (inbox / "two.txt").write_text("second file")
    (inbox / ".hidden").write_text("ignored")
    new, cursor = scan_inbox(inbox, cursor)
    assert [f.path for f in new] == ["two.txt"]
    # a file edited in place is new content
    (inbox / "two.txt").write_text("second file, edited")
    os.utime(inbox / "two.txt", ns=(1, 1))
    new, _ = scan_inbox(inbox, cursor)
    assert [f.path for f in new] == ["two.txt"]


def test_inbox_sensor_requests_one_keyed_run_and_survives_restart(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "raw" / "inbox").mkdir(parents=True)
    sensor = make_inbox_sensor(str(root))
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance, cursor=None)
        result = sensor(ctx)
        assert isinstance(result, SkipReason)
        (root / "raw" / "inbox" / "drop.md").write_text("# A dropped note\n\nwords\n")
        ctx = build_sensor_context(instance=instance, cursor=ctx.cursor)
        result = sensor(ctx)
        assert isinstance(result, RunRequest)
        assert result.run_key and result.run_key.startswith("inbox-")
        assert result.tags["corpus/files"] == "drop.md"
        saved = ctx.cursor  # what Dagster stores: a restarted daemon starts from it
        ctx = build_sensor_context(instance=instance, cursor=saved)
        assert isinstance(sensor(ctx), SkipReason)


def test_schedules_jobs_and_sensor_are_defined_with_explicit_timezone() -> None:
    defs = build_defs()
    daily = defs.resolve_schedule_def("daily_refresh")
    weekly = defs.resolve_schedule_def("weekly_report")
    assert daily.cron_schedule == "0 6 * * *" and daily.execution_timezone == "UTC"
    assert weekly.cron_schedule == "0 7 * * 1" and weekly.execution_timezone == "UTC"
    assert daily.job_name == "corpus_everything" and weekly.job_name == "corpus_report"
    assert defs.resolve_sensor_def("inbox_sensor").job_name == "corpus_ingest"
    ingest_keys = {k.to_user_string() for k in defs.resolve_job_def("corpus_ingest").asset_layer.executable_asset_keys}
    assert "raw_files" in ingest_keys and "documents" in ingest_keys and "fetched_sources" not in ingest_keys
