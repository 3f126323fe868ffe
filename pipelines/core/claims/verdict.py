"""From a measure to a verdict, with an explanation a reader can check.

``compare`` says whether the measured value satisfies the claim's comparator. When it does not,
the verdict is a **lower bound** only if the uncollected part of the scope could still close the
gap (``reach``): each uncollected document can add at most one to a document count, uncollected
sources at most their claimed words, and an earlier first use can only hide in an uncollected
document dated inside the claimed window. When even all of that cannot reach the claim, the
verdict is **contradicted**, and the explanation shows the arithmetic. A measure that cannot be
computed is **not_checkable** with its reason, never a 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pipelines.core.claims.config import DATE_COMPARATORS, UNJUDGED_TYPES
from pipelines.core.claims.fmt import display, n_of, num, sentence
from pipelines.core.claims.metrics import METRICS, run_metric
from pipelines.core.claims.scope import Missing, ScopeStats, cached_scope_stats, window_text
from pipelines.core.claims.spec import QUOTE_RANK, Measure, MetricSpec
from pipelines.core.periods import as_date

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context


def compare(claim: Claim, value: float | date | str | None) -> tuple[bool, str | None]:
    """(passed, side): side is 'below' or 'above' the accepted region when it failed.

    For dates 'below' means earlier; for quote classes 'below' means weaker. A missing value
    (nothing found) counts as failing on the side more data could fix: below for counts, above
    (later) for first-use dates.
    """
    spec = METRICS[claim.metric or ""]
    if value is None:
        return False, "above" if spec.direction == "down" else "below"
    if spec.value == "class":
        ok = QUOTE_RANK.get(str(value), 0) >= QUOTE_RANK[str(claim.expected)]
        return (True, None) if ok else (False, "below")
    if claim.comparator in DATE_COMPARATORS:
        lo, hi = claim.expected_window()
        day = as_date(value)
        if day is None:
            raise ValueError(f"claim {claim.id}: a date comparator needs a date, got {value!r}")
        if lo and day < lo:
            return False, "below"
        if hi and day > hi:
            return False, "above"
        return True, None
    if isinstance(value, date | str):
        raise ValueError(f"claim {claim.id}: a number comparator needs a number, got {value!r}")
    e = claim.expected_number()
    v = float(value)
    eps = 1e-9 * max(1.0, abs(e))
    c = claim.comparator
    if c == "eq":
        ok = abs(v - e) <= eps
    elif c == "ge":
        ok = v >= e - eps
    elif c == "gt":
        ok = v > e + eps
    elif c == "le":
        ok = v <= e + eps
    elif c == "lt":
        ok = v < e - eps
    elif c == "approx" and claim.tolerance is not None:
        ok = abs(v - e) <= claim.tolerance.allowed(e) + eps
    else:  # pragma: no cover - validated at load
        raise ValueError(f"unknown comparator {c!r}")
    if ok:
        return True, None
    if c in ("ge", "gt"):
        return False, "below"
    if c in ("le", "lt"):
        return False, "above"
    return False, "below" if v < e else "above"


def _lowest_accepted(claim: Claim) -> float:
    e = claim.expected_number()
    if claim.comparator == "approx" and claim.tolerance is not None:
        return e - claim.tolerance.allowed(e)
    return e


def claims_phrase(claim: Claim) -> str:
    exp = claim.expected_text()
    c = claim.comparator
    if c == "le" and claim.expected == 0:
        return "profile claims none"
    words = {
        "eq": "profile claims",
        "ge": "profile claims at least",
        "gt": "profile claims more than",
        "le": "profile claims at most",
        "lt": "profile claims fewer than",
        "approx": "profile claims about",
        "within": "profile dates it",
        "before": "profile dates it before",
        "after": "profile dates it after",
    }
    if METRICS.get(claim.metric or "") is not None and METRICS[claim.metric or ""].value == "class":
        return "profile quotes it"
    return f"{words[c or 'eq']} {exp}"


def coverage_text(st: ScopeStats) -> str:
    if st.ratio is None:
        text = "the catalog gives no expected size for this scope, so missing material cannot be ruled out"
    elif st.expected_docs:
        text = f"the collection covers {st.ratio:.0%} of the claimed {n_of(st.expected_docs, st.noun)}"
    else:
        text = f"the collection holds {st.ratio:.0%} of the claimed {st.expected_words or 0:,} words"
    if st.missing:
        shown = ", ".join(m.describe() for m in st.missing[:3])
        more = f" (+{len(st.missing) - 3} more)" if len(st.missing) > 3 else ""
        text += f"; not collected: {shown}{more}"
    return text


@dataclass
class Reach:
    possible: bool
    text: str  # what is missing and what it could add, for the explanation


def _relevant(spec: MetricSpec, st: ScopeStats) -> list[Missing]:
    """The uncollected part that could move this metric: for counts and dates of existence, what no
    index page lists; for what a text says, every source whose text is missing."""
    return [m for m in st.missing if not (spec.existence and m.listed)]


def _names(missing: list[Missing], limit: int = 4) -> str:
    shown = ", ".join(m.describe() for m in missing[:limit])
    return shown + (f" (+{len(missing) - limit} more)" if len(missing) > limit else "")


def reach(claim: Claim, spec: MetricSpec, m: Measure, st: ScopeStats) -> Reach:
    """Whether the uncollected part of the scope could still make the claim hold."""
    missing = _relevant(spec, st)
    if not missing and st.ratio is not None and st.ratio >= 1 - 1e-9:
        return Reach(False, "the scope is fully collected")
    if not missing and st.ratio is None:
        return Reach(True, "the catalog gives no expected size to measure the gap")
    if spec.value == "date":
        lo, hi = claim.expected_window()
        if st.gap_docs and not missing:
            return Reach(True, f"{st.gap_docs:,} of the claimed {n_of(st.expected_docs, st.noun)} are not collected and may hold it")
        # a README is not dated by its repository: an uncollected repo cannot hold a dated use
        dated_text = [x for x in missing if x.kind != "repo"]
        inside = [x for x in dated_text if x.date is None or ((lo is None or x.date >= lo) and (hi is None or x.date <= hi))]
        if inside:
            return Reach(True, f"uncollected and dated inside the claimed window (or undated): {_names(inside)}")
        return Reach(False, f"no uncollected source is dated inside the claimed window (not collected: {_names(missing)})")
    if spec.value == "class":
        return Reach(True, f"the attributed scope is not fully collected: {_names(missing) or f'{st.gap_docs:,} items'}")
    if m.needs_documents is not None:  # a rank: each uncollected document can lift it by one document
        available = int(max(len(missing), st.gap_docs))
        text = (f"it would need {m.needs_text}, and {n_of(available, 'uncollected ' + st.noun)}"
                f"{' (' + _names(missing) + ')' if missing else ''} could add at most {available:,}")
        return Reach(m.needs_documents <= available, text)
    value = float(m.value) if isinstance(m.value, int | float) else 0.0
    if claim.comparator in ("le", "lt"):
        return Reach(False, "more data can only add to the count")
    if spec.per_document is not None:
        if any(x.container for x in missing):
            return Reach(True, f"a whole collection is not collected: {_names([x for x in missing if x.container])}")
        addable = max(len(missing), st.gap_docs) * spec.per_document
        best = value + addable
        text = (
            f"{num(value)} found + at most {num(addable)} from the "
            f"{n_of(int(max(len(missing), st.gap_docs)), 'uncollected ' + st.noun)}"
            f"{' (' + _names(missing) + ')' if missing else ''} = {num(best)}"
        )
        low = _lowest_accepted(claim)
        return Reach(best >= low - 1e-9, text + (f", which could reach {claim.expected_text()}" if best >= low else f" < {num(low)}"))
    if spec.unit == "words" and missing and all(x.claimed_words is not None for x in missing) and st.gap_docs <= len(missing):
        addable = sum(int(x.claimed_words or 0) for x in missing)
        best = value + addable
        low = _lowest_accepted(claim)
        text = f"{num(value)} found + {num(addable)} claimed for the uncollected {_names(missing)} = {num(best)}"
        return Reach(best >= low - 1e-9, text + (f", which could reach {num(low)}" if best >= low else f" < {num(low)}"))
    if missing:
        return Reach(True, f"not collected: {_names(missing)}")
    return Reach(True, f"{st.gap_docs:,} of the claimed {n_of(st.expected_docs, st.noun)} are not collected")


def empty_row(claim: Claim) -> dict[str, Any]:
    spec = METRICS.get(claim.metric) if claim.metric else None
    numeric = spec is not None and spec.value == "number" and claim.comparator is not None
    return {
        "claim_id": claim.id,
        "section": claim.section,
        "type": claim.type,
        "quote": claim.quote,
        "metric": claim.metric,
        "comparator": claim.comparator,
        "expected": claim.expected_text() or None,
        "measured": None,
        "verdict": "not_checkable",
        "explanation": "",
        "scope_docs": None,
        "scope_words": None,
        "expected_docs": None,
        "expected_words": None,
        "coverage_ratio": None,
        "evidence_count": 0,
        "evidence_shown": 0,
        "expected_value": claim.expected_number() if numeric else None,
        "measured_value": None,
        "quote_class": None,
        "later_docs": None,
    }


def evaluate_claim(ctx: Context | None, claim: Claim) -> tuple[dict[str, Any], Measure | None]:
    """One claim's row (without evidence rows) and the measure behind it."""
    row = empty_row(claim)
    spec = METRICS.get(claim.metric) if claim.metric else None
    if spec is None:  # not_checkable / known_gap without a metric
        row["explanation"] = sentence(claim.reason or "not checkable")
        return row, None

    st: ScopeStats | None = None
    if spec.needs_data:
        if ctx is None:
            row["explanation"] = sentence(f"no warehouse to read; {claim.reason or ''}".strip("; "))
            return row, None
        missing_tables = [t for t in spec.tables if t not in ctx.tables]
        if missing_tables:
            row["explanation"] = sentence(
                f"not checkable yet: table {', '.join(missing_tables)} is not built"
                + (f"; {claim.reason}" if claim.reason else "")
            )
            return row, None
        if "documents" in spec.tables:
            st = cached_scope_stats(ctx, claim.scope)
            row.update(
                scope_docs=st.scope_docs,
                scope_words=st.scope_words,
                expected_docs=st.expected_docs,
                expected_words=st.expected_words,
                coverage_ratio=round(st.ratio, 4) if st.ratio is not None else None,
                later_docs=st.later_docs,
            )
            listed = spec.existence and any(x.listed for x in st.missing)
            searches_elsewhere = spec.value == "class"
            if not st.scope_docs and not listed and not searches_elsewhere and claim.type not in UNJUDGED_TYPES:
                why = f"no collected {st.noun} in scope{window_text(claim.scope)}"
                if st.unknown_source_ids:
                    why += f" (source ids not in the warehouse: {', '.join(st.unknown_source_ids)})"
                elif st.missing:
                    why += f" (not collected: {', '.join(x.describe() for x in st.missing[:5])})"
                if st.later_docs:
                    why += f"; {n_of(st.later_docs, st.noun)} dated after the profile's date are not used"
                row["explanation"] = sentence(f"not checkable: {why}")
                return row, None
    import duckdb

    try:
        m = run_metric(spec.name, ctx, claim, st)
    except duckdb.Error as e:
        row["explanation"] = sentence(f"could not be evaluated: {type(e).__name__}: {str(e).splitlines()[0]}")
        return row, None
    row["evidence_count"] = m.evidence_count
    row["quote_class"] = m.quote_class
    if m.unavailable:
        row["explanation"] = sentence(f"not checkable: {m.unavailable}")
        return row, m
    row["measured"] = m.display or display(m.value)
    row["measured_value"] = float(m.value) if isinstance(m.value, int | float) else None

    if claim.type in UNJUDGED_TYPES:
        reason = claim.reason or ""
        if claim.type == "known_gap" and st is not None:
            status = f"still a gap here: no {st.noun} collected" if not st.scope_docs else f"closed here: {m.found}"
            row["explanation"] = sentence(f"{reason}; {status}" if reason else status)
        else:
            row["explanation"] = sentence(f"{reason}; measured for reference: {m.found}" if reason else m.found)
        return row, m

    passed, side = compare(claim, m.value)
    if not spec.needs_data:
        row["verdict"] = "supported" if passed else "inconsistent"
        row["explanation"] = _arithmetic_text(claim, m, passed)
        return row, m

    cov = st or ScopeStats()
    if "documents" in spec.tables and spec.value == "date":
        paren = f" ({claims_phrase(claim)})"  # what is missing is named by the verdict's own sentence
    elif "documents" in spec.tables and spec.value != "class":
        paren = f" ({claims_phrase(claim)}; {coverage_text(cov)})"
    elif spec.value == "class":
        paren = ""
    else:
        paren = f" ({claims_phrase(claim)})"
    base = m.found + paren
    tail = ""
    if passed:
        verdict = "supported"
        if m.found_elsewhere:
            tail = " — not where the profile attributes it"
    else:
        excusable = (spec.direction == "up" and side == "below") or (spec.direction == "down" and side == "above")
        if not excusable or "documents" not in spec.tables:
            verdict = "contradicted"
        elif spec.value == "class" and not cov.scope_docs:
            verdict = "not_checkable"
            tail = f": the attributed source is not collected ({', '.join(x.describe() for x in cov.missing[:3]) or 'no document in scope'})"
        elif spec.value == "class" and m.closest_share is not None:
            verdict = "not_checkable"
            tail = (
                ": its words are not there, but the idea may be, in other words — a reader must judge the passage "
                "linked as evidence (lexical matching cannot prove an idea absent)"
            )
        else:
            r = reach(claim, spec, m, cov)
            if r.possible:
                verdict = "lower_bound"
                what = {
                    "date": "an earlier use may be in what is missing, so this is not a refutation",
                    "class": "not found in what is collected, which is not a refutation",
                }.get(spec.value, "a lower bound, not a refutation")
                if m.needs_documents is not None:
                    what = "what is missing could still change the rank, so this is not a refutation"
                if spec.value == "date" and spec.direction == "up":
                    what = "a later one may be in what is missing, so this is not a refutation"
                tail = f": {what} — {r.text}"
            else:
                verdict = "contradicted"
                tail = f": what is missing cannot close the gap — {r.text}"
    row["verdict"] = verdict
    row["explanation"] = sentence(base + tail) + m.detail
    return row, m


def _arithmetic_text(claim: Claim, m: Measure, passed: bool) -> str:
    label = claim.label or "the profile's figures"
    if claim.metric in ("profile_value", "profile_date"):
        where = "places it within" if claim.comparator == "within" else "states"
        text = f"{label}: {m.found}; elsewhere the profile {where} {claim.expected_text()}"
    else:
        text = f"{label}: {m.found}; the profile states {claim.expected_text()}"
    if passed:
        text += " — consistent"
    elif isinstance(m.value, int | float):
        exp_v = claim.expected_number()
        diff = float(m.value) - exp_v
        pct = f" ({abs(diff) / abs(exp_v):.1%})" if exp_v else ""
        text += f" — inconsistent: off by {num(abs(diff))}{pct}"
        if claim.tolerance:
            text += f", more than the {claim.tolerance} rounding allows"
    else:
        text += " — inconsistent"
    return sentence(text) + m.detail
