"""Search that finds the passage: ranking over passages, grouped by document.

The passage index (``pipelines/core/searchindex.py``) holds every document's passages (caption
windows, paragraphs, whole tweets), their words normalised by ``pipelines/core/textnorm.py`` (the
one normalisation: case, quotes, dashes, ellipses, whitespace) and a posting list of word stems
with each posting's count and passage length (its BM25 weight is computed as the query reads it).
A query is scored per passage:

    passage score = coverage + bm25 / (bm25 + BM25_HALF) + PHRASE_BONUS * phrase + QUOTED_BONUS * quoted
    result score  = its best passage's score + the document's title bonus

* ``coverage``: the idf-weighted share of the query's content words (``STOP_WORDS`` left out) the
  passage holds, in [0, 1];
* ``bm25``: Okapi BM25 of those words over passages, squashed into [0, 1);
* ``phrase``: the whole query, stop words included, occurs in the passage as normalised words (2+
  words; a passage's last words are read with the next passage's first ones, so a phrase across
  the boundary is found). A phrase match always scores above scattered words (>= 2 against < 2);
* ``quoted``: the passage holds the phrase inside quotation marks (“cognitive core”, "bicycle for
  the mind,"): it names the phrase, which is where a term is coined or a saying is quoted;
* the title bonus: ``TITLE_EXACT`` when the query is the document's title or one of its source's
  catalog aliases, which puts it above every other result (a passage scores < 3.5, any other title
  bonus < 2); else, when the query is a phrase of a title (2+ words) or a title holding a content
  word is a phrase of the query, 1 + the shorter's share of the longer's words.

A result is a document: its best passage (link, snippet, score) and up to ``per_doc - 1`` more of
its passages that score at least ``EXTRA_SHARE`` of the best, best first. A result whose document
carries the same text as a better one's (a post and the tweet or day file carrying it:
``searchindex.copy_signatures``) is folded into it as a copy. Results are ordered by the score
printed (ties: newer first, then doc_id). Snippets mark the phrase and the words whose stems
matched, never a stop word on its own. Queries are always parameterised.
"""

# SQL text is assembled only from table names, numbers and fragments defined in this module and in
# searchindex; every value (user text, ids, dates) is passed as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from pipelines.core.links import passage_link
from pipelines.core.periods import parse_period
from pipelines.core.searchindex import (
    COPIES,
    DOCS,
    INDEX_VERSION,
    PASSAGES,
    POSTINGS,
    PTEXT,
    STATS,
    TERMS,
    TITLES,
    bm25_sql,
    build_fts_index,
    content_words,
    index_state,
    search_tables_ready,
    terms_of,
)
from pipelines.core.textnorm import find_words, norm_map, normalize_quote_text

__all__ = ["SearchHit", "PassageHit", "SearchIndexMissing", "search", "build_fts_index", "index_state",
           "search_tables_ready", "snippet", "match_spans", "parse_query"]

BM25_HALF = 8.0  # the BM25 at which its share of the score is one half
PHRASE_BONUS = 1.0
QUOTED_BONUS = 0.25  # the phrase in quotation marks, over the phrase alone
TITLE_EXACT = 6.0  # above any passage (< 3.5) plus any other title bonus (< 2): a title query finds its document first
PER_DOC = 3
EXTRA_SHARE = 0.7  # a document's other passages are shown when they score at least this share of its best


# --------------------------------------------------------------------------- queries


class SearchIndexMissing(RuntimeError):
    """The warehouse has no passage index of this version (built by an older version)."""


@dataclass
class PassageHit:
    start_char: int
    end_char: int
    start_s: float | None
    link: str | None
    score: float
    phrase: bool
    snippet: str  # the matched words are wrapped in [[ ]] for highlighting


