"""Evaluate the profile's claims (analysis/claims.yaml) against the warehouse, with evidence.

Pure code over a DuckDB connection: no Dagster. The package, one concern per module:

=============== ==========================================================================
``spec``        verdicts, quote classes, metric specs, measures (plain data)
``config``      the validated claims.yaml (claims, scopes, the profile's ``as_of`` day) and
                ``check_references`` (unknown phrase / entity / source ids fail at load)
``context``     what one run shares: texts, normalisations, metadata, the profile's frame
``scope``       which documents a claim reads (the frame), and what of them is missing
``metrics``     every metric, each spec beside its function
``quotes``      quote classes: verbatim / near-verbatim / paraphrase / absent
``verdict``     comparing, the reachable-gap rule, and the explanation of each verdict
``evidence``    claim_evidence rows with links that open the passage
``tables``      the claims / claim_evidence columns and their writer
``audit``       the project's hand-made audit (analysis/audit.yaml) and differences from it
``evaluate``    evaluate_claims / write_claim_tables
=============== ==========================================================================
"""

from pipelines.core.claims.config import ClaimsConfig, check_references, load_claims
from pipelines.core.claims.context import Context
from pipelines.core.claims.evaluate import evaluate_claims, verdict_counts, write_claim_tables
from pipelines.core.claims.evidence import evidence_link, snippet
from pipelines.core.claims.metrics import METRICS, implemented_metrics
from pipelines.core.claims.scope import scope_stats
from pipelines.core.claims.spec import QUOTE_CLASSES, VERDICTS
from pipelines.core.claims.tables import CLAIMS_COLUMNS, EVIDENCE_COLUMNS, replace_claim_tables
from pipelines.core.claims.verdict import compare
from pipelines.core.textnorm import normalize_quote_text

__all__ = [
    "CLAIMS_COLUMNS",
    "EVIDENCE_COLUMNS",
    "METRICS",
    "QUOTE_CLASSES",
    "VERDICTS",
    "ClaimsConfig",
    "Context",
    "check_references",
    "compare",
    "evaluate_claims",
    "evidence_link",
    "implemented_metrics",
    "load_claims",
    "normalize_quote_text",
    "replace_claim_tables",
    "scope_stats",
    "snippet",
    "verdict_counts",
    "write_claim_tables",
]
