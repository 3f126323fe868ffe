"""What a transcript's timings and chapters can and cannot tell: running time, real timings, who speaks.

* **Real timings.** Some caption dumps stamp every line ``[0:00]``: their segments have times, but
  the times say nothing. A document's timings are real (``documents.timed``) when its segments
  span at least the time its words take at ``MAX_WORDS_PER_MINUTE`` (fast speech is about 250).
  Only then do evidence links carry ``&t=`` and does the running time come from the captions.
* **Running time** (``documents.duration_s``, ``duration_basis``): the last caption's end when the
  timings are real, else the duration in the video's metadata (a ``meta.json``, a channel catalog),
  else unknown (``NULL``) — never 0.
* **Who speaks** (``speaker_turns``): a recording whose chapters are named after speakers (an
  event with several keynotes) and one of them after the thinker. Each chapter becomes a turn with
  ``is_own``; counts of the thinker's words then read only his turns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pipelines.core.records import ParsedDocument
from pipelines.core.textutil import word_count

MAX_WORDS_PER_MINUTE = 400
MIN_WORDS_FOR_RATE = 200


def _timed_segments(doc: ParsedDocument) -> list[tuple[float, float]]:
    out = []
    for s in doc.segments:
        if s.start_s is None:
            continue
        start = float(s.start_s)
        end = float(s.end_s) if s.end_s is not None else start
        out.append((start, max(start, end)))
    return out


def has_real_timings(doc: ParsedDocument, words: int | None = None) -> bool:
    """Whether the segments' times are real: they span the time the words take to say."""
    spans = _timed_segments(doc)
    if not spans:
        return False
    first = min(s for s, _ in spans)
    last = max(e for _, e in spans)
    span = last - first
    if span <= 0:
        return False
    n = word_count(doc.text) if words is None else words
    if n < MIN_WORDS_FOR_RATE:
        return True
    return n / (span / 60) <= MAX_WORDS_PER_MINUTE


def timing_facts(doc: ParsedDocument, facts: dict[str, Any], words: int | None = None) -> dict[str, Any]:
    """``timed``, ``duration_s`` and ``duration_basis`` of a document (see the module's rules)."""
    timed = has_real_timings(doc, words)
    if timed:
        return {"timed": True, "duration_s": max(e for _, e in _timed_segments(doc)), "duration_basis": "captions"}
    meta_duration = facts.get("duration_s")
    if isinstance(meta_duration, int | float) and not isinstance(meta_duration, bool) and meta_duration > 0:
        return {"timed": False, "duration_s": float(meta_duration), "duration_basis": "metadata"}
    return {"timed": False, "duration_s": None, "duration_basis": None}


def _time_to_char(doc: ParsedDocument) -> Callable[[float], int]:
    """A map from a second of the recording to a character offset in ``doc.text``: inside a segment,
    linear between its first and last character (cues can be minutes long)."""
    spans: list[tuple[float, float, int, int]] = []  # start_s, end_s, start_char, end_char
    pos = 0
    for seg in doc.segments:
        text = seg.text.strip()
        at = doc.text.find(text, pos) if text else -1
        if at < 0 or seg.start_s is None:
            continue
        start = float(seg.start_s)
        end = float(seg.end_s) if seg.end_s is not None and seg.end_s > start else start
        spans.append((start, end, at, at + len(text)))
        pos = at + len(text)
    for i in range(len(spans) - 1):  # a cue without an end lasts until the next one starts
        s0, e0, a0, b0 = spans[i]
        if e0 <= s0:
            spans[i] = (s0, max(s0, spans[i + 1][0]), a0, b0)

    def char_at(second: float) -> int:
        if not spans or second <= spans[0][0]:
            return 0 if spans else len(doc.text)
        for s0, e0, a0, b0 in spans:
            if second < s0:
                return a0
            if second < e0:
                return a0 + int((b0 - a0) * (second - s0) / (e0 - s0))
        return len(doc.text)

    return char_at


def speaker_turns(
    doc_id: str,
    doc: ParsedDocument,
    chapters: Sequence[Any] | None,
    is_thinker: Callable[[str], bool],
    timed: bool,
) -> list[dict[str, Any]]:
    """Rows of ``speaker_turns`` for a recording whose chapters name its speakers, else [].

    Chapters count as speakers only when one of them names the thinker; a lecture's topic chapters
    give no turns. Character offsets come from the segments' times (``_time_to_char``), so they need
    real timings."""
    if not chapters or not timed:
        return []
    clean: list[tuple[str, float, float]] = []
    for ch in chapters:
        if not isinstance(ch, dict):
            continue
        title, start, end = ch.get("title"), ch.get("start"), ch.get("end")
        if not isinstance(title, str) or not isinstance(start, int | float) or isinstance(start, bool):
            continue
        end_f = float(end) if isinstance(end, int | float) and not isinstance(end, bool) else float("inf")
        clean.append((title.strip(), float(start), end_f))
    if not any(is_thinker(t) for t, _, _ in clean):
        return []
    clean.sort(key=lambda c: c[1])
    char_at = _time_to_char(doc)
    rows = []
    for seq, (title, start, end) in enumerate(clean, 1):
        a, b = char_at(start), char_at(end)
        rows.append(
            {
                "doc_id": doc_id,
                "seq": seq,
                "speaker": title,
                "is_own": is_thinker(title),
                "start_s": start,
                "end_s": None if end == float("inf") else end,
                "start_char": a,
                "end_char": max(a, b),
                "basis": "chapters",
            }
        )
    return rows