@dataclass
class SearchHit:
    doc_id: str
    kind: str
    title: str | None
    published_at: datetime | None
    link: str | None  # of the best passage
    score: float  # of the best passage, with the document's title bonus
    snippet: str
    title_bonus: float = 0.0
    passages: list[PassageHit] = field(default_factory=list)  # the best first (passages[0] is this hit's)
    copies: list[tuple[str, str | None]] = field(default_factory=list)  # (doc_id, link) of results repeating it

    def as_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "kind": self.kind,
            "date": self.published_at.date().isoformat() if self.published_at else None,
            "title": self.title,
            "link": self.link,
            "snippet": self.snippet,
            "score": round(self.score, 4),
            "passages": [
                {"link": p.link, "start_char": p.start_char, "start_s": p.start_s, "snippet": p.snippet,
                 "score": round(p.score, 4), "phrase": p.phrase}
                for p in self.passages
            ],
            "copies": [{"doc_id": d, "link": link} for d, link in self.copies],
        }


@dataclass(frozen=True)
class _Query:
    norm: str
    words: tuple[str, ...]
    stems: tuple[str, ...]  # distinct stems of the content words, in query order


def parse_query(query: str) -> _Query:
    norm = normalize_quote_text(query or "")
    words = tuple(norm.split())
    stems = tuple(dict.fromkeys(t for w in words for t in terms_of(w)))
    return _Query(norm, words, stems)


def _day(value: str | date | datetime | None, end: bool = False) -> date | None:
    """The first day of a 'YYYY[-MM[-DD]]' period (or a date), or with ``end`` its last day."""
    if value is None or value == "":
        return None
    period = parse_period(value)
    return period.end if end else period.start


@dataclass(frozen=True)
class _Filters:
    """The filters of a search as a WHERE fragment over ``_search_docs d`` (fixed text) and its values."""

    kind: str | None = None
    own_only: bool = False
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.own_only or self.since or self.until)

    def sql(self) -> tuple[str, list[Any]]:
        parts: list[str] = ["true"]
        params: list[Any] = []
        if self.kind:
            parts.append("d.kind = ?")
            params.append(self.kind)
        if self.own_only:
            parts.append("d.is_own")
        if self.since:
            parts.append("(d.published_at AT TIME ZONE 'UTC')::DATE >= ?")
            params.append(self.since)
        if self.until:
            parts.append("(d.published_at AT TIME ZONE 'UTC')::DATE <= ?")
            params.append(self.until)
        return " AND ".join(parts), params


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    kind: str | None = None,
    limit: int = 20,
    exact: bool = False,
    own_only: bool = False,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    per_doc: int = PER_DOC,
) -> list[SearchHit]:
    """Ranked results for a query (see the module's docstring). ``exact`` keeps only passages
    holding the whole query as normalised words; ``since``/``until`` ('YYYY[-MM[-DD]]') keep
    documents published in that range (undated ones are then left out)."""
    q = parse_query(query)
    limit, per_doc = max(0, int(limit)), max(1, int(per_doc))
    if not q.words or limit == 0:
        return []
    flt = _Filters(kind or None, bool(own_only), _day(since), _day(until, end=True))
    try:
        idf, avgdl = _idfs(con, q)
        titles = _title_bonuses(con, q, flt) if not exact else {}
        ranked = _ranked_passages(con, q, idf, avgdl, flt, exact, titles, limit + COPY_SLACK, per_doc)
        return _hits(con, q, ranked, limit)
    except duckdb.CatalogException as e:  # a table of the index is missing
        raise SearchIndexMissing(_MISSING) from e


_MISSING = "the warehouse has no passage index of this version: run `corpus run` to build it"


def _idfs(con: duckdb.DuckDBPyConnection, q: _Query) -> tuple[dict[str, tuple[int | None, float]], float]:
    """stem -> (termid or None when no passage has it, its BM25 idf over passages); and the mean
    passage length."""
    row = con.execute(f"SELECT passages, version, avgdl FROM {STATS}").fetchone()
    if not row or row[1] != INDEX_VERSION:
        raise SearchIndexMissing(_MISSING)
    n = float(row[0])
    found = {t: (tid, df) for tid, t, df in con.execute(
        f"SELECT termid, term, df FROM {TERMS} WHERE term = ANY(?)", [list(q.stems)]).fetchall()}
    out: dict[str, tuple[int | None, float]] = {}
    for st in q.stems:
        tid, df = found.get(st, (None, 0))
        out[st] = (tid, math.log(1 + (n - df + 0.5) / (df + 0.5)))
    return out, float(row[2])


