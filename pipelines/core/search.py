"""Search that finds the passage: ranking over passages, grouped by document.

The index (built before the warehouse is published, so readers get it for free) holds every
document's passages (``pipelines/core/passages.py``: caption windows, paragraphs, whole tweets),
their words normalised by ``pipelines/core/textnorm.py`` (the one normalisation: case, quotes,
dashes, ellipses, whitespace), and a posting list of word stems (Snowball English) with each
posting's BM25 weight. A query is scored per passage:

    score = coverage + bm25 / (bm25 + BM25_HALF) + PHRASE_BONUS * phrase      (+ the document's title bonus)

* ``coverage``: the share of the query's content words (stop words left out) the passage holds;
* ``bm25``: Okapi BM25 (k1 = 1.2, b = 0.75) of those words over passages, squashed into [0, 1);
* ``phrase``: the whole query, stop words included, occurs in the passage as normalised words (a
  passage's last words are checked with the next passage's first ones, so a phrase across the
  boundary is found). A phrase match therefore always scores above scattered words (>= 2 vs < 2);
* the title bonus: ``TITLE_BONUS`` when the query is a document's title (so that document comes
  first: >= 3, above any passage without it), else ``TITLE_BONUS`` times the share of the longer
  of the two that the other covers, when one is a phrase of the other (and holds a content word).

A result is a document: its best passage (link, snippet, score) and up to ``per_doc - 1`` more of
its passages that score at least ``EXTRA_SHARE`` of the best, best first. A result whose text
repeats a better one's (a post and the tweet or day file carrying it: ``copy_signatures``) is
folded into it as a copy. Results are ordered by the score printed (ties: newer first, then doc_id).
Queries are always parameterised.
"""

# SQL text is assembled only from table names, numbers and fragments defined in this module; every
# value (user text, ids, dates) is passed as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.core.links import passage_link
from pipelines.core.passages import Segment, split_passages
from pipelines.core.periods import parse_period
from pipelines.core.textnorm import find_words, norm_map, normalize_quote_text

INDEX_VERSION = 1  # bump when the index's tables or rules change: the next run rebuilds it
PASSAGES = "_search_passages"  # one row per passage (pid in document order)
TERMS = "_search_terms"  # (termid, term, df): every stem of a content word, its document frequency
POSTINGS = "_search_postings"  # (termid, pid, tf, w), sorted by termid: w = BM25 weight, tf 0 = next passage's head only
DOCS = "_search_docs"  # one row per document with passages: filters, title, timed, url
TITLES = "_search_titles"  # (doc_id, title_norm): a document's title and the catalog's aliases of its source
COPIES = "_search_copies"  # (doc_a, doc_b): documents that carry the same text (a post and its tweet copy)
STATS = "_search_stats"  # (version, passages, avgdl)
TABLES = (PASSAGES, TERMS, POSTINGS, DOCS, TITLES, COPIES, STATS)

K1, B = 1.2, 0.75
BM25_HALF = 8.0  # the BM25 at which its share of the score is one half
PHRASE_BONUS = 1.0
TITLE_EXACT = 6.0  # above any passage (< 3) plus any other title's bonus (< 3): a title query finds its document first
HEAD_WORDS = 16  # words of the next passage kept with a passage: phrases of up to 17 words cross a boundary
PER_DOC = 3
EXTRA_SHARE = 0.7  # a document's other passages are shown when they score at least this share of its best

