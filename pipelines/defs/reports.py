"""The report asset: reports/index.html and reports/claims.md from the published warehouse."""

import json

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.core import warehouse as wh
from pipelines.core.report import write_report
from pipelines.defs.resources import CorpusProject


@asset(group_name="reports", kinds={"html"}, deps=[AssetKey("published_warehouse")])
def report(context: AssetExecutionContext, corpus: CorpusProject) -> MaterializeResult:
    """A self-contained HTML report and its Markdown twin, built from the published warehouse."""
    p = corpus.project
    info_path = p.warehouse_dir / "published.json"
    published_at = json.loads(info_path.read_text())["published_at"] if info_path.exists() else None
    con = wh.connect(p.published_db, read_only=True)
    try:
        out = write_report(con, p.reports, published_at=published_at)
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
