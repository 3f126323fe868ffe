"""Passages: the pieces of a document that search ranks and links to.

A tweet is one passage. A transcript with real timings (``documents.timed``) is cut into caption
windows of about 30-60 seconds: a window closes at the first caption boundary after 30 s where a
sentence ends, and at the latest after 60 s. Posts, papers, READMEs and untimed transcripts are cut
into paragraphs: consecutive paragraphs (``segments``, else the text's blank-line paragraphs) are
merged until a passage holds at least ``MIN_WORDS`` words (``MIN_WORDS_SPOKEN`` for untimed
speech, whose "paragraphs" are caption lines). A piece longer than ``MAX_WORDS`` (a caption
block of several minutes, a wall of text) is split at a sentence end near ``TARGET_WORDS``; in a
timed transcript the pieces' seconds are interpolated by character position inside the caption.

Passages tile the text: every character of ``documents.text`` is in exactly one passage, so any
match found in a text has a passage. Pure functions; no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW_MIN_S = 30.0
WINDOW_MAX_S = 60.0
MIN_WORDS = 40
MIN_WORDS_SPOKEN = 110
TARGET_WORDS = 150
MAX_WORDS = 250
SPOKEN_KINDS = frozenset({"video", "podcast"})

_WORD_RE = re.compile(r"\S+")
_PARA_RE = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END_RE = re.compile(r"[.?!…][\"'”’)\]]*$")


# A located piece of the text, as a ``segments`` row gives it: (start_char, end_char, start_s,
# end_s), offsets 0-based and end-exclusive, seconds None when unknown.
Segment = tuple[int, int, float | None, float | None]


@dataclass(frozen=True)
class Passage:
    seq: int
    start_char: int
    end_char: int
    start_s: float | None  # only for timed transcripts


@dataclass
class _Atom:
    start: int
    end: int
    start_s: float | None
    end_s: float | None
    words: int
    ends_sentence: bool


def split_passages(kind: str | None, text: str | None, segments: Sequence[Segment] = (), timed: bool = False) -> list[Passage]:
    """The document's passages, in text order, tiling ``text`` from 0 to ``len(text)``."""
    if not text:
        return []
    n = len(text)
    if kind == "tweet":
        return [Passage(0, 0, n, None)]
    timed = bool(timed) and any(s[2] is not None for s in segments)
    atoms = _atoms(text, segments, timed)
    atoms = [piece for a in atoms for piece in _split_long(text, a)]
    if timed:
        groups = _group_timed(atoms)
    else:
        groups = _group_words(atoms, MIN_WORDS_SPOKEN if kind in SPOKEN_KINDS else MIN_WORDS)
    out = []
    for i, g in enumerate(groups):
        start = 0 if i == 0 else g[0].start
        end = n if i == len(groups) - 1 else groups[i + 1][0].start
        out.append(Passage(i, start, end, g[0].start_s if timed else None))
    return out


def _atoms(text: str, segments: Sequence[Segment], timed: bool) -> list[_Atom]:
    """The pieces passages are made of: located segments in text order (each running to the next
    one's start), else the text's blank-line paragraphs, else the whole text."""
    n = len(text)
    located = sorted((s for s in segments if s[0] is not None and s[1] is not None and 0 <= s[0] < n), key=lambda s: (s[0], s[1]))
    starts: list[tuple[int, float | None, float | None]] = []
    for a, _, s0, s1 in located:
        if starts and a <= starts[-1][0]:
            continue  # overlapping or repeated: the first one at a position stands for it
        starts.append((a, s0 if timed else None, s1 if timed else None))
    if not starts:
        starts = [(0, None, None)]
        starts += [(m.end(), None, None) for m in _PARA_RE.finditer(text) if m.end() < n]
    out = []
    for i, (a, t0, t1) in enumerate(starts):
        b = starts[i + 1][0] if i + 1 < len(starts) else n
        piece = text[a:b].rstrip()
        out.append(_Atom(a, b, t0, t1, len(piece.split()), bool(_SENTENCE_END_RE.search(piece))))
    return out


def _split_long(text: str, atom: _Atom) -> list[_Atom]:
    """An atom of more than MAX_WORDS words, cut into pieces of about TARGET_WORDS at sentence ends."""
    if atom.words <= MAX_WORDS:
        return [atom]
    words = list(_WORD_RE.finditer(text, atom.start, atom.end))
    cuts = [atom.start]
    i = 0
    while len(words) - i > MAX_WORDS:
        lo, hi = i + TARGET_WORDS - 40, min(i + TARGET_WORDS + 40, len(words) - 1)
        j = next((k for k in range(hi, lo - 1, -1) if _SENTENCE_END_RE.search(words[k].group())), i + TARGET_WORDS)
        i = j + 1
        cuts.append(words[i].start())
    span = max(atom.end - atom.start, 1)
    out = []
    for k, a in enumerate(cuts):
        b = cuts[k + 1] if k + 1 < len(cuts) else atom.end
        t = None
        if atom.start_s is not None:
            t = atom.start_s
            if atom.end_s is not None and atom.end_s > atom.start_s:
                t = atom.start_s + (atom.end_s - atom.start_s) * (a - atom.start) / span
        piece = text[a:b].rstrip()
        out.append(_Atom(a, b, t, None, len(piece.split()), bool(_SENTENCE_END_RE.search(piece))))
    return out


def _group_timed(atoms: list[_Atom]) -> list[list[_Atom]]:
    """Caption windows: close after WINDOW_MIN_S at a sentence end, at the latest after WINDOW_MAX_S
    (or MAX_WORDS words). A caption without a second joins the window it follows."""
    groups: list[list[_Atom]] = []
    cur: list[_Atom] = []
    cur_s: float | None = None
    words = 0
    for a in atoms:
        if cur and a.start_s is not None and cur_s is not None:
            took = a.start_s - cur_s
            if took >= WINDOW_MAX_S or words >= MAX_WORDS or (took >= WINDOW_MIN_S and cur[-1].ends_sentence):
                groups.append(cur)
                cur, cur_s, words = [], None, 0
        cur.append(a)
        words += a.words
        if cur_s is None:
            cur_s = a.start_s
    if cur:
        groups.append(cur)
    return groups


def _group_words(atoms: list[_Atom], min_words: int) -> list[list[_Atom]]:
    """Paragraphs merged until a passage has ``min_words`` words; a short tail joins the passage before."""
    groups: list[list[_Atom]] = []
    cur: list[_Atom] = []
    words = 0
    for a in atoms:
        if cur and words >= min_words:
            groups.append(cur)
            cur, words = [], 0
        cur.append(a)
        words += a.words
    if cur:
        if groups and words < min_words // 2 and sum(x.words for x in groups[-1]) + words <= MAX_WORDS:
            groups[-1].extend(cur)  # a short tail joins the passage before it
        else:
            groups.append(cur)
    return groups
