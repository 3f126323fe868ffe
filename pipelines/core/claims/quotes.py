"""How a quoted sentence stands in a document: verbatim, near-verbatim, paraphrase or absent.

Both texts are normalised first (``pipelines.core.textnorm``: case, quotes, dashes, punctuation,
whitespace) and compared word by word:

* **verbatim**: the quote's words occur in the document in order, with nothing between them.
* **near_verbatim**: the same words with small differences. Either a word-level alignment
  (difflib, around the places where the quote's rarest words occur) matches at least
  ``NEAR_COVERAGE`` of the quote's words in order, with at most ``NEAR_MISSING_SHARE`` of them
  missing or changed (a short quote's content word may be dropped, a hedge like "truly", but not
  replaced: "solar panels for food" is not "solar panels for intelligence"), in at most ``NEAR_RUNS`` places, over a passage at most ``2n`` words
  long (``2n + 40`` for a quote of ``NEAR_SHORT`` words or more: a profile may elide a clause or a
  list); words a source splits ("paste able") are joined first; or every word of the quote stands,
  reordered, within ``n + 3`` words. The difference is written out ("source adds 'maybe'").
* **paraphrase**: the idea in other words: within a window about twice the quote's length, the
  document (about two sentences, ``PARA_MIN_WIDTH`` words at least) holds the quote's content words (stop words dropped, Snowball stems, so "computation"
  meets "compute"): all of them for a quote of up to ``PARA_ALL_UNTIL`` content words, else at least
  ``PARA_COVERAGE`` of them (and at least ``PARA_MIN_CONTENT``) carrying ``PARA_WEIGHT`` of their
  weight, each word weighted by its rarity in the corpus (IDF): three common words ("human",
  "different", "model") do not paraphrase a quote whose rare word ("psychology") is missing. A quote
  of two content words is a paraphrase only where both stand together in the quote's order, with at
  most one word more between them than in the quote (a set phrase: "feels like skill issue" for
  "Everything is skill issue"); two
  scattered shared words prove nothing, and one word never does.
  An abbreviation stands for its expansion both ways (claims.yaml ``abbreviations``: "AI" meets
  "artificial intelligence").
  A quote that negates ("not to people", "don't judge") is paraphrased only by a passage that
  negates too: "explaining things to people" does not paraphrase "explaining things to agents,
  not to people".
* **absent**: none of these. ``closest`` then finds the passage holding most of the quote's content
  words, for a reader to judge: lexical matching cannot prove an idea is absent.

Scores (0-100) order passages within a class; the class is what a verdict reads.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

from pipelines.core.claims.spec import QUOTE_RANK
from pipelines.core.textnorm import stem

NEAR_COVERAGE = 0.8
NEAR_MISSING_SHARE = 0.2
NEAR_RUNS = 4
NEAR_SHORT = 8  # a quote shorter than this may not have a content word replaced
NEAR_SHORT_EXTRA = 2  # ... nor more than this many source words added inside it (a hedge)
PARA_MIN_CONTENT = 3
PARA_ALL_UNTIL = 3
PARA_COVERAGE = 0.7
PARA_WEIGHT = 0.7  # share of the quote's content-word weight (IDF) a paraphrase must hold
PARA_MIN_WIDTH = 24  # words: a paraphrase may spread over about two sentences


# Negations: a quote that negates ("not to people", "don't judge") is paraphrased only by a passage
# that negates too; and contractions normalise without their apostrophe ("dont").
NEGATIONS = frozenset(
    "not no never nor none cannot dont doesnt didnt isnt arent wasnt werent cant wont shouldnt wouldnt "
    "couldnt aint hasnt havent hadnt mustnt neednt instead rather".split()
)
CONTRACTIONS = frozenset("its im ive id ill youre youve theyre theyve weve were thats theres lets whats".split())


@cache
def _code_version() -> str:
    """A digest of the code and word lists quote matching depends on (this module, textnorm, the stop
    words and the stemmer's version)."""
    from importlib.metadata import version

    from pipelines.core import fingerprint as fp

    return fp.fingerprint(None, modules=[__name__, "pipelines.core.textnorm"],
                          extra=[" ".join(sorted(_stop_words())), version("pystemmer")])


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.replace("'", "").replace("’", "") for w in STOP_WORDS) | NEGATIONS | CONTRACTIONS




def content_stems(words: Sequence[str]) -> list[str]:
    stops = _stop_words()
    return [stem(w) for w in words if w not in stops and len(w) > 1]


