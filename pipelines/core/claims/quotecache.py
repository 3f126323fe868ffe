"""Quote answers kept between runs, so that a new document costs its own matching, not the corpus's.

Matching a quote against a document (``quotes.QuoteMatcher.classify``) depends on the quote, the
abbreviations, the matching code and the document's text, and, only when a paraphrase window holds
enough of the quote's words, on their weights (IDF over the whole corpus). So an answer is kept
under (matcher key, the document's ``content_sha256``) when it read no weight, and under the
weights' key too when it did: a new document changes every weight, and then only those answers
are recomputed. The per-document sets of content stems (what the weights are counted from) are
kept too. ``closest`` (the passage shown for an absent quote) reads no weight.

The file (``warehouse/cache/quotes.json``) is JSON: nothing in it is executed. It is rewritten
after each evaluation with only the entries that run used, so it never grows past the corpus. A
missing, unreadable or older-version file is an empty cache; results are the same either way
(``tests/test_verdict_rules.py`` compares a warm cache with none).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipelines.core.claims.quotes import Match

VERSION = 1


class QuoteCache:
    def __init__(self, path: Path | None = None):
        self.path = path
        self._stems: dict[str, list[str]] = {}
        self._matches: dict[str, list[Any]] = {}
        self._closest: dict[str, list[float]] = {}
        self._used: dict[str, set[str]] = {"stems": set(), "matches": set(), "closest": set()}
        self.hits = self.misses = 0
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and data.get("version") == VERSION:
                self._stems = data.get("stems") or {}
                self._matches = data.get("matches") or {}
                self._closest = data.get("closest") or {}

    # ---------------------------------------------------------------- content stems of a document

    def stems(self, doc_key: str) -> frozenset[str] | None:
        got = self._stems.get(doc_key)
        if got is None:
            return None
        self._used["stems"].add(doc_key)
        return frozenset(got)

    def put_stems(self, doc_key: str, stems: frozenset[str]) -> None:
        self._stems[doc_key] = sorted(stems)
        self._used["stems"].add(doc_key)

    # ---------------------------------------------------------------- classify answers

    def match(self, matcher_key: str, doc_key: str, weight_key: str) -> Match | None:
        for key in (f"{matcher_key}|{doc_key}|", f"{matcher_key}|{doc_key}|{weight_key}"):
            got = self._matches.get(key)
            if got is not None:
                self._used["matches"].add(key)
                self.hits += 1
                cls, score, start, end, diff = got
                return Match(cls, score, start, end, diff)
        self.misses += 1
        return None

    def put_match(self, matcher_key: str, doc_key: str, weight_key: str | None, m: Match) -> None:
        key = f"{matcher_key}|{doc_key}|{weight_key or ''}"
        self._matches[key] = [m.cls, m.score, m.start, m.end, m.difference]
        self._used["matches"].add(key)

    # ---------------------------------------------------------------- closest passages

    def closest(self, matcher_key: str, doc_key: str) -> tuple[float, int, int] | None:
        key = f"{matcher_key}|{doc_key}"
        got = self._closest.get(key)
        if got is None:
            return None
        self._used["closest"].add(key)
        return float(got[0]), int(got[1]), int(got[2])

    def put_closest(self, matcher_key: str, doc_key: str, value: tuple[float, int, int]) -> None:
        key = f"{matcher_key}|{doc_key}"
        self._closest[key] = list(value)
        self._used["closest"].add(key)

    # ---------------------------------------------------------------- persistence

    def save(self) -> None:
        """Write the entries this run used (atomically); nothing without a path."""
        if self.path is None:
            return
        data = {
            "version": VERSION,
            "stems": {k: self._stems[k] for k in sorted(self._used["stems"])},
            "matches": {k: self._matches[k] for k in sorted(self._used["matches"])},
            "closest": {k: self._closest[k] for k in sorted(self._used["closest"])},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        tmp.replace(self.path)
