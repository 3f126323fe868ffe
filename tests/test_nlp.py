"""pipelines/core/nlp/ on small invented texts: variants, offsets, sentence bounds, entity rules."""

from __future__ import annotations

import re

import numpy as np
import pytest
import spacy

from pipelines.core.lexicon import Lexicon, load_lexicon
from pipelines.core.nlp.components import build_nlp, uses_lemmas
from pipelines.core.nlp.processor import (
    CAPTION_MAX_WORDS,
    MAX_SENTENCE_WORDS,
    CaptionColumns,
    CaptionSpan,
    DocResult,
    TextProcessor,
    is_caption_like,
    normalise_whitespace,
)
from pipelines.core.textutil import WORD_RE


@pytest.fixture(scope="module")
def proc() -> TextProcessor:
    return TextProcessor(load_lexicon())


def hits(res: DocResult, text: str, phrase_id: str) -> list[str]:
    return [text[s:e] for p, _, s, e in res.phrase_hits if p == phrase_id]


def mentions(res: DocResult, text: str, entity_id: str) -> list[str]:
    return [text[s:e] for ent, _, _, s, e in res.mentions if ent == entity_id]


def test_pipeline_components() -> None:
    nlp = build_nlp(load_lexicon())
    assert nlp.pipe_names == [
        "sentencizer",
        "lemmatizer",
        "entity_ruler",
        "entity_ruler_cs",
        "tracked_phrases",
    ]
    doc = nlp("We were coding models from scratch. Then Licklider wrote.")
    assert [t.lemma_ for t in doc][:4] == ["We", "be", "code", "model"]
    assert [s.text for s in doc.sents] == ["We were coding models from scratch.", "Then Licklider wrote."]
    assert [(s.label_, s.text) for s in doc.spans["phrases"]] == [("from-scratch", "from scratch")]
    assert [(e.ent_id_, e.text) for e in doc.ents] == [("licklider", "Licklider")]


def test_fast_components_equal_spacy_stock() -> None:
    """The numpy sentencizer and per-word lookup lemmatizer give spaCy's own answers."""
    ref = spacy.blank("en")
    ref.add_pipe("sentencizer")
    ref.add_pipe("lemmatizer", config={"mode": "lookup"})
    ref.initialize()
    ours = build_nlp(load_lexicon())
    texts = [
        'Hi!! What?! ... ok. (Yes.) "Quoted." Next one',
        "Mr. Smith went to the U.S.A. today! Did he? Yes... he did.",
        "no punctuation at all here just words running on",
        "",
        "Wolves were running; geese flew. Children played.\n\nA new paragraph!",
    ]
    for a, b in zip(ours.pipe(texts), ref.pipe(texts), strict=True):
        assert [t.is_sent_start for t in a] == [t.is_sent_start for t in b]
        assert [t.lemma_ for t in a] == [t.lemma_ for t in b]


def test_variants_case_hyphen_plural_and_non_matches(proc: TextProcessor) -> None:
    text = (
        "I built it From-Scratch. Then FROM SCRATCH again, from\nscratch once more. "
        "A scratchpad is not it, nor scratching from the scratch. "
        "Vibe coding, vibe-coded, VIBE CODERS and a vibe code session. "
        "Two cognitive cores and one Cognitive Core. Dream machines, a dream machine."
    )
    res = proc.process_text(text)
    assert hits(res, text, "from-scratch") == ["From-Scratch", "FROM SCRATCH", "from\nscratch"]
    assert hits(res, text, "vibe-coding") == ["Vibe coding", "vibe-coded", "VIBE CODERS", "vibe code"]
    assert hits(res, text, "cognitive-core") == ["cognitive cores", "Cognitive Core"]
    assert hits(res, text, "dream-machines") == ["Dream machines", "dream machine"]


def test_longest_form_counted_once(proc: TextProcessor) -> None:
    text = "RLHF is just barely RL, honestly."
    res = proc.process_text(text)
    assert hits(res, text, "barely-rl") == ["just barely RL"]


def test_offsets_slice_back_through_whitespace_runs(proc: TextProcessor) -> None:
    text = "  Lead  spaces.\r\n\r\nWe went from \t scratch,\r\nthen vibe   coding.\n\n\nAlan  Kay wrote."
    res = proc.process_text(text)
    assert hits(res, text, "from-scratch") == ["from \t scratch"]
    assert hits(res, text, "vibe-coding") == ["vibe   coding"]
    assert mentions(res, text, "alan-kay") == ["Alan  Kay"]
    sents = [text[s:e] for s, e, _ in res.sentences]
    assert sents == ["Lead  spaces.", "We went from \t scratch,\r\nthen vibe   coding.", "Alan  Kay wrote."]
    for _, sid, s, e in res.phrase_hits:
        ss, se, _ = res.sentences[sid]
        assert ss <= s < e <= se