def aligned_stems(words: Sequence[str]) -> list[str | None]:
    """Per word: its stem, or None for a stop word (positions stay those of ``words``)."""
    stops = _stop_words()
    return [stem(w) if w not in stops and len(w) > 1 else None for w in words]


@dataclass
class Match:
    cls: str  # verbatim / near_verbatim / paraphrase / absent
    score: float
    start: int = 0  # word offsets in the document's normalised words
    end: int = 0
    difference: str | None = None

    @property
    def rank(self) -> tuple[int, float]:
        return QUOTE_RANK[self.cls], self.score


ABSENT = Match("absent", 0.0)


def _difference(q: Sequence[str], d: Sequence[str], ops: Sequence[tuple[str, int, int, int, int]]) -> str:
    parts = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        src, quo = " ".join(d[j1:j2]), " ".join(q[i1:i2])
        if len(src.split()) > 8:
            src = " ".join(src.split()[:3]) + f" … ({j2 - j1} words)"
        if tag == "insert":
            parts.append(f"source adds '{src}'")
        elif tag == "delete":
            parts.append(f"source lacks '{quo}'")
        else:
            parts.append(f"source has '{src}' for '{quo}'")
    return "; ".join(parts[:4]) + ("; …" if len(parts) > 4 else "")


def _join_split_words(q: Sequence[str], window: list[str]) -> tuple[list[str], list[int]]:
    """"paste able" meets "pasteable": two source words that spell one quote word are joined (and
    the reverse is left to the alignment, which then sees one word missing). Returns the words and,
    per word (and one past the end), its index in ``window``."""
    wanted = {w for w in q if len(w) > 3}
    out: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(window):
        where.append(i)
        if i + 1 < len(window) and window[i] + window[i + 1] in wanted and window[i] not in wanted:
            out.append(window[i] + window[i + 1])
            i += 2
        else:
            out.append(window[i])
            i += 1
    where.append(i)
    return out, where


