"""Analysis assets: sentences, phrase and citation tables, n-grams, first uses and the timeline.

One step computes them all (one spaCy pass over new or changed documents; results are cached per
document in warehouse/cache/nlp.duckdb, so a re-run processes only what changed) and reports each
table as its own asset with row counts and a preview.
"""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines.core import db, progress
from pipelines.core import fingerprint as fp
from pipelines.core.eras import load_eras
from pipelines.core.lexicon import default_lexicon_path, load_lexicon
from pipelines.defs.resources import CorpusProject
from pipelines.defs.util import preview

ANALYSIS_TABLES = {
    "sentences": "Sentences (caption pseudo-sentences for unpunctuated transcripts), with offsets into documents.text.",
    "phrase_hits": "Every match of a tracked phrase (analysis/lexicon.yaml): document, sentence, offsets, text.",
    "phrase_frequencies": "Per phrase, kind ('*' = all) and month (NULL = all time): documents, hits, per 10k words. {thinker}'s own words only.",
    "ngrams": "Frequent 1-4-grams in {thinker}'s own words with range (documents) and first/last seen.",
    "mentions": "Every mention of a citation entity (people, works, games, companies) with the alias matched.",
    "citation_tallies": "Per entity and kind ('*' = all): documents and mentions, first and last seen. {thinker}'s own words only.",
    "timeline": "Dated documents with the era (analysis/eras.yaml) they fall in.",
    "first_uses": "The first dated use of each tracked phrase, with a link to the passage.",
    "lexicon_phrases": "The tracked phrases and their surface forms, as configured.",
    "lexicon_entities": "The citation entities, aliases and ambiguity rules, as configured.",
}
PREVIEWS = {
    "phrase_frequencies": "SELECT * FROM phrase_frequencies WHERE period_month IS NULL AND kind = '*' ORDER BY hits DESC",
    "citation_tallies": "SELECT * FROM citation_tallies WHERE kind = '*' ORDER BY mentions DESC",
    "ngrams": "SELECT * FROM ngrams WHERE n >= 2 ORDER BY frequency DESC",
    "sentences": "SELECT doc_id, sent_id, left(text, 80) AS text FROM sentences",
}


STEP = "text_analysis"


@multi_asset(
    specs=[
        AssetSpec(t, group_name="analysis", kinds={"duckdb", "spacy"}, deps=[AssetKey("documents"), AssetKey("segments")], description=d)
        for t, d in ANALYSIS_TABLES.items()
    ],
    pool="warehouse",
)
def text_analysis(context: AssetExecutionContext, corpus: CorpusProject):
    """Run spaCy (blank English, sentencizer, lookup lemmas, phrase/entity matchers) and build the tables.

    Skipped (tables kept) when documents, segments, lexicon.yaml, eras.yaml and this code are
    unchanged since the last run."""
    p = corpus.project
    lexicon_path = p.analysis / "lexicon.yaml"
    if not lexicon_path.exists():
        context.log.warning(f"{lexicon_path} not found: using the shipped lexicon {default_lexicon_path()}")
        lexicon_path = default_lexicon_path()
    lexicon = load_lexicon(lexicon_path)
    eras_path = p.analysis / "eras.yaml"
    eras = load_eras(eras_path).eras if eras_path.exists() else None
    with corpus.work_db() as con:
        inputs = fp.fingerprint(
            con,
            files=[lexicon_path, eras_path],
            modules=[f"pipelines.core.{m}" for m in ("analysis", "nlp", "lexicon", "eras")],
            tables=[("documents", "*COLUMNS(* EXCLUDE (text))"), "segments"],
        )

        def build() -> Any:
            # spaCy, polars and numpy are imported only when the tables are rebuilt, not when the
            # code location loads (~1.4 s) nor when the step keeps its tables.
            from pipelines.core.analysis import build_all
            from pipelines.core.nlp.cache import NlpCache

            # attached for this build only: detached when it ends (the connection may outlive it)
            with NlpCache(con, p.cache_dir / "nlp.duckdb") as cache:
                ng = lexicon.ngrams
                bar: list[progress.Task] = []
                words = [0]

                def nlp_progress(done: int, total: int, words_done: int) -> None:
                    if not bar:
                        bar.append(progress.task("nlp", total, "documents", rate_of=progress.rate("words", lambda _: words[0])))
                    words[0] = words_done
                    bar[0].advance(done - bar[0].done)

                counts = build_all(
                    con, lexicon, eras=eras, cache=cache,
                    ngram_ns=tuple(ng.ns), ngram_min_frequency=ng.min_frequency, ngram_top_n=ng.top_n,
                    progress=nlp_progress,
                )
            if bar:
                bar[0].finish()
            stats = counts.get("nlp")
            if stats is not None:
                context.log.info(
                    f"nlp: {stats.documents} documents, {stats.processed} processed, {stats.cached} from cache, "
                    f"{stats.words:,} words in {stats.seconds:.1f}s"
                )
            return stats

        rebuilt, stats = fp.rebuild_unless_unchanged(con, STEP, inputs, list(ANALYSIS_TABLES), build)
        if not rebuilt:
            context.log.info("analysis: documents, segments, lexicon and eras unchanged since the last run; tables kept")
        for t in ANALYSIS_TABLES:
            n = db.count(con, t)
            meta: dict[str, Any] = {"dagster/row_count": n, "preview": preview(con, PREVIEWS.get(t, f'SELECT * FROM "{t}"'))}  # noqa: S608 - identifiers are module constants, never user input
            if t == "sentences" and stats is not None:
                meta["nlp"] = MetadataValue.json(
                    {"documents": stats.documents, "processed": stats.processed, "cached": stats.cached,
                     "words": stats.words, "seconds": round(stats.seconds, 2)}
                )
            elif t == "sentences":
                meta["nlp"] = MetadataValue.json({"processed": 0, "words": 0, "seconds": 0, "skipped": "inputs unchanged"})
            yield MaterializeResult(asset_key=AssetKey(t), metadata=meta)