def test_normalise_whitespace_maps_back() -> None:
    text = "a  b\n\n\nc\td"
    norm, ns, os_ = normalise_whitespace(text)
    assert norm == "a b\n\nc d"
    assert normalise_whitespace("plain text")[0] == "plain text"


def test_paragraph_break_ends_a_sentence(proc: TextProcessor) -> None:
    text = "A heading without a period\n\nThe body starts here. And ends."
    res = proc.process_text(text)
    assert [text[s:e] for s, e, _ in res.sentences] == [
        "A heading without a period",
        "The body starts here.",
        "And ends.",
    ]


def caption_text(n_words: int, plant: dict[int, str] | None = None) -> str:
    words = [f"word{i % 17}" for i in range(n_words)]
    for i, w in (plant or {}).items():
        words[i] = w
    return " ".join(words)


def test_caption_text_without_segments_is_chunked(proc: TextProcessor) -> None:
    text = caption_text(500, {100: "from scratch"})
    assert is_caption_like(text)
    res = proc.process_text(text)
    assert res.mode == "length"
    counts = [len(WORD_RE.findall(text[s:e])) for s, e, _ in res.sentences]
    assert max(counts) <= CAPTION_MAX_WORDS
    assert sum(counts) == 501  # "from scratch" planted as two words
    assert len(res.sentences) == 13  # ceil(501 / 40)
    assert hits(res, text, "from-scratch") == ["from scratch"]


def test_caption_text_follows_segments(proc: TextProcessor) -> None:
    # 30 caption segments of 5 words, 2 s each; a 3 s pause before segment 10.
    pieces, segs, pos, t = [], [], 0, 0.0
    for i in range(30):
        piece = " ".join(f"w{i}x{j}" for j in range(5))
        if i == 10:
            t += 3.0
        segs.append(CaptionSpan(pos, pos + len(piece), t, t + 2.0))
        pieces.append(piece)
        pos += len(piece) + 1
        t += 2.0
    text = " ".join(pieces)
    res = proc.process_text(text, segs)
    assert res.mode == "caption"
    starts = [s for s, _, _ in res.sentences]
    seg_starts = {s.start_char for s in segs}
    assert set(starts) <= seg_starts  # pseudo-sentences begin where captions begin
    assert segs[10].start_char in starts  # the pause closes one
    assert all(len(WORD_RE.findall(text[s:e])) <= CAPTION_MAX_WORDS for s, e, _ in res.sentences)
    assert {m for _, _, m in res.sentences} == {"caption"}


def test_caption_columns_give_the_spans_answer(proc: TextProcessor) -> None:
    """Segments as columns (what the NLP step sends its workers) split a transcript exactly as the
    same segments given one by one: unsorted, with unknown times and invalid segments dropped."""
    pieces, segs, pos, t = [], [], 0, 0.0
    for i in range(40):
        piece = " ".join(f"v{i}y{j}" for j in range(4))
        pause = 1.5 if i % 7 == 0 else 0.0
        start_s = None if i % 5 == 3 else t + pause  # some times unknown
        end_s = None if i % 6 == 2 else t + pause + 2.0
        segs.append(CaptionSpan(pos, pos + len(piece), start_s, end_s))
        pieces.append(piece)
        pos += len(piece) + 1
        t += 2.0 + pause
    segs.append(CaptionSpan(10, 10))  # empty: ignored either way
    segs.reverse()  # out of order: both sort by offset
    text = " ".join(pieces)
    by_span = proc.process_text(text, segs)
    cols = CaptionColumns.of(segs)
    assert cols.start_char.size == 40 and int(np.isnan(cols.start_s).sum()) == 8
    by_cols = proc.process_text(text, cols)
    assert by_span.mode == by_cols.mode == "caption"
    assert by_cols.sentences == by_span.sentences
    assert len(by_cols.sentences) >= 5
    assert proc.process_text(text, CaptionColumns.of([])).mode == "length"


def test_lemmatizer_runs_only_for_lemma_patterns(proc: TextProcessor) -> None:
    """The default lexicon has no lemma pattern, so its pipeline skips the lemmatizer; a pattern
    that reads lemmas (any case of the key) turns it back on, and then matches inflected forms."""
    assert not uses_lemmas(load_lexicon())
    assert proc._disabled == ["lemmatizer"]
    text = "We were coding models from scratch; she codes."
    doc = next(proc.nlp.pipe([text], disable=proc._disabled))
    assert [t.lemma_ for t in doc][:3] == ["", "", ""]
    lex = Lexicon.model_validate(
        {"phrases": [{"id": "code", "label": "code", "forms": ["codebase"], "patterns": [[{"lemma": "code"}]]}]}
    )
    assert uses_lemmas(lex)
    p = TextProcessor(lex)
    assert p._disabled == []
    assert hits(p.process_text(text), text, "code") == ["coding", "codes"]


