"""Whose words a document holds: the thinker's own, or someone else's.

The catalog's ``thinker`` block names the thinker (``name``, ``twitter``, ``github``,
``youtube_channel``, ``aliases``). A document whose author is known and is none of those names is not the thinker's
own (``documents.is_own = false``): a guest post, a feed entry by someone else, a tweet by
another account in a dump, a retweet. A document without an author is the thinker's when its
source is (the default for catalogued sources and dropped files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.core.config import Thinker

_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.I)
_PAREN = re.compile(r"\(([^)]*)\)")


def _norm(name: str) -> str:
    return " ".join(name.strip().lstrip("@").casefold().split())


@dataclass(frozen=True)
class ThinkerNames:
    """Every way the configured thinker is named, normalised (case, '@', spaces)."""

    names: frozenset[str]

    @classmethod
    def of(cls, thinker: Thinker | None) -> ThinkerNames:
        if thinker is None:
            return cls(frozenset())
        return cls(frozenset(n for n in (_norm(r) for r in thinker.names()) if n))

    def is_thinker(self, author: str) -> bool:
        """Whether one author string ("Andrej Karpathy", "@karpathy", "Jane Doe (jdoe)") is the thinker."""
        a = _norm(author)
        if not a:
            return False
        if a in self.names:
            return True
        inner = [_norm(x) for x in _PAREN.findall(author)]
        outer = _norm(_PAREN.sub(" ", author))
        return outer in self.names or any(x in self.names for x in inner)

    def owns(self, authors: Iterable[str]) -> bool | None:
        """True when the thinker is among the authors, False when authors are known and none is
        the thinker, None when no author is known (the caller decides)."""
        seen = False
        for entry in authors:
            for part in _SPLIT.split(entry or ""):
                if not part.strip():
                    continue
                seen = True
                if self.is_thinker(part):
                    return True
        return False if seen else None


def document_authors(author: str | None, meta: dict) -> list[str]:
    """The authors a parsed document names: its tweet author, or ``meta['author']`` / ``meta['authors']``."""
    out: list[str] = []
    if author:
        out.append(str(author))
    for key in ("author", "authors"):
        v = meta.get(key)
        if isinstance(v, str) and v.strip():
            out.append(v)
        elif isinstance(v, list):
            out += [str(x) for x in v if isinstance(x, str) and x.strip()]
    return out
