"""Running the processor over the warehouse incrementally: ``NlpCache`` (per-document results keyed
by text sha256, caption layout, lexicon hash and ``CODE_VERSION``), ``document_keys`` and
``process_documents``. See the package docstring (pipelines.core.nlp)."""

# SQL text is assembled only from table names and fragments defined in this module; every
# value (user text, ids, dates, numbers) is passed as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import spacy

from pipelines.core import db
from pipelines.core.lexicon import Lexicon, lexicon_hash
from pipelines.core.nlp.frames import result_frames
from pipelines.core.nlp.parallel import (
    MIN_PARALLEL_WORDS,
    PARALLEL_CHUNK_CHARS,
    Item,
    ParallelProcessor,
    PendingChunk,
    analyse,
    nlp_workers,
)
from pipelines.core.nlp.processor import DEFAULT_BATCH_SIZE, CaptionColumns, DocResult, TextProcessor

log = logging.getLogger(__name__)

# Bump when anything in pipelines.core.nlp changes what is produced for the same text: old cache
# entries then stop matching and every document is processed again.
CODE_VERSION = f"nlp-1/spacy-{spacy.__version__}"



CACHE_TABLES = {
    "docs": """cache_key VARCHAR PRIMARY KEY, content_sha256 VARCHAR, lexicon_hash VARCHAR,
               code_version VARCHAR, mode VARCHAR, words INTEGER, sentences INTEGER,
               processed_at TIMESTAMPTZ""",
    "sentences": "cache_key VARCHAR, sent_id INTEGER, start_char INTEGER, end_char INTEGER, method VARCHAR, text VARCHAR",
    "phrase_hits": """cache_key VARCHAR, phrase_id VARCHAR, sent_id INTEGER, start_char INTEGER, end_char INTEGER,
                      matched_text VARCHAR""",
    "mentions": """cache_key VARCHAR, entity_id VARCHAR, alias VARCHAR, sent_id INTEGER, start_char INTEGER,
                   end_char INTEGER, matched_text VARCHAR""",
}


class NlpCache:
    """Per-document NLP results keyed by (text sha256, segment layout, lexicon hash, CODE_VERSION).

    Kept as tables ``nlp_cache.docs/sentences/phrase_hits/mentions``: in a schema of the
    warehouse itself (default) or, with ``path``, in a separate DuckDB file attached as
    ``nlp_cache`` (so a rebuilt warehouse keeps its cache).
    """

    NAME = "nlp_cache"

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | str | None = None) -> None:
        self.con = con
        self.path = Path(path) if path else None
        attached = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        if self.path is not None:
            if self.NAME not in attached:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                quoted = str(self.path).replace("'", "''")
                con.execute(f"ATTACH '{quoted}' AS {self.NAME}")
                self._attached = True
            else:
                self._attached = False
        else:
            self._attached = False
            if self.NAME not in attached:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.NAME}")
        self._ensure_tables()

    def _ensure_tables(self) -> None:
        """Create the cache tables; a cache written with other columns is dropped and restarted."""
        con = self.con
        for table, cols in CACHE_TABLES.items():
            want = [c.strip().split()[0] for c in " ".join(cols.split()).split(",")]
            have = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
                    "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position"
                    if self.path is None
                    else "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
                    "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                    [self.NAME, table],
                ).fetchall()
            ]
            if have and have != want:
                log.warning(
                    "nlp cache table %s has columns %s, expected %s: starting it afresh", table, have, want
                )
                con.execute(f"DROP TABLE {self.NAME}.{table}")
                have = []
            if not have:
                con.execute(f"CREATE TABLE {self.NAME}.{table} ({cols})")

    def t(self, table: str) -> str:
        return f"{self.NAME}.{table}"

    def close(self) -> None:
        if self._attached:
            self.con.execute(f"DETACH {self.NAME}")
            self._attached = False

    def __enter__(self) -> NlpCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def store(self, rows: list[tuple[str, str, str, DocResult]], lex_hash: str) -> None:
        """Insert results for (cache_key, content_sha256, text, result) rows in one transaction."""
        if rows:
            self.insert(result_frames(rows, lex_hash, CODE_VERSION))

    def insert(self, frames: dict[str, pl.DataFrame]) -> None:
        """Insert the tables ``result_frames`` made (replacing those cache keys) in one transaction."""
        now = time.time()
        docs, sent, hits, ments = frames["docs"], frames["sentences"], frames["phrase_hits"], frames["mentions"]
        con = self.con
        with db.transaction(con):
            con.register("_nlp_keys_in", docs.select("cache_key").to_arrow())
            for table in CACHE_TABLES:
                con.execute(
                    f"DELETE FROM {self.t(table)} WHERE cache_key IN (SELECT cache_key FROM _nlp_keys_in)"
                )
            con.unregister("_nlp_keys_in")
            for table, df in (
                ("docs", docs),
                ("sentences", sent),
                ("phrase_hits", hits),
                ("mentions", ments),
            ):
                if df.height:
                    con.register("_nlp_in", df.to_arrow())
                    extra = ", to_timestamp(?) AS processed_at" if table == "docs" else ""
                    params = [now] if table == "docs" else []
                    con.execute(f"INSERT INTO {self.t(table)} BY NAME SELECT *{extra} FROM _nlp_in", params)
                    con.unregister("_nlp_in")

    def prune(self, keep_table: str) -> int:
        """Delete entries whose cache_key is not in ``keep_table`` (e.g. the current documents)."""
        n = db.scalar(self.con,
            f"SELECT count(*) FROM {self.t('docs')} WHERE cache_key NOT IN (SELECT cache_key FROM {keep_table})"
        )
        if n:
            for table in CACHE_TABLES:
                self.con.execute(
                    f"DELETE FROM {self.t(table)} WHERE cache_key NOT IN (SELECT cache_key FROM {keep_table})"
                )
        return int(n)


