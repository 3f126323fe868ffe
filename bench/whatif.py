"""Prototype fixes the harness can apply to a benchmark run, to measure a suggested change at scale
without editing the pipeline (``bench/run.py --duckdb-memory-limit 3GB --batched-ngrams``).

Nothing in the pipeline imports this module; `corpus run` is unchanged. Each function here is a
candidate replacement whose output is checked equal to the original (see bench/RESULTS.md).
"""

# SQL is assembled only from fragments defined here and in pipelines.core.analysis; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence

import duckdb


def build_ngrams_batched(
    con: duckdb.DuckDBPyConnection,
    *,
    ns: Sequence[int] = (1, 2, 3, 4),
    min_frequency: int = 3,
    top_n: int | None = None,
    stopwords: Sequence[str] | None = None,
    batch_words: int = 1_000_000,
) -> int:
    """``pipelines.core.analysis.build_ngrams`` computed over batches of ~``batch_words`` own words.

    Each batch runs the original window query on its documents only and appends partial
    aggregates (frequency, documents, first/last seen) to a table; one hash aggregation merges
    them. Batches partition the documents, so documents = the sum of per-batch distinct counts.
    The window operator's memory is bounded by a batch instead of the corpus; the merge is a
    plain GROUP BY, which DuckDB can spill to disk under a memory_limit.
    """
    from pipelines.core import analysis as A  # noqa: N812

    ns = sorted({int(n) for n in ns})
    if not ns or ns[0] < 1 or ns[-1] > A.MAX_NGRAM:
        raise ValueError(f"ns must be within 1..{A.MAX_NGRAM}, got {ns}")
    if stopwords is None:
        from spacy.lang.en.stop_words import STOP_WORDS

        stopwords = sorted(STOP_WORDS | {"’s", "'s", "n’t", "n't"})
    maxn = ns[-1]
    leads = ",\n".join(
        f"lead(w, {k}) OVER win AS w{k + 1}, lead(is_stop, {k}) OVER win AS s{k + 1}" for k in range(1, maxn)
    )
    parts = []
    for n in ns:
        gram = " || ' ' || ".join(f"w{i}" for i in range(1, n + 1))
        all_stop = " AND ".join(f"s{i}" for i in range(1, n + 1))
        parts.append(
            f"SELECT {n} AS n, {gram} AS ngram, doc_id, published_at FROM g WHERE w{n} IS NOT NULL AND NOT ({all_stop})"
        )
    docs = con.execute(f"SELECT doc_id, words FROM ({A._OWN_DOCS}) ORDER BY doc_id").fetchall()
    batches: list[list[str]] = []
    cur: list[str] = []
    acc = 0
    for doc_id, words in docs:
        cur.append(doc_id)
        acc += int(words or 0)
        if acc >= batch_words:
            batches.append(cur)
            cur, acc = [], 0
    if cur:
        batches.append(cur)
    con.execute(
        "CREATE OR REPLACE TABLE _ngram_parts (n INTEGER, ngram VARCHAR, frequency BIGINT, documents BIGINT, "
        "first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ)"
    )
    try:
        for batch in batches:
            con.execute(
                f"""
                INSERT INTO _ngram_parts
                WITH stop AS (SELECT DISTINCT unnest(?::VARCHAR[]) AS word),
                words AS (
                    SELECT s.doc_id, s.sent_id, o.published_at, regexp_extract_all(lower(s.text), ?) AS ws
                    FROM sentences s JOIN ({A._OWN_DOCS}) o USING (doc_id)
                    WHERE s.doc_id IN (SELECT unnest(?::VARCHAR[]))
                ),
                toks AS (
                    SELECT doc_id, sent_id, published_at, unnest(ws) AS w, generate_subscripts(ws, 1) AS pos FROM words
                ),
                t AS (SELECT toks.*, stop.word IS NOT NULL AS is_stop FROM toks LEFT JOIN stop ON stop.word = toks.w),
                g AS (
                    SELECT doc_id, published_at, w AS w1, is_stop AS s1{"," if leads else ""}
                           {leads}
                    FROM t WINDOW win AS (PARTITION BY doc_id, sent_id ORDER BY pos)
                ),
                grams AS ({" UNION ALL ".join(parts)})
                SELECT n, ngram, count(*), count(DISTINCT doc_id), min(published_at), max(published_at)
                FROM grams GROUP BY n, ngram
                """,
                [list(stopwords), A.WORD_RE_SQL, batch],
            )
        con.execute(
            """
            CREATE OR REPLACE TABLE ngrams AS
            SELECT n, ngram, sum(frequency)::BIGINT AS frequency, sum(documents)::BIGINT AS documents,
                   min(first_seen) AS first_seen, max(last_seen) AS last_seen
            FROM _ngram_parts
            GROUP BY n, ngram
            HAVING sum(frequency) >= ?
            QUALIFY ?::BIGINT IS NULL OR row_number() OVER (PARTITION BY n ORDER BY sum(frequency) DESC, ngram) <= ?::BIGINT
            ORDER BY n, frequency DESC, ngram
            """,
            [int(min_frequency), top_n, top_n],
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _ngram_parts")
    return int(con.execute("SELECT count(*) FROM ngrams").fetchone()[0])  # type: ignore[index]
