"""The spaCy pipeline (``build_nlp``): ``spacy.blank("en")`` + ``FastSentencizer`` + ``LookupLemmatizer``
(subclasses of spaCy's own that give the same answers from ``doc.to_array``) + two ``entity_ruler``
components (``CiteRuler``: spaCy's ruler, skipping documents it matches nothing in) for citation entities + ``tracked_phrases`` (``TrackedPhrases``: PhraseMatchers and a
token Matcher for the lexicon's phrases, hits in ``doc.spans["phrases"]``). See the package
docstring (pipelines.core.nlp) for the whole flow."""


from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import spacy
from spacy.attrs import IS_PUNCT, LEMMA, ORTH  # type: ignore[import-not-found]
from spacy.errors import Errors
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import EntityRuler, Lemmatizer, Sentencizer
from spacy.tokens import Doc, Span

from pipelines.core.lexicon import Entity, Lexicon, Phrase

ENTITY_LABEL = "CITE"



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


class CiteRuler(EntityRuler):
    """spaCy's EntityRuler, which leaves a document it finds nothing in as it is.

    The stock ruler re-assigns ``doc.ents`` even when it matched nothing, which walks every token
    (about a tenth of the pipeline's time on long texts). The entities are the same either way;
    only the tokens' IOB tags of a document without entities stay unset instead of "O", and
    nothing here reads them.
    """

    def __call__(self, doc: Doc) -> Doc:
        matches = self.match(doc)
        if matches:
            self.set_annotations(doc, matches)
        return doc


@Language.factory(
    "cite_ruler",
    assigns=["doc.ents", "token.ent_type", "token.ent_iob"],
    default_config={"phrase_matcher_attr": None, "overwrite_ents": False},
)
def _make_cite_ruler(nlp: Language, name: str, phrase_matcher_attr: str | None, overwrite_ents: bool) -> CiteRuler:
    return CiteRuler(nlp, name, phrase_matcher_attr=phrase_matcher_attr, overwrite_ents=overwrite_ents)


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


def uses_lemmas(lexicon: Lexicon) -> bool:
    """True when a phrase's token pattern reads lemmas: only then need the lemmatizer run."""
    return any(
        str(key).upper() == "LEMMA" for p in lexicon.phrases for pattern in p.patterns for tok in pattern for key in tok
    )


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
            "cite_ruler",
            name=name,
            config={"phrase_matcher_attr": "ORTH" if cs else "LOWER", "overwrite_ents": False},
        )
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    tracked = nlp.add_pipe("tracked_phrases")
    tracked.add_phrases(nlp, lexicon.phrases)  # type: ignore[attr-defined]
    return nlp
