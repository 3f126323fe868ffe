"""Derived analysis tables, built with plain SQL over the warehouse's input tables.

Input: ``documents``, ``segments`` (and ``tweets``, not needed here) in a DuckDB connection.
Output (each (re)created whole, ``CREATE OR REPLACE``):

==================== =====================================================================
table                columns
==================== =====================================================================
sentences            doc_id, sent_id, start_char, end_char, text, method
phrase_hits          phrase_id, doc_id, sent_id, start_char, end_char, matched_text, is_own
phrase_frequencies   phrase_id, kind, period_month, documents, hits, words, per_10k_words,
                     mixed_speakers_documents
ngrams               n, ngram, frequency, documents, first_seen, last_seen
mentions             entity_id, doc_id, sent_id, alias, start_char, end_char, matched_text, is_own
citation_tallies     entity_id, name, type, kind, documents, mentions, first_seen, last_seen,
                     mixed_speakers_documents
timeline             doc_id, kind, title, url, published_at, era_id, era_name
first_uses           phrase_id, first_seen, doc_id, kind, url, sent_id, start_char, end_char,
                     start_s, link
lexicon_phrases      phrase_id, label, forms, case_sensitive, notes
lexicon_entities     entity_id, name, type, aliases, weak_aliases, require_context, exclude,
                     handles, case_sensitive, notes
==================== =====================================================================

Rules (documented in the tables' SQL below and in docs):

* Offsets (``start_char``/``end_char``) are 0-based, end-exclusive character offsets into
  ``documents.text``: ``substring(d.text, start_char + 1, end_char - start_char)`` in SQL,
  ``text[start_char:end_char]`` in Python, is the passage.
* ``phrase_hits``, ``mentions`` and ``sentences`` cover every document, with ``is_own`` on the
  hits so other people's words stay visible as evidence; every *count*
  (``phrase_frequencies``, ``ngrams``, ``citation_tallies``, ``first_uses``) uses only
  ``documents.is_own = true`` (retweets and others' posts excluded).
* Where a document mixes speakers (``speakers_separated = false``: podcasts whose transcript
  does not mark who speaks), counts still include it and say so in
  ``mixed_speakers_documents``.
* ``period_month`` is the UTC calendar month of ``published_at``; ``NULL`` = all time. ``kind``
  ``'*'`` = all kinds. Every phrase and entity gets rows even when never hit, so a 0 is a 0.
* ``documents`` counts documents containing the phrase at least once (how the profile counts
  "24 tweets containing 'from scratch'"); ``hits`` counts occurrences.
"""

# SQL text is assembled only from table names and fragments defined in this module; every
# value (user text, ids, dates, numbers) is passed as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines.core import db
from pipelines.core.lexicon import Lexicon
from pipelines.core.links import evidence_link
from pipelines.core.nlp.cache import DOC_KEYS_TABLE, NlpCache, ProcessStats, process_documents
from pipelines.core.nlp.processor import TextProcessor

# The project's word tokenisation (textutil.WORD_RE) in RE2 syntax, for DuckDB.
WORD_RE_SQL = r"[\p{L}\p{N}\p{M}_]+(?:['’\-][\p{L}\p{N}\p{M}_]+)*"
MAX_NGRAM = 4
EraSpec = Sequence[Any] | Callable[[datetime], Any] | None


def _register(con: duckdb.DuckDBPyConnection, name: str, df: pl.DataFrame) -> None:
    con.register(name, df.to_arrow())


# --------------------------------------------------------------------------- lexicon tables


def _phrase_frame(lexicon: Lexicon) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "phrase_id": [p.id for p in lexicon.phrases],
            "label": [p.label for p in lexicon.phrases],
            "forms": [p.surface_forms() for p in lexicon.phrases],
            "case_sensitive": [p.case_sensitive for p in lexicon.phrases],
            "notes": [p.notes for p in lexicon.phrases],
        },
        schema={
            "phrase_id": pl.Utf8,
            "label": pl.Utf8,
            "forms": pl.List(pl.Utf8),
            "case_sensitive": pl.Boolean,
            "notes": pl.Utf8,
        },
    )


