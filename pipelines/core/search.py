"""Full-text search over documents: DuckDB's FTS extension (BM25), loaded offline by path.

The index is built in the working database before it is published, so readers of
``warehouse/corpus.duckdb`` get it for free. Queries are always parameterised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import duckdb


def build_fts_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the BM25 index over documents(title, text), then the tables that make queries fast.
    No stop words: every query word must match (conjunctive search), and "the" in "bicycle for the
    mind" is part of what the user asked for."""
    drop_search_tables(con)  # never left beside an index they were not built from
    con.execute(
        "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', "
        "stemmer = 'porter', stopwords = 'none', strip_accents = 1, lower = 1, overwrite = 1)"
    )
    build_search_tables(con)


# Side tables of the FTS index (docs/warehouse.md, "Internal tables"), rebuilt with it. Documents
# are named by the index's own docids (fts_main_documents.docs).
POSTINGS_TABLE = "_fts_postings"  # (termid, docid, tf), sorted by termid
WORDS_TABLE = "_text_words"  # (word, docids): every word of lower(text), the documents holding it
PAIRS_TABLE = "_text_pairs"  # (pair, docid), sorted by pair: adjacent words of lower(text), cut short
# lower(text) is cut into words at these characters (one class for RE2 and Python). A string without
# them occurs in lower(text) exactly when it occurs inside one of the document's words.
WORD_SPLIT_CHARS = " \t\n\r\f"
_WORD_SPLIT_RE = re.compile(r"[ \t\n\r\f]+")
_PAIR_CHARS = 4
_DOC_WORDS = r"""
    SELECT f.docid, string_split_regex(lower(d.text), '[ \t\n\r\f]+') AS w
    FROM documents d JOIN fts_main_documents.docs f ON f.name = d.doc_id
"""


def drop_search_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in (PAIRS_TABLE, WORDS_TABLE, POSTINGS_TABLE):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def build_search_tables(con: duckdb.DuckDBPyConnection, batch_chars: int = 12_000_000) -> None:
    """Build the side tables of the FTS index from ``fts_main_documents`` and ``documents``.

    * ``_fts_postings(termid, docid, tf)``: how often each index term occurs in each document (title
      and text, as ``match_bm25`` counts), sorted by termid so the rows of a query's terms are read
      without scanning the index: BM25 is computed for the documents holding every query term only.
    * ``_text_words(word, docids)``: every distinct word of ``lower(text)`` (cut at whitespace) with
      the documents holding it: "which texts contain this string" without lowering every text.
    * ``_text_pairs(pair, docid)``: for every two adjacent words of ``lower(text)``, the last 4
      characters of the first, a space and the first 4 of the second ("king memo" for "working
      memory"), per document, sorted: a phrase can only be in texts holding its pairs.

    Built one after the other, the pairs last: queries use them only when all three are there.
    """
    drop_search_tables(con)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {POSTINGS_TABLE} AS
        SELECT termid, docid, count(*) AS tf FROM fts_main_documents.terms GROUP BY termid, docid
        ORDER BY termid, docid
        """  # noqa: S608 - table names are module constants
    )
    # Words and pairs come from per-document lists of words, which DuckDB does not count against its
    # memory limit: documents go in batches of about `batch_chars` characters (memory stays bounded
    # at any corpus size), and the batches' rows are sorted once at the end (that sort can spill).
    con.execute("CREATE OR REPLACE TEMP TABLE _words_in (docid BIGINT, word VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _pairs_in (docid BIGINT, pair VARCHAR)")
    for lo, hi in _docid_batches(con, batch_chars):
        con.execute(
            f"INSERT INTO _words_in SELECT docid, unnest(list_distinct(w)) FROM ({_DOC_WORDS}) WHERE docid BETWEEN ? AND ?",  # noqa: S608 - a module constant
            [lo, hi],
        )
        con.execute(
            f"""
            INSERT INTO _pairs_in
            SELECT docid, unnest(list_distinct(list_transform(
                       range(1, len(w)), i -> right(w[i], {_PAIR_CHARS}) || ' ' || left(w[i + 1], {_PAIR_CHARS}))))
            FROM ({_DOC_WORDS}) WHERE docid BETWEEN ? AND ?
            """,  # noqa: S608 - table names and fragments are module constants
            [lo, hi],
        )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {WORDS_TABLE} AS
        SELECT word, list(docid ORDER BY docid) AS docids FROM _words_in GROUP BY word ORDER BY word
        """  # noqa: S608 - table names are module constants
    )
    con.execute(f"CREATE OR REPLACE TABLE {PAIRS_TABLE} AS SELECT pair, docid FROM _pairs_in ORDER BY pair, docid")  # noqa: S608 - a module constant
    con.execute("DROP TABLE _words_in")
    con.execute("DROP TABLE _pairs_in")


