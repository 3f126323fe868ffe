"""Full-text search over documents: DuckDB's FTS extension (BM25), loaded offline by path.

The index is built in the working database before it is published, so readers of
``warehouse/corpus.duckdb`` get it for free. Queries are always parameterised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import duckdb


def build_fts_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the BM25 index over documents(title, text). No stop words: every query word must match
    (conjunctive search), and "the" in "bicycle for the mind" is part of what the user asked for."""
    con.execute(
        "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', "
        "stemmer = 'porter', stopwords = 'none', strip_accents = 1, lower = 1, overwrite = 1)"
    )


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
            found = re.search(rf"(?i)\b{re.escape(t)}\b", text)
            if found:
                pos = found.start()
                break
        pos = max(pos, 0)
    start, end = max(0, pos - window), min(len(text), pos + window)
    piece = " ".join(text[start:end].split())
    patterns = [re.escape(phrase)] if phrase else [rf"\b{re.escape(t)}\b" for t in sorted(terms, key=len, reverse=True) if t]
    for pattern in patterns:
        piece = re.sub(f"(?i)({pattern})", r"[[\1]]", piece)
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    kind: str | None = None,
    limit: int = 20,
    exact: bool = False,
    own_only: bool = False,
) -> list[SearchHit]:
    """Ranked documents for a query. ``exact`` keeps only documents containing the phrase verbatim
    (case-insensitive), still ranked by BM25."""
    query = query.strip()
    if not query:
        return []
    sql = """
        SELECT d.doc_id, d.kind, d.title, d.published_at, d.url, d.text, s.score,
               (SELECT min(start_s) FROM segments g WHERE g.doc_id = d.doc_id
                  AND g.start_char <= strpos(lower(d.text), lower(?)) - 1
                  AND g.end_char > strpos(lower(d.text), lower(?)) - 1) AS start_s
        FROM (SELECT doc_id, fts_main_documents.match_bm25(doc_id, ?, conjunctive := 1) AS score FROM documents) s
        JOIN documents d USING (doc_id)
        WHERE s.score IS NOT NULL
          AND (? IS NULL OR d.kind = ?)
          AND (NOT ? OR strpos(lower(d.text), lower(?)) > 0)
          AND (NOT ? OR d.is_own)
        ORDER BY strpos(lower(d.text), lower(?)) > 0 DESC, s.score DESC, d.doc_id
        LIMIT ?
    """
    first_term = query if exact else query.split()[0]
    rows = con.execute(
        sql, [first_term, first_term, query, kind, kind, exact, query, own_only, query, int(limit)]
    ).fetchall()
    terms = re.findall(r"\w+", query)
    out = []
    for doc_id, k, title, published, url, text, score, start_s in rows:
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


def _link(kind: str, url: str | None, start_s: float | None) -> str | None:
    from pipelines.core.kwic import evidence_link  # one rule for deep links, shared with KWIC

    return evidence_link(kind, url, start_s)
