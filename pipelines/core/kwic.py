"""Keyword in context: a concordance, every line with its date, kind and link.

``kwic`` lists concordance lines for a tracked phrase id (from ``phrase_hits``) or free text. Free
text is matched on the project's one normalisation (``pipelines/core/textnorm.py``, shared with
search and the claims' quote matching): case, quotes, dashes, ellipses and whitespace between
the words do not matter, words are whole words, and a possessive ``'s`` does not hide a word
("from scratch" also finds "From-Scratch", "Licklider" finds "Licklider’s"). With ``lemma`` each
word matches every form of its lemma ("build model" finds "built models"). Every line carries
the document, its date and the link (``pipelines/core/links.py``): for a transcript with real
timings it points at the caption holding the match. Queries are always parameterised.
"""

# SQL text is assembled only from table names and fragments defined in this module; every
# value (user text, ids, dates, numbers) is passed as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import duckdb

from pipelines.core import db
from pipelines.core.links import passage_link
from pipelines.core.periods import parse_period
from pipelines.core.searchindex import (
    DOCS,
    PASSAGES,
    POSTINGS,
    PTEXT,
    STOP_WORDS,
    TERMS,
    search_tables_ready,
    terms_of,
)
from pipelines.core.textnorm import find_words, normalize_quote_text

_WS_RE = re.compile(r"\s+")


def _since(value: str | date | datetime | None) -> date | None:
    return None if value is None or value == "" else parse_period(value).start


def _squash(s: str) -> str:
    return _WS_RE.sub(" ", s or "")


def is_phrase_id(con: duckdb.DuckDBPyConnection, value: str) -> bool:
    """True when ``value`` names a tracked phrase (lexicon_phrases, else phrase_hits)."""
    for table in ("lexicon_phrases", "phrase_hits"):
        if db.table_exists(con, table):
            row = con.execute(f"SELECT count(*) FROM {table} WHERE phrase_id = ?", [value]).fetchone()
            if row and row[0]:
                return True
            if table == "lexicon_phrases":
                return False
    return False


@lru_cache(maxsize=1)
def _lemma_tables() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """spaCy's English lookup lemmas (spacy-lookups-data): form -> lemma, and lemma -> its forms."""
    import gzip
    import json
    from pathlib import Path

    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lookup: dict[str, str] = json.load(f)
    forms: dict[str, set[str]] = {}
    for form, lemma in lookup.items():
        forms.setdefault(lemma.lower(), set()).add(form.lower())
    return {k.lower(): v.lower() for k, v in lookup.items()}, {k: frozenset(v) for k, v in forms.items()}


def lemma_forms(word: str) -> set[str]:
    """Every form sharing the word's lemma: 'built' -> {'build', 'builds', 'building', 'built', ...}."""
    lookup, forms = _lemma_tables()
    w = word.lower()
    lemma = lookup.get(w, w)
    return {w, lemma} | set(forms.get(lemma, ()))


def query_words(query: str, lemma: bool = False) -> list[frozenset[str]]:
    """The normalised words a free-text query matches, position by position (``textnorm.find_words``):
    the word itself, or with ``lemma`` every form of its lemma ("build" -> build, builds, built...)."""
    words = normalize_quote_text(query).split()
    if not lemma:
        return [frozenset([w]) for w in words]
    return [frozenset(normalize_quote_text(f) for f in lemma_forms(w)) | {w} for w in words]


def kwic(
    con: duckdb.DuckDBPyConnection,
    query_or_phrase_id: str,
    width: int = 60,
    kind: str | None = None,
    limit: int = 50,
    own_only: bool = True,
    *,
    since: str | date | datetime | None = None,
    lemma: bool = False,
) -> list[dict[str, Any]]:
    """Concordance lines, oldest first: dicts with left, match, right, doc_id, kind, title,
    published_at, link (plus url, start_char, end_char, start_s, phrase_id).

    A tracked phrase id uses ``phrase_hits`` (all its forms); anything else is searched as
    free text. ``own_only`` keeps the author's own documents; ``since`` ('YYYY-MM[-DD]' or a
    date) keeps documents published on or after it (undated ones are then left out).
    """
    q = (query_or_phrase_id or "").strip()
    if not q:
        return []
    width = max(0, int(width))
    limit = max(0, int(limit))
    since_d = _since(since)
    if not lemma and is_phrase_id(con, q):
        return _kwic_phrase(con, q, width, kind, limit, own_only, since_d)
    return _kwic_text(con, q, width, kind, limit, own_only, since_d, lemma)


_SEGMENT_START_S = """
    (SELECT g.start_s FROM segments g
      WHERE g.doc_id = {alias}.doc_id AND g.start_char <= {pos}
      ORDER BY (g.end_char > {pos}) DESC, g.start_char DESC LIMIT 1)
"""


