"""One post is one row: which id-less copies of a tweet are the same post as a tweet with a status id.

Dumps disagree about the same post. A scraper CSV has the status id, an exact timestamp and a
truncated link ("simonwillison.net/2025/Mar/1…"); a day file (``2025/7.5.md``) has the full text
but no id, and its date is only the file name's (some day files are a month late); thread Markdown
repeats a thread's tweets. ``merge_key`` reduces a text to what survives all of that, and
``find_twin`` picks, for an id-less copy, the id'd tweet it is a copy of.

Rules (docs/warehouse.md, "Tweets"):

* Texts compare after dropping URLs (also bare ``host/path`` links and words cut by a trailing
  "…"), @handles, quotes, punctuation, case and whitespace.
* Same post: equal texts, or one text is the other cut short (a truncation), when the shorter has
  at least ``MIN_PREFIX`` characters; or the two first ``FUZZY_SPAN`` characters are at least
  ``FUZZY_MIN`` similar (rapidfuzz ratio) when both are that long. Texts shorter than
  ``MIN_EXACT`` characters merge only when equal and within a day and a half.
* Date proximity: within ``MAX_DAYS`` days (a day file can be a month late). Among several
  candidates the nearest in time wins, then the lowest status id.
* The id'd copy gives the row its id, timestamp and link; the longest text is kept.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz

MAX_DAYS = 45
MIN_PREFIX = 40
MIN_EXACT = 12
FUZZY_SPAN = 200
FUZZY_MIN = 92.0
BLOCK = 16  # characters of the merge key that index candidates

# a word (whitespace apart) that is a link (starting with a scheme, "www." or a host and "/"), a
# @handle, or holds an ellipsis (cut short): matched from a word's start only, so linear
_DROPPED_WORD = re.compile(r"(?<!\S)(?:(?:https?://|www\.|[\w-]+(?:\.[\w-]+)+/|@\w)\S*|[^\s…]*…\S*)", re.I)
_NON_WORD = re.compile(r"[^0-9a-z]+")


def merge_key(text: str) -> str:
    """The text of a post as every copy of it agrees: see the module's rules."""
    t = _DROPPED_WORD.sub(" ", text).lower().replace("&amp;", "&").replace("’", "").replace("'", "")
    return _NON_WORD.sub(" ", t).strip()


@dataclass(frozen=True)
class Keyed:
    """A tweet with a status id, ready to be matched."""

    tweet_id: str
    when: datetime | None
    key: str


def same_post(a: str, b: str) -> str | None:
    """The rule by which two merge keys are the same post, or None."""
    if not a or not b:
        return None
    if a == b:
        return "same text" if len(a) >= MIN_EXACT else "same short text"
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= MIN_PREFIX and long_.startswith(short):
        return "truncated copy"
    if len(short) >= FUZZY_SPAN // 2 and fuzz.ratio(a[:FUZZY_SPAN], b[:FUZZY_SPAN]) >= FUZZY_MIN:
        return "near-identical text"
    return None


class TwinIndex:
    """Id'd tweets indexed by the start of their merge key, for ``find_twin``."""

    def __init__(self, tweets: Iterable[Keyed]):
        self._by_block: dict[str, list[Keyed]] = defaultdict(list)
        for t in tweets:
            if len(t.key) >= MIN_EXACT:
                self._by_block[t.key[:BLOCK]].append(t)

    def find_twin(self, text: str, when: datetime | None) -> tuple[Keyed, str, int] | None:
        """(the id'd tweet, the rule, days apart) for an id-less copy, or None.

        A copy without a date never merges: date proximity is half the evidence."""
        key = merge_key(text)
        if when is None or len(key) < MIN_EXACT:
            return None
        best: tuple[float, str, Keyed, str] | None = None
        for cand in self._by_block.get(key[:BLOCK], []):
            if cand.when is None:
                continue
            gap = abs((cand.when - when).total_seconds()) / 86400
            rule = same_post(key, cand.key)
            if rule is None:
                continue
            limit = 1.5 if rule == "same short text" else MAX_DAYS
            if gap > limit:
                continue
            rank = (gap, cand.tweet_id)
            if best is None or rank < (best[0], best[1]):
                best = (gap, cand.tweet_id, cand, rule)
        if best is None:
            return None
        gap, _, cand, rule = best
        assert cand.when is not None  # noqa: S101 - filtered above
        days = round((when - cand.when) / timedelta(days=1))
        return cand, rule, days
