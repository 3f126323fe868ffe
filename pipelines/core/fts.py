"""DuckDB's BM25 index over whole documents (``fts_main_documents``), built in set-based SQL.

SQL users query it with DuckDB's own macro, ``fts_main_documents.match_bm25(doc_id, 'query')``, and
the relevance benchmark uses it as its baseline. The extension's ``PRAGMA create_fts_index`` (1.5.5)
fills its tables with correlated UPDATEs (each term row looks up its term id, each document counts
its terms): 75 s at 100x the corpus. Here:

1. the PRAGMA runs on an empty temporary table that shadows ``documents``: it creates the schema,
   its ``tokenize`` and ``match_bm25`` macros, the field list and the (empty) stop-word list, in
   milliseconds;
2. the tables the macros read are then filled from ``documents`` (tokenised in batches of ~32M
   characters, so the extension's lists stay small) with the same tokens (the
   extension's own ``tokenize`` macro and ``stem`` function, title then text), by joins and
   GROUP BYs: ``docs`` (docid = the row id, name, len = tokens), ``terms`` (docid, fieldid, termid:
   one row per token), ``dict`` (termid, term, df) and ``stats`` (num_docs, avgdl).

Term ids are given in term order (the PRAGMA's are in another order); ``match_bm25`` joins on them
only, so its scores are those of the PRAGMA's index. ``tests/test_search.py`` compares the two
builds table by table and score by score.

``refresh`` updates the index in place when few documents changed: ``_fts_docs`` keeps a signature
of each indexed document (its title and text); a removed or changed document's term rows are
deleted and the document frequencies of its terms lowered, a new or changed document is tokenised
alone and appended (a new docid, new terms at the end of ``dict``), and ``stats`` is recomputed.
The tables then hold what a full build holds, under other ids (a test compares them by name and
term).
"""

# SQL identifiers are module constants; no value is ever interpolated.
# ruff: noqa: S608

from __future__ import annotations

import duckdb

from pipelines.core import db

SCHEMA = "fts_main_documents"
STATE = "_fts_docs"  # per indexed document: its signature (title and text)
REBUILD_SHARE = 0.2  # more documents changed than this share: a full build
BATCH_CHARS = 32_000_000  # characters tokenised per statement in a full build
FIELDS = ("title", "text")  # fieldid 0, 1: the PRAGMA's order
PRAGMA = (
    "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', "
    "stemmer = 'porter', stopwords = 'none', strip_accents = 1, lower = 1, overwrite = 1)"
)


def build_with_pragma(con: duckdb.DuckDBPyConnection) -> None:
    """The extension's own build over every document (the reference ``build`` is checked against)."""
    con.execute(PRAGMA)


def _tokens_sql(docs: str) -> str:
    """The tokens (term, docid, fieldid) of ``docs`` (a query with doc_id, docid, title, text)."""
    tokens = " UNION ALL ".join(
        f"SELECT unnest({SCHEMA}.tokenize({field})) AS w, docid, {i}::BIGINT AS fieldid FROM ({docs})"
        for i, field in enumerate(FIELDS)
    )
    return (f"SELECT stem(w, 'porter') AS term, docid, fieldid FROM ({tokens}) "
            f"WHERE w IS NOT NULL AND len(w) > 0 AND w NOT IN (SELECT sw FROM {SCHEMA}.stopwords)")


_SIG = "hash(doc_id, title, text)"


def _fill_stats(con: duckdb.DuckDBPyConnection) -> None:
    """``stats`` from ``docs``: the number of documents and their mean length in tokens."""
    con.execute(f"DELETE FROM {SCHEMA}.stats")
    con.execute(f"INSERT INTO {SCHEMA}.stats SELECT count(docid), sum(len) / count(len) FROM {SCHEMA}.docs")


def _code() -> str:
    """This module's code and DuckDB's version: an index built by other code is built again."""
    from pipelines.core import fingerprint as fp

    return fp.fingerprint(None, modules=[__name__], extra=[duckdb.__version__])[:16]


def _record_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {STATE} AS SELECT doc_id AS name, {_SIG} AS sig, ? AS code FROM documents "
                "ORDER BY doc_id", [_code()])