def _kwic_phrase(
    con: duckdb.DuckDBPyConnection,
    phrase_id: str,
    width: int,
    kind: str | None,
    limit: int,
    own_only: bool,
    since: date | None,
) -> list[dict[str, Any]]:
    # the limit is applied first; texts are cut and caption times looked up for those rows only
    rows = con.execute(
        f"""
        WITH picked AS (
            SELECT h.doc_id, h.start_char, h.end_char
            FROM phrase_hits h JOIN documents d USING (doc_id)
            WHERE h.phrase_id = ?
              AND (?::VARCHAR IS NULL OR d.kind = ?::VARCHAR)
              AND (NOT ? OR coalesce(d.is_own, false))
              AND (?::DATE IS NULL OR (d.published_at AT TIME ZONE 'UTC')::DATE >= ?::DATE)
            ORDER BY d.published_at NULLS LAST, h.doc_id, h.start_char
            LIMIT ?
        )
        SELECT h.doc_id, d.kind, d.title, d.published_at, d.url, coalesce(d.timed, false), h.start_char, h.end_char,
               substring(d.text, greatest(h.start_char - ?, 0) + 1, h.start_char - greatest(h.start_char - ?, 0)) AS left_ctx,
               substring(d.text, h.start_char + 1, h.end_char - h.start_char) AS match,
               substring(d.text, h.end_char + 1, ?) AS right_ctx,
               {_SEGMENT_START_S.format(alias="h", pos="h.start_char")} AS start_s
        FROM picked h JOIN documents d USING (doc_id)
        ORDER BY d.published_at NULLS LAST, h.doc_id, h.start_char
        """,  # noqa: S608 - the fragment is a module constant; values are parameters
        [phrase_id, kind, kind, own_only, since, since, limit, width, width, width],
    ).fetchall()
    out = []
    for doc_id, k, title, published, url, timed, s, e, left, match, right, start_s in rows:
        out.append(_line(doc_id, k, title, published, url, timed, s, e, left, match, right, start_s, phrase_id))
    return out


def _line(
    doc_id: str,
    k: str,
    title: str | None,
    published: Any,
    url: str | None,
    timed: bool,
    s: int,
    e: int,
    left: str,
    match: str,
    right: str,
    start_s: float | None,
    phrase_id: str | None,
) -> dict[str, Any]:
    return {
        "left": _squash(left),
        "match": _squash(match),
        "right": _squash(right),
        "doc_id": doc_id,
        "kind": k,
        "title": title,
        "published_at": published,
        "url": url,
        "link": passage_link(k, url, start_s, timed),
        "start_char": s,
        "end_char": e,
        "start_s": start_s,
        "phrase_id": phrase_id,
    }


def _kwic_text(
    con: duckdb.DuckDBPyConnection,
    query: str,
    width: int,
    kind: str | None,
    limit: int,
    own_only: bool,
    since: date | None,
    lemma: bool = False,
) -> list[dict[str, Any]]:
    """The query's matches (``textnorm.find_words``), oldest first. With the search index only the
    passages that can hold them are read: those holding (or whose next passage's head holds) the stem
    of the longest content word, any of its forms, with or without a possessive "s"; for stop words
    only, those whose normalised text contains its letters. Without the index every text is read."""
    words = query_words(query, lemma)
    if not words or limit <= 0:
        return []
    content = [alts for alts in words if not alts <= STOP_WORDS]
    if not search_tables_ready(con):
        return _text_lines(con, words, _scan_in_order(con, kind, own_only, since), width, limit)
    if content:
        # each content word's terms (a letters-and-digits word is its runs: any one of them will do),
        # with or without a possessive "s"; the word whose terms the fewest passages hold is read
        terms = [sorted({max(terms_of(x), key=len) for w in alts for x in (w, w + "s") if terms_of(x)}) for alts in content]
        found = {t: (int(tid), df) for tid, t, df in con.execute(
            f"SELECT termid, term, df FROM {TERMS} WHERE term = ANY(?)", [sorted({t for ts in terms for t in ts})]).fetchall()}
        anchor = min(terms, key=lambda ts: sum(found.get(t, (0, 0))[1] for t in ts))
        termids = [found[t][0] for t in anchor if t in found]
        # a literal list of our own integers: DuckDB then reads only those terms' rows
        holders = f"SELECT pid, docidx FROM {POSTINGS} WHERE termid IN ({', '.join(map(str, termids)) or 'NULL'})"
        params: list[Any] = []
    else:  # only stop words: what all forms of the longest share, inside a passage's normalised text
        longest = max(words, key=lambda alts: min(len(w) for w in alts))
        holders = (f"SELECT t.pid, s.docidx FROM {PTEXT} t JOIN {PASSAGES} s USING (pid) "
                   "WHERE strpos(t.norm || ' ' || t.head, ?) > 0")
        params = [os.path.commonprefix(sorted(longest))]
    rows = con.execute(
        f"""
        SELECT d.doc_id, list(DISTINCT h.pid)
        FROM ({holders}) h JOIN {DOCS} d ON d.docidx = h.docidx
        WHERE (?::VARCHAR IS NULL OR d.kind = ?::VARCHAR)
          AND (NOT ? OR d.is_own)
          AND (?::DATE IS NULL OR (d.published_at AT TIME ZONE 'UTC')::DATE >= ?::DATE)
        GROUP BY d.doc_id, d.published_at
        ORDER BY d.published_at NULLS LAST, d.doc_id
        """,
        [*params, kind, kind, own_only, since, since],
    ).fetchall()
    return _text_lines(con, words, _fetch_passages_in_order(con, rows), width, limit)