DOC_KEYS_TABLE = "_nlp_doc_keys"


def document_keys(con: duckdb.DuckDBPyConnection, lexicon: Lexicon) -> str:
    """(Re)create the temp table ``_nlp_doc_keys(doc_id, content_sha256, cache_key)`` for all documents."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {DOC_KEYS_TABLE} AS
        WITH seg AS (
            SELECT doc_id,
                   md5(string_agg(concat_ws(':', start_char, end_char, start_s, end_s), ',' ORDER BY seq, start_char)) AS fp
            FROM segments GROUP BY doc_id
        ), d AS (
            -- The text's own hash (equal to documents.content_sha256 as assembled), so a text
            -- changed without its stored hash still misses the cache.
            SELECT doc_id, sha256(coalesce(text, '')) AS content_sha256 FROM documents
        )
        SELECT d.doc_id, d.content_sha256,
               sha256(concat_ws('|', d.content_sha256, coalesce(seg.fp, '-'), ?, ?)) AS cache_key
        FROM d LEFT JOIN seg USING (doc_id)
        """,
        [lexicon_hash(lexicon), CODE_VERSION],
    )
    return DOC_KEYS_TABLE


def _caption_columns(con: duckdb.DuckDBPyConnection, ids: str) -> dict[str, CaptionColumns]:
    """The caption segments of the documents in table ``ids`` (column ``v``), per document, as
    columns: one query and a split, not a Python object per segment."""
    cols = con.execute(
        f"""SELECT doc_id, start_char::BIGINT AS sc, end_char::BIGINT AS ec,
                   coalesce(start_s::DOUBLE, 'NaN'::DOUBLE) AS ss, coalesce(end_s::DOUBLE, 'NaN'::DOUBLE) AS es
            FROM segments
            WHERE doc_id IN (SELECT v FROM {ids}) AND start_char IS NOT NULL AND end_char IS NOT NULL
              AND end_char > start_char
            ORDER BY doc_id, seq, start_char"""
    ).fetchnumpy()
    doc_ids = cols["doc_id"]
    if len(doc_ids) == 0:
        return {}
    cuts = (np.flatnonzero(doc_ids[1:] != doc_ids[:-1]) + 1).tolist()
    out: dict[str, CaptionColumns] = {}
    for a, b in zip([0, *cuts], [*cuts, len(doc_ids)], strict=True):
        out[str(doc_ids[a])] = CaptionColumns(
            np.asarray(cols["sc"][a:b]), np.asarray(cols["ec"][a:b]),
            np.asarray(cols["ss"][a:b]), np.asarray(cols["es"][a:b]),
        )
    return out


@dataclass
class ProcessStats:
    documents: int  # documents in the warehouse
    processed: int  # distinct texts run through spaCy now
    cached: int  # distinct texts whose results came from the cache
    words: int  # words processed now (sum of documents.word_count, the project's WORD_RE count)
    seconds: float
    pruned: int = 0

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


