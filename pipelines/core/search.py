"""Search that finds the passage: ranking over passages, grouped by document.

The passage index (``pipelines/core/searchindex.py``) holds every document's passages (caption
windows, paragraphs, whole tweets), their words normalised by ``pipelines/core/textnorm.py`` (the
one normalisation: case, quotes, dashes, ellipses, whitespace) and a posting list of word stems
with each posting's BM25 weight. A query is scored per passage:

    passage score = coverage + bm25 / (bm25 + BM25_HALF) + PHRASE_BONUS * phrase
    result score  = its best passage's score + the document's title bonus

* ``coverage``: the idf-weighted share of the query's content words (``STOP_WORDS`` left out) the
  passage holds, in [0, 1];
* ``bm25``: Okapi BM25 of those words over passages, squashed into [0, 1);
* ``phrase``: the whole query, stop words included, occurs in the passage as normalised words (2+
  words; a passage's last words are read with the next passage's first ones, so a phrase across
  the boundary is found). A phrase match always scores above scattered words (>= 2 against < 2);
* the title bonus: ``TITLE_EXACT`` when the query is the document's title or one of its source's
  catalog aliases, which puts it above every other result (a passage scores < 3, any other title
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
    STATS,
    TERMS,
    TITLES,
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
TITLE_EXACT = 6.0  # above any passage (< 3) plus any other title bonus (< 2): a title query finds its document first
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


_FILTERS = """
    (?::VARCHAR IS NULL OR d.kind = ?::VARCHAR)
    AND (NOT ? OR d.is_own)
    AND (?::DATE IS NULL OR (d.published_at AT TIME ZONE 'UTC')::DATE >= ?::DATE)
    AND (?::DATE IS NULL OR (d.published_at AT TIME ZONE 'UTC')::DATE <= ?::DATE)
"""


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
    flt = [kind, kind, own_only, *([_day(since)] * 2), *([_day(until, end=True)] * 2)]
    try:
        idf = _idfs(con, q)
        titles = _title_bonuses(con, q, flt) if not exact else {}
        ranked = _ranked_passages(con, q, idf, flt, exact, titles, limit + COPY_SLACK, per_doc)
        return _hits(con, q, ranked, limit)
    except duckdb.CatalogException as e:  # a table of the index is missing
        raise SearchIndexMissing(_MISSING) from e


_MISSING = "the warehouse has no passage index of this version: run `corpus run` to build it"


def _idfs(con: duckdb.DuckDBPyConnection, q: _Query) -> dict[str, tuple[int | None, float]]:
    """stem -> (termid or None when no passage has it, its BM25 idf over passages)."""
    row = con.execute(f"SELECT passages, version FROM {STATS}").fetchone()
    if not row or row[1] != INDEX_VERSION:
        raise SearchIndexMissing(_MISSING)
    n = float(row[0])
    found = {t: (tid, df) for tid, t, df in con.execute(
        f"SELECT termid, term, df FROM {TERMS} WHERE term = ANY(?)", [list(q.stems)]).fetchall()}
    out: dict[str, tuple[int | None, float]] = {}
    for st in q.stems:
        tid, df = found.get(st, (None, 0))
        out[st] = (tid, math.log(1 + (n - df + 0.5) / (df + 0.5)))
    return out


def _title_bonuses(con: duckdb.DuckDBPyConnection, q: _Query, flt: list[Any]) -> dict[str, tuple[float, int]]:
    """doc_id -> (title bonus, first pid) for the documents whose title (or one of its source's
    catalog aliases) is the query (TITLE_EXACT), holds the query as a phrase (2+ words), or is a
    phrase of the query holding a content word: then 1 + the shorter's share of the longer."""
    rows = con.execute(
        f"""
        SELECT t.doc_id, t.title_norm, d.first_pid FROM {TITLES} t JOIN {DOCS} d USING (doc_id)
        WHERE (strpos(' ' || t.title_norm || ' ', ' ' || ?::VARCHAR || ' ') > 0
               OR strpos(' ' || ?::VARCHAR || ' ', ' ' || t.title_norm || ' ') > 0)
          AND {_FILTERS}
        """,
        [q.norm, q.norm, *flt],
    ).fetchall()
    out: dict[str, tuple[float, int]] = {}
    for doc_id, title_norm, first_pid in rows:
        tw = title_norm.split()
        if title_norm == q.norm:
            bonus = TITLE_EXACT
        else:
            shorter = q.words if len(q.words) < len(tw) else tw
            if (shorter is q.words and len(q.words) < 2) or not content_words(shorter):
                continue
            bonus = 1.0 + len(shorter) / max(len(q.words), len(tw))
        if bonus > out.get(doc_id, (0.0, 0))[0]:
            out[doc_id] = (bonus, int(first_pid))
    return out


