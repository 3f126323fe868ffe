"""The NLP cache's rows as tables: ``DocResult``s (with their keys and texts) -> polars frames.

A pure function, so that a worker process (``parallel.py``) builds the frames of its own documents
and the one writer only inserts them (``NlpCache.insert``). Sentence and match texts are stored
sliced (Python slicing is O(length); DuckDB's ``substring`` on long UTF-8 documents has to scan from
the start each time).
"""

from __future__ import annotations

import polars as pl

from pipelines.core.nlp.processor import DocResult

TABLES = ("docs", "sentences", "phrase_hits", "mentions")


def result_frames(rows: list[tuple[str, str, str, DocResult]], lex_hash: str, code_version: str) -> dict[str, pl.DataFrame]:
    """The cache tables' rows for (cache_key, content_sha256, text, result) rows."""
    docs = pl.DataFrame(
        {
            "cache_key": [k for k, _, _, _ in rows],
            "content_sha256": [h for _, h, _, _ in rows],
            "lexicon_hash": [lex_hash] * len(rows),
            "code_version": [code_version] * len(rows),
            "mode": [r.mode for _, _, _, r in rows],
            "words": [r.words for _, _, _, r in rows],
            "sentences": [len(r.sentences) for _, _, _, r in rows],
        },
        schema={
            "cache_key": pl.Utf8,
            "content_sha256": pl.Utf8,
            "lexicon_hash": pl.Utf8,
            "code_version": pl.Utf8,
            "mode": pl.Utf8,
            "words": pl.Int32,
            "sentences": pl.Int32,
        },
    )
    i32, s_ = pl.Int32, pl.Utf8
    sent = pl.DataFrame(
        [(k, i, s, e, m, t[s:e]) for k, _, t, r in rows for i, (s, e, m) in enumerate(r.sentences)],
        schema={
            "cache_key": s_,
            "sent_id": i32,
            "start_char": i32,
            "end_char": i32,
            "method": s_,
            "text": s_,
        },
        orient="row",
    )
    hits = pl.DataFrame(
        [(k, p, sid, s, e, t[s:e]) for k, _, t, r in rows for p, sid, s, e in r.phrase_hits],
        schema={
            "cache_key": s_,
            "phrase_id": s_,
            "sent_id": i32,
            "start_char": i32,
            "end_char": i32,
            "matched_text": s_,
        },
        orient="row",
    )
    ments = pl.DataFrame(
        [
            (k, ent, alias, sid, s, e, t[s:e])
            for k, _, t, r in rows
            for ent, alias, sid, s, e in r.mentions
        ],
        schema={
            "cache_key": s_,
            "entity_id": s_,
            "alias": s_,
            "sent_id": i32,
            "start_char": i32,
            "end_char": i32,
            "matched_text": s_,
        },
        orient="row",
    )
    return {"docs": docs, "sentences": sent, "phrase_hits": hits, "mentions": ments}


def concat(frames: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Several pieces' frames as one set (pieces in order)."""
    return {t: pl.concat([f[t] for f in frames], how="vertical") for t in TABLES}
