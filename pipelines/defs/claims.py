"""Claims and coverage assets: every checkable claim of the profile verified against the warehouse,
with evidence, and how much of the catalog the warehouse holds.

The claims step runs only when the tables it reads passed their blocking checks (well-formed
documents, sentences inside their documents): a broken upstream table stops verification instead of
producing verdicts on bad data.
"""

import re
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DagsterInstance,
    MaterializeResult,
    MetadataValue,
    asset_check,
    multi_asset,
    multi_asset_check,
)

from pipelines.core import db, progress
from pipelines.core import fingerprint as fp
from pipelines.core.claims import check_references, load_claims, write_claim_tables
from pipelines.core.claims.audit import load_audit
from pipelines.core.claims.spec import FAILING_VERDICTS
from pipelines.core.coverage import overall_coverage, write_coverage_tables
from pipelines.core.validate import lexicon_path
from pipelines.defs.resources import CorpusProject
from pipelines.defs.util import CHECK_RESULTS, preview, reused_check

UPSTREAM = ["documents", "segments", "sources", "snapshots", "tweets", "sentences", "phrase_hits",
            "phrase_frequencies", "mentions", "citation_tallies", "timeline", "first_uses"]
TABLES = {
    "claims": "One row per claim of the profile of {thinker} (analysis/claims.yaml): measured vs expected, verdict, explanation, coverage of its scope.",
    "claim_evidence": "The passages behind each verdict: document, link (tweet URL, video at the second), snippet.",
    "coverage": "Per catalog source: collected or not (with the reason), words against the profile's figure.",
    "coverage_by_kind": "Per source kind: sources, collected, missing, known gaps, words against claimed words.",
}