def _judge_window(q: Sequence[str], window: list[str], offset: int) -> Match | None:
    """The near-verbatim match of ``q`` in one window of the document, or None (see the module's rules)."""
    n = len(q)
    stops = _stop_words()
    joined, where = _join_split_words(q, window)
    split_word = len(joined) != len(window)
    window = joined
    blocks = [b for b in difflib.SequenceMatcher(None, q, window, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return None
    matched = sum(b.size for b in blocks)
    if matched / n < NEAR_COVERAGE:
        return None
    got = {i for b in blocks for i in range(b.a, b.a + b.size)}
    missing = [q[i] for i in range(n) if i not in got]
    if len(missing) > max(1, NEAR_MISSING_SHARE * n):
        return None
    # unmatched quote words at either end stand against the source words beside the match
    j1 = max(0, blocks[0].b - blocks[0].a)
    j2 = min(len(window), blocks[-1].b + blocks[-1].size + (n - blocks[-1].a - blocks[-1].size))
    if j2 - j1 > 2 * n + (40 if n >= NEAR_SHORT else 0):
        return None  # only a long quote may elide a clause or a list
    ops = difflib.SequenceMatcher(None, q, window[j1:j2], autojunk=False).get_opcodes()
    runs = [op for op in ops if op[0] != "equal"]
    if len(runs) > NEAR_RUNS:
        return None
    if n < NEAR_SHORT and (
        any(tag == "replace" and any(w not in stops for w in q[i1:i2]) for tag, i1, i2, _, _ in runs)
        or sum(j2_ - j1_ for tag, _, _, j1_, j2_ in runs if tag in ("insert", "replace")) > NEAR_SHORT_EXTRA
    ):
        return None  # a short quote whose content word the source replaces, or splits apart, says something else
    score = round(100 * matched / n - 2 * len(runs) - 0.2 * max(0, (j2 - j1) - n), 1)  # tighter is better
    diff = _difference(q, window[j1:j2], ops) or ("the source spells a word apart" if split_word else None)
    return Match("near_verbatim", score, offset + where[j1], offset + where[j2], diff)


def _aligned(q: Sequence[str], d: Sequence[str], anchors: Sequence[int]) -> Match:
    """The best near-verbatim match around the anchors: a broad window each, and tight windows that
    start where the quote's first or second word stands (difflib pairs the earliest equal words,
    which may lie a sentence before the passage)."""
    n = len(q)
    span = 2 * n + (40 if n >= NEAR_SHORT else 0)
    starts = {q[0], q[1]} if n > 1 else {q[0]}
    best = ABSENT
    tried: set[int] = set()
    for p in anchors:
        lo = max(0, p - 3 * n - 40)
        windows = [lo] + [i for i in range(max(0, p - span), p + 1) if d[i] in starts]
        for a in windows:
            if a in tried:
                continue
            tried.add(a)
            end = p + 3 * n + 40 if a == lo else a + span + 1
            m = _judge_window(q, list(d[a:end]), a)
            if m is not None and m.score > best.score:
                best = m
    return best


def _reordered(q: Sequence[str], d: Sequence[str], anchors: Sequence[int]) -> Match:
    """Every word of the quote within ``n + 3`` words, in any order."""
    n = len(q)
    need = Counter(q)
    width = n + 3
    for p in anchors:
        for a in range(max(0, p - width + 1), p + 1):
            window = d[a : a + width]
            have = Counter(window)
            if all(have[w] >= c for w, c in need.items()):
                idx = [i for i, w in enumerate(window) if w in need]
                return Match("near_verbatim", 90.0, a + idx[0], a + idx[-1] + 1, "the same words in another order")
    return ABSENT


def _windows(positions: Sequence[tuple[int, str]], width: int) -> Iterator[tuple[int, int, Counter[str]]]:
    """Slide over the (word position, stem) hits: per hit, (start, end, stems counted) of the window
    of at most ``width`` words that ends at it. The counter is shared: read it, do not keep it."""
    lo = 0
    counts: Counter[str] = Counter()
    for hi in range(len(positions)):
        i, s = positions[hi]
        counts[s] += 1
        while positions[lo][0] <= i - width:
            s0 = positions[lo][1]
            counts[s0] -= 1
            if not counts[s0]:
                del counts[s0]
            lo += 1
        yield positions[lo][0], i + 1, counts


def closest(q_stems: Sequence[str], doc: DocWords, n_words: int) -> tuple[float, int, int]:
    """(share of the quote's content stems, start, end) of the window that holds the most of them:
    the passage a reader should look at when no class matched."""
    need = set(q_stems)
    if not need:
        return 0.0, 0, 0
    width = max(2 * n_words, n_words + 10, PARA_MIN_WIDTH)
    positions = doc.stem_positions(need)
    best = (0.0, 0, 0)
    for start, end, counts in _windows(positions, width):
        share = len(counts) / len(need)
        if share > best[0]:
            best = (share, start, end)
    return best


def _negates(words: Sequence[str], a: int, b: int) -> bool:
    return any(w in NEGATIONS for w in words[max(0, a - 3) : b])


class Abbreviations:
    """Short forms and what they stand for, as stems: "ai" <-> ("artifici", "intellig")."""

    def __init__(self, table: dict[str, str] | None = None):
        from pipelines.core.textnorm import norm_words

        self.long: dict[str, tuple[str, ...]] = {}
        for short, expansion in (table or {}).items():
            s = content_stems(norm_words(short)[0])
            e = tuple(content_stems(norm_words(expansion)[0]))
            if len(s) == 1 and len(e) >= 2:
                self.long[s[0]] = e

    def __bool__(self) -> bool:
        return bool(self.long)

    def extras(self, d_stems: Sequence[str | None]) -> dict[int, set[str]]:
        """Per document word that stands for more than its own stem, those stems: an abbreviation's
        expansion, and the abbreviation at the first word of an expansion written out."""
        out: dict[int, set[str]] = {}
        if not self.long:
            return out
        firsts = {exp[0] for exp in self.long.values()}
        content = [i for i, s in enumerate(d_stems) if s is not None]
        for k, i in enumerate(content):
            s = d_stems[i]
            if s in self.long:
                out.setdefault(i, set()).update(self.long[s])
            if s in firsts:
                for short, exp in self.long.items():
                    if s == exp[0] and tuple(d_stems[j] for j in content[k : k + len(exp)]) == exp:
                        out.setdefault(i, set()).add(short)
        return out


NO_ABBREVIATIONS = Abbreviations()


_NO_STEM = "\x00"  # stands for a word without a stem in the joined stems: never a stem


def _searchable(token: str) -> bool:
    """Whether a word or stem can be found in a space-joined list by ``str.find``."""
    return bool(token) and " " not in token and _NO_STEM not in token


def _occurrences(hay: str, tokens: set[str]) -> list[tuple[int, str]]:
    """(position, token) of every item of the space-joined list ``hay`` (" a b c ") that is one of
    ``tokens``, in list order: found by ``str.find`` and counted by ``str.count`` (C speed), not by
    a Python loop over the whole list. Tokens hold no space."""
    found: list[tuple[int, str]] = []
    for tok in tokens:
        needle = f" {tok} "
        at = hay.find(needle)
        while at != -1:
            found.append((at, tok))
            at = hay.find(needle, at + len(tok) + 1)  # the trailing space starts the next item
    found.sort()
    out: list[tuple[int, str]] = []
    pos, last = 0, 0
    for at, tok in found:
        pos += hay.count(" ", last, at)  # items before this one = spaces before it
        last = at
        out.append((pos, tok))
    return out


class DocWords:
    """One document's normalised words prepared once for every quote that is matched against it:
    the joined text (for the verbatim test), the stems each word provides (abbreviations included),
    and where each word and stem stands, so a quote reads only the positions of its own words."""

    def __init__(self, words: list[str], stems: list[str | None], abbreviations: Abbreviations = NO_ABBREVIATIONS):
        self.words = words
        self.stems = stems
        self.abbreviations = abbreviations
        self.hay = " " + " ".join(words) + " "
        self.extra = abbreviations.extras(stems)  # positions whose word stands for more than its stem
        have = {s for s in stems if s is not None}
        for short, exp in abbreviations.long.items():
            if short in have:
                have.update(exp)
            if set(exp) <= have:
                have.add(short)
        self.have = have  # every stem some word provides
        self._stem_hay: str | None = None  # the stems joined like ``hay`` (built when first needed)

    def provides(self, i: int, stem: str) -> bool:
        """Whether the word at ``i`` stands for ``stem`` (its own stem, or through an abbreviation)."""
        return self.stems[i] == stem or stem in self.extra.get(i, ())

    def word_positions(self, wanted: set[str]) -> list[int]:
        """Positions of the words in ``wanted``, in text order."""
        if not all(_searchable(w) for w in wanted):
            return [i for i, w in enumerate(self.words) if w in wanted]
        return [i for i, _ in _occurrences(self.hay, wanted)]

    def stem_positions(self, need: set[str]) -> list[tuple[int, str]]:
        """(position, stem) of the words whose own stem is wanted, in text order."""
        if not all(_searchable(st) for st in need):
            return [(i, st) for i, st in enumerate(self.stems) if st in need]  # type: ignore[misc]
        if self._stem_hay is None:
            self._stem_hay = " " + " ".join(_NO_STEM if st is None else st for st in self.stems) + " "
        return _occurrences(self._stem_hay, need)

    def provided_positions(self, need: set[str]) -> list[tuple[int, str]]:
        """(position, stem) of every wanted stem some word provides, in text order (stems of one
        position in order)."""
        if not self.extra:
            return self.stem_positions(need)
        if all(_searchable(st) for st in need):
            pairs = set(self.stem_positions(need))
            for i, extra in self.extra.items():
                pairs.update((i, x) for x in extra & need)
            return sorted(pairs)
        out: list[tuple[int, str]] = []
        for i, st in enumerate(self.stems):
            more = self.extra.get(i)
            if more is not None:
                got = ({st} if st is not None else set()) | more
                out += [(i, x) for x in sorted(got & need)]
            elif st in need:
                out.append((i, st))  # type: ignore[arg-type]
        return out


def _set_phrase(q_stems: Sequence[str], q_gap: int, doc: DocWords, negated: bool) -> Match:
    """A two-content-word quote: both words in the quote's order, with at most one word more between
    them than the quote has ("skill issue" meets "skill issue" and "skill-related issue")."""
    a, b = q_stems[0], q_stems[1]
    words = doc.words
    for i, _ in doc.provided_positions({a}):
        for j in range(i + 1, min(len(doc.stems), i + q_gap + 3)):
            if doc.provides(j, b):
                if not negated or _negates(words, i, j + 1):
                    return Match("paraphrase", 100.0 - (j - i - 1 - q_gap), i, j + 1,
                                 "its two content words, together, in other words")
                break
    return ABSENT


# A paraphrase window: (start, end, the quote's content stems it holds, whether it may stand for the
# quote: it negates, or the quote does not). What the window holds does not depend on the corpus;
# whether it carries enough of the quote's weight does (IDF), and is decided by ``weigh_windows``.
Window = tuple[int, int, frozenset[str], bool]


def paraphrase_windows(
    q_stems: Sequence[str], doc: DocWords, n_words: int, negated: bool = False, q_gap: int = 0,
) -> Match | list[Window]:
    """The paraphrase answer when it does not depend on the corpus (a set phrase, too few shared
    words: a Match), else the windows that hold enough of the quote's content stems, for
    ``weigh_windows``. Windows holding the same stems with the same negation are one: the first."""
    need = set(q_stems)
    words = doc.words
    if len(need) == 2 and len(q_stems) == 2:
        return _set_phrase(q_stems, q_gap, doc, negated)
    if len(need) < PARA_MIN_CONTENT:
        return ABSENT
    want = len(need) if len(need) <= PARA_ALL_UNTIL else max(PARA_MIN_CONTENT, int(PARA_COVERAGE * len(need) + 0.999))
    positions = doc.provided_positions(need)
    if len({s for _, s in positions}) < want:
        return ABSENT
    width = max(2 * n_words, n_words + 10, PARA_MIN_WIDTH)
    out: list[Window] = []
    seen: set[tuple[frozenset[str], bool]] = set()
    for start, end, counts in _windows(positions, width):
        if len(counts) < want:
            continue
        held = frozenset(counts)
        ok = not negated or _negates(words, start, end)
        if (held, ok) not in seen:
            seen.add((held, ok))
            out.append((start, end, held, ok))
    return out or ABSENT


def weigh_windows(windows: Sequence[Window], q_stems: Sequence[str], weight: dict[str, float] | None) -> Match:
    """The best paraphrase among the windows: the first of the largest share of the quote's content
    stems among those that carry ``PARA_WEIGHT`` of their weight and may stand for the quote."""
    need = set(q_stems)
    w = {s: (weight or {}).get(s, 1.0) for s in need}
    total = sum(w.values()) or 1.0
    best = ABSENT
    for start, end, held, ok in windows:
        if ok and sum(w[x] for x in held) / total >= PARA_WEIGHT:
            share = round(100 * len(held) / len(need), 1)
            if share > best.score:
                best = Match("paraphrase", share, start, end)
    return best


class QuoteMatcher:
    """Classifies one quote against many documents (their normalised words come from the caller)."""

    def __init__(self, quote_words: list[str], weight: dict[str, float] | None = None,
                 abbreviations: Abbreviations = NO_ABBREVIATIONS):
        self.q = quote_words
        self.weight = weight
        self.abbreviations = abbreviations
        self.needle = " " + " ".join(quote_words) + " "
        self.q_stems = content_stems(quote_words)
        stops = _stop_words()
        keys = sorted({w for w in quote_words if w not in stops} or set(quote_words), key=lambda w: (-len(w), w))
        self.anchor_words = set(keys[:3])
        self.negated = any(w in NEGATIONS for w in quote_words)
        content_at = [i for i, s in enumerate(aligned_stems(quote_words)) if s is not None]
        self.q_gap = content_at[1] - content_at[0] - 1 if len(content_at) == 2 else 0
        self.stems = sorted(set(self.q_stems))  # the quote's content stems, sorted (cached windows index them)

    @cached_property
    def key(self) -> str:
        """What this matcher's answers depend on besides the document and the weights: the quote,
        the abbreviations, and the matching code and word lists (a key for cached answers)."""
        h = hashlib.sha256()
        for part in (self.needle, repr(sorted(self.abbreviations.long.items())), _code_version()):
            h.update(part.encode() + b"\0")
        return h.hexdigest()[:32]

    def examine(self, doc: DocWords) -> Match | list[Window]:
        """What the document holds of the quote, without the corpus weights: a Match, or the
        paraphrase windows ``resolve`` weighs (``doc`` must carry this matcher's abbreviations)."""
        words = doc.words
        if not self.q or not words:
            return ABSENT
        at = doc.hay.find(self.needle)
        if at != -1:
            start = doc.hay.count(" ", 0, at)
            return Match("verbatim", 100.0, start, start + len(self.q))
        need = set(self.q_stems)
        if need and len(need & doc.have) < max(1, len(need) // 2):
            return ABSENT  # most content words are not there: nothing below can match
        anchors = doc.word_positions(self.anchor_words)
        best = _aligned(self.q, words, anchors) if anchors else ABSENT
        if best.cls == "absent" and anchors:
            best = _reordered(self.q, words, anchors)
        if best.cls == "absent":
            return paraphrase_windows(self.q_stems, doc, len(self.q), self.negated, self.q_gap)
        return best

    def resolve(self, answer: Match | list[Window]) -> Match:
        """An ``examine`` answer as a Match, paraphrase windows weighed with ``self.weight``."""
        return answer if isinstance(answer, Match) else weigh_windows(answer, self.q_stems, self.weight)

    def classify(self, doc: DocWords) -> Match:
        """The best match of the quote in the document (``doc`` must carry this matcher's abbreviations)."""
        return self.resolve(self.examine(doc))

    def closest(self, doc: DocWords) -> tuple[float, int, int]:
        return closest(self.q_stems, doc, len(self.q))
