"""Keyword in context (a concordance) and evidence links.

``evidence_link`` turns a document URL and the second a passage starts at into a link a reader
can click: YouTube URLs get ``&t=<seconds>s`` (``?t=`` for youtu.be links and URLs without a
query); tweet and post URLs are returned unchanged.

``kwic`` lists concordance lines for a tracked phrase id (from ``phrase_hits``) or free text
(case-insensitive, whole words, any whitespace or hyphen between the query's words, so
"from scratch" also finds "from-scratch"). Every line carries the document, its date and the
link; for transcripts the link points at the segment holding the match. Queries are always
parameterised.
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
from urllib.parse import urlsplit

import duckdb

from pipelines.core.search import WORD_SPLIT_CHARS, WORDS_TABLE, search_tables_ready

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_SHORT_HOSTS = {"youtu.be", "www.youtu.be"}
_T_PARAM_RE = re.compile(r"([?&])(?:t|start)=[^&#]*&?")
_WS_RE = re.compile(r"\s+")


def _is_youtube(url: str) -> tuple[bool, bool]:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False, False
    return host in _YOUTUBE_HOSTS, host in _SHORT_HOSTS


def evidence_link(kind: str | None, url: str | None, start_s: float | None) -> str | None:
    """The URL of a passage: YouTube links jump to ``start_s`` (whole seconds); others unchanged."""
    if not url:
        return None
    if start_s is None:
        return url
    try:
        seconds = int(float(start_s))
    except (TypeError, ValueError):
        return url
    if seconds < 0:
        return url
    is_yt, is_short = _is_youtube(url)
    if not (is_yt or is_short):
        return url
    base, hash_, fragment = url.partition("#")
    base = _T_PARAM_RE.sub(lambda m: m.group(1), base).rstrip("?&")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}t={seconds}s" + (f"#{fragment}" if hash_ and not fragment.startswith("t=") else "")


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])


def _since(value: str | date | datetime | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parts = [int(p) for p in str(value).strip()[:10].split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _squash(s: str) -> str:
    return _WS_RE.sub(" ", s or "")


def is_phrase_id(con: duckdb.DuckDBPyConnection, value: str) -> bool:
    """True when ``value`` names a tracked phrase (lexicon_phrases, else phrase_hits)."""
    for table in ("lexicon_phrases", "phrase_hits"):
        if _table_exists(con, table):
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


def query_regex(query: str, lemma: bool = False) -> re.Pattern[str]:
    """Case-insensitive whole-word regex for free text; words may be joined by spaces or hyphens.
    With ``lemma``, each word matches any form of its lemma ("build model" finds "built models")."""
    words = query.split()
    if not words:
        raise ValueError("empty query")
    if lemma:
        parts = ["(?:" + "|".join(re.escape(f) for f in sorted(lemma_forms(w), key=len, reverse=True)) + ")" for w in words]
    else:
        parts = [re.escape(w) for w in words]
    body = r"[\s\-]+".join(parts)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


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
        SELECT h.doc_id, d.kind, d.title, d.published_at, d.url, h.start_char, h.end_char,
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
    for doc_id, k, title, published, url, s, e, left, match, right, start_s in rows:
        out.append(_line(doc_id, k, title, published, url, s, e, left, match, right, start_s, phrase_id))
    return out


def _line(
    doc_id: str,
    k: str,
    title: str | None,
    published: Any,
    url: str | None,
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
        "link": evidence_link(k, url, start_s),
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
    """The regex's matches in the documents whose ``lower(text)`` contains the anchor (the longest
    query word, lower-cased; with ``lemma`` what all its forms share), oldest first. With the search
    index's ``_text_words`` those documents are known without reading every text."""
    rx = query_regex(query, lemma)
    anchor = max(query.split(), key=len).lower()
    if lemma:  # prefilter on what every form of the longest word shares (its common prefix)
        anchor = os.path.commonprefix(sorted(lemma_forms(anchor)))
    if limit <= 0:
        return []
    if anchor and not any(c in anchor for c in WORD_SPLIT_CHARS) and search_tables_ready(con):
        # the anchor is inside one word of lower(text): _text_words names the documents
        doc_ids = [
            r[0]
            for r in con.execute(
                f"""
                SELECT d.doc_id
                FROM (SELECT DISTINCT unnest(docids) AS docid FROM {WORDS_TABLE} WHERE strpos(word, ?) > 0) w
                JOIN fts_main_documents.docs f ON f.docid = w.docid
                JOIN documents d ON d.doc_id = f.name
                WHERE (?::VARCHAR IS NULL OR d.kind = ?::VARCHAR)
                  AND (NOT ? OR coalesce(d.is_own, false))
                  AND (?::DATE IS NULL OR (d.published_at AT TIME ZONE 'UTC')::DATE >= ?::DATE)
                ORDER BY d.published_at NULLS LAST, d.doc_id
                """,  # noqa: S608 - the table name is a module constant; values are parameters
                [anchor, kind, kind, own_only, since, since],
            ).fetchall()
        ]
        return _text_lines(con, rx, _fetch_in_order(con, doc_ids, limit), width, limit)
    return _text_lines(con, rx, _scan_in_order(con, anchor, kind, own_only, since), width, limit)