# Function words: left out of the posting lists, of coverage and of highlighting; still part of
# a phrase. In normalised form (apostrophes dropped: "don't" -> "dont").
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did didnt do does doesnt doing dont down during each few for from further
    had has have having he her here hers herself him himself his how i if im in into is isnt it its itself
    ive just me more most my myself no nor not of off on once only or other our ours ourselves out over own
    s same she should so some such t than that thats the their theirs them themselves then there theres these
    they this those through to too under until up very was wasnt we were what when where which while who whom
    why will with would you youre your yours yourself yourselves""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball English stem of a normalised word ("models" -> "model", "building" -> "build")."""
    return str(_stemmer().stemWord(word))


def content_words(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in STOP_WORDS]


_COMPOUND_RE = re.compile(r"[^\W\d_]+\d+|\d+[^\W\d_]+")
_RUN_RE = re.compile(r"\d+|[^\W\d_]+")


@lru_cache(maxsize=200_000)
def terms_of(word: str) -> tuple[str, ...]:
    """The index terms of a normalised word: its stem, none for a stop word; a word of letters
    and digits ("cifar10", "gpt2", "3d") is its runs ("cifar" "10"), as "CIFAR-10" is."""
    if word in STOP_WORDS:
        return ()
    if _COMPOUND_RE.fullmatch(word):
        return tuple(stem(p) for p in _RUN_RE.findall(word) if p not in STOP_WORDS)
    return (stem(word),)


# --------------------------------------------------------------------------- the index


def drop_search_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in (*TABLES, "_fts_postings", "_text_words", "_text_pairs"):  # the last three: index version 0
        con.execute(f"DROP TABLE IF EXISTS {table}")


def index_state(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None = None) -> str:
    """A fingerprint of what the indexes are built from: the documents' and segments' columns they
    read, the catalog's aliases, and the code that builds them (this module, passages, textnorm)."""
    import sys

    from pipelines.core import fingerprint as fp

    return fp.fingerprint(
        con,
        modules=[sys.modules[__name__], sys.modules[split_passages.__module__], sys.modules[normalize_quote_text.__module__]],
        tables=[
            ("documents", "doc_id, content_sha256, title, kind, is_own, published_at, timed, url"),
            ("segments", "doc_id, seq, start_s, end_s, start_char, end_char"),
        ],
        extra=[f"v{INDEX_VERSION}", repr(sorted((k, sorted(v)) for k, v in (aliases or {}).items()))],
    )


def search_tables_ready(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every table of the passage index is there, of this version."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_name IN (?, ?, ?, ?, ?, ?, ?)",
        list(TABLES),
    ).fetchone()
    if not row or row[0] != len(TABLES):
        return False
    version = con.execute(f"SELECT max(version) FROM {STATS}").fetchone()
    return bool(version and version[0] == INDEX_VERSION)


def build_fts_index(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None = None) -> None:
    """(Re)build DuckDB's BM25 index over whole documents (``fts_main_documents``: ``match_bm25``
    for SQL users, and the relevance benchmark's baseline), then the passage index search uses.
    ``aliases``: source id -> the catalog's other titles of that source (searched as titles)."""
    drop_search_tables(con)
    con.execute(
        "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', "
        "stemmer = 'porter', stopwords = 'none', strip_accents = 1, lower = 1, overwrite = 1)"
    )
    build_search_index(con, aliases=aliases)