def _ranked_passages(
    con: duckdb.DuckDBPyConnection,
    q: _Query,
    idf: dict[str, tuple[int | None, float]],
    flt: list[Any],
    exact: bool,
    titles: dict[str, tuple[float, int]],
    limit: int,
    per_doc: int,
) -> list[tuple[str, int, float, bool, float]]:
    """(doc_id, pid, passage score, phrase, title bonus) of the passages shown, in result order."""
    known = [(tid, w) for tid, w in idf.values() if tid is not None]
    total_idf = sum(w for _, w in idf.values()) or 1.0
    check_phrase = len(q.words) >= 2 or exact
    phrase_sql = "strpos(' ' || s.norm || ' ' || s.head || ' ', ' ' || ?::VARCHAR || ' ') BETWEEN 1 AND s.norm_len + 1"
    if q.stems:
        # candidates: passages holding a content word (or, for the phrase, whose next passage's head does)
        cand = f"""
            SELECT p.pid, sum(p.w) AS bm25, sum(CASE WHEN p.tf > 0 THEN q.idf ELSE 0 END) / {total_idf!r} AS coverage,
                   count(*) AS present
            FROM {POSTINGS} p JOIN (SELECT unnest(?::INTEGER[]) AS termid, unnest(?::DOUBLE[]) AS idf) q USING (termid)
            GROUP BY p.pid
        """
        cand_params: list[Any] = [[t for t, _ in known], [w for _, w in known]]
        phrase_possible = f"c.present = {len(q.stems)} AND {len(known)} = {len(q.stems)}"
    else:  # only stop words: the passages holding the phrase, read one by one; they hold all there is
        cand = f"SELECT s.pid, 0.0 AS bm25, 1.0 AS coverage, 0 AS present FROM {PASSAGES} s WHERE {phrase_sql}"
        cand_params = [q.norm]
        phrase_possible = "true"
        check_phrase = True
    phrase_expr = f"coalesce({phrase_possible}, false) AND {phrase_sql}" if check_phrase else "false"
    title_ids = list(titles)
    sql = f"""
        WITH c AS ({cand}),
        t AS (SELECT unnest(?::VARCHAR[]) AS doc_id, unnest(?::DOUBLE[]) AS bonus, unnest(?::INTEGER[]) AS pid),
        scored AS (
            SELECT s.doc_id, s.pid, d.published_at, coalesce(t.bonus, 0) AS bonus,
                   coalesce(c.coverage, 0) + coalesce(c.bm25, 0) / (coalesce(c.bm25, 0) + {BM25_HALF}) AS base,
                   {phrase_expr} AS phrase
            FROM (SELECT pid FROM c UNION SELECT pid FROM t) k
            JOIN {PASSAGES} s USING (pid)
            JOIN {DOCS} d USING (doc_id)
            LEFT JOIN c USING (pid)
            LEFT JOIN t ON t.doc_id = s.doc_id
            WHERE {_FILTERS}
        ),
        scored2 AS (
            SELECT *, base + CASE WHEN phrase THEN {PHRASE_BONUS} ELSE 0 END AS pscore FROM scored WHERE NOT ? OR phrase
        ),
        kept AS (
            SELECT *, row_number() OVER (PARTITION BY doc_id ORDER BY pscore DESC, pid) AS rk,
                   max(pscore) OVER (PARTITION BY doc_id) AS best, best + bonus AS dscore
            FROM scored2
            QUALIFY rk <= ? AND (rk = 1 OR pscore >= {EXTRA_SHARE} * best)
        ),
        docs AS (
            SELECT doc_id, any_value(dscore) AS dscore, any_value(published_at) AS published_at FROM kept
            GROUP BY doc_id ORDER BY dscore DESC, published_at DESC NULLS LAST, doc_id LIMIT ?
        )
        SELECT k.doc_id, k.pid, k.pscore, k.phrase, k.bonus
        FROM kept k JOIN docs USING (doc_id)
        ORDER BY docs.dscore DESC, docs.published_at DESC NULLS LAST, k.doc_id, k.rk
    """
    params = [*cand_params, title_ids, [titles[d][0] for d in title_ids], [titles[d][1] for d in title_ids]]
    if check_phrase:
        params.append(q.norm)
    params += [*flt, exact, per_doc, limit]
    rows = con.execute(sql, params).fetchall()
    return [(d, int(p), float(s), bool(ph), float(b)) for d, p, s, ph, b in rows]


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
        FROM {PASSAGES} s JOIN {DOCS} d USING (doc_id)
        WHERE s.pid = ANY(?)
        """,
        [[pid for _, pid, _, _, _ in ranked]],
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

