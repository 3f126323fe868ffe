"""The report asset: reports/index.html and reports/claims.md from the published warehouse."""


from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.core import warehouse as wh
from pipelines.defs.resources import CorpusProject


@asset(group_name="reports", kinds={"html"}, deps=[AssetKey("published_warehouse")])
def report(context: AssetExecutionContext, corpus: CorpusProject) -> MaterializeResult:
    """A self-contained HTML report on {thinker}'s corpus and profile, and its Markdown twin, built from the published warehouse."""
    # matplotlib is imported when a report is written, not when the code location loads
    from pipelines.core.report import profile_path, write_report

    p = corpus.project
    published_at = wh.published_at(p.published_db)
    con = wh.connect(p.published_db, read_only=True)
    try:
        out = write_report(con, p.reports, published_at=published_at, thinker=corpus.catalog().thinker.name,
                           profile=profile_path(p.root, p.analysis / "claims.yaml"))
    finally:
        con.close()
    return MaterializeResult(
        metadata={
            "html": MetadataValue.path(out["html"]),
            "markdown": MetadataValue.path(out["markdown"]),
            "claims": out["claims"],
            "verdicts": MetadataValue.json(out["verdicts"]),
            "warehouse_state": out["state"],
        }
    )