def process_documents(
    con: duckdb.DuckDBPyConnection,
    lexicon: Lexicon,
    cache: NlpCache | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    chunk_docs: int = 2000,
    chunk_chars: int = 5_000_000,
    prune: bool | None = None,
    processor: TextProcessor | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> ProcessStats:
    """Make sure every document has cached NLP results; process only the missing ones.

    Documents are read and written in chunks (at most ``chunk_docs`` documents or about
    ``chunk_chars`` characters), so memory stays bounded by a chunk, not the corpus.
    ``prune`` (default: only when the cache lives inside the warehouse) drops entries no
    current document uses. ``progress(documents done, documents to do, words done)`` is called after
    each chunk.
    """
    cache = cache or NlpCache(con)
    keys = document_keys(con, lexicon)
    lex_hash = lexicon_hash(lexicon)
    total_docs = db.scalar(con, f"SELECT count(*) FROM {keys}")
    todo = con.execute(
        f"""SELECT k.cache_key, min(k.doc_id) AS first_doc, any_value(k.content_sha256) AS sha,
                   max(length(d.text)) AS chars, max(coalesce(d.word_count, 0)) AS words
            FROM {keys} k JOIN documents d USING (doc_id)
            WHERE k.cache_key NOT IN (SELECT cache_key FROM {cache.t("docs")})
            GROUP BY k.cache_key ORDER BY first_doc"""
    ).fetchall()
    distinct = db.scalar(con, f"SELECT count(DISTINCT cache_key) FROM {keys}")
    cached = int(distinct) - len(todo)

    words = sum(int(r[4] or 0) for r in todo)
    workers = nlp_workers()
    parallel = processor is None and workers > 1 and words >= MIN_PARALLEL_WORDS
    if parallel:  # smaller chunks, so that storing one overlaps the workers' analysis of the next
        chunk_chars = min(chunk_chars, max(PARALLEL_CHUNK_CHARS, sum(int(r[3] or 0) for r in todo) // 8))
    chunks: list[list[tuple[str, str, str]]] = []
    cur: list[tuple[str, str, str]] = []
    size = 0
    for key, doc_id, sha, chars, _ in todo:
        if cur and (len(cur) >= chunk_docs or size + (chars or 0) > chunk_chars):
            chunks.append(cur)
            cur, size = [], 0
        cur.append((key, doc_id, sha))
        size += chars or 0
    if cur:
        chunks.append(cur)

    proc = processor
    pool = ParallelProcessor(lexicon, workers, batch_size, lex_hash, CODE_VERSION) if parallel else None
    done = 0
    t0 = time.perf_counter()
    words_done = 0

    def finish(chunk: list[tuple[str, str, str]], frames: dict[str, pl.DataFrame]) -> None:
        nonlocal done, words_done
        cache.insert(frames)
        done += len(chunk)
        words_done += int(frames["docs"]["words"].sum() or 0)
        if progress:
            progress(done, len(todo), words_done)

    pending: tuple[list[tuple[str, str, str]], PendingChunk] | None = None
    try:
        for chunk in chunks:
            with db.values_table(con, [doc_id for _, doc_id, _ in chunk]) as ids:
                texts = dict(con.execute(f"SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT v FROM {ids})").fetchall())
                segs = _caption_columns(con, ids)
            items: list[Item] = [(key, sha, texts.get(doc_id) or "", segs.get(doc_id)) for key, doc_id, sha in chunk]
            if pool is not None:  # the workers analyse this chunk while the previous one is stored
                submitted = pool.submit(items)
                if pending is not None:
                    finish(pending[0], pending[1].frames())
                pending = (chunk, submitted)
                continue
            if proc is None:  # built only when something needs processing
                proc = TextProcessor(lexicon, batch_size=batch_size)
            finish(chunk, analyse(proc, items, lex_hash, CODE_VERSION))
        if pending is not None:
            finish(pending[0], pending[1].frames())
    finally:
        if pool is not None:
            pool.close()
    seconds = time.perf_counter() - t0
    pruned = 0
    if prune if prune is not None else cache.path is None:
        pruned = cache.prune(keys)
    stats = ProcessStats(
        documents=int(total_docs),
        processed=len(todo),
        cached=cached,
        words=words,
        seconds=seconds,
        pruned=pruned,
    )
    log.info(
        "nlp: %d documents, %d processed, %d cached, %d words in %.1fs (%.0f words/s)",
        stats.documents,
        stats.processed,
        stats.cached,
        stats.words,
        stats.seconds,
        stats.words_per_second,
    )
    return stats