def _entity_frame(lexicon: Lexicon) -> pl.DataFrame:
    es = lexicon.entities
    lst = pl.List(pl.Utf8)
    return pl.DataFrame(
        {
            "entity_id": [e.id for e in es],
            "name": [e.name for e in es],
            "type": [e.type for e in es],
            "aliases": [e.aliases for e in es],
            "weak_aliases": [e.weak_aliases for e in es],
            "require_context": [e.require_context for e in es],
            "exclude": [e.exclude for e in es],
            "handles": [e.handles for e in es],
            "case_sensitive": [e.case_sensitive for e in es],
            "notes": [e.notes for e in es],
        },
        schema={
            "entity_id": pl.Utf8,
            "name": pl.Utf8,
            "type": pl.Utf8,
            "aliases": lst,
            "weak_aliases": lst,
            "require_context": lst,
            "exclude": lst,
            "handles": lst,
            "case_sensitive": pl.Boolean,
            "notes": pl.Utf8,
        },
    )


def build_lexicon_tables(con: duckdb.DuckDBPyConnection, lexicon: Lexicon) -> dict[str, int]:
    """``lexicon_phrases`` and ``lexicon_entities``: what was counted, readable in SQL."""
    _register(con, "_lex_phrases", _phrase_frame(lexicon))
    _register(con, "_lex_entities", _entity_frame(lexicon))
    con.execute("CREATE OR REPLACE TABLE lexicon_phrases AS SELECT * FROM _lex_phrases ORDER BY phrase_id")
    con.execute("CREATE OR REPLACE TABLE lexicon_entities AS SELECT * FROM _lex_entities ORDER BY entity_id")
    con.unregister("_lex_phrases")
    con.unregister("_lex_entities")
    return {"lexicon_phrases": len(lexicon.phrases), "lexicon_entities": len(lexicon.entities)}


# --------------------------------------------------------------------------- text tables