def _title_bonuses(con: duckdb.DuckDBPyConnection, q: _Query, flt: _Filters) -> dict[int, tuple[float, int]]:
    """docidx -> (title bonus, first pid) for the documents whose title (or one of its source's
    catalog aliases) is the query (TITLE_EXACT), holds the query as a phrase (2+ words), or is a
    phrase of the query holding a content word: then 1 + the shorter's share of the longer."""
    where, params = flt.sql()
    rows = con.execute(
        f"""
        SELECT t.docidx, t.title_norm, d.first_pid FROM {TITLES} t JOIN {DOCS} d USING (docidx)
        WHERE (strpos(' ' || t.title_norm || ' ', ' ' || ?::VARCHAR || ' ') > 0
               OR strpos(' ' || ?::VARCHAR || ' ', ' ' || t.title_norm || ' ') > 0)
          AND {where}
        """,
        [q.norm, q.norm, *params],
    ).fetchall()
    out: dict[int, tuple[float, int]] = {}
    for docidx, title_norm, first_pid in rows:
        tw = title_norm.split()
        if title_norm == q.norm:
            bonus = TITLE_EXACT
        else:
            shorter = q.words if len(q.words) < len(tw) else tw
            if (shorter is q.words and len(q.words) < 2) or not content_words(shorter):
                continue
            bonus = 1.0 + len(shorter) / max(len(q.words), len(tw))
        if bonus > out.get(docidx, (0.0, 0))[0]:
            out[docidx] = (bonus, int(first_pid))
    return out


VERIFY_MAX = 1000  # passages holding every content word that may be read to look for the phrase
VERIFY_BATCH = 100  # read this many at a time, best first, until enough documents hold the phrase


def _in_list(ints: Sequence[int]) -> str:
    """A literal IN list of integers (from the index itself, never from a user): DuckDB looks such a
    list up in the table's index (a list parameter would make it scan the table)."""
    return ", ".join(str(int(i)) for i in ints) or "NULL"


def _phrase_holders(con: duckdb.DuckDBPyConnection, q: _Query, pids: Sequence[int]) -> list[int]:
    """Of these passages, those holding the query as normalised words, starting in the passage's own
    words (the next passage's head completes a phrase across the boundary)."""
    if not pids:
        return []
    needle = f" {q.norm} "
    rows = con.execute(f"SELECT pid, norm_len, norm, head FROM {PTEXT} WHERE pid IN ({_in_list(pids)})").fetchall()
    return [pid for pid, norm_len, norm, head in rows if 0 <= f" {norm} {head} ".find(needle) <= norm_len]


def _find_phrase(con: duckdb.DuckDBPyConnection, q: _Query, titles: dict[int, tuple[float, int]], need: int) -> list[int]:
    """The candidates (``_search_cand``) holding the phrase. Those holding every content word all have
    full coverage, so by BM25 the best of them are the best phrase holders: they are read best first,
    VERIFY_BATCH at a time, until ``need`` documents hold the phrase or VERIFY_MAX were read (a phrase
    holder further down is then scored without its phrase). Title documents' passages are read too."""
    complete = [(pid, docidx) for pid, docidx in con.execute(
        f"SELECT pid, docidx FROM _search_cand WHERE complete ORDER BY base DESC, pid LIMIT {VERIFY_MAX}").fetchall()]
    if not q.stems:
        return [pid for pid, _ in complete]  # found by their text already
    docs_of = dict(complete)
    found: list[int] = []
    docs: set[int] = set()
    for i in range(0, len(complete), VERIFY_BATCH):
        hits = _phrase_holders(con, q, [pid for pid, _ in complete[i : i + VERIFY_BATCH]])
        found += hits
        docs.update(docs_of[p] for p in hits)
        if len(docs) >= need:
            break
    title_pids = [r[0] for r in con.execute(
        f"SELECT pid FROM _search_cand WHERE complete AND docidx IN ({_in_list(list(titles))}) LIMIT {VERIFY_MAX}").fetchall()]
    return sorted(set(found) | set(_phrase_holders(con, q, [p for p in title_pids if p not in set(found)])))


