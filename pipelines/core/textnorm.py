"""One text normalisation for comparing words: quote matching, search and KWIC agree on it.

``normalize_quote_text`` folds case, drops apostrophes and turns every run of punctuation and
whitespace into one space, so curly and straight quotes, dashes, ellipses, line breaks and double
spaces all compare equal. ``norm_map`` does the same and says, for every output character, where it
came from in the original text (for snippets and timestamps). ``norm_words`` splits the normalised
text into words with their original offsets (for word-level alignment of quotes). ``find_words``
says where a sequence of normalised words occurs in a text (KWIC, search snippets and phrases).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import cache, lru_cache
from typing import Any

import numpy as np

_APOSTROPHES = "'’‘`´ʼ"
_APOS_RE = re.compile(f"[{_APOSTROPHES}]")
_SEP_RE = re.compile(r"[\W_]+", re.UNICODE)
# ASCII text: letters lowered, digits kept, apostrophes deleted, everything else a space
_ASCII_APOS = "".join(c for c in _APOSTROPHES if c.isascii()).encode("ascii")
_ASCII_NORM = bytes(ord(chr(b).lower()) if chr(b).isalnum() else ord(" ") for b in range(256))


def normalize_quote_text(text: str) -> str:
    """Lower case; apostrophes dropped; every run of punctuation/whitespace one space.

    Curly and straight quotes, dashes, line breaks and double spaces all compare equal.
    """
    if text.isascii():  # the same, without the regular expressions: ASCII has no case surprises
        return " ".join(text.encode("ascii").translate(_ASCII_NORM, _ASCII_APOS).decode("ascii").split())
    return _SEP_RE.sub(" ", _APOS_RE.sub("", text).lower()).strip()


_OTHER, _ALNUM, _APOS = 0, 1, 2  # character classes of the quote normalisation
_EMPTY_MAP = np.zeros(0, dtype=np.int64)


@cache
def _bmp_classes() -> np.ndarray:
    """The class of every code point of the Basic Multilingual Plane (built once, 64 KiB)."""
    table = np.fromiter((ch.isalnum() for ch in map(chr, range(0x10000))), dtype=np.uint8, count=0x10000)
    table[[ord(c) for c in _APOSTROPHES]] = _APOS
    return table


def _classes(codes: np.ndarray) -> np.ndarray:
    """Per code point: _APOS for an apostrophe, _ALNUM when ``str.isalnum()``, else _OTHER."""
    table = _bmp_classes()
    astral = codes > 0xFFFF
    if not astral.any():
        return table[codes]
    cls = table[np.where(astral, 0, codes)]
    at = np.flatnonzero(astral)
    uniq, inv = np.unique(codes[at], return_inverse=True)
    cls[at] = np.array([chr(c).isalnum() for c in uniq.tolist()], dtype=np.uint8)[inv]
    return cls


def norm_map(text: str) -> tuple[str, np.ndarray]:
    """``normalize_with_map`` with the map as an int64 array; vectorised, no per-character loop.

    Same rules as the character loop it replaced: apostrophes are dropped without a trace (they
    split neither a word nor a run of separators); every other character that is not
    ``str.isalnum()`` starts or continues a run of separators, which becomes one space mapped to
    the run's first character (leading and trailing runs dropped); an alphanumeric character is
    lowered on its own (so a capital sigma is always "σ", never the final "ς" that ``str.lower``
    gives at the end of a word) and every character of its lower case (two for "İ") maps to its
    offset.
    """
    if not text:
        return "", _EMPTY_MAP
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    cls = _classes(codes)
    pos = np.flatnonzero(cls != _APOS)  # offsets of the characters that count
    alnum = cls[pos] == _ALNUM
    sep = ~alnum
    sep[1:] &= alnum[:-1]  # a separator run starts right after an alphanumeric character
    if len(sep):
        sep[0] = False  # a leading run is dropped
    sel = np.flatnonzero(alnum | sep)
    if len(sel) and not alnum[sel[-1]]:  # a trailing run is dropped
        sel = sel[:-1]
    if not len(sel):
        return "", _EMPTY_MAP
    out_codes = np.where(alnum[sel], codes[pos[sel]], np.uint32(32)).astype("<u4", copy=False)
    before = out_codes.tobytes().decode("utf-32-le", "surrogatepass")
    out = before.replace("Σ", "σ").lower()  # "Σ".lower() on its own is "σ"
    idx = pos[sel]
    if len(out) != len(before):  # a lower case longer than one character ("İ" -> "i̇")
        lens = np.ones(len(out_codes), dtype=np.int64)
        for c in np.unique(out_codes).tolist():
            n = len(chr(c).lower())
            if n != 1:
                lens[out_codes == c] = n
        idx = np.repeat(idx, lens)
    return out, idx.astype(np.int64, copy=False)


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """``normalize_quote_text`` plus, per output character, its offset in ``text``."""
    out, idx = norm_map(text)
    return out, idx.tolist()


def norm_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The words of ``normalize_quote_text(text)`` and, for each, its (start, end) in ``text``."""
    out, idx = norm_map(text)
    if not out:
        return [], []
    words = out.split(" ")
    codes = np.frombuffer(out.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    gaps = np.flatnonzero(codes == 32)
    starts = np.concatenate(([0], gaps + 1))
    ends = np.concatenate((gaps, [len(codes)]))  # exclusive, in the normalised text
    keep = ends > starts
    if not keep.all():  # (norm_map leaves no empty word; kept for safety)
        words = [w for w in words if w]
        starts, ends = starts[keep], ends[keep]
    return words, list(zip(idx[starts].tolist(), (idx[ends - 1] + 1).tolist(), strict=True))


def find_words(
    text: str,
    words: Sequence[Collection[str]],
    *,
    mapped: tuple[str, np.ndarray] | None = None,
) -> list[tuple[int, int]]:
    """Where a sequence of normalised words occurs in ``text``: (start, end) offsets in ``text``.

    ``words[i]`` holds the normalised words accepted at position i (one word for plain text, every
    form of its lemma for a lemma search). The words must follow each other in
    ``normalize_quote_text(text)`` as whole words, so punctuation, quotes, dashes, ellipses, case
    and whitespace between or around them do not matter ("bicycle for the mind" is found inside
    curly quotes, "from scratch" as "from-scratch"). A possessive ``'s`` after a word does not
    make it another word ("Licklider" is found in "Licklider’s"). Matches do not overlap.
    ``mapped`` is ``norm_map(text)`` when the caller has it already.
    """
    pattern = _words_pattern(tuple(tuple(sorted(set(alts), key=lambda w: (-len(w), w))) for alts in words))
    if pattern is None:
        return []
    out, idx = mapped if mapped is not None else norm_map(text)
    spans: list[tuple[int, int]] = []
    pos = 0
    while (m := pattern.search(out, pos)) is not None:
        possessive_ok = all(
            m.group(g) == "" or (int(idx[m.start(g)]) > 0 and text[int(idx[m.start(g)]) - 1] in _APOSTROPHES)
            for g in range(1, len(words) + 1)
        )
        if possessive_ok:
            last = len(words)
            end = int(idx[m.start(last)]) - 1 if m.group(last) else int(idx[m.end() - 1]) + 1
            spans.append((int(idx[m.start()]), end))  # a possessive's "'s" is left out of the span
            pos = m.end()
        else:  # an "s" that is part of the word ("models" is not "model"): look again one word on
            nxt = out.find(" ", m.start())
            if nxt < 0:
                break
            pos = nxt + 1
    return spans


@lru_cache(maxsize=256)
def _words_pattern(words: tuple[tuple[str, ...], ...]) -> re.Pattern[str] | None:
    if not words or any(not alts for alts in words):
        return None
    parts = ["(?:" + "|".join(re.escape(w) for w in alts) + ")(s?)" for alts in words]
    return re.compile(r"(?<![^ ])" + " ".join(parts) + r"(?![^ ])")


@cache
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: the Snowball algorithms in C

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball English stem of a normalised word ("models" -> "model", "building" -> "build"):
    the one stemmer of search, KWIC and quote matching."""
    return str(_stemmer().stemWord(word))
