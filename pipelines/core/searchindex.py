"""The passage index behind search and KWIC: built from ``documents`` and ``segments`` before the
warehouse is published (``build_fts_index``), so every reader of corpus.duckdb has it.

* ``_search_passages``: every document's passages (``pipelines/core/passages.py``: caption windows,
  paragraphs, whole tweets), with their text normalised by ``pipelines/core/textnorm.py`` (``norm``)
  and the first ``HEAD_WORDS`` normalised words of the next passage (``head``: a phrase across the
  boundary is found in the first one);
* ``_search_terms`` / ``_search_postings``: index terms (``terms_of``: Snowball English stems of
  the words that are not ``STOP_WORDS``) with their document frequency (passages), and per
  passage holding one, its count and the passage's length, sorted by term so a query reads its
  terms' rows only; the Okapi BM25 weight (k1 = 1.2, b = 0.75, over passages) is computed when a
  query reads them (``bm25_sql``), so no posting depends on the rest of the corpus;
* ``_search_docs``, ``_search_titles``: per document its filters, link and first passage, and its
  titles (its own and the catalog's aliases of its source), normalised;
* ``_search_copies``: pairs of documents that carry one text (``copy_signatures``);
* ``_search_stats``: the index version, the number of passages and their mean length (and how
  many postings were appended since the last full build, out of term order);
* ``_search_state``: per indexed document, a signature of what its rows are made from.

DuckDB's BM25 index over whole documents (``fts_main_documents``, ``match_bm25``) is built beside
it for SQL users and as the relevance benchmark's baseline. Documents stream in batches, so memory
stays bounded at any corpus size. Each document's passages and term counts are kept in a cache per
document key (``build_search_index``), so a new document costs its own splitting and counting. When
few documents changed, the index is updated in place (``update_search_index``): the changed
documents' rows deleted, the new ones appended under new ids, document frequencies moved, and the
statistics recomputed; the tables then hold what a full build holds, under other ids. DuckDB's FTS
index is built in set-based SQL and updated in place the same way (``pipelines/core/fts.py``).
"""

# SQL text is assembled only from table names, numbers and fragments defined in this module; every
# value is passed as a parameter (the cache file's path, which ATTACH cannot take as one, is quoted
# by _sql_path; it is the project's own path, never corpus text).
# ruff: noqa: S608

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.core import db
from pipelines.core.passages import Segment, split_passages
from pipelines.core.textnorm import normalize_quote_text, stem

INDEX_VERSION = 5  # bump when the index's tables or rules change: the next run rebuilds it
PASSAGES = "_search_passages"  # one row per passage (pid in document order), without its text
PTEXT = "_search_ptext"  # (pid, norm_len, norm, head): a passage's normalised words, and the next one's first
TERMS = "_search_terms"  # (termid, term, df): every index term, the number of passages holding it
POSTINGS = "_search_postings"  # (termid, pid, docidx, tf, dl), sorted by termid: dl = the passage's length, tf 0 = head only
DOCS = "_search_docs"  # one row per document with passages (docidx): filters, title, timed, url, first pid
TITLES = "_search_titles"  # (docidx, title_norm): a document's title and the catalog's aliases of its source
COPIES = "_search_copies"  # (doc_a, doc_b): documents that carry the same text (a post and its tweet copy)
STATS = "_search_stats"  # (version, passages, avgdl, appended), written last
STATE = "_search_state"  # (doc_id, sig, code): what each indexed document's rows were made from
TABLES = (PASSAGES, PTEXT, TERMS, POSTINGS, DOCS, TITLES, COPIES, STATE, STATS)
# Each table's contents without its ids (document, passage and term ids depend on the order the
# index grew in): an index updated in place holds what a full build holds, compared this way.
# Left out of the stats: how many postings stand out of term order (layout, not content).
_PSTART = f"SELECT pid, doc_id, start_char FROM {PASSAGES}"
CANONICAL = {
    DOCS: f"SELECT * EXCLUDE (docidx, first_pid) FROM {DOCS}",
    PASSAGES: f"SELECT * EXCLUDE (pid, docidx) FROM {PASSAGES}",
    PTEXT: f"SELECT p.doc_id, p.start_char, t.* EXCLUDE (pid) FROM {PTEXT} t JOIN ({_PSTART}) p USING (pid)",
    TERMS: f"SELECT term, df FROM {TERMS}",
    POSTINGS: f"SELECT t.term, p.doc_id, p.start_char, o.tf, o.dl FROM {POSTINGS} o JOIN {TERMS} t USING (termid) "
              f"JOIN ({_PSTART}) p USING (pid)",
    TITLES: f"SELECT d.doc_id, t.title_norm FROM {TITLES} t JOIN {DOCS} d USING (docidx)",
    COPIES: f"SELECT * FROM {COPIES}",
    STATE: f"SELECT * FROM {STATE}",
    STATS: f"SELECT version, passages, round(avgdl, 9) FROM {STATS}",
}
REBUILD_SHARE = 0.2  # more documents changed than this share of them: a full build
UNSORTED_SHARE = 0.2  # more postings appended (out of term order) than this share of them: a full build

