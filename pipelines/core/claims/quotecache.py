"""Quote answers kept between runs, so that a new document costs its own matching, not the corpus's.

Matching a quote against a document (``quotes.QuoteMatcher.examine``) depends on the quote, the
abbreviations, the matching code and the document's text only. What depends on the whole corpus
(the words' IDF weights, which every new document changes) is applied afterwards to the kept
answer (``QuoteMatcher.resolve``), so a kept answer never goes stale. Per document (by its
``content_sha256``) the cache keeps:

* ``covered``: the digest of the set of quotes every answer was computed for. A quote of that set
  with no entry below is absent from the document (most are: nothing is stored for them);
* ``answers``: the other answers, per quote (matcher key): a match ``[class, score, start, end,
  difference]``, or ``["windows", [[start, end, stems, negation ok], ...]]``: the paraphrase
  windows to weigh, their stems as positions in the quote's sorted content stems;
* ``present``: which of the quotes' content stems the document holds (what the weights are counted
  from), as positions in the sorted stem list whose digest is ``vocab``;
* ``closest``: the passage shown for an absent quote, per (quote, document).

The file (``warehouse/cache/quotes.json``) is JSON: nothing in it is executed. It is rewritten after
each evaluation with the entries of the current documents only, so it never grows past the corpus.
A missing, unreadable or older-version file is an empty cache; results are the same either way
(``tests/test_verdict_rules.py`` compares a warm cache with none, after the corpus changed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipelines.core.claims.quotes import ABSENT, Match, Window

VERSION = 3


class QuoteCache:
    def __init__(self, path: Path | None = None):
        self.path = path
        self.covered: dict[str, str] = {}
        self.answers: dict[str, dict[str, list[Any]]] = {}
        self.vocab = ""
        self.present: dict[str, list[int]] = {}
        self._closest: dict[str, list[float]] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and data.get("version") == VERSION:
                self.covered = data.get("covered") or {}
                self.answers = data.get("answers") or {}
                self.vocab = data.get("vocab") or ""
                self.present = data.get("present") or {}
                self._closest = data.get("closest") or {}

    # ---------------------------------------------------------------- stems a document holds

    def present_stems(self, doc_key: str, vocab: str, stems: Sequence[str]) -> list[str] | None:
        """The stems of ``stems`` (the sorted vocabulary whose digest is ``vocab``) the document holds."""
        if vocab != self.vocab:
            self.vocab, self.present = vocab, {}
            return None
        got = self.present.get(doc_key)
        return None if got is None else [stems[i] for i in got]

    def put_present(self, doc_key: str, vocab: str, stems: Sequence[str], held: Iterable[str]) -> None:
        if vocab != self.vocab:
            self.vocab, self.present = vocab, {}
        at = {s: i for i, s in enumerate(stems)}
        self.present[doc_key] = sorted(at[s] for s in held)

    # ---------------------------------------------------------------- classify answers

    def answer(self, matcher_key: str, doc_key: str, stems: Sequence[str], quotes: str | None = None) -> Match | list[Window] | None:
        """The kept answer (a Match or paraphrase windows), or None. ``stems``: the quote's sorted
        content stems (what window stems are positions in). ``quotes``: the digest of the quote set
        in use: a document covered for it, without an entry for this quote, does not hold it."""
        got = self.answers.get(doc_key, {}).get(matcher_key)
        if got is not None:
            if got[0] == "windows":
                return [(int(a), int(b), frozenset(stems[i] for i in held), bool(ok)) for a, b, held, ok in got[1]]
            cls, score, start, end, diff = got
            return Match(cls, score, start, end, diff)
        if quotes is not None and self.covered.get(doc_key) == quotes:
            return ABSENT
        return None

    def docs_answering(self, matcher_key: str) -> set[str]:
        """The documents (keys) with a kept answer for this quote: of the documents covered for the
        quote set, the only ones that may hold it."""
        return {dk for dk, got in self.answers.items() if matcher_key in got}

    def put_answer(self, matcher_key: str, doc_key: str, stems: Sequence[str], a: Match | list[Window], *,
                   explicit: bool = False) -> None:
        """Keep an answer. An absent one is kept only when ``explicit`` (else the document's
        ``covered`` digest says it)."""
        if isinstance(a, Match):
            if a.cls == "absent" and not explicit:
                self.answers.get(doc_key, {}).pop(matcher_key, None)
                return
            entry: list[Any] = [a.cls, a.score, a.start, a.end, a.difference]
        else:
            at = {st: i for i, st in enumerate(stems)}
            entry = ["windows", [[start, end, sorted(at[x] for x in held), ok] for start, end, held, ok in a]]
        self.answers.setdefault(doc_key, {})[matcher_key] = entry

    def cover(self, doc_key: str, quotes: str) -> None:
        self.covered[doc_key] = quotes

    # ---------------------------------------------------------------- closest passages

    def closest(self, matcher_key: str, doc_key: str) -> tuple[float, int, int] | None:
        got = self._closest.get(f"{matcher_key}|{doc_key}")
        return None if got is None else (float(got[0]), int(got[1]), int(got[2]))

    def put_closest(self, matcher_key: str, doc_key: str, value: tuple[float, int, int]) -> None:
        self._closest[f"{matcher_key}|{doc_key}"] = list(value)

    # ---------------------------------------------------------------- persistence

    def save(self, doc_keys: Iterable[str]) -> None:
        """Write the entries of these documents (atomically); nothing without a path."""
        if self.path is None:
            return
        keep = set(doc_keys)
        data = {
            "version": VERSION,
            "covered": {k: v for k, v in sorted(self.covered.items()) if k in keep},
            "answers": {k: v for k, v in sorted(self.answers.items()) if k in keep and v},
            "vocab": self.vocab,
            "present": {k: v for k, v in sorted(self.present.items()) if k in keep},
            "closest": {k: v for k, v in sorted(self._closest.items()) if k.rsplit("|", 1)[-1] in keep},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        tmp.replace(self.path)