def build_text_tables(
    con: duckdb.DuckDBPyConnection,
    lexicon: Lexicon,
    cache: NlpCache | None = None,
    *,
    processor: TextProcessor | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> ProcessStats:
    """Run (cached) NLP over all documents, then (re)create sentences, phrase_hits, mentions."""
    kwargs: dict[str, Any] = {"processor": processor, "progress": progress}
    if batch_size:
        kwargs["batch_size"] = batch_size
    cache = cache or NlpCache(con)
    stats = process_documents(con, lexicon, cache, **kwargs)
    keys = DOC_KEYS_TABLE
    c = cache.t
    # A hit is the thinker's own when its document is, and, in a recording whose speaker turns are
    # known (speaker_turns), when it falls inside one of his turns.
    own = "coalesce(d.is_own, false)"
    if db.count(con, "speaker_turns") if db.table_exists(con, "speaker_turns") else 0:
        own += (
            " AND (NOT EXISTS (SELECT 1 FROM speaker_turns t WHERE t.doc_id = k.doc_id)"
            " OR EXISTS (SELECT 1 FROM speaker_turns t WHERE t.doc_id = k.doc_id AND t.is_own"
            " AND {x}.start_char >= t.start_char AND {x}.start_char < t.end_char))"
        )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE sentences AS
        SELECT k.doc_id, s.sent_id, s.start_char, s.end_char,
               s.text, s.method
        FROM {keys} k JOIN {c("sentences")} s USING (cache_key)
        ORDER BY k.doc_id, s.sent_id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE phrase_hits AS
        SELECT h.phrase_id, k.doc_id, h.sent_id, h.start_char, h.end_char, h.matched_text,
               {own.format(x="h")} AS is_own
        FROM {keys} k JOIN {c("phrase_hits")} h USING (cache_key) JOIN documents d USING (doc_id)
        ORDER BY h.phrase_id, k.doc_id, h.start_char
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE mentions AS
        SELECT m.entity_id, k.doc_id, m.sent_id, m.alias, m.start_char, m.end_char, m.matched_text,
               {own.format(x="m")} AS is_own
        FROM {keys} k JOIN {c("mentions")} m USING (cache_key) JOIN documents d USING (doc_id)
        ORDER BY m.entity_id, k.doc_id, m.start_char
        """
    )
    return stats


# --------------------------------------------------------------------------- counts

# Own documents, dated only when their date dates their text (a README is not dated by its
# repository's creation: documents.date_basis = 'repo_created').
_OWN_DOCS = """
    SELECT doc_id, kind, coalesce(word_count, 0) AS words, speakers_separated, dated AS published_at,
           date_trunc('month', dated AT TIME ZONE 'UTC')::DATE AS month
    FROM (SELECT *, CASE WHEN date_basis = 'repo_created' THEN NULL ELSE published_at END AS dated
          FROM documents WHERE is_own)
"""


def build_phrase_frequencies(con: duckdb.DuckDBPyConnection, lexicon: Lexicon) -> int:
    """phrase x kind (+ '*') x month (+ NULL = all time), with zero rows; own documents only.

    ``words`` is the bucket's own words (sum of documents.word_count, the project's WORD_RE
    count); ``per_10k_words = hits * 10000 / words`` (NULL when the bucket has no words).
    Monthly rows exist for every (kind, month) that has own documents.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TABLE phrase_frequencies AS
        WITH own AS ({_OWN_DOCS}),
        doc_buckets AS (
            SELECT doc_id, kind, NULL::DATE AS period_month FROM own
            UNION ALL SELECT doc_id, '*', NULL::DATE FROM own
            UNION ALL SELECT doc_id, kind, month FROM own WHERE month IS NOT NULL
            UNION ALL SELECT doc_id, '*', month FROM own WHERE month IS NOT NULL
        ),
        buckets AS (
            SELECT kind, period_month, sum(words)::BIGINT AS words FROM (
                SELECT b.kind, b.period_month, o.words FROM doc_buckets b JOIN own o USING (doc_id)
                UNION ALL SELECT '*', NULL::DATE, 0
            ) GROUP BY ALL
        ),
        per_doc AS (
            SELECT h.phrase_id, h.doc_id, count(*) AS hits, any_value(o.speakers_separated) AS speakers_separated
            FROM phrase_hits h JOIN own o USING (doc_id) WHERE h.is_own GROUP BY ALL
        ),
        stats AS (
            SELECT p.phrase_id, b.kind, b.period_month, count(*) AS documents, sum(p.hits) AS hits,
                   count(*) FILTER (WHERE p.speakers_separated = false) AS mixed
            FROM per_doc p JOIN doc_buckets b USING (doc_id) GROUP BY ALL
        ),
        phrases AS (SELECT unnest(?::VARCHAR[]) AS phrase_id)
        SELECT ph.phrase_id, b.kind, b.period_month,
               coalesce(s.documents, 0)::BIGINT AS documents,
               coalesce(s.hits, 0)::BIGINT AS hits,
               b.words,
               CASE WHEN b.words > 0 THEN coalesce(s.hits, 0) * 10000.0 / b.words END AS per_10k_words,
               coalesce(s.mixed, 0)::BIGINT AS mixed_speakers_documents
        FROM phrases ph CROSS JOIN buckets b
        LEFT JOIN stats s ON s.phrase_id = ph.phrase_id AND s.kind = b.kind
                         AND s.period_month IS NOT DISTINCT FROM b.period_month
        ORDER BY ph.phrase_id, b.period_month NULLS FIRST, b.kind
        """,
        [[p.id for p in lexicon.phrases]],
    )
    return db.count(con, "phrase_frequencies")


def build_citation_tallies(con: duckdb.DuckDBPyConnection, lexicon: Lexicon) -> int:
    """entity x kind (+ '*'): documents citing, mentions, first/last date; own documents only.

    Every entity has a '*' row and a row per kind of own document, zeros included.
    """
    _register(con, "_lex_entities", _entity_frame(lexicon).select("entity_id", "name", "type"))
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE citation_tallies AS
            WITH own AS ({_OWN_DOCS}),
            kinds AS (SELECT DISTINCT kind FROM own UNION SELECT '*'),
            m AS (
                SELECT m.entity_id, o.kind, m.doc_id, o.published_at, o.speakers_separated
                FROM mentions m JOIN own o USING (doc_id) WHERE m.is_own
            ),
            mm AS (SELECT * FROM m UNION ALL SELECT entity_id, '*', doc_id, published_at, speakers_separated FROM m),
            stats AS (
                SELECT entity_id, kind, count(DISTINCT doc_id) AS documents, count(*) AS mentions,
                       min(published_at) AS first_seen, max(published_at) AS last_seen,
                       count(DISTINCT doc_id) FILTER (WHERE speakers_separated = false) AS mixed
                FROM mm GROUP BY ALL
            )
            SELECT e.entity_id, e.name, e.type, k.kind,
                   coalesce(s.documents, 0)::BIGINT AS documents,
                   coalesce(s.mentions, 0)::BIGINT AS mentions,
                   s.first_seen, s.last_seen,
                   coalesce(s.mixed, 0)::BIGINT AS mixed_speakers_documents
            FROM _lex_entities e CROSS JOIN kinds k
            LEFT JOIN stats s ON s.entity_id = e.entity_id AND s.kind = k.kind
            ORDER BY e.entity_id, k.kind
            """
        )
    finally:
        con.unregister("_lex_entities")
    return db.count(con, "citation_tallies")


