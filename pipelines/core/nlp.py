"""Text processing with spaCy: sentences, tracked-phrase hits and citation mentions per document.

The pipeline (``build_nlp``) is ``spacy.blank("en")`` + ``sentencizer`` + ``lemmatizer`` (mode
"lookup", spacy-lookups-data's table) + two ``entity_ruler`` components (case-insensitive on
LOWER and case-sensitive on ORTH) for citation entities + ``tracked_phrases`` (PhraseMatchers
on LOWER / ORTH and a token ``Matcher`` for the lexicon's patterns), which puts the hits in
``doc.spans["phrases"]``. No trained model is needed. The sentencizer and lemmatizer are
subclasses of spaCy's own (``FastSentencizer``, ``LookupLemmatizer``) that give the same
answers (tested) from ``doc.to_array`` instead of one Python ``Token`` per token: with them the
whole pipeline runs at about 190-250K words/s on one core, the tokenizer being most of it.

``TextProcessor.process`` turns (text, segments) pairs into ``DocResult``s with character
offsets into the *original* text:

* Whitespace is normalised before tokenising (a line break or a run of spaces inside a
  paragraph becomes one space, a blank line stays a paragraph break) so "from\\nscratch"
  still matches; offsets are mapped back, so ``text[start:end]`` is always the passage.
* Sentences come from the sentencizer, also end at paragraph breaks, and are capped at
  ``max_sentence_words`` words (split into even chunks).
* Caption-like text (fewer than one sentence-final punctuation mark per
  ``CAPTION_WORDS_PER_PUNCT`` words, e.g. auto-generated YouTube captions) is split into
  pseudo-sentences along the caption segments (a pause or ``caption_max_words`` words closes
  one) or, without segments, into chunks of at most ``caption_max_words`` words.
* Entity mentions from a weak alias count only if the sentence has a ``require_context``
  word; matches of ``exclude`` phrases swallow the alias they contain and are dropped.

``process_documents`` runs it over the warehouse's ``documents`` incrementally: results are
cached per (document text sha256, segment layout, lexicon hash, ``CODE_VERSION``) in
``NlpCache`` tables, so a re-run processes only new or changed documents.
"""

# SQL text is assembled only from table names and fragments defined in this module; every
# value (user text, ids, dates, numbers) is passed as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import spacy
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LEMMA, LENGTH, ORTH, SENT_START  # type: ignore[import-not-found]
from spacy.errors import Errors
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import Lemmatizer, Sentencizer
from spacy.tokens import Doc, Span

from pipelines.core import db
from pipelines.core.lexicon import Entity, Lexicon, Phrase, lexicon_hash

log = logging.getLogger(__name__)

# Bump when anything below changes what is produced for the same text: old cache entries
# then stop matching and every document is processed again.
CODE_VERSION = f"nlp-1/spacy-{spacy.__version__}"
MAX_SENTENCE_WORDS = 80
CAPTION_MAX_WORDS = 40
CAPTION_WORDS_PER_PUNCT = 60
CAPTION_MIN_WORDS = 60  # shorter texts are never treated as captions
CAPTION_PAUSE_S = 1.0
CAPTION_PAUSE_MIN_WORDS = 6  # a pause closes a pseudo-sentence only once it has this many words
DEFAULT_BATCH_SIZE = 256
ENTITY_LABEL = "CITE"

_FINAL_PUNCT_RE = re.compile(r"[.!?…]+(?=[\s\"')\]]|$)")
_WS_RUN_RE = re.compile(r"\s{2,}|[^\S ]")
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")


# --------------------------------------------------------------------------- the pipeline