K1, B = 1.2, 0.75


def bm25_sql(tf: str, dl: str, idf: str, avgdl: float) -> str:
    """The Okapi BM25 weight of a posting as SQL (as ``match_bm25`` computes it, with passages for
    documents): ``tf`` and ``dl`` its count and passage length, ``idf`` its term's idf (columns)."""
    return (f"CASE WHEN {tf} = 0 THEN 0 ELSE {idf} * ({tf} * {K1 + 1!r}) / "
            f"({tf} + {K1!r} * (1 - {B!r} + {B!r} * {dl} / {max(float(avgdl), 1e-9)!r})) END")
HEAD_WORDS = 16  # words of the next passage kept with a passage: phrases of up to 17 words cross a boundary

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
) | frozenset(  # the negations of those, contracted or not, are function words too
    "aint arent cannot cant couldnt hadnt hasnt havent mustnt neednt shant shouldnt wont werent wouldnt".split()
)




def content_words(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in STOP_WORDS]


_COMPOUND_RE = re.compile(r"[^\W\d_]+\d+|\d+[^\W\d_]+")
_RUN_RE = re.compile(r"\d+|[^\W\d_]+")


# Number words and their plurals are indexed as their digits ("nines" as "9s" is, "two" as "2"): a
# transcript says what a post writes in digits. Not "one": mostly a pronoun ("the one that").
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero _ two three four five six seven eight nine ten eleven twelve".split()) if w != "_"}
_NUMBER_FORMS = {form: digits for w, digits in NUMBER_WORDS.items() for form in (w, w + "s")}


@lru_cache(maxsize=200_000)
def terms_of(word: str) -> tuple[str, ...]:
    """The index terms of a normalised word: its stem, none for a stop word; a word of letters
    and digits ("cifar10", "gpt2", "3d", "9s") is its runs ("cifar" "10"), as "CIFAR-10" is; a
    number word ("nine", "nines") is its digits ("9")."""
    if word in STOP_WORDS:
        return ()
    if word in _NUMBER_FORMS:
        return (_NUMBER_FORMS[word],)
    if _COMPOUND_RE.fullmatch(word):
        return tuple(stem(p) for p in _RUN_RE.findall(word) if p not in STOP_WORDS)
    return (stem(word),)


def drop_search_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in (*TABLES, "_search_biwords", "_fts_postings", "_text_words", "_text_pairs"):  # older versions' tables
        # (dropping a table drops its index)
        con.execute(f"DROP TABLE IF EXISTS {table}")


# the code the indexes are built by: this module, the passage splitter, the one normalisation
_INDEX_CODE = [__name__, split_passages.__module__, normalize_quote_text.__module__]


def index_state(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None = None) -> str:
    """A fingerprint of what the indexes are built from: the documents' and segments' columns they
    read, the catalog's aliases, and the code that builds them (this module, passages, textnorm, fts)."""
    from pipelines.core import fingerprint as fp

    return fp.fingerprint(
        con,
        modules=[*_INDEX_CODE, "pipelines.core.fts"],
        tables=[
            ("documents", "doc_id, content_sha256, title, kind, is_own, published_at, timed, url"),
            ("segments", "doc_id, seq, start_s, end_s, start_char, end_char"),
        ],
        extra=[f"v{INDEX_VERSION}", _aliases_key(aliases)],
    )


