"""The profile's own figures: its arithmetic (no data needed) and its coverage estimate against
the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.core.claims.fmt import num
from pipelines.core.claims.metrics.base import metric
from pipelines.core.claims.spec import Measure, MetricSpec, Param
from pipelines.core.periods import parse_period

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.scope import ScopeStats


@metric(MetricSpec(
    "profile_share",
    "share of catalogued sources (feeds excluded) that are in the profile's corpus and not Known Gaps; "
    "basis 'sources' counts sources, 'words' weighs collected words",
    "number", None, tables=("sources",),
    params={"basis": Param("str", required=False, choices=("sources", "words"))},
))
def profile_share(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    from pipelines.core.coverage import overall_coverage

    basis = claim.params.get("basis", "sources")
    cov = overall_coverage(ctx.con)
    if basis == "sources":
        if not cov["catalog_sources"]:
            return Measure(None, "", unavailable="the catalog lists no sources")
        share = cov["profile_sources"] / cov["catalog_sources"]
        found = (
            f"{cov['profile_sources']} of {cov['catalog_sources']} catalogued public sources are in the profile's corpus "
            f"({share:.0%}); {cov['known_gap_sources']} are Known Gaps and {cov['other_sources']} are sources the "
            "profile does not name"
        )
    else:
        if not cov["all_words"]:
            return Measure(None, "", unavailable="no words collected yet")
        share = cov["profile_words"] / cov["all_words"]
        found = (
            f"the profile's sources hold {cov['profile_words']:,} of the {cov['all_words']:,} words collected "
            f"({share:.0%}); the rest comes from Known Gaps, sources the profile does not name and uncatalogued finds"
        )
    return Measure(share, found, display=f"{share:.2f}")


def _terms_text(terms: list[float]) -> str:
    shown = [num(t) for t in terms[:14]]
    return " + ".join(shown) + (" + …" if len(terms) > 14 else "")


_NO_DATA = {"needs_data": False, "tables": ()}


@metric(MetricSpec("profile_sum", "sum of numbers the profile states", "number", None,
                   params={"terms": Param("number_list", doc="the profile's figures for the parts")}, **_NO_DATA))  # type: ignore[arg-type]
def profile_sum(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    terms = [float(t) for t in claim.params["terms"]]
    total = sum(terms)
    return Measure(total, f"the parts add up to {num(total)} ({_terms_text(terms)})")


@metric(MetricSpec("profile_count", "number of entries the profile lists", "number", None,
                   params={"items": Param("str_list", doc="the listed entries, as the profile names them")}, **_NO_DATA))  # type: ignore[arg-type]
def profile_count(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    items = claim.params["items"]
    shown = ", ".join(items[:6]) + (", …" if len(items) > 6 else "")
    return Measure(float(len(items)), f"the list has {len(items)} entries ({shown})")


@metric(MetricSpec("profile_value", "a number the profile states elsewhere", "number", None,
                   params={"value": Param("number", doc="the other figure")}, **_NO_DATA))  # type: ignore[arg-type]
def profile_value(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    v = float(claim.params["value"])
    return Measure(v, f"it says {num(v)}")


@metric(MetricSpec("profile_date", "a date the profile states elsewhere", "date", None,
                   params={"value": Param("date", doc="the other date (YYYY, YYYY-MM or YYYY-MM-DD)")}, **_NO_DATA))  # type: ignore[arg-type]
def profile_date(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    p = parse_period(claim.params["value"])
    return Measure(p.start, f"it is dated {p.text}", display=p.text)
