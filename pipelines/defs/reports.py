"""The report asset: reports/index.html and reports/claims.md from the published warehouse."""


from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.core import warehouse as wh
from pipelines.defs.resources import CorpusProject


@asset(group_name="reports", kinds={"html"}, deps=[AssetKey("published_warehouse")])
def report(context: AssetExecutionContext, corpus: CorpusProject) -> MaterializeResult:
    """A self-contained HTML report on {thinker}'s corpus and profile, and its Markdown twin, built from the published warehouse."""
    # matplotlib is imported when a report is written, not when the code location loads
    from pipelines.core.report import profile_path, write_report_unless_unchanged

    p = corpus.project
    written, out = write_report_unless_unchanged(
        lambda: wh.connect(p.published_db, read_only=True), p.reports, published=wh.published_info(p.published_db),
        thinker=corpus.catalog().thinker.name, profile=profile_path(p.root, p.analysis / "claims.yaml"),
    )
    if not written:
        context.log.info("report: the published warehouse, profile and report code are unchanged; pages kept")
    return MaterializeResult(
        metadata={
            "html": MetadataValue.path(out["html"]),
            "markdown": MetadataValue.path(out["markdown"]),
            "claims": out["claims"],
            "verdicts": MetadataValue.json(out["verdicts"]),
            "warehouse_state": out["state"],
            "rewritten": written,
        }
    )