# doc_id, kind, title, published_at, url, text
_DocRow = tuple[str, str, str | None, Any, str | None, str | None]


def _fetch_in_order(con: duckdb.DuckDBPyConnection, doc_ids: list[str], limit: int) -> Iterator[_DocRow]:
    """The documents' rows in the order given, read in growing batches (most queries stop early)."""
    i, batch = 0, max(limit, 16)
    while i < len(doc_ids):
        chunk = doc_ids[i : i + batch]
        rows = {
            r[0]: r
            for r in con.execute(
                "SELECT doc_id, kind, title, published_at, url, text FROM documents WHERE doc_id = ANY(?)", [chunk]
            ).fetchall()
        }
        for doc_id in chunk:
            yield rows[doc_id]
        i += batch
        batch = min(batch * 2, 2000)


def _scan_in_order(
    con: duckdb.DuckDBPyConnection, anchor: str, kind: str | None, own_only: bool, since: date | None
) -> Iterator[_DocRow]:
    """Every document whose lowered text contains the anchor, oldest first (no index: every text is read)."""
    cur = con.cursor()
    try:
        cur.execute(
            """
            SELECT doc_id, kind, title, published_at, url, text FROM documents d
            WHERE strpos(lower(text), ?) > 0
              AND (?::VARCHAR IS NULL OR kind = ?::VARCHAR)
              AND (NOT ? OR coalesce(is_own, false))
              AND (?::DATE IS NULL OR (published_at AT TIME ZONE 'UTC')::DATE >= ?::DATE)
            ORDER BY published_at NULLS LAST, doc_id
            """,
            [anchor, kind, kind, own_only, since, since],
        )
        while batch := cur.fetchmany(200):
            yield from batch
    finally:
        cur.close()


def _text_lines(
    con: duckdb.DuckDBPyConnection, rx: re.Pattern[str], docs: Iterator[_DocRow], width: int, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` regex matches in the documents, in order, each with the caption second of
    the segment it starts in (the last segment starting at or before it)."""
    found: list[tuple[_DocRow, int, int]] = []
    for row in docs:
        for s, e in _spans(rx, row[5] or ""):
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
    for i, ((doc_id, k, title, published, url, raw), s, e) in enumerate(found):
        text = raw or ""
        left, match, right = text[max(0, s - width) : s], text[s:e], text[e : e + width]
        out.append(_line(doc_id, k, title, published, url, s, e, left, match, right, seconds.get(i), None))
    return out


_LOOKBEHIND = r"(?<!\w)"


@lru_cache(maxsize=64)
def _without_lookbehind(pattern: str, flags: int) -> re.Pattern[str] | None:
    """The pattern without its leading look-behind: it matches wherever the pattern does."""
    if not pattern.startswith(_LOOKBEHIND):
        return None
    try:
        return re.compile(pattern[len(_LOOKBEHIND) :], flags)
    except re.error:
        return None


def _spans(rx: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """``[m.span() for m in rx.finditer(text)]``, faster: a pattern starting with a look-behind is
    tried at every position; without it ``re`` jumps to where its first word can start, and the
    look-behind is then checked there."""
    fast = _without_lookbehind(rx.pattern, rx.flags)
    if fast is None:
        return [m.span() for m in rx.finditer(text)]
    spans, pos = [], 0
    while (m := fast.search(text, pos)) is not None:
        full = rx.match(text, m.start())  # the look-behind sees the text before m.start()
        if full is None:
            pos = m.start() + 1
        elif full.end() == full.start():  # an empty match (not from query_regex): re's own rules
            return [m.span() for m in rx.finditer(text)]
        else:
            spans.append(full.span())
            pos = full.end()
    return spans