NGRAM_BUCKETS = 32  # documents are hashed into this many buckets; a change recounts its bucket only


def build_ngrams(
    con: duckdb.DuckDBPyConnection,
    *,
    ns: Sequence[int] = (1, 2, 3, 4),
    min_frequency: int = 3,
    top_n: int | None = None,
    stopwords: Sequence[str] | None = None,
    batch_words: int = 1_000_000,
    keep: str | None = None,
) -> int:
    """Word n-grams of the author's own sentences (never across a sentence), computed in DuckDB.

    Words are the project's WORD_RE tokens, lower-cased ("from-scratch" is one word). An n-gram
    made only of stop words (spaCy's English list by default) is dropped; so are n-grams seen fewer
    than ``min_frequency`` times. ``top_n`` keeps the most frequent per n.

    Memory stays bounded as the corpus grows. Documents are hashed into NGRAM_BUCKETS buckets;
    each batch of ~``batch_words`` own words (whole buckets, or part of one large bucket) runs the
    window query on its documents only and appends per-bucket partial aggregates (frequency,
    documents, first/last seen), one row per (bucket, n, n-gram), to a parts table. Buckets
    partition the documents, so documents = the sum of per-bucket distinct counts. The window
    operator's memory is bounded by a batch instead of the corpus. The totals (frequency and
    documents per n-gram, summed over the buckets) give the kept n-grams; their first and last
    dates come from their parts.

    Incremental with ``keep`` (a schema or attached database, e.g. the NLP cache): the parts are
    kept there per bucket of documents (``hash(doc_id) % NGRAM_BUCKETS``) with a digest of each
    bucket's input (own sentences and dates), and so are the totals. A later call recounts only
    the buckets whose digest moved (a document added, changed or deleted), and moves the totals
    by the difference between the recounted buckets' new and old parts (``_ngram_move_totals``),
    so nothing is summed corpus-wide; a change of the query, stop words or n drops every bucket.
    The table equals a full recount.
    """
    ns = sorted({int(n) for n in ns})
    if not ns or ns[0] < 1 or ns[-1] > MAX_NGRAM:
        raise ValueError(f"ns must be within 1..{MAX_NGRAM}, got {ns}")
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
            f"SELECT {n} AS n, {gram} AS ngram, bucket, doc_id, published_at FROM g WHERE w{n} IS NOT NULL AND NOT ({all_stop})"
        )
    bucket = f"(hash(doc_id) % {NGRAM_BUCKETS})::INTEGER"
    table = f"{keep}.ngram_parts" if keep else "_ngram_parts"
    totals = f"{keep}.ngram_totals" if keep else "_ngram_totals"
    select_sql = f"""
        WITH stop AS (SELECT DISTINCT v AS word FROM _ngram_stop),
        words AS (
            SELECT s.doc_id, {bucket} AS bucket, s.sent_id, o.published_at, regexp_extract_all(lower(s.text), ?) AS ws
            FROM sentences s JOIN ({_OWN_DOCS}) o USING (doc_id)
            WHERE s.doc_id IN (SELECT v FROM _ngram_batch)
        ),
        toks AS (
            SELECT doc_id, bucket, sent_id, published_at, unnest(ws) AS w, generate_subscripts(ws, 1) AS pos FROM words
        ),
        t AS (SELECT toks.*, stop.word IS NOT NULL AS is_stop FROM toks LEFT JOIN stop ON stop.word = toks.w),
        g AS (
            SELECT doc_id, bucket, published_at, w AS w1, is_stop AS s1{"," if leads else ""}
                   {leads}
            FROM t WINDOW win AS (PARTITION BY doc_id, sent_id ORDER BY pos)
        ),
        grams AS ({" UNION ALL ".join(parts)})
        SELECT bucket, n, ngram, count(*), count(DISTINCT doc_id), min(published_at), max(published_at)
        FROM grams GROUP BY bucket, n, ngram
        """
    columns = ("(bucket INTEGER, n INTEGER, ngram VARCHAR, frequency BIGINT, documents BIGINT, "
               "first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ)")
    if keep is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} {columns}")
        todo, digests, moving = None, dict[int, str](), False  # every document; totals summed from every part
    else:
        todo, digests, moving = _ngram_buckets_to_count(con, keep, table, columns, select_sql, list(stopwords), bucket)
    docs = con.execute(
        f"SELECT {bucket} AS b, doc_id, words FROM ({_OWN_DOCS}) "
        f"WHERE ?::INTEGER[] IS NULL OR list_contains(?::INTEGER[], {bucket}) ORDER BY b, doc_id",
        [todo, todo],
    ).fetchall()
    import pyarrow as pa

    # lists as registered Arrow tables, not bound lists (see db.values_table)
    con.register("_ngram_stop", pa.table({"v": pa.array(list(stopwords), pa.string())}))
    try:
        for group in _ngram_batches(docs, batch_words):
            # a bucket counted in several batches goes through a temp table and is summed into one
            # row per (bucket, n, ngram): the totals' documents rely on at most one row per bucket
            target = table if len(group) == 1 else "_ngram_split"
            if target != table:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _ngram_split {columns}")
            for batch in group:
                con.register("_ngram_batch", pa.table({"v": pa.array(batch, pa.string())}))
                try:
                    con.execute(f"INSERT INTO {target} {select_sql}", [WORD_RE_SQL])
                finally:
                    con.unregister("_ngram_batch")
            if target != table:
                con.execute(
                    f"""INSERT INTO {table} SELECT bucket, n, ngram, sum(frequency), sum(documents), min(first_seen),
                        max(last_seen) FROM _ngram_split GROUP BY bucket, n, ngram"""
                )
                con.execute("DROP TABLE _ngram_split")
        if moving:
            _ngram_move_totals(con, table, totals, todo or [])
        else:
            con.execute(f"CREATE OR REPLACE TABLE {totals} AS SELECT n, ngram, sum(frequency)::BIGINT AS frequency, "
                        f"sum(documents)::BIGINT AS documents FROM {table} GROUP BY n, ngram")
        if keep is not None:
            _record_ngram_digests(con, keep, todo or [], digests)
        con.execute("CREATE OR REPLACE TEMP TABLE _ngrams_new (n INTEGER, ngram VARCHAR, frequency BIGINT, documents BIGINT, "
                    "first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ)")
        for n in ns:
            _select_ngrams(con, table, totals, n, min_frequency, top_n)
        con.execute("CREATE OR REPLACE TABLE ngrams AS SELECT * FROM _ngrams_new ORDER BY n, frequency DESC, ngram")
        con.execute("DROP TABLE _ngrams_new")
    finally:
        con.unregister("_ngram_stop")
        if keep is None:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"DROP TABLE IF EXISTS {totals}")
    return int(db.scalar(con, "SELECT count(*) FROM ngrams"))


