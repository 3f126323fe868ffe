"""What the claims of one evaluation run share: the connection, caches of texts and their
normalisations, document metadata, and the profile's frame (the date it speaks as of)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import numpy as np

from pipelines.core import db
from pipelines.core.textnorm import norm_map, norm_words, normalize_quote_text

if TYPE_CHECKING:
    from pipelines.core.claims.quotecache import QuoteCache
    from pipelines.core.claims.quotes import DocWords, Match, QuoteMatcher
    from pipelines.core.claims.scope import ScopeStats


KEPT_DOCS = 64  # documents whose words are kept at once
T = TypeVar("T")


def _lru(kept: OrderedDict[str, T], key: str, make: Callable[[], T]) -> T:
    """``kept[key]``, made when missing; the least recently used entry goes past ``KEPT_DOCS``."""
    got = kept.get(key)
    if got is None:
        got = kept[key] = make()
        if len(kept) > KEPT_DOCS:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    return got


def utc(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def ph(n: int) -> str:
    return ",".join("?" * n)


class Context:
    """Caches shared by the claims of one evaluation run.

    ``as_of`` is the last day the profile speaks for (claims.yaml ``as_of``): documents dated after
    it are never used to measure a claim about what exists."""

    def __init__(self, con: duckdb.DuckDBPyConnection, max_evidence: int = 10, as_of: date | None = None,
                 abbreviations: dict[str, str] | None = None, quote_cache: QuoteCache | None = None):
        from pipelines.core.claims.quotecache import QuoteCache
        from pipelines.core.claims.quotes import Abbreviations

        self.con = con
        self.quote_cache = quote_cache if quote_cache is not None else QuoteCache()
        self._doc_keys: dict[str, str] | None = None
        self.abbreviations = Abbreviations(abbreviations)
        self.max_evidence = max(1, max_evidence)
        self.as_of = as_of
        self.tables = db.table_names(con)
        self._texts: dict[str, str] | None = None
        self._norm: dict[str, str] = {}
        self._maps: dict[str, tuple[str, np.ndarray]] = {}
        self._scope_stats: dict[str, ScopeStats] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._columns: dict[str, set[str]] = {}
        self._turns: dict[str, list[tuple[int, int, bool]]] | None = None
        # the words of a few documents at a time (an LRU): a corpus's words do not fit in memory at scale
        self._words: OrderedDict[str, tuple[list[str], list[tuple[int, int]], list[str | None], set[str | None]]] = OrderedDict()
        self._prepared: OrderedDict[str, DocWords] = OrderedDict()
        self._idf: dict[str, float] = {}  # of the stems asked for so far (stem_weights)
        self._matchers: dict[tuple[str, ...], QuoteMatcher] = {}
        self._quotes: str | None = None  # digest of the quotes prepare_quotes matched
        self._asked: set[str] = set()  # stems whose document frequency is counted
        self.source_ids: set[str] = (
            {r[0] for r in con.execute("SELECT source_id FROM sources").fetchall()}
            if "sources" in self.tables
            else set()
        )

    def columns(self, table: str) -> set[str]:
        if table not in self._columns:
            self._columns[table] = db.column_names(self.con, table)
        return self._columns[table]

    def has(self, table: str, column: str | None = None) -> bool:
        return table in self.tables and (column is None or column in self.columns(table))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return db.rows(self.con, sql, params)

    def texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = {
                d: t or "" for d, t in self.con.execute("SELECT doc_id, text FROM documents").fetchall()
            }
        return self._texts

    def text(self, doc_id: str) -> str:
        return self.texts().get(doc_id, "")

    def norm(self, doc_id: str) -> str:
        if doc_id not in self._norm:
            self._norm[doc_id] = normalize_quote_text(self.text(doc_id))
        return self._norm[doc_id]

    def norm_map(self, doc_id: str) -> tuple[str, np.ndarray]:
        """The document normalised with its offset map (``textnorm.norm_map``), once per run."""
        if doc_id not in self._maps:
            self._maps[doc_id] = norm_map(self.text(doc_id))
        return self._maps[doc_id]

    def doc_words(self, doc_id: str) -> tuple[list[str], list[tuple[int, int]], list[str | None], set[str | None]]:
        """The document's normalised words, their offsets in its text, their stems and the stem set
        (the last ``KEPT_DOCS`` documents asked for are kept)."""

        def make() -> tuple[list[str], list[tuple[int, int]], list[str | None], set[str | None]]:
            from pipelines.core.claims.quotes import aligned_stems

            words, spans = norm_words(self.text(doc_id))
            stems = aligned_stems(words)
            return words, spans, stems, set(stems)

        return _lru(self._words, doc_id, make)

    def doc_prepared(self, doc_id: str) -> DocWords:
        """The document's words prepared for quote matching (``quotes.DocWords``; an LRU like doc_words)."""

        def make() -> DocWords:
            from pipelines.core.claims.quotes import DocWords

            words, _, stems, _ = self.doc_words(doc_id)
            return DocWords(words, stems, self.abbreviations)

        return _lru(self._prepared, doc_id, make)

    def doc_key(self, doc_id: str) -> str:
        """The document's content hash (``content_sha256``): what cached quote answers are kept under."""
        return self._doc_key_map().get(doc_id) or doc_id

    def _doc_key_map(self) -> dict[str, str]:
        if self._doc_keys is None:
            import hashlib

            self._doc_keys = {}
            for d, sha in self.con.execute("SELECT doc_id, content_sha256 FROM documents").fetchall():
                self._doc_keys[d] = sha or hashlib.sha256(self.text(d).encode()).hexdigest()
        return self._doc_keys

    # ------------------------------------------------------------------ quotes

    def quote_matcher(self, words: list[str]) -> QuoteMatcher:
        """The matcher of a quote (its normalised words) with the corpus weights of its words."""
        from pipelines.core.claims.quotes import QuoteMatcher

        key = tuple(words)
        m = self._matchers.get(key)
        if m is None:
            m = QuoteMatcher(words, None, self.abbreviations)
            m.weight = self.stem_weights(m.q_stems)
            self._matchers[key] = m
        return m

    def prepare_quotes(self, quotes: Sequence[list[str]], progress: Callable[[int, int], None] | None = None) -> None:
        """Match every quote against every document, a document at a time (its words are read once
        and dropped), keeping the answers in the quote cache for ``quote_match``, and count the
        quotes' stems for their weights. ``progress(documents done, documents)`` now and then."""
        import hashlib

        from pipelines.core.claims.quotes import DocWords, QuoteMatcher

        fresh = [QuoteMatcher(list(w), None, self.abbreviations) for w in dict.fromkeys(tuple(q) for q in quotes if q)]
        fresh = [m for m in fresh if tuple(m.q) not in self._matchers]
        if not fresh:
            return
        vocab = sorted({st for m in fresh for st in m.q_stems})
        vocab_key = hashlib.sha256(" ".join(vocab).encode()).hexdigest()[:32]
        self._quotes = hashlib.sha256(" ".join(sorted(m.key for m in fresh)).encode()).hexdigest()[:32]
        cache, ids = self.quote_cache, list(self.texts())
        df: dict[str, int] = dict.fromkeys(vocab, 0)
        step = max(1, len(ids) // 50)
        for n_done, d in enumerate(ids):
            if progress is not None and n_done % step == 0:
                progress(n_done, len(ids))
            dk = self.doc_key(d)
            held = cache.present_stems(dk, vocab_key, vocab)
            covered = cache.covered.get(dk) == self._quotes  # every answer is kept (an absent one implied)
            todo = [] if covered else [m for m in fresh if cache.answer(m.key, dk, m.stems, self._quotes) is None]
            if held is None or todo:
                words, _, stems, stem_set = self.doc_words(d)
                if held is None:
                    held = [st for st in vocab if st in stem_set]
                    cache.put_present(dk, vocab_key, vocab, held)
                if todo:
                    doc = DocWords(words, stems, self.abbreviations)
                    for m in todo:
                        cache.put_answer(m.key, dk, m.stems, m.examine(doc))
                cache.cover(dk, self._quotes)
            elif not covered:
                cache.cover(dk, self._quotes)
            for st in held:
                df[st] += 1
        self._set_idf(df, len(ids))
        for m in fresh:
            m.weight = {st: self._idf[st] for st in m.q_stems if st in self._idf}
            self._matchers[tuple(m.q)] = m

    def quote_match(self, matcher: QuoteMatcher, doc_id: str) -> Match:
        """``matcher.classify`` on the document, from the quote cache when it holds the answer."""
        dk = self.doc_key(doc_id)
        a = self.quote_cache.answer(matcher.key, dk, matcher.stems, self._quotes)
        if a is None:
            a = matcher.examine(self.doc_prepared(doc_id))
            self.quote_cache.put_answer(matcher.key, dk, matcher.stems, a, explicit=True)
        return matcher.resolve(a)

    def quote_matches(self, matcher: QuoteMatcher, doc_ids: Sequence[str]) -> list[tuple[Match, str]]:
        """(match, doc_id) of the documents that hold the quote in some class (not absent)."""
        out = []
        cache, quotes = self.quote_cache, self._quotes
        # a document covered for this quote set without an entry for this quote does not hold it
        # (``answer`` would say ABSENT): skipped with two lookups, for the many such documents
        keys, covered = self._doc_key_map(), cache.covered
        held = cache.docs_answering(matcher.key) if quotes is not None else set()
        for doc_id in doc_ids:
            dk = keys.get(doc_id) or doc_id
            if quotes is not None and dk not in held and covered.get(dk) == quotes:
                continue
            m = self.quote_match(matcher, doc_id)
            if m.cls != "absent":
                out.append((m, doc_id))
        return out

    def quote_closest(self, matcher: QuoteMatcher, doc_id: str) -> tuple[float, int, int]:
        dk = self.doc_key(doc_id)
        got = self.quote_cache.closest(matcher.key, dk)
        if got is None:
            got = matcher.closest(self.doc_prepared(doc_id))
            self.quote_cache.put_closest(matcher.key, dk, got)
        return got

    def _set_idf(self, df: dict[str, int], n_docs: int) -> None:
        import math

        n = max(1, n_docs)
        for st, c in df.items():
            if c:
                self._idf[st] = math.log((n + 1) / (c + 0.5))
            else:
                self._idf.pop(st, None)
            self._asked.add(st)

    def stem_weights(self, stems: Sequence[str]) -> dict[str, float]:
        """IDF of these content stems over all documents, log((N + 1) / (df + 0.5)): rarer words
        weigh more; a stem no document holds has no weight."""
        missing = [st for st in dict.fromkeys(stems) if st not in self._asked]
        if missing:
            df = dict.fromkeys(missing, 0)
            ids = list(self.texts())
            for d in ids:
                stem_set = self.doc_words(d)[3]
                for st in missing:
                    if st in stem_set:
                        df[st] += 1
            self._set_idf(df, len(ids))
        return {st: self._idf[st] for st in stems if st in self._idf}

    def meta(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        need = [d for d in dict.fromkeys(doc_ids) if d not in self._meta]
        if need:
            timed = "d.timed" if self.has("documents", "timed") else "NULL::BOOLEAN"
            basis = "d.date_basis" if self.has("documents", "date_basis") else "NULL::VARCHAR"
            for r in self.rows(
                f"SELECT d.doc_id, d.kind, d.title, d.url, d.published_at, {timed} AS timed, {basis} AS date_basis "  # noqa: S608 - fixed fragments
                f"FROM documents d WHERE d.doc_id IN ({ph(len(need))})",
                need,
            ):
                self._meta[r["doc_id"]] = r
        return {d: self._meta[d] for d in doc_ids if d in self._meta}

    def own_turns(self, doc_id: str) -> list[tuple[int, int, bool]] | None:
        """(start_char, end_char, is_own) of a recording's speaker turns, or None when unknown."""
        if self._turns is None:
            self._turns = {}
            if self.has("speaker_turns"):
                for d, a, b, own in self.con.execute(
                    "SELECT doc_id, start_char, end_char, is_own FROM speaker_turns ORDER BY doc_id, seq"
                ).fetchall():
                    self._turns.setdefault(d, []).append((int(a or 0), int(b or 0), bool(own)))
        return self._turns.get(doc_id)

    def start_seconds(self, doc_id: str, pos: int | None) -> float | None:
        """The second a passage starts at: its caption's start, only in a document with real timings."""
        if pos is None or "segments" not in self.tables:
            return None
        m = self.meta([doc_id]).get(doc_id, {})
        if m.get("timed") is False:
            return None
        r = self.con.execute(
            """SELECT start_s FROM segments
               WHERE doc_id = ? AND start_char IS NOT NULL AND start_char <= ? AND start_s IS NOT NULL
               ORDER BY start_char DESC, seq DESC LIMIT 1""",
            [doc_id, pos],
        ).fetchone()
        return float(r[0]) if r else None

    @property
    def sources_sql(self) -> str:
        if "sources" in self.tables:
            return "sources"
        return (
            "(SELECT NULL::VARCHAR AS source_id, NULL::VARCHAR AS kind, NULL::VARCHAR AS collection, "
            "NULL::VARCHAR AS url, NULL::DATE AS published_at, NULL::BOOLEAN AS in_profile, NULL::BOOLEAN AS in_catalog, "
            "NULL::BOOLEAN AS known_gap, NULL::BIGINT AS claimed_items, NULL::BIGINT AS claimed_words WHERE false)"
        )
