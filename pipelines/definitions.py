"""The Dagster code location: every asset, check, job, schedule and sensor of the project."""


from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)

from pipelines.defs import analysis, claims, fetch, ingest, reports, warehouse
from pipelines.defs.automation import build_schedules, ingest_job, make_inbox_sensor, report_job
from pipelines.defs.resources import CorpusProject

ASSET_MODULES = [fetch, ingest, warehouse, analysis, claims, reports]
# Per-video partitions are fetched from the UI (or by fetched_sources in every run), not by the job.
PARTITIONED = AssetSelection.assets("youtube_transcript")


def build_defs(root: str = "") -> Definitions:
    assets = load_assets_from_modules(ASSET_MODULES)
    checks = load_asset_checks_from_modules(ASSET_MODULES)
    everything = define_asset_job(
        "corpus_everything",
        selection=AssetSelection.all() - PARTITIONED,
        description="Fetch, parse, build the warehouse, analyse, verify claims, report: what `corpus run` does.",
    )
    return Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[everything, ingest_job, report_job],
        schedules=build_schedules(everything),
        sensors=[make_inbox_sensor(root)],
        resources={"corpus": CorpusProject(root=root)},
    )


defs = build_defs()