def _ngram_batches(docs: Sequence[tuple[int, str, int]], batch_words: int) -> list[list[list[str]]]:
    """Groups of batches of doc ids, from (bucket, doc_id, words) rows sorted by bucket. A batch
    holds whole buckets up to ~``batch_words`` words; a bucket larger than that is split into a
    group of its own, counted batch by batch, and summed afterwards."""
    by_bucket: dict[int, list[tuple[str, int]]] = {}
    for b, doc_id, words in docs:
        by_bucket.setdefault(int(b), []).append((doc_id, int(words or 0)))
    groups: list[list[list[str]]] = []
    cur: list[str] = []
    acc = 0
    for items in by_bucket.values():
        size = sum(w for _, w in items)
        if size > batch_words:
            split: list[list[str]] = [[]]
            part = 0
            for doc_id, words in items:
                if part >= batch_words:
                    split.append([])
                    part = 0
                split[-1].append(doc_id)
                part += words
            groups.append(split)
            continue
        if cur and acc + size > batch_words:
            groups.append([cur])
            cur, acc = [], 0
        cur.extend(doc_id for doc_id, _ in items)
        acc += size
    if cur:
        groups.append([cur])
    return groups


def _select_ngrams(con: duckdb.DuckDBPyConnection, table: str, totals: str, n: int, min_frequency: int,
                   top_n: int | None) -> None:
    """One n's kept n-grams into ``_ngrams_new``: from the totals, every n-gram seen
    ``min_frequency`` times, or the ``top_n`` most frequent (ties by n-gram); their first and last
    dates from their parts."""
    n, min_frequency = int(n), int(min_frequency)
    limit = f" LIMIT {int(top_n)}" if top_n is not None else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ngram_top AS
            SELECT n, ngram, frequency, documents FROM {totals}
            WHERE n = {n} AND frequency >= {min_frequency} ORDER BY frequency DESC, ngram{limit}"""
    )
    con.execute(
        f"""INSERT INTO _ngrams_new
            SELECT t.n, t.ngram, t.frequency, t.documents, min(p.first_seen), max(p.last_seen)
            FROM _ngram_top t JOIN {table} p ON p.n = {n} AND p.ngram = t.ngram
            GROUP BY t.n, t.ngram, t.frequency, t.documents"""
    )
    con.execute("DROP TABLE _ngram_top")


def _ngram_move_totals(con: duckdb.DuckDBPyConnection, table: str, totals: str, counted: list[int]) -> None:
    """Move the kept totals by the recounted buckets' new parts minus their old ones (saved in
    ``_ngram_old`` before they were dropped): n-grams in the difference are updated, new ones
    inserted, and those no longer seen deleted."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ngram_delta AS
            SELECT n, ngram, sum(frequency)::BIGINT AS frequency, sum(documents)::BIGINT AS documents FROM (
                SELECT n, ngram, frequency, documents FROM {table} WHERE list_contains(?::INTEGER[], bucket)
                UNION ALL SELECT n, ngram, -frequency, -documents FROM _ngram_old
            ) GROUP BY n, ngram HAVING sum(frequency) <> 0 OR sum(documents) <> 0""",
        [counted],
    )
    con.execute(
        f"""UPDATE {totals} AS t SET frequency = t.frequency + d.frequency, documents = t.documents + d.documents
            FROM _ngram_delta d WHERE t.n = d.n AND t.ngram = d.ngram"""
    )
    con.execute(
        f"""INSERT INTO {totals} SELECT d.* FROM _ngram_delta d
            WHERE NOT EXISTS (SELECT 1 FROM {totals} t WHERE t.n = d.n AND t.ngram = d.ngram)"""
    )
    con.execute(f"DELETE FROM {totals} WHERE frequency <= 0")
    con.execute("DROP TABLE _ngram_delta")
    con.execute("DROP TABLE _ngram_old")


def _ngram_digests(con: duckdb.DuckDBPyConnection, bucket: str) -> dict[int, str]:
    """Per bucket: a digest of what its n-grams are counted from (own sentences and their dates)."""
    rows = con.execute(
        f"""SELECT {bucket} AS b, count(*), sum(hash(doc_id, sent_id, s.text, o.published_at))
            FROM sentences s JOIN ({_OWN_DOCS}) o USING (doc_id) GROUP BY b"""
    ).fetchall()
    return {int(b): f"{n}:{h}" for b, n, h in rows}


_TOTALS_MARK = -2  # a row of ngram_buckets: the kept totals are the sum of the kept parts


def _ngram_buckets_to_count(
    con: duckdb.DuckDBPyConnection, keep: str, table: str, columns: str, select_sql: str, stopwords: list[str], bucket: str
) -> tuple[list[int], dict[int, str], bool]:
    """The buckets to recount, every bucket's digest now, and whether the kept totals can be moved
    (else they are summed again from every part). The recounted buckets' kept parts (and digests)
    are dropped first, so a run killed half-way recounts them next time; their old parts are saved
    in ``_ngram_old`` for the totals, whose mark is dropped until they are moved."""
    import hashlib

    seen = f"{keep}.ngram_buckets"
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} {columns}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {seen} (bucket INTEGER, digest VARCHAR)")
    key = hashlib.sha256(repr((select_sql, stopwords, WORD_RE_SQL, NGRAM_BUCKETS, duckdb.__version__)).encode()).hexdigest()
    kept = dict(con.execute(f"SELECT bucket, digest FROM {seen}").fetchall())
    if kept.get(-1) != key:  # counted another way: start afresh
        con.execute(f"DELETE FROM {seen}")
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {seen} VALUES (-1, ?)", [key])
        kept = {}
    now = _ngram_digests(con, bucket)
    todo = sorted(b for b in range(NGRAM_BUCKETS) if kept.get(b) != now.get(b))
    con.execute(f"CREATE TABLE IF NOT EXISTS {keep}.ngram_totals (n INTEGER, ngram VARCHAR, frequency BIGINT, documents BIGINT)")
    moving = kept.get(_TOTALS_MARK) == key
    if moving:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _ngram_old AS SELECT n, ngram, frequency, documents FROM {table} "
            "WHERE list_contains(?::INTEGER[], bucket)",
            [todo],
        )
    con.execute(f"DELETE FROM {seen} WHERE list_contains(?::INTEGER[], bucket) OR bucket = {_TOTALS_MARK}", [todo])
    con.execute(f"DELETE FROM {table} WHERE list_contains(?::INTEGER[], bucket)", [todo])
    return todo, now, moving


def _record_ngram_digests(con: duckdb.DuckDBPyConnection, keep: str, counted: list[int], digests: dict[int, str]) -> None:
    """The recounted buckets' digests, and the mark that the totals match the parts."""
    key = db.scalar(con, f"SELECT digest FROM {keep}.ngram_buckets WHERE bucket = -1")
    rows = [(b, digests[b]) for b in counted if b in digests] + [(_TOTALS_MARK, key)]
    con.executemany(f"INSERT INTO {keep}.ngram_buckets VALUES (?, ?)", rows)


