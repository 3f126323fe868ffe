"""Evaluate every claim of a configuration: rows for ``claims`` and ``claim_evidence``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.core.claims.audit import Audit, differences
from pipelines.core.claims.context import Context
from pipelines.core.claims.evidence import evidence_rows
from pipelines.core.claims.fmt import sentence
from pipelines.core.claims.quotecache import QuoteCache
from pipelines.core.claims.spec import VERDICTS
from pipelines.core.claims.tables import replace_claim_tables
from pipelines.core.claims.verdict import evaluate_claim

if TYPE_CHECKING:
    from pipelines.core.claims.config import ClaimsConfig


def evaluate_claims(
    con: duckdb.DuckDBPyConnection | None,
    claims_cfg: ClaimsConfig,
    *,
    max_evidence: int = 10,
    audit: Audit | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    quote_cache: Path | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evaluate every claim. Returns (claims rows, claim_evidence rows); ``progress(done, total,
    claim id)`` after each.

    ``con`` may be None: arithmetic and not_checkable claims still get their verdicts. With an
    ``audit``, each audited row records the audit's verdict and whether the pipeline agrees.
    ``quote_cache``: the file quote answers are kept in between runs (``quotecache.py``); the
    results are the same without it."""
    cache = QuoteCache(quote_cache)
    ctx = (Context(con, max_evidence, as_of=claims_cfg.as_of_day, abbreviations=claims_cfg.abbreviations,
                   quote_cache=cache)
           if con is not None else None)
    if ctx is not None:  # every quote against every document, a document at a time
        from pipelines.core.claims.metrics.quote import quote_words

        total = len(claims_cfg.claims)
        ctx.prepare_quotes(
            [quote_words(c) for c in claims_cfg.claims if c.metric == "quote_match"],
            progress=(lambda i, n: progress(0, total, f"matching the quotes: {i:,}/{n:,} documents")) if progress else None,
        )
    entries = audit.by_id() if audit is not None else {}
    rows: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    for claim in claims_cfg.claims:
        row, m = evaluate_claim(ctx, claim)
        if claim.note:
            row["explanation"] = f"{row['explanation']} Note: {sentence(claim.note)}".strip()
        ev: list[dict[str, Any]] = []
        if m is not None and ctx is not None and m.hits and max_evidence > 0:
            ev = evidence_rows(ctx, claim, m, max_evidence)
            evidence += ev
            row["evidence_shown"] = len(ev)
            row["evidence_count"] = max(row["evidence_count"] or 0, len(ev))
        entry = entries.get(claim.id)
        if entry is not None:
            row["audit_verdict"] = entry.verdict
            row["audit_agrees"] = not differences(entry, row, [e["doc_id"] for e in ev])
        rows.append(row)
        if progress:
            progress(len(rows), len(claims_cfg.claims), f"{claim.id}: {row['verdict']}")
    if ctx is not None:
        cache.save(ctx.doc_key(d) for d in ctx.texts())
    return rows, evidence


def write_claim_tables(
    con: duckdb.DuckDBPyConnection,
    claims_cfg: ClaimsConfig,
    *,
    max_evidence: int = 10,
    audit: Audit | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    quote_cache: Path | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evaluate the claims over ``con`` and replace its ``claims`` / ``claim_evidence`` tables."""
    rows, evidence = evaluate_claims(con, claims_cfg, max_evidence=max_evidence, audit=audit, progress=progress,
                                     quote_cache=quote_cache)
    replace_claim_tables(con, rows, evidence)
    return rows, evidence


def verdict_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(r["verdict"] for r in rows)
    return {v: counts.get(v, 0) for v in VERDICTS}
