"""``TextProcessor``: (text, caption spans) -> ``DocResult`` (sentences, phrase hits, mentions) with
character offsets into the original text; whitespace normalisation, caption-like text and sentence
caps as the package docstring (pipelines.core.nlp) describes."""


from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, SENT_START  # type: ignore[import-not-found]
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines.core.lexicon import Lexicon
from pipelines.core.nlp.components import ENTITY_LABEL, build_nlp, uses_lemmas

MAX_SENTENCE_WORDS = 80
CAPTION_MAX_WORDS = 40
CAPTION_WORDS_PER_PUNCT = 60
CAPTION_MIN_WORDS = 60  # shorter texts are never treated as captions
CAPTION_PAUSE_S = 1.0
CAPTION_PAUSE_MIN_WORDS = 6  # a pause closes a pseudo-sentence only once it has this many words
DEFAULT_BATCH_SIZE = 256

_FINAL_PUNCT_RE = re.compile(r"[.!?…]+(?=[\s\"')\]]|$)")
_WS_RUN_RE = re.compile(r"\s{2,}|[^\S ]")
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")



@dataclass(frozen=True)
class CaptionSpan:
    """A caption/transcript segment as the processor sees it: offsets into the document text and times
    in seconds (records.Segment is the parsed segment with its text)."""

    start_char: int
    end_char: int
    start_s: float | None = None
    end_s: float | None = None


class CaptionColumns(NamedTuple):
    """A document's caption segments as columns, as the NLP step reads them from ``segments``: only
    segments with both offsets and ``end_char > start_char``, in segment order; times in seconds,
    NaN where unknown. Cheaper to build and to send to a worker than one ``CaptionSpan`` each."""

    start_char: np.ndarray  # int64
    end_char: np.ndarray  # int64
    start_s: np.ndarray  # float64
    end_s: np.ndarray  # float64

    @classmethod
    def of(cls, spans: Sequence[CaptionSpan]) -> CaptionColumns:
        kept = [s for s in spans if s.start_char is not None and s.end_char is not None and s.end_char > s.start_char]
        nan = float("nan")
        return cls(
            np.array([s.start_char for s in kept], dtype=np.int64),
            np.array([s.end_char for s in kept], dtype=np.int64),
            np.array([nan if s.start_s is None else s.start_s for s in kept], dtype=np.float64),
            np.array([nan if s.end_s is None else s.end_s for s in kept], dtype=np.float64),
        )


Segments = Sequence[CaptionSpan] | CaptionColumns


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
        # lemmas are read only by token patterns that ask for them
        self._disabled = [] if uses_lemmas(lexicon) or "lemmatizer" not in self.nlp.pipe_names else ["lemmatizer"]
        self._alias_of: dict[str, dict[str, str]] = {
            e.id: {" ".join(a.lower().split()): a for a in e.strong_forms() + e.weak_aliases}
            for e in lexicon.entities
        }

    def process(self, items: Iterable[tuple[str, Segments | None]]) -> Iterator[DocResult]:
        """One DocResult per (text, segments) item, in order."""

        def feed() -> Iterator[tuple[str, tuple[str, np.ndarray, np.ndarray, Segments | None]]]:
            for text, segments in items:
                norm, ns, os_ = normalise_whitespace(text or "")
                yield norm, (text or "", ns, os_, segments)

        for doc, (text, ns, os_, segments) in self.nlp.pipe(
            feed(), as_tuples=True, batch_size=self.batch_size, disable=self._disabled
        ):
            yield self._analyse(doc, text, ns, os_, segments)

    def process_text(self, text: str, segments: Segments | None = None) -> DocResult:
        return next(self.process([(text, segments)]))

    # -- internals

    def _analyse(
        self, doc: Doc, text: str, ns: np.ndarray, os_: np.ndarray, segments: Segments | None
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
        bounds = np.array(sorted(starts), dtype=np.int64)
        ends = np.append(bounds[1:], n)
        wcum = np.concatenate([[0], np.cumsum(is_word)])
        # each piece's first and last non-space token (none: the piece is only whitespace)
        nonspace = np.flatnonzero(~is_space)
        lo = np.searchsorted(nonspace, bounds, side="left")
        hi = np.searchsorted(nonspace, ends, side="left") - 1
        kept = hi >= lo
        first_tok, last_tok = nonspace[lo[kept]], nonspace[hi[kept]]
        n_words = wcum[last_tok + 1] - wcum[first_tok]

        sentences: list[tuple[int, int, str]] = []
        for b, first, last, nw, s_char, e_char in zip(
            bounds[kept].tolist(), first_tok.tolist(), last_tok.tolist(), n_words.tolist(),
            tstart[first_tok].tolist(), tend[last_tok].tolist(), strict=True,
        ):
            if nw <= cap:
                sentences.append((s_char, e_char, starts[b]))
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

    def _caption_groups(self, segments: Segments, tstart: np.ndarray, is_word: np.ndarray) -> list[int]:
        """Start offsets of pseudo-sentences built from consecutive caption segments."""
        cols = segments if isinstance(segments, CaptionColumns) else CaptionColumns.of(segments)
        if cols.start_char.size == 0:
            return []
        order = np.argsort(cols.start_char, kind="stable")
        starts = cols.start_char[order]
        wcum = np.concatenate([[0], np.cumsum(is_word)])
        first_tok = np.searchsorted(tstart, starts, side="left")
        end_tok = np.searchsorted(tstart, cols.end_char[order], side="left")
        seg_words = wcum[end_tok] - wcum[first_tok]
        out: list[int] = []
        acc = 0
        prev_end_s: float | None = None
        for start_char, w, start_s, end_s in zip(
            starts.tolist(), seg_words.tolist(), cols.start_s[order].tolist(), cols.end_s[order].tolist(), strict=True
        ):
            known = start_s == start_s  # not NaN
            gap = (start_s - prev_end_s) if (known and prev_end_s is not None) else 0.0
            if not out or (
                acc > 0
                and (
                    acc + w > self.caption_max_words
                    or (gap >= CAPTION_PAUSE_S and acc >= CAPTION_PAUSE_MIN_WORDS)
                )
            ):
                out.append(start_char)
                acc = 0
            acc += w
            prev_end_s = end_s if end_s == end_s else (start_s if known else None)
        return out