QUOTE_MARKS = "\"'`“”„‟«»‘’‚‛‹›「」"
_CLOSING_PUNCT = ".,;:!?…"
QUOTE_CHECK = 50  # phrase holders (best first) whose text is read to see whether they quote the phrase
QUOTE_TAIL = 300  # characters after a passage read with it (a phrase across the boundary)


def quotes_phrase(text: str, q: _Query, within: int) -> bool:
    """Whether ``text`` holds the query's phrase, starting before offset ``within``, inside quotation
    marks: a mark right before its first word and one right after its last (punctuation such as
    a comma may stand before the closing mark; a possessive ’s is no closing mark)."""
    for a, b in find_words(text, [{w} for w in q.words]):
        if a >= within or a == 0 or text[a - 1] not in QUOTE_MARKS:
            continue
        end = b
        while end < len(text) and text[end] in _CLOSING_PUNCT:
            end += 1
        possessive = text[end + 1 : end + 2].lower() == "s" and not text[end + 2 : end + 3].isalnum()
        if end < len(text) and text[end] in QUOTE_MARKS and not possessive:
            return True
    return False


def _quoted(con: duckdb.DuckDBPyConnection, q: _Query, phrase: Sequence[int]) -> list[int]:
    """Of the phrase holders (the best QUOTE_CHECK of them), those that quote the phrase."""
    if not phrase:
        return []
    best = [r[0] for r in con.execute(
        f"SELECT pid FROM _search_cand WHERE pid IN ({_in_list(phrase)}) ORDER BY base DESC, pid LIMIT {QUOTE_CHECK}").fetchall()]
    where = con.execute(f"SELECT pid, doc_id, start_char, end_char FROM {PASSAGES} WHERE pid IN ({_in_list(best)})").fetchall()
    # the documents' texts by id (a filter, not a join, so that only their rows are read)
    texts = dict(con.execute("SELECT doc_id, text FROM documents WHERE doc_id = ANY(?)", [list({r[1] for r in where})]).fetchall())
    return sorted(pid for pid, doc_id, a, b in where
                  if texts.get(doc_id) and quotes_phrase(texts[doc_id][a : b + QUOTE_TAIL], q, b - a))