def refresh(con: duckdb.DuckDBPyConnection) -> str:
    """Bring the index up to date with ``documents``: "kept" (nothing changed), "updated" (the
    changed documents removed and added in place) or "built" (no index yet, or many changes)."""
    have = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND "
        f"((schema_name = '{SCHEMA}' AND table_name IN ('docs', 'terms', 'dict', 'stats')) OR (schema_name = 'main' AND table_name = '{STATE}'))"
    ).fetchone()
    if not have or have[0] != 5 or con.execute(f"SELECT count(*) = 0 OR bool_or(code IS DISTINCT FROM ?) FROM {STATE}",
                                               [_code()]).fetchone() != (False,):
        build(con)
        return "built"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fts_now AS SELECT doc_id AS name, {_SIG} AS sig FROM documents")
    try:
        gone = con.execute(
            f"SELECT count(*) FROM {STATE} s WHERE NOT EXISTS (SELECT 1 FROM _fts_now n WHERE n.name = s.name AND n.sig = s.sig)"
        ).fetchone()
        new = con.execute(
            f"SELECT count(*) FROM _fts_now n WHERE NOT EXISTS (SELECT 1 FROM {STATE} s WHERE n.name = s.name AND n.sig = s.sig)"
        ).fetchone()
        total = con.execute("SELECT count(*) FROM _fts_now").fetchone()
        n_gone, n_new, n_all = int(gone[0]), int(new[0]), int(total[0])  # type: ignore[index]
        if n_gone == 0 and n_new == 0:
            return "kept"
        if n_gone + n_new > REBUILD_SHARE * max(1, n_all):
            build(con)
            return "built"
        with db.transaction(con):
            _update(con)
        return "updated"
    finally:
        con.execute("DROP TABLE IF EXISTS _fts_now")