def build_search_index(
    con: duckdb.DuckDBPyConnection, batch_chars: int = 12_000_000, aliases: dict[str, list[str]] | None = None
) -> None:
    """Build the passage index from ``documents`` and ``segments``, documents in batches of about
    ``batch_chars`` characters (memory stays bounded at any corpus size). ``aliases``: as for
    ``build_fts_index`` (URLs among them are left out)."""
    drop_search_tables(con)
    con.execute(
        f"""CREATE TABLE {PASSAGES} (pid INTEGER, doc_id VARCHAR, seq INTEGER, start_char INTEGER, end_char INTEGER,
            start_s DOUBLE, n_terms INTEGER, norm_len INTEGER, norm VARCHAR, head VARCHAR)"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _post_in (termid INTEGER, pid INTEGER, tf SMALLINT)")
    con.execute("CREATE OR REPLACE TEMP TABLE _sig_in (doc_id VARCHAR, sig BIGINT)")
    termids: dict[str, int] = {}
    pid = 0
    for doc_ids in _doc_batches(con, batch_chars):
        passages: dict[str, list[Any]] = {k: [] for k in ("pid", "doc_id", "seq", "start_char", "end_char", "start_s",
                                                          "n_terms", "norm_len", "norm", "head")}
        post: dict[str, list[int]] = {"termid": [], "pid": [], "tf": []}
        sigs: dict[str, list[Any]] = {"doc_id": [], "sig": []}
        for doc_id, kind, text, timed, segs in _batch_rows(con, doc_ids):
            parts = split_passages(kind, text, segs, timed)
            norms = [normalize_quote_text(text[p.start_char : p.end_char]) for p in parts]
            for sig in copy_signatures(" ".join(norms).split()):
                sigs["doc_id"].append(doc_id)
                sigs["sig"].append(sig)
            for i, p in enumerate(parts):
                words = norms[i].split()
                head_words = norms[i + 1].split()[:HEAD_WORDS] if i + 1 < len(parts) else []
                counts = Counter(t for w in words for t in terms_of(w))
                for w in head_words:
                    for t in terms_of(w):
                        counts.setdefault(t, 0)
                for term, tf in counts.items():
                    post["termid"].append(termids.setdefault(term, len(termids)))
                    post["pid"].append(pid)
                    post["tf"].append(min(tf, 32767))
                for k, v in (("pid", pid), ("doc_id", doc_id), ("seq", p.seq), ("start_char", p.start_char),
                             ("end_char", p.end_char), ("start_s", p.start_s),
                             ("n_terms", sum(counts.values())),
                             ("norm_len", len(norms[i])), ("norm", norms[i]), ("head", " ".join(head_words))):
                    passages[k].append(v)
                pid += 1
        _insert(con, PASSAGES, pa.table(passages, schema=_PASSAGE_SCHEMA))
        _insert(con, "_post_in", pa.table(post, schema=_POST_SCHEMA))
        _insert(con, "_sig_in", pa.table(sigs, schema=pa.schema([("doc_id", pa.string()), ("sig", pa.int64())])))
    terms = pa.table({"termid": list(termids.values()), "term": list(termids.keys())},
                     schema=pa.schema([("termid", pa.int32()), ("term", pa.string())]))
    _insert(con, "_terms_in", terms, create=True)
    con.execute(
        f"""
        CREATE TABLE {STATS} AS
        SELECT {INDEX_VERSION} AS version, count(*)::BIGINT AS passages, coalesce(avg(n_terms), 0)::DOUBLE AS avgdl
        FROM {PASSAGES}
        """
    )
    con.execute(
        f"""
        CREATE TABLE {TERMS} AS
        SELECT t.termid, t.term, coalesce(d.df, 0)::INTEGER AS df
        FROM _terms_in t LEFT JOIN (SELECT termid, count(*) AS df FROM _post_in WHERE tf > 0 GROUP BY termid) d USING (termid)
        ORDER BY t.term
        """
    )
    # BM25 weight of each posting (Okapi, as match_bm25 computes it, with passages for documents)
    con.execute(
        f"""
        CREATE TABLE {POSTINGS} AS
        SELECT p.termid, p.pid, p.tf,
               CASE WHEN p.tf = 0 THEN 0 ELSE
                 ln(1 + (st.passages - t.df + 0.5) / (t.df + 0.5))
                 * (p.tf * ({K1} + 1)) / (p.tf + {K1} * (1 - {B} + {B} * s.n_terms / greatest(st.avgdl, 1e-9))) END::FLOAT AS w
        FROM _post_in p
        JOIN {TERMS} t USING (termid)
        JOIN {PASSAGES} s USING (pid)
        CROSS JOIN {STATS} st
        ORDER BY p.termid, p.pid
        """
    )
    con.execute(
        f"""
        CREATE TABLE {DOCS} AS
        SELECT d.doc_id, d.source_id, d.kind, d.title, d.url, d.published_at, coalesce(d.is_own, false) AS is_own,
               coalesce(d.timed, false) AS timed, min(s.pid) AS first_pid
        FROM documents d JOIN {PASSAGES} s USING (doc_id)
        GROUP BY ALL ORDER BY first_pid
        """
    )
    titles: dict[str, list[str]] = {}
    for doc_id, source_id, title in con.execute(f"SELECT doc_id, source_id, title FROM {DOCS}").fetchall():
        names = [title] if title else []
        names += [a for a in (aliases or {}).get(source_id, []) if a and not _URL_RE.match(a)]
        for n in dict.fromkeys(normalize_quote_text(x) for x in names):
            if n:
                titles.setdefault(doc_id, []).append(n)
    rows = [(d, t) for d, ts in titles.items() for t in ts]
    table = pa.table({"doc_id": [d for d, _ in rows], "title_norm": [t for _, t in rows]},
                     schema=pa.schema([("doc_id", pa.string()), ("title_norm", pa.string())]))
    _insert(con, TITLES, table, create=True, temp=False)
    _build_copies(con)
    for tmp in ("_post_in", "_terms_in", "_sig_in"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")


_PASSAGE_SCHEMA = pa.schema([
    ("pid", pa.int32()), ("doc_id", pa.string()), ("seq", pa.int32()), ("start_char", pa.int32()), ("end_char", pa.int32()),
    ("start_s", pa.float64()), ("n_terms", pa.int32()), ("norm_len", pa.int32()), ("norm", pa.string()), ("head", pa.string()),
])
_URL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)", re.I)
_POST_SCHEMA = pa.schema([("termid", pa.int32()), ("pid", pa.int32()), ("tf", pa.int16())])


COPY_SHINGLE = 8  # words in a shingle of the copy signature
COPY_SAMPLE = 8  # a shingle is kept when its first word's crc32 is a multiple of this (1 in 8 words)
COPY_MIN = 4  # documents with fewer kept shingles are not compared (short texts)
COPY_SHARE = 0.5  # two documents are copies when they share this share of the smaller one's shingles


@lru_cache(maxsize=200_000)
def _anchors(word: str) -> bool:
    return zlib.crc32(word.encode()) % COPY_SAMPLE == 0


def copy_signatures(words: Sequence[str]) -> set[int]:
    """A document's copy signature: the 64-bit hashes of the COPY_SHINGLE-word shingles starting at
    the words a content-defined rule picks (about 1 in COPY_SAMPLE), so that two texts carrying the
    same passage pick the same shingles wherever the passage sits in them."""
    out = set()
    for i in range(len(words) - COPY_SHINGLE + 1):
        if _anchors(words[i]):
            b = " ".join(words[i : i + COPY_SHINGLE]).encode()
            out.add(((zlib.crc32(b) << 32) | zlib.adler32(b)) - (1 << 63))
    return out


def _build_copies(con: duckdb.DuckDBPyConnection) -> None:
    """``_search_copies(doc_a, doc_b)``, doc_a < doc_b: pairs of documents that are copies of one text
    (shingles that 50+ documents share are boilerplate and left out)."""
    con.execute(
        f"""
        CREATE TABLE {COPIES} AS
        WITH s AS (SELECT DISTINCT doc_id, sig FROM _sig_in),
        common AS (SELECT sig FROM s GROUP BY sig HAVING count(*) BETWEEN 2 AND 50),
        k AS (SELECT doc_id, count(*) AS n FROM s GROUP BY doc_id),
        pairs AS (
            SELECT a.doc_id AS doc_a, b.doc_id AS doc_b, count(*) AS shared
            FROM s a JOIN common USING (sig) JOIN s b ON b.sig = a.sig AND a.doc_id < b.doc_id
            GROUP BY ALL
        )
        SELECT doc_a, doc_b FROM pairs
        JOIN k ka ON ka.doc_id = doc_a JOIN k kb ON kb.doc_id = doc_b
        WHERE least(ka.n, kb.n) >= {COPY_MIN} AND shared >= {COPY_SHARE} * least(ka.n, kb.n)
        ORDER BY doc_a, doc_b
        """
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, create: bool = False, temp: bool = True) -> None:
    con.register("_arrow_in", data)
    try:
        if create:
            kind = "TEMP TABLE" if temp else "TABLE"
            con.execute(f"CREATE OR REPLACE {kind} {table} AS SELECT * FROM _arrow_in")
        else:
            con.execute(f"INSERT INTO {table} SELECT * FROM _arrow_in")
    finally:
        con.unregister("_arrow_in")


def _doc_batches(con: duckdb.DuckDBPyConnection, batch_chars: int) -> Iterator[list[str]]:
    """Document ids in order, in batches of about ``batch_chars`` characters of text."""
    rows = con.execute(
        "SELECT doc_id, coalesce(length(text), 0) FROM documents WHERE text IS NOT NULL AND text <> '' ORDER BY doc_id"
    ).fetchall()
    batch: list[str] = []
    size = 0
    for doc_id, n in rows:
        batch.append(doc_id)
        size += n
        if size >= batch_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _batch_rows(con: duckdb.DuckDBPyConnection, doc_ids: list[str]) -> Iterator[tuple[str, str, str, bool, list[Segment]]]:
    segs: dict[str, list[Segment]] = {}
    for doc_id, a, b, s0, s1 in con.execute(
        "SELECT doc_id, start_char, end_char, start_s, end_s FROM segments WHERE doc_id = ANY(?) "
        "AND start_char IS NOT NULL ORDER BY doc_id, seq",
        [doc_ids],
    ).fetchall():
        segs.setdefault(doc_id, []).append(Segment(a, b, s0, s1))
    for doc_id, kind, text, timed in con.execute(
        "SELECT doc_id, kind, text, coalesce(timed, false) FROM documents WHERE doc_id = ANY(?) ORDER BY doc_id", [doc_ids]
    ).fetchall():
        yield doc_id, kind, text, bool(timed), segs.get(doc_id, [])


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
    if not search_tables_ready(con):
        raise SearchIndexMissing("the warehouse has no passage index of this version: run `corpus run` to build it")
    flt = [kind, kind, own_only, *([_day(since)] * 2), *([_day(until, end=True)] * 2)]
    idf = _idfs(con, q)
    titles = _title_bonuses(con, q, flt) if not exact else {}
    ranked = _ranked_passages(con, q, idf, flt, exact, titles, limit + COPY_SLACK, per_doc)
    return _hits(con, q, ranked, limit)


def _idfs(con: duckdb.DuckDBPyConnection, q: _Query) -> dict[str, tuple[int | None, float]]:
    """stem -> (termid or None when no passage has it, its BM25 idf over passages)."""
    row = con.execute(f"SELECT passages FROM {STATS}").fetchone()
    n = float(row[0]) if row else 0.0
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
        SELECT s.pid, s.doc_id, s.start_char, s.end_char, s.start_s, d.kind, d.title, d.url, d.published_at, d.timed,
               substring(x.text, s.start_char + 1, s.end_char - s.start_char) AS piece, NULL
        FROM {PASSAGES} s JOIN {DOCS} d USING (doc_id) JOIN documents x USING (doc_id)
        WHERE s.pid = ANY(?)
        """,
        [[pid for _, pid, _, _, _ in ranked]],
    ).fetchall()
    by_pid = {r[0]: r for r in rows}
    hits: list[SearchHit] = []
    current: SearchHit | None = None
    for doc_id, pid, pscore, phrase, bonus in ranked:
        _, _, a, b, start_s, kind, title, url, published, timed, piece, _ = by_pid[pid]
        ph = PassageHit(
            start_char=a, end_char=b, start_s=start_s if timed else None, link=passage_link(kind, url, start_s, timed),
            score=pscore + bonus, phrase=phrase, snippet=snippet(piece or "", q),
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
            if w and wanted.intersection(terms_of(w)):
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