def _ranked_passages(
    con: duckdb.DuckDBPyConnection,
    q: _Query,
    idf: dict[str, tuple[int | None, float]],
    avgdl: float,
    flt: _Filters,
    exact: bool,
    titles: dict[int, tuple[float, int]],
    limit: int,
    per_doc: int,
) -> list[tuple[str, int, float, bool, float]]:
    """(doc_id, pid, passage score, phrase, title bonus) of the passages shown, in result order.

    The candidates (passages holding a content word, within the filters) are scored from their
    postings alone into a temporary table; the phrase is looked for in some of their texts
    (``_find_phrase``); documents are ranked by their best passage plus their title bonus, and the
    passages of the first ``limit`` are returned. A query of stop words only reads every passage's
    text for its phrase (slow on a large corpus)."""
    known = [(tid, w) for tid, w in idf.values() if tid is not None]
    total_idf = sum(w for _, w in idf.values()) or 1.0
    if q.stems:
        if len(known) < len(q.stems) and exact:
            return []  # a word no passage holds: no passage holds the phrase
        w = bm25_sql("p.tf", "p.dl", "q.idf", avgdl)
        cand = f"""
            SELECT p.pid, any_value(p.docidx) AS docidx,
                   sum(CASE WHEN p.tf > 0 THEN q.idf ELSE 0 END) / {total_idf!r} + sum({w}) / (sum({w}) + {BM25_HALF}) AS base,
                   count(*) = {len(q.stems)} AND {len(known) == len(q.stems)} AS complete
            FROM {POSTINGS} p JOIN (SELECT unnest(?::INTEGER[]) AS termid, unnest(?::DOUBLE[]) AS idf) q USING (termid)
            GROUP BY p.pid
        """
        cand_params: list[Any] = [[t for t, _ in known], [w for _, w in known]]
    else:
        cand = f"""
            SELECT t.pid, s.docidx, 1.0 AS base, true AS complete
            FROM {PTEXT} t JOIN {PASSAGES} s USING (pid)
            WHERE strpos(' ' || t.norm || ' ' || t.head || ' ', ?) BETWEEN 1 AND t.norm_len + 1
        """
        cand_params = [f" {q.norm} "]
    where, fparams = flt.sql()
    filtered = f"SELECT c.* FROM ({cand}) c JOIN {DOCS} d ON d.docidx = c.docidx WHERE {where}" if flt.active else cand
    con.execute(f"CREATE OR REPLACE TEMP TABLE _search_cand AS {filtered}", [*cand_params, *fparams])
    try:
        phrase = _find_phrase(con, q, titles, limit + per_doc) if (len(q.words) >= 2 or exact) else []
        if exact and not phrase:
            return []
        quoted = _quoted(con, q, phrase) if len(q.words) >= 2 else []
        title_ids = list(titles)
        sql = f"""
            WITH ph AS (SELECT unnest(?::INTEGER[]) AS pid),
            qu AS (SELECT unnest(?::INTEGER[]) AS pid),
            t AS (SELECT unnest(?::INTEGER[]) AS docidx, unnest(?::DOUBLE[]) AS bonus, unnest(?::INTEGER[]) AS pid),
            k AS (
                SELECT c.pid, c.docidx, c.base + CASE WHEN ph.pid IS NOT NULL THEN {PHRASE_BONUS} ELSE 0 END
                                            + CASE WHEN qu.pid IS NOT NULL THEN {QUOTED_BONUS} ELSE 0 END AS pscore,
                       ph.pid IS NOT NULL AS phrase
                FROM (SELECT pid, docidx, base FROM _search_cand
                      UNION ALL  -- a document found by its title alone: its first passage
                      SELECT pid, docidx, 0.0 FROM t WHERE pid NOT IN (SELECT pid FROM _search_cand)) c
                LEFT JOIN ph ON ph.pid = c.pid LEFT JOIN qu ON qu.pid = c.pid
                WHERE NOT ? OR ph.pid IS NOT NULL
            ),
            best AS (SELECT docidx, max(pscore) AS best FROM k GROUP BY docidx),
            top AS (
                SELECT b.docidx, b.best, b.best + coalesce(t.bonus, 0) AS dscore, coalesce(t.bonus, 0) AS bonus,
                       d.doc_id, d.published_at
                FROM best b JOIN {DOCS} d USING (docidx) LEFT JOIN t USING (docidx)
                ORDER BY dscore DESC, d.published_at DESC NULLS LAST, d.doc_id LIMIT ?
            )
            SELECT top.doc_id, k.pid, k.pscore, k.phrase, top.bonus
            FROM k JOIN top USING (docidx)
            WHERE k.pscore >= {EXTRA_SHARE} * top.best
            QUALIFY row_number() OVER (PARTITION BY k.docidx ORDER BY k.pscore DESC, k.pid) <= ?
            ORDER BY top.dscore DESC, top.published_at DESC NULLS LAST, top.doc_id, k.pscore DESC, k.pid
        """
        params = [phrase, quoted, title_ids, [titles[d][0] for d in title_ids], [titles[d][1] for d in title_ids],
                  exact, limit, per_doc]
        rows = con.execute(sql, params).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _search_cand")
    return [(d, int(p), float(sc), bool(ph), float(b)) for d, p, sc, ph, b in rows]