def build_first_uses(con: duckdb.DuckDBPyConnection, lexicon: Lexicon) -> int:
    """For each phrase, its earliest dated hit in own documents (NULLs when never used).

    Ties on the date go to the lower doc_id, then the earlier offset. A phrase found only in
    undated documents gets that document with ``first_seen`` NULL. ``start_s`` is the second of
    the transcript segment holding the hit; ``link`` the evidence URL.
    """
    df = con.execute(
        f"""
        WITH own AS ({_OWN_DOCS}),
        ranked AS (
            SELECT h.phrase_id, o.published_at, h.doc_id, o.kind, h.sent_id, h.start_char, h.end_char,
                   row_number() OVER (PARTITION BY h.phrase_id
                                      ORDER BY o.published_at NULLS LAST, h.doc_id, h.start_char) AS rn
            FROM phrase_hits h JOIN own o USING (doc_id) WHERE h.is_own
        ),
        phrases AS (SELECT unnest(?::VARCHAR[]) AS phrase_id)
        SELECT p.phrase_id, r.published_at AS first_seen, r.doc_id, r.kind, d.url,
               r.sent_id, r.start_char, r.end_char,
               (SELECT min(g.start_s) FROM segments g
                 WHERE g.doc_id = r.doc_id AND g.start_char <= r.start_char AND g.end_char > r.start_char) AS start_s
        FROM phrases p
        LEFT JOIN ranked r ON r.phrase_id = p.phrase_id AND r.rn = 1
        LEFT JOIN documents d ON d.doc_id = r.doc_id
        ORDER BY r.published_at NULLS LAST, p.phrase_id
        """,
        [[p.id for p in lexicon.phrases]],
    ).pl()
    links = [
        evidence_link(k, u, s) if doc is not None else None
        for k, u, s, doc in zip(df["kind"], df["url"], df["start_s"], df["doc_id"], strict=True)
    ]
    df = df.with_columns(pl.Series("link", links, dtype=pl.Utf8))
    _register(con, "_first_uses", df)
    try:
        con.execute("CREATE OR REPLACE TABLE first_uses AS SELECT * FROM _first_uses")
    finally:
        con.unregister("_first_uses")
    return df.height


