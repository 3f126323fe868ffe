"""The Dagster code location: every asset, check, job, schedule and sensor of the project."""


from dagster import Definitions, define_asset_job, load_asset_checks_from_modules, load_assets_from_modules

from pipelines.defs import ingest, warehouse
from pipelines.defs.resources import CorpusProject

ASSET_MODULES = [ingest, warehouse]


def build_defs(root: str = "") -> Definitions:
    assets = load_assets_from_modules(ASSET_MODULES)
    checks = load_asset_checks_from_modules(ASSET_MODULES)
    everything = define_asset_job("corpus_everything", selection="*", description="Materialize every asset.")
    return Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[everything],
        resources={"corpus": CorpusProject(root=root)},
    )


defs = build_defs()