def _docid_batches(con: duckdb.DuckDBPyConnection, batch_chars: int) -> list[tuple[int, int]]:
    """Ranges of FTS docids holding about ``batch_chars`` characters of text each (a long document is alone)."""
    return [
        (int(lo), int(hi))
        for lo, hi in con.execute(
            """
            SELECT min(docid), max(docid) FROM (
                SELECT f.docid, sum(coalesce(length(d.text), 0)) OVER (ORDER BY f.docid) AS cum
                FROM documents d JOIN fts_main_documents.docs f ON f.name = d.doc_id)
            GROUP BY cum // ? ORDER BY 1
            """,
            [max(1, int(batch_chars))],
        ).fetchall()
    ]


def search_tables_ready(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the FTS index and its side tables are all there (else queries take the slow path)."""
    row = con.execute(
        """
        SELECT count(*) FROM duckdb_tables()
        WHERE database_name = current_database()
          AND ((schema_name = 'fts_main_documents' AND table_name IN ('dict', 'docs', 'stats'))
               OR (schema_name = 'main' AND table_name IN (?, ?, ?)))
        """,
        [POSTINGS_TABLE, WORDS_TABLE, PAIRS_TABLE],
    ).fetchone()
    return bool(row and row[0] == 6)


def holder_docids(con: duckdb.DuckDBPyConnection, low: str) -> set[int]:
    """FTS docids of the documents whose ``lower(text)`` may contain ``low`` (a lower-cased string
    without leading or trailing whitespace): every document that does, plus a few that do not.

    Exact for a string without whitespace (it is inside one word). For more words, each two adjacent
    ones are a pair of ``_text_pairs`` (when the 4 characters on each side of the space are known:
    the first word may end a longer one, the last may start one); failing that, the words between
    the spaces are whole words, the first ends a word and the last starts one."""
    pieces = _WORD_SPLIT_RE.split(low)
    last = len(pieces) - 1
    parts: list[tuple[str, str]] = []  # (SQL for docids, its parameter); table names are constants
    for i in range(last):
        left, right = pieces[i], pieces[i + 1]
        if (i == 0 and len(left) < _PAIR_CHARS) or (i + 1 == last and len(right) < _PAIR_CHARS):
            continue  # a cut word: its 4 characters next to the space are not known
        pair = left[-_PAIR_CHARS:] + " " + right[:_PAIR_CHARS]
        parts.append((f"SELECT docid FROM {PAIRS_TABLE} WHERE pair = ?", pair))  # noqa: S608
    if not parts:  # one word, or no pair known: the words (long lists for common ones)
        if last == 0:
            words = [("strpos(word, ?) > 0", pieces[0])]
        else:
            words = [("ends_with(word, ?)", pieces[0])] + [("word = ?", p) for p in pieces[1:-1]]
            words.append(("starts_with(word, ?)", pieces[-1]))
        parts = [(f"SELECT unnest(docids) AS docid FROM {WORDS_TABLE} WHERE {cond}", v) for cond, v in words]  # noqa: S608
    sql = " INTERSECT ".join(p for p, _ in parts)
    return {r[0] for r in con.execute(sql, [v for _, v in parts]).fetchall()}


@dataclass
class SearchHit:
    doc_id: str
    kind: str
    title: str | None
    published_at: datetime | None
    link: str | None
    score: float
    snippet: str  # the matched words are wrapped in [[ ]] for highlighting


def _snippet(text: str, terms: list[str], phrase: str | None, window: int = 90) -> str:
    low = text.lower()
    pos = low.find(phrase.lower()) if phrase else -1
    if pos < 0:
        phrase = None
        # centre on the rarest (longest) query word, matched as a whole word
        for t in sorted(terms, key=len, reverse=True):
            found = _find_word(t, text)
            if found is not None:
                pos = found
                break
        pos = max(pos, 0)
    start, end = max(0, pos - window), min(len(text), pos + window)
    piece = " ".join(text[start:end].split())
    patterns = [re.escape(phrase)] if phrase else [rf"\b{re.escape(t)}\b" for t in sorted(terms, key=len, reverse=True) if t]
    for pattern in patterns:
        piece = re.sub(f"(?i)({pattern})", r"[[\1]]", piece)
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


@lru_cache(maxsize=256)
def _word_patterns(word: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return re.compile(rf"(?i)\b{re.escape(word)}\b"), re.compile(rf"(?i){re.escape(word)}\b")


def _find_word(word: str, text: str) -> int | None:
    """Where ``re.search(rf"(?i)\\b{re.escape(word)}\\b", text)`` starts, faster: a pattern starting
    with ``\\b`` is tried at every position; without it ``re`` jumps to where the word can start."""
    full, fast = _word_patterns(word)
    pos = 0
    while (m := fast.search(text, pos)) is not None:
        if full.match(text, m.start()):  # its \b sees the character before m.start()
            return m.start()
        pos = m.start() + 1
    return None


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    kind: str | None = None,
    limit: int = 20,
    exact: bool = False,
    own_only: bool = False,
) -> list[SearchHit]:
    """Ranked documents for a query: every query word required (BM25, ``match_bm25`` with
    ``conjunctive := 1``), documents containing the whole query verbatim (case-insensitive) first,
    then by score, then by doc_id. ``exact`` keeps only documents containing the phrase verbatim,
    still ranked by BM25."""
    query = query.strip()
    if not query:
        return []
    if int(limit) >= 0 and search_tables_ready(con):
        ranked = _ranked_indexed(con, query, kind, int(limit), exact, own_only)
    else:  # no side tables (an index built by an older version): score every document
        ranked = _ranked_scan(con, query, kind, int(limit), exact, own_only)
    if not ranked:
        return []
    first_term = query if exact else query.split()[0]
    # texts, and the caption second of the first term, for the rows shown only
    rows = con.execute(
        """
        SELECT d.doc_id, d.kind, d.title, d.published_at, d.url, d.text,
               (SELECT min(start_s) FROM segments g WHERE g.doc_id = d.doc_id
                  AND g.start_char <= strpos(lower(d.text), lower(?)) - 1
                  AND g.end_char > strpos(lower(d.text), lower(?)) - 1) AS start_s
        FROM documents d
        WHERE d.doc_id = ANY(?)
        """,
        [first_term, first_term, [doc_id for doc_id, _ in ranked]],
    ).fetchall()
    by_id = {r[0]: r for r in rows}
    terms = re.findall(r"\w+", query)
    out = []
    for doc_id, score in ranked:
        _, k, title, published, url, text, start_s = by_id[doc_id]
        out.append(
            SearchHit(
                doc_id=doc_id,
                kind=k,
                title=title,
                published_at=published,
                link=_link(k, url, start_s),
                score=float(score),
                snippet=_snippet(text, terms, query),
            )
        )
    return out


def _ranked_scan(
    con: duckdb.DuckDBPyConnection, query: str, kind: str | None, limit: int, exact: bool, own_only: bool
) -> list[tuple[str, float]]:
    """(doc_id, score) of the hits, best first, with ``match_bm25`` evaluated for every document."""
    sql = """
        SELECT d.doc_id, s.score
        FROM (SELECT doc_id, fts_main_documents.match_bm25(doc_id, ?, conjunctive := 1) AS score FROM documents) s
        JOIN documents d USING (doc_id)
        WHERE s.score IS NOT NULL
          AND (? IS NULL OR d.kind = ?)
          AND (NOT ? OR strpos(lower(d.text), lower(?)) > 0)
          AND (NOT ? OR d.is_own)
        ORDER BY strpos(lower(d.text), lower(?)) > 0 DESC, s.score DESC, d.doc_id
        LIMIT ?
    """
    rows = con.execute(sql, [query, kind, kind, exact, query, own_only, query, limit]).fetchall()
    return [(doc_id, score) for doc_id, score in rows]


# BM25 as the fts extension's match_bm25 macro computes it (k := 1.2, b := 0.75: the same expression
# and types, so each term's part is the same double), for the documents holding every query term
# (its ``conjunctive := 1``), from the query's postings only. The macro adds the parts in whatever
# order its parallel hash aggregate meets them, so for 3+ terms its scores vary in the last bit from
# run to run; here they are added smallest first, so a score is the same on every run.
_BM25_CANDIDATES = f"""
    WITH p AS (SELECT termid, docid, tf FROM {POSTINGS_TABLE} WHERE termid = ANY(?)),
    s AS (
        SELECT p.docid,
               list_sum(list_sort(list(
                   log((((st.num_docs - t.df) + 0.5) / (t.df + 0.5)) + 1)
                   * ((p.tf * (1.2 + 1)) / (p.tf + (1.2 * ((1 - 0.75) + (0.75 * (f.len / st.avgdl))))))))) AS score
        FROM p
        JOIN fts_main_documents.dict t ON t.termid = p.termid
        JOIN fts_main_documents.docs f ON f.docid = p.docid
        CROSS JOIN fts_main_documents.stats st
        GROUP BY p.docid
        HAVING count(*) = ?
    )
    SELECT d.doc_id, s.docid, s.score
    FROM s
    JOIN fts_main_documents.docs f ON f.docid = s.docid
    JOIN documents d ON d.doc_id = f.name
    WHERE (?::VARCHAR IS NULL OR d.kind = ?::VARCHAR)
      AND (NOT ? OR d.is_own)
    ORDER BY s.score DESC, d.doc_id
"""  # noqa: S608 - the table name is a module constant; values are parameters


def _ranked_indexed(
    con: duckdb.DuckDBPyConnection, query: str, kind: str | None, limit: int, exact: bool, own_only: bool
) -> list[tuple[str, float]]:
    """What ``_ranked_scan`` returns, from the side tables: BM25 for the documents holding every
    query term only (``_fts_postings``), and the phrase looked for only in the texts that can hold it
    (``_text_pairs``, ``_text_words``), best-scored first, until the page is full."""
    # the query's terms, tokenised and stemmed by the index's own macro (as match_bm25 does)
    ntokens, termids, low_query = con.execute(
        """
        WITH tokens AS (SELECT DISTINCT stem(unnest(fts_main_documents.tokenize(?)), 'porter') AS t)
        SELECT (SELECT count(*) FROM tokens), list(d.termid), lower(?)
        FROM fts_main_documents.dict d JOIN tokens ON d.term = tokens.t
        """,
        [query, query],
    ).fetchone() or (0, None, query)
    if not termids or len(termids) != ntokens or limit == 0:
        return []  # a word the index never saw: no document has every word
    candidates = con.execute(_BM25_CANDIDATES, [termids, len(termids), kind, kind, own_only]).fetchall()
    if not candidates:
        return []
    holds = _phrase_holders(con, [(doc_id, docid) for doc_id, docid, _ in candidates], low_query, limit)
    first = [(doc_id, score) for doc_id, _, score in candidates if holds.get(doc_id) is True]
    if exact or len(first) >= limit:
        return first[:limit]
    # every candidate is known now: those without the phrase next, those without text last
    rest = [(doc_id, score) for doc_id, _, score in candidates if holds[doc_id] is False]
    rest += [(doc_id, score) for doc_id, _, score in candidates if holds[doc_id] is None]
    return (first + rest)[:limit]


def _phrase_holders(
    con: duckdb.DuckDBPyConnection, candidates: list[tuple[str, int]], low_query: str, limit: int
) -> dict[str, bool | None]:
    """For the candidates (doc_id, FTS docid, best first): does ``lower(text)`` contain ``low_query``
    (``strpos(lower(text), lower(query)) > 0``; None for a document without text)? Known for every
    candidate up to the ``limit``-th that does; the texts of the few that may are read, in order."""
    possible = holder_docids(con, low_query)
    holds: dict[str, bool | None] = {}
    to_check = []
    for doc_id, docid in candidates:
        if docid in possible:
            to_check.append(doc_id)
        else:
            holds[doc_id] = False
    found, i, batch = 0, 0, max(limit, 16)
    while i < len(to_check) and found < limit:
        chunk = to_check[i : i + batch]
        for doc_id, has in con.execute(
            "SELECT doc_id, strpos(lower(text), ?) > 0 FROM documents WHERE doc_id = ANY(?)", [low_query, chunk]
        ).fetchall():
            holds[doc_id] = has
            found += bool(has)
        i += batch
        batch *= 2
    if found < limit:  # documents without text (they have no words) sort last; there are rarely any
        no_text = {r[0] for r in con.execute("SELECT doc_id FROM documents WHERE text IS NULL").fetchall()}
        for doc_id, _ in candidates:
            if doc_id in no_text:
                holds[doc_id] = None
    return holds


def _link(kind: str, url: str | None, start_s: float | None) -> str | None:
    from pipelines.core.kwic import evidence_link  # one rule for deep links, shared with KWIC

    return evidence_link(kind, url, start_s)
