"""KWIC lemma mode: every form of each query word, on a tiny synthetic warehouse."""

from __future__ import annotations

import duckdb

from pipelines.core.kwic import kwic, lemma_forms, query_words
from pipelines.core.schema import create_table
from pipelines.core.textnorm import find_words


def test_lemma_forms_and_words() -> None:
    assert {"build", "builds", "building", "built"} <= lemma_forms("built")
    words = query_words("build model", lemma=True)
    text = "we built models today"
    assert [text[a:b] for a, b in find_words(text, words)] == ["built models"]
    assert find_words("a rebuilt model", words) == []  # whole words only
    assert find_words("we built models", query_words("build model")) == []


def test_kwic_lemma_mode_on_documents() -> None:
    con = duckdb.connect()
    create_table(con, "documents")
    con.execute(
        """INSERT INTO documents (doc_id, kind, title, published_at, url, text, is_own, timed) SELECT * FROM (VALUES
           ('d1', 'tweet', 'T', TIMESTAMPTZ '2024-01-02 00:00:00+00', 'https://x.com/a/status/1', 'Today I built models from scratch.', true, false),
           ('d2', 'tweet', 'T', TIMESTAMPTZ '2024-02-02 00:00:00+00', 'https://x.com/a/status/2', 'Building a model is fun.', true, false),
           ('d3', 'tweet', 'T', TIMESTAMPTZ '2024-03-02 00:00:00+00', 'https://x.com/a/status/3', 'RT someone built models too', false, false))
           AS t(doc_id, kind, title, published_at, url, text, is_own, timed)"""
    )
    create_table(con, "segments")
    con.execute("CREATE TABLE phrase_hits (phrase_id VARCHAR, doc_id VARCHAR, sent_id INT, start_char INT, end_char INT, matched_text VARCHAR, is_own BOOLEAN)")
    con.execute("CREATE TABLE lexicon_phrases (phrase_id VARCHAR, label VARCHAR, forms VARCHAR[], case_sensitive BOOLEAN, notes VARCHAR)")
    lines = kwic(con, "build model", lemma=True)
    # d2 has "Building a model": the words are not adjacent, so it is not a match
    assert [(ln["doc_id"], ln["match"]) for ln in lines] == [("d1", "built models")]
    assert [ln["doc_id"] for ln in kwic(con, "building model", lemma=True)] == ["d1"]
    assert all(ln["doc_id"] != "d3" for ln in lines)  # others' words left out
    assert [ln["doc_id"] for ln in kwic(con, "build model")] == []