def search_tables_ready(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every table of the passage index is there, of this version."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        f"AND table_name IN ({', '.join('?' * len(TABLES))})",
        list(TABLES),
    ).fetchone()
    if not row or row[0] != len(TABLES):
        return False
    version = con.execute(f"SELECT max(version) FROM {STATS}").fetchone()
    return bool(version and version[0] == INDEX_VERSION)


STATE_TABLE = "_fts_state"


def refresh_search_index(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None = None,
                         cache: Path | None = None) -> bool:
    """Bring the search indexes up to date (``build_fts_index``: each in place when few documents
    changed) only when what they are built from changed (``index_state``, kept in ``_fts_state``),
    or when an index is missing or of another version. Returns True when they were touched."""
    state = index_state(con, aliases)
    has_index = db.scalar(con, "SELECT count(*) FROM information_schema.schemata WHERE catalog_name = current_database() AND schema_name = 'fts_main_documents'")
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (state VARCHAR)")
    previous = con.execute(f"SELECT state FROM {STATE_TABLE}").fetchone()
    if has_index and previous is not None and previous[0] == state and search_tables_ready(con):
        return False
    build_fts_index(con, aliases=aliases, cache=cache)
    con.execute(f"DELETE FROM {STATE_TABLE}")
    con.execute(f"INSERT INTO {STATE_TABLE} VALUES (?)", [state])
    return True


def build_fts_index(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None = None,
                    cache: Path | None = None) -> None:
    """Bring DuckDB's BM25 index over whole documents (``fts_main_documents``: ``match_bm25`` for
    SQL users, and the relevance benchmark's baseline) and the passage index search uses up to date
    with ``documents``, each built anew or updated in place. ``aliases``: source id -> the catalog's
    other titles of that source (searched as titles)."""
    from pipelines.core import fts

    fts.refresh(con)
    update_search_index(con, aliases=aliases, cache=cache)


def _index_code(aliases: dict[str, list[str]] | None) -> str:
    """What every document's rows depend on besides the document: the code, and the catalog's aliases."""
    from pipelines.core import fingerprint as fp

    return fp.fingerprint(None, extra=[_code_key(), _aliases_key(aliases)])[:16]


def _aliases_key(aliases: dict[str, list[str]] | None) -> str:
    return repr(sorted((k, sorted(v)) for k, v in (aliases or {}).items()))


@contextmanager
def _cache_attached(con: duckdb.DuckDBPyConnection, cache: Path | None) -> Iterator[bool]:
    """The cache file attached as ``search_cache`` for the block (temporary tables without one):
    yields whether it is attached."""
    if cache is None:
        yield False
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"ATTACH '{_sql_path(cache)}' AS {_CACHE_DB}")
    try:
        yield True
    finally:
        con.execute(f"DETACH {_CACHE_DB}")