@asset_check(asset=AssetKey("sentences"), pool="warehouse", blocking=True, description="Every sentence lies inside its document; every document with words has sentences.")
def sentences_inside_documents(context: AssetCheckExecutionContext, corpus: CorpusProject) -> AssetCheckResult:
    def compute() -> tuple[bool, dict[str, Any]]:
        outside = db.scalar(con,
            """SELECT count(*) FROM sentences s JOIN documents d USING (doc_id)
               WHERE s.start_char < 0 OR s.end_char > length(d.text) OR s.end_char <= s.start_char"""
        )
        orphans = db.scalar(con, "SELECT count(*) FROM sentences WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
        without = db.scalar(con,
            "SELECT count(*) FROM documents WHERE word_count > 0 AND doc_id NOT IN (SELECT DISTINCT doc_id FROM sentences)"
        )
        return (outside, orphans, without) == (0, 0, 0), {
            "outside_document": outside, "orphan_sentences": orphans, "documents_without_sentences": without}

    with corpus.work_db() as con:  # documents and sentences come from these two steps
        passed, metadata = reused_check(con, corpus.project.cache_dir / CHECK_RESULTS, "sentences_inside_documents", ["warehouse_tables", "text_analysis"], compute)
    return AssetCheckResult(passed=passed, metadata=metadata)


def _inputs_fingerprint(con, paths: list) -> str:
    """What the claims and coverage depend on: the configuration, the evaluator's code, and the
    content of every table they read. Equal fingerprints mean the previous results still hold."""
    import pipelines.core.claims as claims_mod
    import pipelines.core.coverage as coverage_mod

    tables: list[str | tuple[str, str]] = [
        ("documents", "*COLUMNS(* EXCLUDE (text))") if t == "documents" else t for t in UPSTREAM
    ]
    return fp.fingerprint(con, files=paths, modules=[claims_mod, coverage_mod], tables=tables)


STEP = "verified_claims"


@multi_asset(
    specs=[AssetSpec(t, group_name="claims", kinds={"duckdb"}, deps=[AssetKey(u) for u in UPSTREAM], description=d) for t, d in TABLES.items()],
    pool="warehouse",
)
def verified_claims(context: AssetExecutionContext, corpus: CorpusProject):
    """Verify every claim of analysis/claims.yaml and measure coverage against the catalog."""
    p = corpus.project
    claims_path = p.analysis / "claims.yaml"
    with corpus.work_db() as con:
        audit_path = p.analysis / "audit.yaml"
        fingerprint = _inputs_fingerprint(con, [claims_path, p.catalog_path, lexicon_path(p.analysis), audit_path])
        Rows = list[dict[str, Any]]

        def build() -> tuple[Rows, Rows, Rows, Rows]:
            con.execute("DROP TABLE IF EXISTS _claims_inputs")  # the fingerprint table of older versions
            cov_rows, by_kind = write_coverage_tables(con)
            if claims_path.exists():
                cfg = load_claims(claims_path)
                lexicon = corpus.lexicon()
                check_references(
                    cfg, claims_path,
                    phrases={x.id for x in lexicon.phrases}, entities={x.id for x in lexicon.entities},
                    sources={s.id for s in corpus.catalog().sources},
                )
                bar = progress.task("claims", len(cfg.claims), "claims", rate_of=progress.rate("claims"))
                rows, evidence = write_claim_tables(
                    con, cfg, audit=load_audit(audit_path), progress=lambda i, n, line: bar.advance(i - bar.done, line),
                    quote_cache=p.cache_dir / "quotes.json",
                )
                bar.finish()
            else:
                context.log.warning(f"{claims_path} not found: no claims to verify")
                from pipelines.core.claims import replace_claim_tables

                rows, evidence = [], []
                replace_claim_tables(con, rows, evidence)
            return rows, evidence, cov_rows, by_kind

        _, built = fp.rebuild_unless_unchanged(con, STEP, fingerprint, list(TABLES), build)
        if built is not None:
            rows, evidence, cov_rows, by_kind = built
        else:
            context.log.info("claims: inputs unchanged since the last run; verdicts kept")
            rows = [{"verdict": v} for (v,) in con.execute("SELECT verdict FROM claims").fetchall()]
            evidence = [{} for _ in range(db.scalar(con, "SELECT count(*) FROM claim_evidence"))]
            cov_rows = [{} for _ in range(db.scalar(con, "SELECT count(*) FROM coverage"))]
            by_kind = [{} for _ in range(db.scalar(con, "SELECT count(*) FROM coverage_by_kind"))]
        verdicts: dict[str, int] = {}
        for r in rows:
            verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
        context.log.info(f"claims: {len(rows)} verified: {verdicts}")
        reported = report_claim_checks(context.instance, claim_rows(con))
        context.log.info(f"claims: {reported} per-claim check result(s) changed and reported")
        overall = overall_coverage(con)
        yield MaterializeResult(
            asset_key=AssetKey("claims"),
            metadata={
                "dagster/row_count": len(rows),
                "verdicts": MetadataValue.json(verdicts),
                "preview": preview(con, "SELECT claim_id, verdict, measured, expected, left(explanation, 120) AS explanation FROM claims ORDER BY verdict, claim_id", limit=20),
            },
        )
        yield MaterializeResult(
            asset_key=AssetKey("claim_evidence"),
            metadata={"dagster/row_count": len(evidence), "preview": preview(con, "SELECT claim_id, rank, kind, link, left(snippet, 80) AS snippet FROM claim_evidence")},
        )
        yield MaterializeResult(
            asset_key=AssetKey("coverage"),
            metadata={
                "dagster/row_count": len(cov_rows),
                "overall": MetadataValue.json({k: (round(v, 4) if isinstance(v, float) else v) for k, v in overall.items() if isinstance(v, int | float | str | None)}),
                "preview": preview(con, "SELECT source_id, kind, status, words, claimed_words, reason FROM coverage WHERE status <> 'collected' ORDER BY kind, source_id", limit=20),
            },
        )
        yield MaterializeResult(
            asset_key=AssetKey("coverage_by_kind"),
            metadata={"dagster/row_count": len(by_kind), "preview": preview(con, "SELECT * FROM coverage_by_kind")},
        )


@asset_check(asset=AssetKey("claims"), pool="warehouse", description="Every claim has a verdict and an explanation; data claims point at evidence.")
def claims_have_verdicts_and_evidence(context: AssetCheckExecutionContext, corpus: CorpusProject) -> AssetCheckResult:
    with corpus.work_db() as con:
        missing = db.scalar(con, "SELECT count(*) FROM claims WHERE verdict IS NULL OR coalesce(explanation, '') = ''")
        unbacked = db.scalar(con,
            "SELECT count(*) FROM claims WHERE verdict = 'supported' AND type IN ('phrase_count', 'citation') AND evidence_count = 0"
        )
    return AssetCheckResult(
        passed=missing == 0 and unbacked == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"without_verdict_or_explanation": missing, "supported_without_evidence": unbacked},
    )


