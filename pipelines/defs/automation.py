"""Schedules and the inbox sensor. All are off until turned on in the UI (Automation tab) or with
`dg` (the daemon runs under `dg dev`); times are UTC.

- ``daily_refresh`` (06:00 UTC): fetch what is new, rebuild derived tables, re-verify claims, report.
- ``weekly_report`` (Mondays 07:00 UTC): regenerate the report from the published warehouse.
- ``inbox_sensor`` (every 30 s): a run of ``corpus_ingest`` when new files appear in raw/inbox/.
"""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.core.inbox_watch import run_key, scan_inbox
from pipelines.project import Project

TIMEZONE = "UTC"

# Everything downstream of the parsed files: no network, so a file drop is ingested in seconds.
INGEST_JOB = "corpus_ingest"
INGEST_SELECTION = AssetSelection.assets("raw_files").downstream()
INGEST_DESCRIPTION = "Parse raw/ and rebuild everything downstream (no fetching). Started by inbox_sensor."
ingest_job = define_asset_job(INGEST_JOB, selection=INGEST_SELECTION, description=INGEST_DESCRIPTION)
report_job = define_asset_job(
    "corpus_report",
    selection=AssetSelection.assets("report"),
    description="Regenerate reports/ from the published warehouse.",
)


def build_schedules(everything_job) -> list[ScheduleDefinition]:
    return [
        ScheduleDefinition(
            name="daily_refresh",
            job=everything_job,
            cron_schedule="0 6 * * *",
            execution_timezone=TIMEZONE,
            default_status=DefaultScheduleStatus.STOPPED,
            description="Fetch new sources, rebuild the warehouse and derived tables, re-verify claims, report.",
        ),
        ScheduleDefinition(
            name="weekly_report",
            job=report_job,
            cron_schedule="0 7 * * 1",
            execution_timezone=TIMEZONE,
            default_status=DefaultScheduleStatus.STOPPED,
            description="Regenerate the HTML and Markdown reports every Monday.",
        ),
    ]


def make_inbox_sensor(project_root: str = "", job=ingest_job):
    @sensor(
        name="inbox_sensor",
        job=job,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.STOPPED,
        description="Starts corpus_ingest when files are dropped into raw/inbox/ (each content hash once).",
    )
    def inbox_sensor(context: SensorEvaluationContext):
        project = Project(__import__("pathlib").Path(project_root)) if project_root else Project.default()
        new, cursor = scan_inbox(project.raw / "inbox", context.cursor)
        context.update_cursor(cursor)
        if not new:
            return SkipReason("no new files in raw/inbox/")
        names = ", ".join(f.path for f in new[:10]) + (f" (+{len(new) - 10} more)" if len(new) > 10 else "")
        return RunRequest(run_key=run_key(new), tags={"corpus/trigger": "inbox", "corpus/files": names[:500]})

    return inbox_sensor