def test_cite_ruler_finds_what_spacys_ruler_finds() -> None:
    """The entity rulers skip assigning entities to a document they match nothing in; the
    entities found equal the stock EntityRuler's with the same patterns."""
    lexicon = load_lexicon()
    ours = build_nlp(lexicon)
    ref = spacy.blank("en")
    for name in ("entity_ruler", "entity_ruler_cs"):
        attr = "ORTH" if name.endswith("_cs") else "LOWER"
        stock = ref.add_pipe("entity_ruler", name=name, config={"phrase_matcher_attr": attr})
        stock.add_patterns(ours.get_pipe(name).patterns)
    texts = [
        "Nothing to cite here at all.",
        "Alan Kay and Licklider wrote; then Shannon, and Alan Kay again.",
        "",
        "Ask @simonw or Simon Willison about Darwin.",
    ]
    for a, b in zip(ours.pipe(texts), ref.pipe(texts), strict=True):
        assert [(e.start, e.end, e.ent_id_) for e in a.ents] == [(e.start, e.end, e.ent_id_) for e in b.ents]
    assert [len(d.ents) for d in ours.pipe(texts)] == [0, 4, 0, 3]


def test_long_punctuated_sentence_is_capped(proc: TextProcessor) -> None:
    text = "Intro sentence here. " * 10 + ", ".join(f"item{i}" for i in range(200)) + ". Tail."
    res = proc.process_text(text)
    assert res.mode == "punct"
    counts = [len(WORD_RE.findall(text[s:e])) for s, e, _ in res.sentences]
    assert max(counts) <= MAX_SENTENCE_WORDS
    assert counts[:10] == [3] * 10 and counts[-1] == 1
    assert sum(1 for _, _, m in res.sentences if m == "length") == 3  # 200 words -> 3 chunks of <= 80


def test_punctuated_text_is_not_caption_like() -> None:
    assert not is_caption_like("Short. " * 40)
    assert not is_caption_like("only a few words")
    assert is_caption_like(caption_text(120))


def test_entity_rules(proc: TextProcessor) -> None:
    text = (
        "Kay said hi. Alan Kay's Dynabook matters. "
        "Shannon came to dinner. Shannon measured information in bits. "
        "System 1 and system 2 thinking, says nobody. Kahneman wrote it. "
        "Turing-complete is a property; the Turing test is his. "
        "The Last Question is a story; the last question was easy. "
        "Ask @simonw or Simon Willison. Darwin kernel panics. Darwin explained natural selection."
    )
    res = proc.process_text(text)
    assert mentions(res, text, "alan-kay") == ["Alan Kay"]
    assert mentions(res, text, "shannon") == ["Shannon"]
    assert text.index("Shannon measured") == res.mentions[[m[0] for m in res.mentions].index("shannon")][3]
    assert mentions(res, text, "kahneman") == ["Kahneman"]
    assert hits(res, text, "system-1") == ["System 1"] and hits(res, text, "system-2") == ["system 2"]
    assert mentions(res, text, "alan-turing") == ["Turing"]
    assert mentions(res, text, "the-last-question") == ["The Last Question"]
    assert mentions(res, text, "simon-willison") == ["@simonw", "Simon Willison"]
    assert mentions(res, text, "darwin") == ["Darwin"]
    assert [a for e, a, *_ in res.mentions if e == "simon-willison"] == ["@simonw", "Simon Willison"]


def test_custom_lexicon_patterns_and_case_sensitivity() -> None:
    lex = Lexicon.model_validate(
        {
            "phrases": [
                {"id": "code", "label": "code", "forms": ["codebase"], "patterns": [[{"LEMMA": "code"}]]},
                {"id": "llm-os", "label": "LLM OS", "forms": ["LLM OS"], "case_sensitive": True},
            ]
        }
    )
    p = TextProcessor(lex)
    text = "They coded; the codebase grows. The LLM OS is not the llm os."
    res = p.process_text(text)
    assert hits(res, text, "code") == ["coded", "codebase"]
    assert hits(res, text, "llm-os") == ["LLM OS"]


def test_process_streams_in_order(proc: TextProcessor) -> None:
    texts = [f"Doc {i} built from scratch." if i % 2 else f"Doc {i} nothing." for i in range(50)]
    results = list(proc.process((t, None) for t in texts))
    assert [len(r.phrase_hits) for r in results] == [i % 2 for i in range(50)]
    assert proc.process_text("").sentences == []
    assert re.fullmatch(r"\d+", str(results[1].words))
