"""The Dagster code location of one project: every asset, check, job, schedule and sensor.

``build_defs(root)`` validates the project's configuration first (``pipelines.core.validate``)
and raises ``InvalidProject`` on any problem, so ``dg check defs`` and ``dg dev`` fail with the
file, entry and field instead of loading a location that silently lacks its per-claim checks or
its video partitions. Both of those are built here from the project it is given, as are the
descriptions that name the thinker.
"""

from pathlib import Path

from dagster import (
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    Definitions,
    define_asset_job,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)

from pipelines.core.claims import load_claims
from pipelines.core.config import load_catalog
from pipelines.core.validate import InvalidProject, validate_project
from pipelines.defs import analysis, claims, fetch, ingest, reports, warehouse
from pipelines.defs.automation import (
    INGEST_DESCRIPTION,
    INGEST_JOB,
    INGEST_SELECTION,
    build_schedules,
    make_inbox_sensor,
    report_job,
)
from pipelines.defs.resources import CorpusProject
from pipelines.project import Project

ASSET_MODULES = [fetch, ingest, warehouse, analysis, claims, reports]
# Per-video partitions are fetched from the UI (or by fetched_sources in every run), not by the job.
PARTITIONED = AssetSelection.assets("youtube_transcript")
THINKER = "{thinker}"  # written in an asset's description where the thinker's name helps


def _named(thinker: str):
    def name(spec: AssetSpec) -> AssetSpec:
        if spec.description and THINKER in spec.description:
            return spec.replace_attributes(description=spec.description.replace(THINKER, thinker))
        return spec

    return name


def build_defs(root: str = "") -> Definitions:
    project = Project(Path(root)) if root else Project.default()
    problems = validate_project(project.analysis, project.catalog_path)
    if problems:
        raise InvalidProject(project.root, problems)
    catalog = load_catalog(project.catalog_path)
    claims_path = project.analysis / "claims.yaml"
    claim_ids = [c.id for c in load_claims(claims_path).claims] if claims_path.exists() else []
    assets = [
        a.map_asset_specs(_named(catalog.thinker.name)) if isinstance(a, AssetsDefinition) else a
        for a in [*load_assets_from_modules(ASSET_MODULES), fetch.build_youtube_transcript(fetch.catalog_video_ids(catalog))]
    ]
    checks = [*load_asset_checks_from_modules(ASSET_MODULES)]
    # The per-claim checks are listed in the UI but not run as a step of the jobs: verified_claims
    # reports a claim's result when it changes (claims.report_claim_checks).
    not_run = AssetSelection.checks()  # none
    if claim_ids:
        claim_checks = claims.build_claim_checks(claim_ids)
        checks.append(claim_checks)
        not_run = AssetSelection.checks(claim_checks)
    ingest = define_asset_job(INGEST_JOB, selection=INGEST_SELECTION - not_run, description=INGEST_DESCRIPTION)
    everything = define_asset_job(
        "corpus_everything",
        selection=AssetSelection.all() - PARTITIONED - not_run,
        description=f"Fetch, parse, build the warehouse, analyse, verify claims, report on {catalog.thinker.name}: "
        "what `corpus run` does.",
    )
    return Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[everything, ingest, report_job],
        schedules=build_schedules(everything),
        sensors=[make_inbox_sensor(root, ingest)],
        resources={"corpus": CorpusProject(root=root)},
    )
