"""DuckDB's BM25 index over whole documents (``fts_main_documents``), built in set-based SQL.

SQL users query it with DuckDB's own macro, ``fts_main_documents.match_bm25(doc_id, 'query')``, and
the relevance benchmark uses it as its baseline. The extension's ``PRAGMA create_fts_index`` (1.5.5)
fills its tables with correlated UPDATEs (each term row looks up its term id, each document counts
its terms): 75 s at 100x the corpus. Here:

1. the PRAGMA runs on an empty temporary table that shadows ``documents``: it creates the schema,
   its ``tokenize`` and ``match_bm25`` macros, the field list and the (empty) stop-word list, in
   milliseconds;
2. the tables the macros read are then filled from ``documents`` with the same tokens (the
   extension's own ``tokenize`` macro and ``stem`` function, title then text), by joins and
   GROUP BYs: ``docs`` (docid = the row id, name, len = tokens), ``terms`` (docid, fieldid, termid:
   one row per token), ``dict`` (termid, term, df) and ``stats`` (num_docs, avgdl).

Term ids are given in term order (the PRAGMA's are in another order); ``match_bm25`` joins on them
only, so its scores are those of the PRAGMA's index. ``tests/test_search.py`` compares the two
builds table by table and score by score.
"""

# SQL identifiers are module constants; no value is ever interpolated.
# ruff: noqa: S608

from __future__ import annotations

import duckdb

SCHEMA = "fts_main_documents"
FIELDS = ("title", "text")  # fieldid 0, 1: the PRAGMA's order
PRAGMA = (
    "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', "
    "stemmer = 'porter', stopwords = 'none', strip_accents = 1, lower = 1, overwrite = 1)"
)


def build_with_pragma(con: duckdb.DuckDBPyConnection) -> None:
    """The extension's own build over every document (the reference ``build`` is checked against)."""
    con.execute(PRAGMA)


def build(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build ``fts_main_documents`` over ``documents`` (doc_id, title, text)."""
    con.execute("CREATE OR REPLACE TEMP TABLE documents (doc_id VARCHAR, title VARCHAR, text VARCHAR)")
    try:
        con.execute(PRAGMA)  # on the empty temporary table: the schema, its macros, fields and stop words
    finally:
        con.execute("DROP TABLE IF EXISTS temp.main.documents")
    tokens = " UNION ALL ".join(
        f"SELECT unnest({SCHEMA}.tokenize({field})) AS w, rowid AS docid, {i}::BIGINT AS fieldid FROM documents"
        for i, field in enumerate(FIELDS)
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fts_tokens AS
            SELECT stem(w, 'porter') AS term, docid, fieldid FROM ({tokens})
            WHERE w IS NOT NULL AND len(w) > 0 AND w NOT IN (SELECT sw FROM {SCHEMA}.stopwords)"""
    )
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
        con.execute(f"DELETE FROM {SCHEMA}.stats")
        con.execute(f"INSERT INTO {SCHEMA}.stats SELECT count(docid), sum(len) / count(len) FROM {SCHEMA}.docs")
    finally:
        con.execute("DROP TABLE IF EXISTS _fts_tokens")
