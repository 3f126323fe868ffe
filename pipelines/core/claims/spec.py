"""The vocabulary of claims and evidence: verdicts, quote classes, metric specs, measures.

Plain data, imported by every other module of the package; it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

# The verdicts, in the order reports list them.
#   supported      the measured value satisfies the comparator
#   contradicted   it does not, and what is missing could not change that
#   lower_bound    it does not, but the uncollected part of the scope could still close the gap
#   not_checkable  no data in scope, a measure that cannot be computed, or an opinion /
#                  interpretation / Known Gap the profile states about itself
#   inconsistent   the profile's own numbers do not add up (arithmetic claims; needs no data)
VERDICTS = ("supported", "contradicted", "lower_bound", "not_checkable", "inconsistent")
# The same verdicts, the most serious first: how reports and the profile page sort claims.
VERDICT_SEVERITY = ("contradicted", "inconsistent", "lower_bound", "not_checkable", "supported")
# The verdicts a per-claim asset check reports as failed.
FAILING_VERDICTS = frozenset({"contradicted", "lower_bound", "inconsistent"})

# How a quoted sentence stands in a passage, strongest first; all but "absent" support a quote.
QUOTE_CLASSES = ("verbatim", "near_verbatim", "paraphrase", "absent")
QUOTE_RANK = {c: len(QUOTE_CLASSES) - 1 - i for i, c in enumerate(QUOTE_CLASSES)}  # verbatim 3 .. absent 0


@dataclass(frozen=True)
class Param:
    type: str  # "str", "id", "str_list", "id_list", "number_list", "number", "date", "regex"
    required: bool = True
    doc: str = ""
    choices: tuple[str, ...] = ()
    refers_to: str | None = None  # "phrase" / "entity": an id that must exist in analysis/lexicon.yaml


@dataclass(frozen=True)
class MetricSpec:
    name: str
    doc: str
    value: Literal["number", "date", "class"]
    # Does more (not yet collected) data move the value "up" (counts, last dates, quote classes),
    # "down" (first dates) or either way (None)? A failed check whose value could still reach the
    # expected region with more data is a lower bound, not a refutation, when the uncollected part
    # of the scope could close the gap (see ``pipelines.core.claims.verdict``).
    direction: Literal["up", "down"] | None
    needs_data: bool = True
    tables: tuple[str, ...] = ("documents",)
    params: dict[str, Param] = field(default_factory=dict)
    unit: str = ""
    # What one uncollected document can add to the value: 1 for document counts, None when it is
    # unbounded (words, hits) or not a count. Used to tell a reachable gap from a refutation.
    per_document: float | None = None
    # Whether an item an index page lists (its text not collected) counts as present: it does for
    # counts and dates of existence, not for what its text would say.
    existence: bool = False


@dataclass
class Hit:
    doc_id: str
    start: int | None = None
    end: int | None = None
    matched_text: str | None = None
    score: float | None = None
    match_class: str | None = None  # quote evidence: verbatim / near_verbatim / paraphrase
    difference: str | None = None  # quote evidence: the word-level difference, in words


@dataclass
class Measure:
    value: float | date | str | None
    found: str  # what was found, as a sentence fragment a reader understands
    hits: list[Hit] = field(default_factory=list)
    evidence_count: int = 0
    display: str | None = None
    unavailable: str | None = None  # set when the metric cannot be measured (-> not_checkable)
    detail: str = ""  # appended after the verdict sentence
    quote_class: str | None = None
    # Set by metrics that know it: the most the uncollected part of the scope could add (None =
    # unknown / unbounded), and what that part is, for the explanation of a lower bound.
    reach: float | None = None
    found_elsewhere: bool = False  # a quote found only outside its attributed scope
    # A quote in no class: the share of its content words the closest passage in scope holds (a
    # reader must judge an idea in other words; lexical matching cannot prove it absent).
    closest_share: float | None = None
    # A rank: how many more documents citing it the entity would need (the others gaining none) to
    # reach the claimed rank, and what it would have to overtake; each uncollected document can add one.
    needs_documents: int | None = None
    needs_text: str = ""