def _fetch_passages_in_order(con: duckdb.DuckDBPyConnection, doc_pids: list[tuple[str, list[int]]]) -> Iterator[_DocRow]:
    """The documents' rows in the order given, each with the (start, end) of its passages named,
    read FETCH_BATCH documents at a time (most queries stop early)."""
    for i in range(0, len(doc_pids), FETCH_BATCH):
        chunk = doc_pids[i : i + FETCH_BATCH]
        pids = sorted(int(p) for _, ps in chunk for p in ps)
        spans: dict[str, list[tuple[int, int]]] = {}
        for doc_id, a, b in con.execute(  # a literal list of our own integers: read through the pid index
            f"SELECT doc_id, start_char, end_char FROM {PASSAGES} WHERE pid IN ({', '.join(map(str, pids)) or 'NULL'}) ORDER BY pid"
        ).fetchall():
            spans.setdefault(doc_id, []).append((a, b))
        with db.values_table(con, [d for d, _ in chunk]) as ids:
            rows = {r[0]: r for r in con.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE doc_id IN (SELECT v FROM {ids})").fetchall()}
        for doc_id, _ in chunk:
            yield (*rows[doc_id], spans.get(doc_id, []))


WINDOW_TAIL = 400  # characters read past a passage: a match starting in it may end in the next


def _spans(text: str, words: list[frozenset[str]], windows: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
    """find_words over the whole text, or over the passages given (each with a tail), as one list."""
    if windows is None:
        return find_words(text, words)
    out: list[tuple[int, int]] = []
    for a, b in windows:
        for s, e in find_words(text[a : b + WINDOW_TAIL], words):
            if a + s < b and (not out or a + s >= out[-1][1]):
                out.append((a + s, a + e))
    return out


# doc_id, kind, title, published_at, url, timed, text
_DocRow = tuple[str, str, str | None, Any, str | None, bool, str | None]
_DOC_COLUMNS = "doc_id, kind, title, published_at, url, coalesce(timed, false), text"


FETCH_BATCH = 40  # documents read at a time: few enough for DuckDB to look them up by the key's index


def _scan_in_order(con: duckdb.DuckDBPyConnection, kind: str | None, own_only: bool, since: date | None) -> Iterator[_DocRow]:
    """Every document with text, oldest first (no search index: every text is read)."""
    cur = con.cursor()
    try:
        cur.execute(
            f"""
            SELECT {_DOC_COLUMNS} FROM documents d
            WHERE text IS NOT NULL
              AND (?::VARCHAR IS NULL OR kind = ?::VARCHAR)
              AND (NOT ? OR coalesce(is_own, false))
              AND (?::DATE IS NULL OR (published_at AT TIME ZONE 'UTC')::DATE >= ?::DATE)
            ORDER BY published_at NULLS LAST, doc_id
            """,
            [kind, kind, own_only, since, since],
        )
        while batch := cur.fetchmany(200):
            yield from batch
    finally:
        cur.close()


def _text_lines(
    con: duckdb.DuckDBPyConnection, words: list[frozenset[str]], docs: Iterator[Any], width: int, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` matches in the documents (only in the passages a row names after its
    columns, when it does), in order, each with the caption second of the segment it starts in (the
    last segment starting at or before it)."""
    found: list[tuple[_DocRow, int, int]] = []
    for row in docs:
        for s, e in _spans(row[6] or "", words, row[7] if len(row) > 7 else None):
            found.append((row, s, e))
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    if isinstance(docs, Generator):
        docs.close()  # releases the cursor of a scan stopped early
    seconds: dict[int, float | None] = {}
    if found:
        seconds = dict(
            con.execute(  # one look-up for every line
                """
                SELECT l.i, arg_max_null(g.start_s, g.start_char)
                FROM (SELECT unnest(?) AS doc_id, unnest(?) AS pos, unnest(range(?)) AS i) l
                JOIN segments g ON g.doc_id = l.doc_id AND g.start_char <= l.pos
                GROUP BY l.i
                """,
                [[row[0] for row, _, _ in found], [s for _, s, _ in found], len(found)],
            ).fetchall()
        )
    out: list[dict[str, Any]] = []
    for i, ((doc_id, k, title, published, url, timed, raw, *_), s, e) in enumerate(found):
        text = raw or ""
        left, match, right = text[max(0, s - width) : s], text[s:e], text[e : e + width]
        out.append(_line(doc_id, k, title, published, url, timed, s, e, left, match, right, seconds.get(i), None))
    return out