# --------------------------------------------------------------------------- timeline


def _as_date(value: Any, *, end: bool) -> date | None:
    """A date from a date/datetime/'YYYY'/'YYYY-MM'/'YYYY-MM-DD'; a partial end means its last day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    parts = [int(p) for p in s[:10].split("-")]
    if len(parts) == 1:
        return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
    if len(parts) == 2:
        last = calendar.monthrange(parts[0], parts[1])[1]
        return date(parts[0], parts[1], last if end else 1)
    return date(parts[0], parts[1], parts[2])


def _field(obj: Any, *names: str) -> Any:
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return None


def normalise_eras(eras: Sequence[Any]) -> list[tuple[str, str, date | None, date | None]]:
    """Eras as (era_id, era_name, start, end) with inclusive dates.

    Accepts tuples/lists ``(id, name, start, end)`` or objects/dicts with ``id``/``era_id``,
    ``name``/``era_name``/``label``, ``start``/``start_date``, ``end``/``end_date``. Dates may be
    date/datetime or 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' (a partial end is its period's last day).
    """
    out = []
    for e in eras:
        if isinstance(e, (tuple, list)):
            eid, name, start, end = (list(e) + [None, None, None, None])[:4]
        else:
            eid = _field(e, "era_id", "id")
            name = _field(e, "era_name", "name", "label", "title")
            start = _field(e, "start", "start_date", "since", "from_date")
            end = _field(e, "end", "end_date", "until", "to_date")
        out.append(
            (
                str(eid),
                str(name if name is not None else eid),
                _as_date(start, end=False),
                _as_date(end, end=True),
            )
        )
    return out


def build_timeline(con: duckdb.DuckDBPyConnection, eras: EraSpec = None) -> int:
    """Every dated document with kind, title, url and its era (NULL when no era covers it).

    ``eras``: a sequence of eras (see ``normalise_eras``; start and end inclusive, by UTC date;
    when eras overlap the one that started last wins) or a callable taking ``published_at``
    and returning ``(era_id, era_name)``, an object with id/name, or None.
    """
    base = """SELECT doc_id, kind, title, url, published_at,
                     (published_at AT TIME ZONE 'UTC')::DATE AS day
              FROM documents WHERE published_at IS NOT NULL"""
    if callable(eras):
        df = con.execute(base + " ORDER BY published_at, doc_id").pl()
        ids: list[str | None] = []
        names: list[str | None] = []
        for ts in df["published_at"]:
            r = eras(ts)
            if r is None:
                ids.append(None)
                names.append(None)
            elif isinstance(r, (tuple, list)):
                ids.append(None if r[0] is None else str(r[0]))
                names.append(None if len(r) < 2 or r[1] is None else str(r[1]))
            else:
                eid = _field(r, "era_id", "id")
                ids.append(None if eid is None else str(eid))
                nm = _field(r, "era_name", "name", "label")
                names.append(None if nm is None else str(nm))
        df = df.drop("day").with_columns(
            pl.Series("era_id", ids, dtype=pl.Utf8), pl.Series("era_name", names, dtype=pl.Utf8)
        )
        _register(con, "_timeline", df)
        try:
            con.execute("CREATE OR REPLACE TABLE timeline AS SELECT * FROM _timeline")
        finally:
            con.unregister("_timeline")
        return df.height
    rows = normalise_eras(eras or [])
    era_df = pl.DataFrame(
        rows, schema={"era_id": pl.Utf8, "era_name": pl.Utf8, "start": pl.Date, "end": pl.Date}, orient="row"
    )
    _register(con, "_eras", era_df)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE timeline AS
            WITH docs AS ({base})
            SELECT d.doc_id, d.kind, d.title, d.url, d.published_at, e.era_id, e.era_name
            FROM docs d
            LEFT JOIN _eras e ON (e.start IS NULL OR d.day >= e.start) AND (e."end" IS NULL OR d.day <= e."end")
            QUALIFY row_number() OVER (PARTITION BY d.doc_id ORDER BY e.start DESC NULLS LAST, e.era_id) = 1
            ORDER BY d.published_at, d.doc_id
            """
        )
    finally:
        con.unregister("_eras")
    return db.count(con, "timeline")