def _hits(
    con: duckdb.DuckDBPyConnection,
    q: _Query,
    ranked: list[tuple[str, int, float, bool, float]],
    limit: int,
) -> list[SearchHit]:
    if not ranked:
        return []
    rows = con.execute(
        f"""
        SELECT s.pid, s.doc_id, s.start_char, s.end_char, s.start_s, d.kind, d.title, d.url, d.published_at, d.timed
        FROM {PASSAGES} s JOIN {DOCS} d ON d.docidx = s.docidx
        WHERE s.pid IN ({_in_list([pid for _, pid, _, _, _ in ranked])})
        """,
    ).fetchall()
    by_pid = {r[0]: r for r in rows}
    texts = dict(con.execute("SELECT doc_id, text FROM documents WHERE doc_id = ANY(?)", [list({r[1] for r in rows})]).fetchall())
    hits: list[SearchHit] = []
    current: SearchHit | None = None
    for doc_id, pid, pscore, phrase, bonus in ranked:
        _, _, a, b, start_s, kind, title, url, published, timed = by_pid[pid]
        ph = PassageHit(
            start_char=a, end_char=b, start_s=start_s if timed else None, link=passage_link(kind, url, start_s, timed),
            score=pscore + bonus, phrase=phrase, snippet=snippet((texts.get(doc_id) or "")[a:b], q),
        )
        if current is None or current.doc_id != doc_id:
            current = SearchHit(doc_id, kind, title, published, ph.link, ph.score, ph.snippet, bonus, [ph])
            hits.append(current)
        else:
            current.passages.append(ph)
    return _fold_copies(con, hits)[:limit]


COPY_SLACK = 5  # results read beyond the limit, so that folding copies still fills the page


def _fold_copies(con: duckdb.DuckDBPyConnection, hits: list[SearchHit]) -> list[SearchHit]:
    """A result whose document is a copy of a better result's (``_search_copies``) is folded into it."""
    ids = [h.doc_id for h in hits]
    pairs = con.execute(f"SELECT doc_a, doc_b FROM {COPIES} WHERE doc_a = ANY(?) AND doc_b = ANY(?)", [ids, ids]).fetchall()
    if not pairs:
        return hits
    same = {frozenset(p) for p in pairs}
    kept: list[SearchHit] = []
    for h in hits:
        into = next((k for k in kept if frozenset((k.doc_id, h.doc_id)) in same), None)
        if into is None:
            kept.append(h)
        else:
            into.copies.append((h.doc_id, h.link))
    return kept


# --------------------------------------------------------------------------- snippets


def match_spans(text: str, q: _Query) -> list[tuple[int, int]]:
    """What a snippet highlights: the whole query where it occurs as a phrase, and every content
    word of the query (any word with the same stem) elsewhere; never a stop word on its own."""
    mapped = norm_map(text)
    spans = find_words(text, [{w} for w in q.words], mapped=mapped) if len(q.words) >= 2 else []
    if q.stems:
        wanted = set(q.stems)
        out, idx = mapped
        pos = 0
        for w in out.split(" "):
            if len(w) > 1 and wanted.intersection(terms_of(w)):  # a lone "2" or "0" is noise, unless in the phrase
                a, b = int(idx[pos]), int(idx[pos + len(w) - 1]) + 1
                if not any(s <= a < e for s, e in spans):
                    spans.append((a, b))
            pos += len(w) + 1
    return sorted(spans)


def snippet(text: str, q: _Query, width: int = 220) -> str:
    """About ``width`` characters of the passage around its best match, matched words in [[ ]]."""
    if not text:
        return ""
    spans = match_spans(text, q)
    if spans:
        phrase = [s for s in spans if len(text[s[0] : s[1]].split()) >= len(q.words) >= 2]
        # the window holding the most matched words (a phrase first), starting a little before its first
        best, best_n = spans[0], -1
        for s in phrase or spans:
            n = sum(1 for a, _ in spans if s[0] <= a < s[0] + width)
            if n > best_n:
                best, best_n = s, n
        start = max(0, best[0] - width // 4)
    else:
        start = 0
    end = min(len(text), start + width)
    if start > 0:
        sp = text.find(" ", start, best[0] if spans else start + 20)
        start = sp + 1 if sp != -1 else start
    if end < len(text):
        sp = text.rfind(" ", start, end)
        end = sp if sp > start else end
    out, last = [], start
    for a, b in spans:
        if a < start or b > end or a < last:
            continue
        out.append(text[last:a])
        out.append("[[" + text[a:b] + "]]")
        last = b
    out.append(text[last:end])
    piece = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")