class FastSentencizer(Sentencizer):
    """spaCy's rule-based Sentencizer with the same rule, computed with numpy over token arrays.

    The rule (spaCy's): a token starts a sentence when it is neither punctuation nor a
    sentence-final character and a sentence-final character ('.', '!', '?', ...) appeared
    since the previous such word. spaCy's own version builds a Python Token per token; this
    one reads ``doc.to_array`` and is several times faster. Tested equal on mixed text.
    """

    def __init__(self, vocab: Any, name: str = "sentencizer", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._pc_ids = np.array(sorted(vocab.strings.add(c) for c in self.punct_chars), dtype=np.uint64)

    def predict(self, docs: Iterable[Doc]) -> list[list[bool]]:
        guesses: list[list[bool]] = []
        for doc in docs:
            n = len(doc)
            if n == 0:
                guesses.append([])
                continue
            arr = doc.to_array([ORTH, IS_PUNCT])
            is_pc = np.isin(arr[:, 0], self._pc_ids)
            other = ~(is_pc | arr[:, 1].astype(bool))  # neither punctuation nor a final char
            cs = np.concatenate([[0], np.cumsum(is_pc)])
            q = np.flatnonzero(other)
            prev_after = np.concatenate([[0], q[:-1] + 1]) if q.size else q
            starts = np.zeros(n, dtype=bool)
            starts[q[(cs[q] - cs[prev_after]) > 0]] = True
            starts[0] = True
            guesses.append(starts.tolist())
        return guesses


@Language.factory(
    "fast_sentencizer",
    assigns=["token.is_sent_start", "doc.sents"],
    default_config={"punct_chars": None, "overwrite": False},
)
def _make_fast_sentencizer(
    nlp: Language, name: str, punct_chars: list[str] | None, overwrite: bool
) -> FastSentencizer:
    return FastSentencizer(nlp.vocab, name, punct_chars=punct_chars, overwrite=overwrite)


class LookupLemmatizer(Lemmatizer):
    """spaCy's Lemmatizer in "lookup" mode (spacy-lookups-data's ``lemma_lookup`` table),
    applied per distinct word of a document instead of per token: the same lemmas, faster.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.mode != "lookup":
            raise ValueError("LookupLemmatizer only supports mode='lookup'")
        self._lemma_of: dict[int, int] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not self._validated:
            self._validate_tables(Errors.E1004)
        if len(doc) == 0:
            return doc
        orths = doc.to_array(ORTH)
        uniq, inv = np.unique(orths, return_inverse=True)
        table = self.lookups.get_table("lemma_lookup", {})
        strings = doc.vocab.strings
        cache = self._lemma_of
        mapped = np.empty(len(uniq), dtype=np.uint64)
        for j, o in enumerate(uniq.tolist()):
            h = cache.get(o)
            if h is None:
                text = strings[o]
                lemma = table.get(text, text)
                if not isinstance(lemma, str):
                    lemma = lemma[0]
                h = cache[o] = strings.add(lemma)
            mapped[j] = h
        lemmas = mapped[inv.reshape(-1)]
        if not self.overwrite:
            existing = doc.to_array(LEMMA)
            lemmas = np.where(existing != 0, existing, lemmas)
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc


@Language.factory(
    "lookup_lemmatizer",
    assigns=["token.lemma"],
    default_config={"model": None, "mode": "lookup", "overwrite": False},
)
def _make_lookup_lemmatizer(
    nlp: Language, model: Any, name: str, mode: str, overwrite: bool
) -> LookupLemmatizer:
    return LookupLemmatizer(nlp.vocab, model, name, mode=mode, overwrite=overwrite)


@Language.factory("tracked_phrases")
def _make_tracked_phrases(nlp: Language, name: str) -> TrackedPhrases:
    return TrackedPhrases(nlp.vocab)


class TrackedPhrases:
    """Finds tracked phrases; sets ``doc.spans["phrases"]`` (label = phrase id).

    Overlapping hits of one phrase keep the longest (then earliest); different phrases may overlap.
    """

    def __init__(self, vocab: Any) -> None:
        self.ci = PhraseMatcher(vocab, attr="LOWER")
        self.cs = PhraseMatcher(vocab, attr="ORTH")
        self.matcher = Matcher(vocab, validate=True)

    def add_phrases(self, nlp: Language, phrases: Sequence[Phrase]) -> None:
        for p in phrases:
            docs = [nlp.make_doc(f) for f in p.surface_forms()]
            (self.cs if p.case_sensitive else self.ci).add(p.id, docs)
            if p.patterns:
                try:
                    self.matcher.add(p.id, p.patterns)
                except Exception as e:  # spaCy raises ValueError/MatchPatternError
                    raise ValueError(f"phrase {p.id!r}: bad pattern: {e}") from e

    def __call__(self, doc: Doc) -> Doc:
        matches = list(self.ci(doc)) + list(self.cs(doc))
        if len(self.matcher):
            matches += list(self.matcher(doc))
        by_label: dict[int, list[tuple[int, int]]] = {}
        for label, start, end in matches:
            by_label.setdefault(label, []).append((start, end))
        spans: list[Span] = []
        for label, hits in by_label.items():
            taken_end = -1
            for start, end in sorted(set(hits), key=lambda h: (h[0], -(h[1] - h[0]))):
                if start >= taken_end:
                    spans.append(Span(doc, start, end, label=label))
                    taken_end = end
        spans.sort(key=lambda s: (s.start, s.end))
        doc.spans["phrases"] = spans
        return doc


def _entity_patterns(entities: Sequence[Entity], case_sensitive: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in entities:
        if e.case_sensitive != case_sensitive:
            continue
        for a in e.strong_forms():
            out.append({"label": ENTITY_LABEL, "pattern": a, "id": e.id})
        for a in e.weak_aliases:
            out.append({"label": ENTITY_LABEL, "pattern": a, "id": f"{e.id}|weak"})
        for a in e.exclude:
            out.append({"label": ENTITY_LABEL, "pattern": a, "id": f"{e.id}|exclude"})
    return out


def build_nlp(lexicon: Lexicon) -> Language:
    """spaCy pipeline for the lexicon (blank English; no model download)."""
    nlp = spacy.blank("en")
    nlp.max_length = 50_000_000  # no parser/NER: long transcripts are fine
    nlp.add_pipe("fast_sentencizer", name="sentencizer")
    nlp.add_pipe("lookup_lemmatizer", name="lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables; must happen before patterns are added
    for cs, name in ((False, "entity_ruler"), (True, "entity_ruler_cs")):
        patterns = _entity_patterns(lexicon.entities, cs)
        if not patterns:
            continue  # an empty ruler only warns
        ruler = nlp.add_pipe(
            "entity_ruler",
            name=name,
            config={"phrase_matcher_attr": "ORTH" if cs else "LOWER", "overwrite_ents": False},
        )
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    tracked = nlp.add_pipe("tracked_phrases")
    tracked.add_phrases(nlp, lexicon.phrases)  # type: ignore[attr-defined]
    return nlp


# --------------------------------------------------------------------------- per document


@dataclass(frozen=True)
class Segment:
    """A caption/transcript segment: offsets into the document text and times in seconds."""

    start_char: int
    end_char: int
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class DocResult:
    mode: str  # "punct" (sentencizer), "caption" (caption segments) or "length" (fixed chunks)
    words: int
    # (start_char, end_char, method) with method in "punct" | "caption" | "length"
    sentences: list[tuple[int, int, str]] = field(default_factory=list)
    # (phrase_id, sent_id, start_char, end_char)
    phrase_hits: list[tuple[str, int, int, int]] = field(default_factory=list)
    # (entity_id, alias, sent_id, start_char, end_char)
    mentions: list[tuple[str, str, int, int, int]] = field(default_factory=list)


def normalise_whitespace(text: str) -> tuple[str, np.ndarray, np.ndarray]:
    """Collapse whitespace inside paragraphs to one space and paragraph breaks to "\\n\\n".

    Returns the new text and breakpoints (norm_starts, orig_starts): a position p of the new
    text lies in piece k = searchsorted(norm_starts, p, "right") - 1 and maps to
    orig_starts[k] + (p - norm_starts[k]). Token starts and ends map exactly.
    """
    parts: list[str] = []
    norm_starts = [0]
    orig_starts = [0]
    last = 0
    npos = 0
    for m in _WS_RUN_RE.finditer(text):
        s, e = m.start(), m.end()
        if s > last:
            parts.append(text[last:s])
            npos += s - last
        rep = "\n\n" if _BLANK_LINE_RE.search(m.group()) else " "
        norm_starts.append(npos)
        orig_starts.append(s)
        parts.append(rep)
        npos += len(rep)
        norm_starts.append(npos)
        orig_starts.append(e)
        last = e
    if last == 0 and len(norm_starts) == 1:
        return text, np.array([0], dtype=np.int64), np.array([0], dtype=np.int64)
    parts.append(text[last:])
    return "".join(parts), np.array(norm_starts, dtype=np.int64), np.array(orig_starts, dtype=np.int64)


def _to_orig(pos: np.ndarray, norm_starts: np.ndarray, orig_starts: np.ndarray) -> np.ndarray:
    if len(norm_starts) == 1:
        return pos
    k = np.searchsorted(norm_starts, pos, side="right") - 1
    return orig_starts[k] + (pos - norm_starts[k])


def is_caption_like(text: str, words: int | None = None) -> bool:
    """True for text with almost no sentence punctuation (auto captions)."""
    if words is None:
        words = len(text.split())
    if words < CAPTION_MIN_WORDS:
        return False
    finals = len(_FINAL_PUNCT_RE.findall(text))
    return finals * CAPTION_WORDS_PER_PUNCT < words


def _even_chunks(n_words: int, cap: int) -> int:
    """Words per chunk when n_words is split into the fewest chunks of at most cap words."""
    k = max(1, math.ceil(n_words / cap))
    return math.ceil(n_words / k)


class TextProcessor:
    """Runs the lexicon's spaCy pipeline over documents, streaming with ``nlp.pipe``."""

    def __init__(
        self,
        lexicon: Lexicon,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_sentence_words: int = MAX_SENTENCE_WORDS,
        caption_max_words: int = CAPTION_MAX_WORDS,
        nlp: Language | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.nlp = nlp or build_nlp(lexicon)
        self.batch_size = batch_size
        self.max_sentence_words = max_sentence_words
        self.caption_max_words = caption_max_words
        self._entities = {e.id: e for e in lexicon.entities}
        self._context_re = {
            e.id: re.compile(
                r"(?<!\w)(?:"
                + "|".join(re.escape(c) for c in sorted(e.require_context, key=len, reverse=True))
                + r")(?!\w)",
                re.IGNORECASE,
            )
            for e in lexicon.entities
            if e.require_context
        }
        self._alias_of: dict[str, dict[str, str]] = {
            e.id: {" ".join(a.lower().split()): a for a in e.strong_forms() + e.weak_aliases}
            for e in lexicon.entities
        }

    def process(self, items: Iterable[tuple[str, Sequence[Segment] | None]]) -> Iterator[DocResult]:
        """One DocResult per (text, segments) item, in order."""

        def feed() -> Iterator[tuple[str, tuple[str, np.ndarray, np.ndarray, Sequence[Segment] | None]]]:
            for text, segments in items:
                norm, ns, os_ = normalise_whitespace(text or "")
                yield norm, (text or "", ns, os_, segments)

        for doc, (text, ns, os_, segments) in self.nlp.pipe(
            feed(), as_tuples=True, batch_size=self.batch_size
        ):
            yield self._analyse(doc, text, ns, os_, segments)

    def process_text(self, text: str, segments: Sequence[Segment] | None = None) -> DocResult:
        return next(self.process([(text, segments)]))

    # -- internals

    def _analyse(
        self, doc: Doc, text: str, ns: np.ndarray, os_: np.ndarray, segments: Sequence[Segment] | None
    ) -> DocResult:
        n = len(doc)
        if n == 0:
            return DocResult(mode="punct", words=0)
        arr = doc.to_array([IDX, LENGTH, IS_SPACE, IS_PUNCT, SENT_START]).astype(np.int64)
        nstart = arr[:, 0]
        tstart = _to_orig(nstart, ns, os_)
        tend = _to_orig(nstart + arr[:, 1], ns, os_)
        is_space = arr[:, 2].astype(bool)
        is_word = ~is_space & ~arr[:, 3].astype(bool)
        words = int(is_word.sum())
        caption = is_caption_like(text, words)

        # Token indices that start a sentence, with the method that put them there.
        starts: dict[int, str] = {0: "punct"}
        for i in np.flatnonzero(arr[:, 4] == 1).tolist():
            starts.setdefault(i, "punct")
        for i in (np.flatnonzero(is_space[:-1]) + 1).tolist():  # a paragraph break
            starts.setdefault(i, "punct")
        cap = self.max_sentence_words
        mode = "punct"
        if caption:
            cap = self.caption_max_words
            group_starts = self._caption_groups(segments, tstart, is_word) if segments else []
            if group_starts:
                mode = "caption"
                for pos in group_starts:
                    i = int(np.searchsorted(tstart, pos, side="left"))
                    if i < n:
                        starts[i] = "caption"
                starts[0] = "caption"
            else:
                mode = "length"
        bounds = sorted(starts)
        bounds.append(n)
        wcum = np.concatenate([[0], np.cumsum(is_word)])

        sentences: list[tuple[int, int, str]] = []
        for b, e in zip(bounds[:-1], bounds[1:], strict=True):
            method = starts[b]
            nonspace = np.flatnonzero(~is_space[b:e])
            if nonspace.size == 0:
                continue
            first, last = b + int(nonspace[0]), b + int(nonspace[-1])
            nw = int(wcum[last + 1] - wcum[first])
            if nw <= cap:
                sentences.append((int(tstart[first]), int(tend[last]), method))
                continue
            # Too long: split into even chunks of at most `cap` words, at word tokens.
            per = _even_chunks(nw, cap)
            wpos = np.flatnonzero(is_word[first : last + 1]) + first  # token index of each word
            cut_tokens = [int(wpos[j]) for j in range(per, nw, per)]
            edges = [first, *cut_tokens, last + 1]
            for cs, ce in zip(edges[:-1], edges[1:], strict=True):
                ns_idx = np.flatnonzero(~is_space[cs:ce])
                if ns_idx.size == 0:
                    continue
                f, lt = cs + int(ns_idx[0]), cs + int(ns_idx[-1])
                sentences.append((int(tstart[f]), int(tend[lt]), "length"))

        sent_starts = np.array([s for s, _, _ in sentences], dtype=np.int64)

        def sent_of(pos: int) -> int:
            return max(0, int(np.searchsorted(sent_starts, pos, side="right")) - 1)

        hits: list[tuple[str, int, int, int]] = []
        for span in doc.spans.get("phrases", []):
            s, e = self._span_orig(span, tstart, tend)
            hits.append((span.label_, sent_of(s), s, e))

        mentions: list[tuple[str, str, int, int, int]] = []
        for ent in doc.ents:
            if ent.label_ != ENTITY_LABEL:
                continue
            ent_id, _, flag = ent.ent_id_.partition("|")
            if flag == "exclude":
                continue
            s, e = self._span_orig(ent, tstart, tend)
            sid = sent_of(s)
            if flag == "weak":
                ss, se, _ = sentences[sid]
                ctx = self._context_re.get(ent_id)
                if ctx is None or not ctx.search(text, ss, se):
                    continue
            surface = " ".join(text[s:e].lower().split())
            alias = self._alias_of.get(ent_id, {}).get(surface, text[s:e])
            mentions.append((ent_id, alias, sid, s, e))
        return DocResult(mode=mode, words=words, sentences=sentences, phrase_hits=hits, mentions=mentions)

    @staticmethod
    def _span_orig(span: Span, tstart: np.ndarray, tend: np.ndarray) -> tuple[int, int]:
        return int(tstart[span.start]), int(tend[span.end - 1])

    def _caption_groups(
        self, segments: Sequence[Segment], tstart: np.ndarray, is_word: np.ndarray
    ) -> list[int]:
        """Start offsets of pseudo-sentences built from consecutive caption segments."""
        segs = sorted(
            (
                s
                for s in segments
                if s.start_char is not None and s.end_char is not None and s.end_char > s.start_char
            ),
            key=lambda s: s.start_char,
        )
        if not segs:
            return []
        wcum = np.concatenate([[0], np.cumsum(is_word)])
        first_tok = np.searchsorted(tstart, np.array([s.start_char for s in segs]), side="left")
        end_tok = np.searchsorted(tstart, np.array([s.end_char for s in segs]), side="left")
        seg_words = wcum[end_tok] - wcum[first_tok]
        out: list[int] = []
        acc = 0
        prev_end_s: float | None = None
        for seg, w in zip(segs, seg_words.tolist(), strict=True):
            gap = (seg.start_s - prev_end_s) if (seg.start_s is not None and prev_end_s is not None) else 0.0
            if not out or (
                acc > 0
                and (
                    acc + w > self.caption_max_words
                    or (gap >= CAPTION_PAUSE_S and acc >= CAPTION_PAUSE_MIN_WORDS)
                )
            ):
                out.append(seg.start_char)
                acc = 0
            acc += w
            prev_end_s = seg.end_s if seg.end_s is not None else seg.start_s
        return out


# --------------------------------------------------------------------------- cache + warehouse


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
        """Insert results for (cache_key, content_sha256, text, result) rows in one transaction.

        Sentence and match texts are stored sliced (Python slicing is O(length); DuckDB's
        ``substring`` on long UTF-8 documents has to scan from the start each time).
        """
        if not rows:
            return
        now = time.time()
        docs = pl.DataFrame(
            {
                "cache_key": [k for k, _, _, _ in rows],
                "content_sha256": [h for _, h, _, _ in rows],
                "lexicon_hash": [lex_hash] * len(rows),
                "code_version": [CODE_VERSION] * len(rows),
                "mode": [r.mode for _, _, _, r in rows],
                "words": [r.words for _, _, _, r in rows],
                "sentences": [len(r.sentences) for _, _, _, r in rows],
            },
            schema={
                "cache_key": pl.Utf8,
                "content_sha256": pl.Utf8,
                "lexicon_hash": pl.Utf8,
                "code_version": pl.Utf8,
                "mode": pl.Utf8,
                "words": pl.Int32,
                "sentences": pl.Int32,
            },
        )
        i32, s_ = pl.Int32, pl.Utf8
        sent = pl.DataFrame(
            [(k, i, s, e, m, t[s:e]) for k, _, t, r in rows for i, (s, e, m) in enumerate(r.sentences)],
            schema={
                "cache_key": s_,
                "sent_id": i32,
                "start_char": i32,
                "end_char": i32,
                "method": s_,
                "text": s_,
            },
            orient="row",
        )
        hits = pl.DataFrame(
            [(k, p, sid, s, e, t[s:e]) for k, _, t, r in rows for p, sid, s, e in r.phrase_hits],
            schema={
                "cache_key": s_,
                "phrase_id": s_,
                "sent_id": i32,
                "start_char": i32,
                "end_char": i32,
                "matched_text": s_,
            },
            orient="row",
        )
        ments = pl.DataFrame(
            [
                (k, ent, alias, sid, s, e, t[s:e])
                for k, _, t, r in rows
                for ent, alias, sid, s, e in r.mentions
            ],
            schema={
                "cache_key": s_,
                "entity_id": s_,
                "alias": s_,
                "sent_id": i32,
                "start_char": i32,
                "end_char": i32,
                "matched_text": s_,
            },
            orient="row",
        )
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
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
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

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
    words = sum(int(r[4] or 0) for r in todo)
    done = 0
    t0 = time.perf_counter()
    words_done = 0
    for chunk in chunks:
        ids = [doc_id for _, doc_id, _ in chunk]
        texts = dict(
            con.execute(
                "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
            ).fetchall()
        )
        segs: dict[str, list[Segment]] = {}
        for doc_id, sc, ec, ss, es in con.execute(
            """SELECT doc_id, start_char, end_char, start_s, end_s FROM segments
               WHERE doc_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY doc_id, seq, start_char""",
            [ids],
        ).fetchall():
            segs.setdefault(doc_id, []).append(Segment(sc, ec, ss, es))
        if proc is None:  # built only when something needs processing
            proc = TextProcessor(lexicon, batch_size=batch_size)
        results = proc.process((texts.get(doc_id) or "", segs.get(doc_id)) for doc_id in ids)
        rows = [
            (key, sha, texts.get(doc_id) or "", res)
            for (key, doc_id, sha), res in zip(chunk, results, strict=True)
        ]
        cache.store(rows, lex_hash)
        done += len(chunk)
        words_done += sum(r[3].words for r in rows)
        if progress:
            progress(done, len(todo), words_done)
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