# --------------------------------------------------------------------------- all


def build_all(
    con: duckdb.DuckDBPyConnection,
    lexicon: Lexicon,
    *,
    eras: EraSpec = None,
    cache: NlpCache | None = None,
    ngram_ns: Sequence[int] = (1, 2, 3, 4),
    ngram_min_frequency: int = 3,
    ngram_top_n: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> dict[str, Any]:
    """Every analysis table in order; returns row counts and the NLP stats."""
    stats = build_text_tables(con, lexicon, cache, progress=progress)
    out: dict[str, Any] = {"nlp": stats}
    out.update(build_lexicon_tables(con, lexicon))
    out["sentences"] = db.count(con, "sentences")
    out["phrase_hits"] = db.count(con, "phrase_hits")
    out["mentions"] = db.count(con, "mentions")
    out["phrase_frequencies"] = build_phrase_frequencies(con, lexicon)
    out["citation_tallies"] = build_citation_tallies(con, lexicon)
    out["ngrams"] = build_ngrams(con, ns=ngram_ns, min_frequency=ngram_min_frequency, top_n=ngram_top_n,
                                 keep=cache.NAME if cache is not None and cache.path is not None else None)
    out["first_uses"] = build_first_uses(con, lexicon)
    out["timeline"] = build_timeline(con, eras)
    return out