def _update(con: duckdb.DuckDBPyConnection) -> None:
    s = SCHEMA
    # removed and changed documents: their rows out, their terms' document frequencies lowered
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fts_gone AS SELECT d.docid FROM {s}.docs d JOIN {STATE} st ON st.name = d.name
            WHERE NOT EXISTS (SELECT 1 FROM _fts_now n WHERE n.name = st.name AND n.sig = st.sig)"""
    )
    con.execute(
        f"""UPDATE {s}.dict SET df = dict.df - g.n
            FROM (SELECT termid, count(DISTINCT docid) AS n FROM {s}.terms WHERE docid IN (SELECT docid FROM _fts_gone)
                  GROUP BY termid) g
            WHERE dict.termid = g.termid"""
    )
    con.execute(f"DELETE FROM {s}.terms WHERE docid IN (SELECT docid FROM _fts_gone)")
    con.execute(f"DELETE FROM {s}.docs WHERE docid IN (SELECT docid FROM _fts_gone)")
    # new and changed documents: new docids after the last, tokenised alone
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fts_new AS
            SELECT (SELECT coalesce(max(docid), -1) FROM {s}.docs) + row_number() OVER (ORDER BY n.name) AS docid,
                   n.name AS doc_id
            FROM _fts_now n WHERE NOT EXISTS (SELECT 1 FROM {STATE} st WHERE st.name = n.name AND st.sig = n.sig)"""
    )
    docs = "SELECT n.docid, d.doc_id, d.title, d.text FROM _fts_new n JOIN documents d USING (doc_id)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fts_tokens AS {_tokens_sql(docs)}")
    con.execute(
        f"""INSERT INTO {s}.dict
            SELECT (SELECT coalesce(max(termid), -1) FROM {s}.dict) + row_number() OVER (ORDER BY term), term, 0
            FROM (SELECT DISTINCT term FROM _fts_tokens WHERE term NOT IN (SELECT term FROM {s}.dict))"""
    )
    con.execute(
        f"""UPDATE {s}.dict SET df = dict.df + a.n
            FROM (SELECT term, count(DISTINCT docid) AS n FROM _fts_tokens GROUP BY term) a WHERE dict.term = a.term"""
    )
    con.execute(f"INSERT INTO {s}.terms SELECT t.docid, t.fieldid, d.termid FROM _fts_tokens t JOIN {s}.dict d USING (term)")
    con.execute(
        f"""INSERT INTO {s}.docs SELECT n.docid, n.doc_id, coalesce(l.len, 0) FROM _fts_new n
            LEFT JOIN (SELECT docid, count(*) AS len FROM _fts_tokens GROUP BY docid) l USING (docid) ORDER BY n.docid"""
    )
    con.execute(f"DELETE FROM {s}.dict WHERE df <= 0")
    _fill_stats(con)
    _record_state(con)
    for t in ("_fts_gone", "_fts_new", "_fts_tokens"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _tokenize_in_batches(con: duckdb.DuckDBPyConnection, batch_chars: int) -> None:
    """``_fts_tokens`` (term, docid, fieldid) of every document, tokenised a batch of about
    ``batch_chars`` characters at a time (documents in rowid order). The extension's ``tokenize``
    builds its lists outside DuckDB's memory limit: at 100x the corpus, in one statement they took
    1.7 GB past a 1 GB limit; in batches of 32M characters, 0.35 GB (and the build was no slower)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _fts_tokens (term VARCHAR, docid BIGINT, fieldid BIGINT)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _fts_batches AS SELECT rowid AS docid, "
        "(sum(coalesce(length(title), 0) + coalesce(length(text), 0)) OVER (ORDER BY rowid ROWS UNBOUNDED PRECEDING) "
        "// ?)::BIGINT AS batch FROM documents",
        [max(1, int(batch_chars))],
    )
    try:
        batches = [b for (b,) in con.execute("SELECT DISTINCT batch FROM _fts_batches ORDER BY 1").fetchall()]
        for b in batches:
            docs = ("SELECT rowid AS docid, doc_id, title, text FROM documents "
                    f"WHERE rowid IN (SELECT docid FROM _fts_batches WHERE batch = {int(b)})")
            con.execute(f"INSERT INTO _fts_tokens {_tokens_sql(docs)}")
    finally:
        con.execute("DROP TABLE IF EXISTS _fts_batches")


def build(con: duckdb.DuckDBPyConnection, batch_chars: int = BATCH_CHARS) -> None:
    """(Re)build ``fts_main_documents`` over ``documents`` (doc_id, title, text), tokenising a
    batch of about ``batch_chars`` characters at a time (``_tokenize_in_batches``)."""
    con.execute(f"DROP TABLE IF EXISTS {STATE}")  # recorded once every table is filled: a killed build is built again
    con.execute("CREATE OR REPLACE TEMP TABLE documents (doc_id VARCHAR, title VARCHAR, text VARCHAR)")
    try:
        con.execute(PRAGMA)  # on the empty temporary table: the schema, its macros, fields and stop words
    finally:
        con.execute("DROP TABLE IF EXISTS temp.main.documents")
    _tokenize_in_batches(con, batch_chars)
    try:
        con.execute(f"DELETE FROM {SCHEMA}.dict")
        con.execute(
            f"""INSERT INTO {SCHEMA}.dict
                SELECT row_number() OVER (ORDER BY term) - 1, term, df
                FROM (SELECT term, count(DISTINCT docid) AS df FROM _fts_tokens GROUP BY term)"""
        )
        con.execute(f"DELETE FROM {SCHEMA}.terms")
        con.execute(
            f"""INSERT INTO {SCHEMA}.terms
                SELECT t.docid, t.fieldid, d.termid FROM _fts_tokens t JOIN {SCHEMA}.dict d USING (term)"""
        )
        con.execute(f"DELETE FROM {SCHEMA}.docs")
        con.execute(
            f"""INSERT INTO {SCHEMA}.docs
                SELECT d.docid, d.name, coalesce(n.len, 0)
                FROM (SELECT rowid AS docid, doc_id AS name FROM documents) d
                LEFT JOIN (SELECT docid, count(*) AS len FROM _fts_tokens GROUP BY docid) n USING (docid)
                ORDER BY d.docid"""
        )
        _fill_stats(con)
        _record_state(con)
    finally:
        con.execute("DROP TABLE IF EXISTS _fts_tokens")