def _doc_signatures(con: duckdb.DuckDBPyConnection) -> None:
    """``_sn(doc_id, doc_key, sig)`` from ``_sk``: every document's signature (``_SIG``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sn AS SELECT k.doc_id, k.doc_key, {_SIG} AS sig "
                "FROM _sk k JOIN documents d USING (doc_id)")


def update_search_index(
    con: duckdb.DuckDBPyConnection, batch_chars: int = 12_000_000, aliases: dict[str, list[str]] | None = None,
    cache: Path | None = None,
) -> str:
    """Bring the passage index up to date: "kept" (no document changed), "updated" (in place: the
    removed and changed documents' rows deleted, the new and changed ones' appended) or "built"
    (no index of this version and code yet, more than ``REBUILD_SHARE`` of the documents changed,
    or more than ``UNSORTED_SHARE`` of the postings out of term order: ``build_search_index``)."""
    code = _index_code(aliases)
    if not search_tables_ready(con) or con.execute(
        f"SELECT count(*) = 0 OR bool_or(code IS DISTINCT FROM ?) FROM {STATE}", [code]
    ).fetchone() != (False,):
        build_search_index(con, batch_chars, aliases, cache)
        return "built"
    with _cache_attached(con, cache) as attached:
        try:
            _doc_keys(con)
            _doc_signatures(con)
            moved, total = con.execute(  # documents added, changed or removed; documents now
                f"""SELECT (SELECT count(DISTINCT doc_id) FROM (
                               SELECT doc_id, sig FROM {STATE} EXCEPT SELECT doc_id, sig FROM _sn
                               UNION ALL SELECT doc_id, sig FROM _sn EXCEPT SELECT doc_id, sig FROM {STATE})),
                           (SELECT count(*) FROM _sn)"""
            ).fetchone()  # type: ignore[misc]
            if moved == 0:
                return "kept"
            appended, postings = con.execute(f"SELECT (SELECT appended FROM {STATS}), (SELECT count(*) FROM {POSTINGS})").fetchone()  # type: ignore[misc]
            in_place = moved <= REBUILD_SHARE * max(1, total) and appended <= UNSORTED_SHARE * max(1, postings)
            if in_place:
                t = _cache_tables(con, attached)
                _fill_cache(con, t, batch_chars)
                with db.transaction(con):
                    _update_in_place(con, t, aliases, code)
                for name in t.values():
                    con.execute(f"DELETE FROM {name} WHERE doc_key NOT IN (SELECT doc_key FROM _sk)")
        finally:
            for tmp in ("_sn", "_sk"):
                con.execute(f"DROP TABLE IF EXISTS {tmp}")
    if not in_place:
        build_search_index(con, batch_chars, aliases, cache)
        return "built"
    return "updated"


# a document's signature: its entry's key (text, kind, timing, caption layout, code) and the columns
# of _search_docs and _search_titles; a document whose signature moved is indexed again
_SIG = "hash(k.doc_key, d.source_id, d.kind, d.title, d.url, d.published_at, coalesce(d.is_own, false), coalesce(d.timed, false))"


def _update_in_place(con: duckdb.DuckDBPyConnection, t: dict[str, str], aliases: dict[str, list[str]] | None, code: str) -> None:
    """The removed and changed documents' rows out (their terms' document frequencies lowered), the
    new and changed ones' in under new ids after the last (new terms at the end), then the titles,
    copies, statistics and state. Reads ``_sk`` and ``_sn``; inside the caller's transaction."""
    # new ids come after the last ones before any row is deleted: no id is deleted and inserted again
    # in one transaction (a unique index may refuse that)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ix_next AS
            SELECT (SELECT coalesce(max(docidx), -1) FROM {DOCS}) AS docidx, (SELECT coalesce(max(pid), -1) FROM {PASSAGES}) AS pid,
                   (SELECT coalesce(max(termid), -1) FROM {TERMS}) AS termid"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ix_gone AS
            SELECT d.docidx FROM {DOCS} d JOIN {STATE} s USING (doc_id)
            WHERE NOT EXISTS (SELECT 1 FROM _sn n WHERE n.doc_id = s.doc_id AND n.sig = s.sig)"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ix_gone_post AS SELECT termid, tf FROM {POSTINGS} WHERE docidx IN (SELECT docidx FROM _ix_gone)")
    con.execute(
        f"""UPDATE {TERMS} SET df = {TERMS}.df - g.n
            FROM (SELECT termid, count(*) AS n FROM _ix_gone_post WHERE tf > 0 GROUP BY termid) g WHERE {TERMS}.termid = g.termid"""
    )
    con.execute(f"DELETE FROM {POSTINGS} WHERE docidx IN (SELECT docidx FROM _ix_gone)")
    con.execute(f"DELETE FROM {PTEXT} WHERE pid IN (SELECT pid FROM {PASSAGES} WHERE docidx IN (SELECT docidx FROM _ix_gone))")
    for table in (PASSAGES, TITLES, DOCS):
        con.execute(f"DELETE FROM {table} WHERE docidx IN (SELECT docidx FROM _ix_gone)")
    # the new and changed documents, numbered after the last document, passage and term
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _docs_in AS
            SELECT n.doc_id, n.doc_key,
                   ((SELECT docidx FROM _ix_next) + row_number() OVER (ORDER BY n.doc_id))::INTEGER AS docidx
            FROM _sn n WHERE NOT EXISTS (SELECT 1 FROM {STATE} s WHERE s.doc_id = n.doc_id AND s.sig = n.sig)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pass_in AS
            SELECT ((SELECT pid FROM _ix_next) + row_number() OVER (ORDER BY d.docidx, p.i))::INTEGER AS pid,
                   d.docidx, d.doc_id, p.seq, p.start_char, p.end_char, p.start_s, p.n_terms, p.norm_len, p.norm, p.head, p.doc_key, p.i
            FROM _docs_in d JOIN {t['passages']} p USING (doc_key)"""
    )
    con.execute(
        f"""INSERT INTO {TERMS}
            SELECT (SELECT termid FROM _ix_next) + row_number() OVER (ORDER BY term), term, 0
            FROM (SELECT DISTINCT c.term FROM {t['postings']} c WHERE c.doc_key IN (SELECT doc_key FROM _docs_in)
                  AND c.term NOT IN (SELECT term FROM {TERMS}))"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _post_in AS
            SELECT tm.termid, p.pid, p.docidx, c.tf, p.n_terms AS dl
            FROM _pass_in p JOIN {t['postings']} c ON c.doc_key = p.doc_key AND c.i = p.i JOIN {TERMS} tm USING (term)"""
    )
    con.execute(
        f"""UPDATE {TERMS} SET df = {TERMS}.df + a.n
            FROM (SELECT termid, count(*) AS n FROM _post_in WHERE tf > 0 GROUP BY termid) a WHERE {TERMS}.termid = a.termid"""
    )
    # a term no posting holds any more is no term (a full build lists the postings' terms)
    con.execute(
        f"""DELETE FROM {TERMS} WHERE termid IN (SELECT DISTINCT termid FROM _ix_gone_post)
            AND termid NOT IN (SELECT termid FROM {POSTINGS} WHERE termid IN (SELECT DISTINCT termid FROM _ix_gone_post))
            AND termid NOT IN (SELECT termid FROM _post_in)"""
    )
    con.execute(f"INSERT INTO {POSTINGS} SELECT * FROM _post_in ORDER BY termid, pid")
    con.execute(f"INSERT INTO {PASSAGES} SELECT * EXCLUDE (norm_len, norm, head, doc_key, i) FROM _pass_in ORDER BY pid")
    con.execute(f"INSERT INTO {PTEXT} SELECT pid, norm_len, norm, head FROM _pass_in ORDER BY pid")
    con.execute(f"INSERT INTO {DOCS} {_DOCS_SELECT.format(passages='_pass_in')} ORDER BY docidx")
    _insert(con, TITLES, _titles(con, aliases, "SELECT docidx FROM _docs_in"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sig_in AS SELECT k.doc_id, s.sig FROM _sk k JOIN {t['sigs']} s USING (doc_key)")
    con.execute(f"DROP TABLE {COPIES}")
    _build_copies(con)
    appended = con.execute("SELECT count(*) FROM _post_in").fetchone()[0]  # type: ignore[index]
    con.execute(
        f"""CREATE OR REPLACE TABLE {STATS} AS
            SELECT {INDEX_VERSION} AS version, count(*)::BIGINT AS passages, coalesce(avg(n_terms), 0)::DOUBLE AS avgdl,
                   (SELECT appended FROM {STATS}) + ?::BIGINT AS appended
            FROM {PASSAGES}""",
        [appended],
    )
    con.execute(f"CREATE OR REPLACE TABLE {STATE} AS SELECT n.doc_id, n.sig, ? AS code FROM _sn n ORDER BY n.doc_id", [code])
    for tmp in ("_ix_next", "_ix_gone", "_ix_gone_post", "_docs_in", "_pass_in", "_post_in", "_sig_in"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")


def build_search_index(
    con: duckdb.DuckDBPyConnection, batch_chars: int = 12_000_000, aliases: dict[str, list[str]] | None = None,
    cache: Path | None = None,
) -> None:
    """Build the passage index anew from ``documents`` and ``segments``. ``aliases``: as for
    ``build_fts_index`` (URLs among them are left out). The stats table is written last: while it
    is missing, the index is not there.

    Each document's passages, their term counts and its copy signature are kept per *document key*
    (its content hash, kind, timing and caption layout, and this code's version) in ``cache`` (a
    DuckDB file; temporary tables without one), so only new or changed documents are split and
    counted, in batches of about ``batch_chars`` characters (memory stays bounded at any corpus
    size); the index is then assembled from the cache in SQL: ids by document order, term ids by
    term. Entries no current document uses are dropped."""
    drop_search_tables(con)
    with _cache_attached(con, cache) as attached:
        t = _cache_tables(con, attached)
        _doc_keys(con)
        _fill_cache(con, t, batch_chars)
        _assemble(con, t)
        for name in t.values():
            con.execute(f"DELETE FROM {name} WHERE doc_key NOT IN (SELECT doc_key FROM _sk)")
        _doc_signatures(con)
    _finish(con, aliases)
    con.execute(f"CREATE TABLE {STATE} AS SELECT n.doc_id, n.sig, ? AS code FROM _sn n ORDER BY n.doc_id", [_index_code(aliases)])
    con.execute(f"CREATE TABLE {STATS} AS SELECT * FROM _stats_in")
    for tmp in ("_stats_in", "_sn", "_sk"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")


_CACHE_DB = "search_cache"
_CACHE_COLUMNS = {
    "docs": "doc_key VARCHAR",
    "passages": ("doc_key VARCHAR, i INTEGER, seq INTEGER, start_char INTEGER, end_char INTEGER, start_s DOUBLE, "
                 "n_terms INTEGER, norm_len INTEGER, norm VARCHAR, head VARCHAR"),
    "postings": "doc_key VARCHAR, i INTEGER, term VARCHAR, tf SMALLINT",
    "sigs": "doc_key VARCHAR, sig BIGINT",
}


def _sql_path(path: Path) -> str:
    """A file path as a SQL string literal (ATTACH takes no parameter): quotes doubled."""
    return str(path).replace("'", "''")


def _code_key() -> str:
    """What a cached document entry depends on besides the document: the code that splits and counts."""
    from pipelines.core import fingerprint as fp

    return fp.fingerprint(None, modules=_INDEX_CODE, extra=[f"v{INDEX_VERSION}"])[:16]


def _cache_tables(con: duckdb.DuckDBPyConnection, attached: bool) -> dict[str, str]:
    out = {}
    for table, cols in _CACHE_COLUMNS.items():
        name = f"{_CACHE_DB}.{table}" if attached else f"_sc_{table}"
        con.execute(f"CREATE {'' if attached else 'TEMP '}TABLE IF NOT EXISTS {name} ({cols})")
        out[table] = name
    return out


def _doc_keys(con: duckdb.DuckDBPyConnection) -> None:
    """``_sk(doc_id, doc_key, chars)``: every document with text, and what its cache entry is keyed by."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _sk AS
        WITH seg AS (
            SELECT doc_id, string_agg(concat_ws(',', start_char, end_char, start_s, end_s), ';' ORDER BY seq) AS layout
            FROM segments WHERE start_char IS NOT NULL GROUP BY doc_id
        )
        SELECT d.doc_id, sha256(concat_ws('|', ?, coalesce(d.content_sha256, sha256(d.text)), d.kind,
                                          coalesce(d.timed, false)::VARCHAR, coalesce(seg.layout, ''))) AS doc_key,
               length(d.text) AS chars
        FROM documents d LEFT JOIN seg USING (doc_id)
        WHERE d.text IS NOT NULL AND d.text <> ''
        """,
        [_code_key()],
    )


def _fill_cache(con: duckdb.DuckDBPyConnection, t: dict[str, str], batch_chars: int) -> None:
    """Split and count the documents whose key the cache lacks, a batch at a time."""
    todo = con.execute(
        f"SELECT min(doc_id), doc_key, any_value(chars) FROM _sk WHERE doc_key NOT IN (SELECT doc_key FROM {t['docs']}) "
        "GROUP BY doc_key ORDER BY 1"
    ).fetchall()
    batch: list[tuple[str, str]] = []
    size = 0
    for doc_id, key, chars in todo:
        batch.append((doc_id, key))
        size += int(chars or 0)
        if size >= batch_chars:
            _cache_batch(con, t, batch)
            batch, size = [], 0
    if batch:
        _cache_batch(con, t, batch)


def _cache_batch(con: duckdb.DuckDBPyConnection, t: dict[str, str], batch: list[tuple[str, str]]) -> None:
    key_of = dict(batch)
    passages: dict[str, list[Any]] = {f.name: [] for f in _CACHE_PASSAGES}
    post: dict[str, list[Any]] = {"doc_key": [], "i": [], "term": [], "tf": []}
    sigs: dict[str, list[Any]] = {"doc_key": [], "sig": []}
    for doc_id, kind, text, timed, segs in _batch_rows(con, list(key_of)):
        key = key_of[doc_id]
        parts = split_passages(kind, text, segs, timed)
        norms = [normalize_quote_text(text[p.start_char : p.end_char]) for p in parts]
        for sig in copy_signatures(" ".join(norms).split()):
            sigs["doc_key"].append(key)
            sigs["sig"].append(sig)
        for i, p in enumerate(parts):
            words = norms[i].split()
            head_words = norms[i + 1].split()[:HEAD_WORDS] if i + 1 < len(parts) else []
            counts = Counter(t_ for w in words for t_ in terms_of(w))
            for w in head_words:
                for t_ in terms_of(w):
                    counts.setdefault(t_, 0)
            for term, tf in counts.items():
                post["doc_key"].append(key)
                post["i"].append(i)
                post["term"].append(term)
                post["tf"].append(min(tf, 32767))
            for k, v in (("doc_key", key), ("i", i), ("seq", p.seq), ("start_char", p.start_char),
                         ("end_char", p.end_char), ("start_s", p.start_s), ("n_terms", sum(counts.values())),
                         ("norm_len", len(norms[i])), ("norm", norms[i]), ("head", " ".join(head_words))):
                passages[k].append(v)
    with db.transaction(con), db.values_table(con, list(key_of.values())) as keys:
        for name in t.values():  # a batch killed half-way left no docs row: its other rows go now
            con.execute(f"DELETE FROM {name} WHERE doc_key IN (SELECT v FROM {keys})")
        _insert(con, t["passages"], pa.table(passages, schema=_CACHE_PASSAGES))
        _insert(con, t["postings"], pa.table(post, schema=_CACHE_POSTINGS))
        _insert(con, t["sigs"], pa.table(sigs, schema=pa.schema([("doc_key", pa.string()), ("sig", pa.int64())])))
        con.execute(f"INSERT INTO {t['docs']} SELECT v FROM {keys}")


def _assemble(con: duckdb.DuckDBPyConnection, t: dict[str, str]) -> None:
    """The index's input tables from the cache: documents numbered in doc_id order, passages in
    document then passage order, terms in term order."""
    con.execute("CREATE OR REPLACE TEMP TABLE _docs_in AS "
                "SELECT doc_id, doc_key, (row_number() OVER (ORDER BY doc_id) - 1)::INTEGER AS docidx FROM _sk")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _pass_in AS
        SELECT (row_number() OVER (ORDER BY d.docidx, p.i) - 1)::INTEGER AS pid, d.docidx, d.doc_id, p.seq,
               p.start_char, p.end_char, p.start_s, p.n_terms, p.norm_len, p.norm, p.head, p.doc_key, p.i
        FROM _docs_in d JOIN {t['passages']} p USING (doc_key)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _terms_in AS
        SELECT (row_number() OVER (ORDER BY term) - 1)::INTEGER AS termid, term
        FROM (SELECT DISTINCT c.term FROM {t['postings']} c WHERE c.doc_key IN (SELECT doc_key FROM _sk))
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _post_in AS
        SELECT tm.termid, p.pid, p.docidx, c.tf, p.n_terms AS dl
        FROM _pass_in p JOIN {t['postings']} c ON c.doc_key = p.doc_key AND c.i = p.i JOIN _terms_in tm USING (term)
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sig_in AS SELECT d.doc_id, s.sig FROM _docs_in d JOIN {t['sigs']} s USING (doc_key)")


_CACHE_PASSAGES = pa.schema([
    ("doc_key", pa.string()), ("i", pa.int32()), ("seq", pa.int32()), ("start_char", pa.int32()),
    ("end_char", pa.int32()), ("start_s", pa.float64()), ("n_terms", pa.int32()), ("norm_len", pa.int32()),
    ("norm", pa.string()), ("head", pa.string()),
])
_CACHE_POSTINGS = pa.schema([("doc_key", pa.string()), ("i", pa.int32()), ("term", pa.string()), ("tf", pa.int16())])


def _finish(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None) -> None:
    """The index tables from the input tables ``_assemble`` made."""
    # the narrow passages (read for every query) and their texts (read for a few) apart, each with an
    # index on pid so that looking up the passages shown reads those rows only
    con.execute(f"CREATE TABLE {PASSAGES} AS SELECT * EXCLUDE (norm_len, norm, head, doc_key, i) FROM _pass_in ORDER BY pid")
    con.execute(f"CREATE TABLE {PTEXT} AS SELECT pid, norm_len, norm, head FROM _pass_in ORDER BY pid")
    con.execute("DROP TABLE _pass_in")
    con.execute(f"CREATE UNIQUE INDEX {PASSAGES}_pid ON {PASSAGES} (pid)")
    con.execute(f"CREATE UNIQUE INDEX {PTEXT}_pid ON {PTEXT} (pid)")
    con.execute(
        f"""
        CREATE TEMP TABLE _stats_in AS
        SELECT {INDEX_VERSION} AS version, count(*)::BIGINT AS passages, coalesce(avg(n_terms), 0)::DOUBLE AS avgdl,
               0::BIGINT AS appended
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
    con.execute(f"CREATE TABLE {POSTINGS} AS SELECT * FROM _post_in ORDER BY termid, pid")
    con.execute(f"CREATE TABLE {DOCS} AS {_DOCS_SELECT.format(passages=PASSAGES)} ORDER BY docidx")
    con.execute(f"CREATE UNIQUE INDEX {DOCS}_docidx ON {DOCS} (docidx)")
    _insert(con, TITLES, _titles(con, aliases, f"SELECT docidx FROM {DOCS}"), create=True, temp=False)
    _build_copies(con)
    for tmp in ("_post_in", "_terms_in", "_sig_in", "_docs_in"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")


_DOCS_SELECT = """
    SELECT s.docidx, d.doc_id, d.source_id, d.kind, d.title, d.url, d.published_at, coalesce(d.is_own, false) AS is_own,
           coalesce(d.timed, false) AS timed, min(s.pid) AS first_pid
    FROM documents d JOIN {passages} s USING (doc_id)
    GROUP BY ALL"""


def _titles(con: duckdb.DuckDBPyConnection, aliases: dict[str, list[str]] | None, docidx_sql: str) -> pa.Table:
    """(docidx, title_norm) of the documents ``docidx_sql`` selects: each one's title and the
    catalog's aliases of its source (URLs left out), normalised."""
    titles: dict[int, list[str]] = {}
    for idx, source_id, title in con.execute(
        f"SELECT docidx, source_id, title FROM {DOCS} WHERE docidx IN ({docidx_sql}) ORDER BY docidx"
    ).fetchall():
        names = [title] if title else []
        names += [a for a in (aliases or {}).get(source_id, []) if a and not _URL_RE.match(a)]
        for n in dict.fromkeys(normalize_quote_text(x) for x in names):
            if n:
                titles.setdefault(idx, []).append(n)
    rows = [(d, t) for d, ts in titles.items() for t in ts]
    return pa.table({"docidx": [d for d, _ in rows], "title_norm": [t for _, t in rows]},
                    schema=pa.schema([("docidx", pa.int32()), ("title_norm", pa.string())]))


_URL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)", re.I)


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
    with db.values_table(con, doc_ids) as ids:
        for doc_id, a, b, s0, s1 in con.execute(
            f"SELECT doc_id, start_char, end_char, start_s, end_s FROM segments WHERE doc_id IN (SELECT v FROM {ids}) "
            "AND start_char IS NOT NULL ORDER BY doc_id, seq",
        ).fetchall():
            segs.setdefault(doc_id, []).append((a, b, s0, s1))
        rows = con.execute(
            f"SELECT doc_id, kind, text, coalesce(timed, false) FROM documents WHERE doc_id IN (SELECT v FROM {ids}) ORDER BY doc_id"
        ).fetchall()
    for doc_id, kind, text, timed in rows:
        yield doc_id, kind, text, bool(timed), segs.get(doc_id, [])