def check_name(claim_id: str) -> str:
    return "claim_" + re.sub(r"[^A-Za-z0-9_]", "_", claim_id)


ClaimRow = tuple[str | None, str | None, int | None, str | None, str | None]  # verdict, explanation, evidence, measured, expected


def claim_rows(con) -> dict[str, ClaimRow]:
    return {
        r[0]: r[1:]
        for r in con.execute("SELECT claim_id, verdict, explanation, evidence_count, measured, expected FROM claims").fetchall()
    }


def claim_result(row: ClaimRow | None) -> tuple[bool, dict[str, str | int]]:
    """A claim's check outcome: passed, and the metadata the UI shows (verdict, explanation, evidence)."""
    if row is None:
        return True, {"verdict": "absent", "explanation": "not in this project's claims table"}
    verdict, explanation, n_ev, measured, expected = row
    return verdict not in FAILING_VERDICTS, {"verdict": verdict or "", "explanation": explanation or "", "evidence_count": int(n_ev or 0),
                                     "measured": measured or "", "expected": expected or ""}


def report_claim_checks(instance: DagsterInstance, rows: dict[str, ClaimRow]) -> int:
    """Record each claim's verdict as the evaluation of its check (``claim_<id>`` on ``claims``), for
    the claims whose outcome differs from the latest evaluation the instance holds. Returns how many.

    The checks are not part of the corpus jobs: a check executed in a run costs two event-log
    commits (planned, evaluated) even when nothing changed (402 commits for 201 claims, 3-18 s on
    this machine). Reported here, a re-run that changes no verdict writes nothing, and the UI still
    shows every claim's latest verdict, explanation and evidence count."""
    keys = {cid: AssetCheckKey(AssetKey("claims"), check_name(cid)) for cid in rows}
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(keys.values())) if keys else {}
    n = 0
    for cid, key in keys.items():
        passed, metadata = claim_result(rows[cid])
        evaluation = AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, passed=passed,
                                          metadata=metadata, severity=AssetCheckSeverity.WARN)
        record = latest.get(key)
        event = record.event.dagster_event if record and record.event else None
        old = event.event_specific_data if event else None
        if (isinstance(old, AssetCheckEvaluation) and (old.passed, old.metadata, old.severity)
                == (evaluation.passed, evaluation.metadata, evaluation.severity)):
            continue
        instance.report_runless_asset_event(evaluation)
        n += 1
    return n


def build_claim_checks(claim_ids: list[str]) -> AssetChecksDefinition:
    """One check per claim of the project's analysis/claims.yaml (the ids it is built with).

    ``verified_claims`` reports their results (``report_claim_checks``); this definition lists them
    in the UI and re-evaluates them from the claims table when executed from there."""

    @multi_asset_check(
        specs=[AssetCheckSpec(check_name(cid), asset="claims", description=f"Claim {cid} of analysis/claims.yaml") for cid in claim_ids],
        can_subset=True,
        pool="warehouse",
    )
    def claim_verdicts(context: AssetCheckExecutionContext, corpus: CorpusProject):
        """One check per claim: passes when supported or not checkable; WARN when contradicted, a lower
        bound only, or inconsistent within the profile. Metadata: verdict, explanation, evidence count."""
        with corpus.work_db() as con:
            rows = claim_rows(con)
        wanted = {k.name for k in context.selected_asset_check_keys}
        for cid in claim_ids:
            name = check_name(cid)
            if name not in wanted:
                continue
            passed, metadata = claim_result(rows.get(cid))
            yield AssetCheckResult(check_name=name, passed=passed, severity=AssetCheckSeverity.WARN, metadata=metadata)

    return claim_verdicts
