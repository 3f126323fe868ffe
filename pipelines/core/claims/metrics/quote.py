"""Quotes: is the quoted sentence his, and is it in the source the profile attributes it to?

The attributed scope is searched first; when it holds no match of the accepted class, the rest of
the corpus is searched too, and a match there supports the quote with the other document named.
Only a quote absent from the whole corpus can be refuted, and only when the attributed scope is
fully collected (see ``pipelines.core.claims.verdict``). Documents dated after the profile's date
can show he said it (they are named as later), never refute it.
"""

# SQL here is assembled only from fixed fragments and "?" placeholders; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.core.claims.fmt import doc_ref, n_of
from pipelines.core.claims.metrics.base import metric
from pipelines.core.claims.quotes import ABSENT, Match, QuoteMatcher
from pipelines.core.claims.scope import scope_cte
from pipelines.core.claims.spec import QUOTE_RANK, Hit, Measure, MetricSpec, Param
from pipelines.core.periods import as_date
from pipelines.core.textnorm import norm_words

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.scope import ScopeStats

EVIDENCE_PER_QUOTE = 3
CLOSEST_SHARE = 0.6  # an absent quote whose closest passage holds this share of its content words needs a reader


def _closest(ctx: Context, matcher: QuoteMatcher, doc_ids: list[str]) -> tuple[float, str | None, Match]:
    best: tuple[float, str | None, Match] = (0.0, None, ABSENT)
    for doc_id in doc_ids:
        share, a, b = ctx.quote_closest(matcher, doc_id)
        if share > best[0]:
            best = (share, doc_id, Match("absent", round(100 * share, 1), a, b))
    return best


def _ranked(ctx: Context, matcher: QuoteMatcher, doc_ids: list[str]) -> list[tuple[Match, str]]:
    out = ctx.quote_matches(matcher, doc_ids)
    out.sort(key=lambda x: (-x[0].rank[0], -x[0].rank[1], x[1]))
    return out


def _hit(ctx: Context, m: Match, doc_id: str) -> Hit:
    _, spans, _, _ = ctx.doc_words(doc_id)
    if not spans or m.end <= m.start:
        return Hit(doc_id, None, None, None, m.score, m.cls, m.difference)
    a, b = spans[min(m.start, len(spans) - 1)][0], spans[min(m.end, len(spans)) - 1][1]
    return Hit(doc_id, a, b, ctx.text(doc_id)[a:b], m.score, m.cls, m.difference)


def _where(ctx: Context, m: Match, doc_id: str) -> str:
    meta = ctx.meta([doc_id]).get(doc_id, {})
    when = as_date(meta.get("published_at"))
    later = " — dated after the profile's date" if ctx.as_of and when and when > ctx.as_of else ""
    diff = f": {m.difference}" if m.difference and m.cls == "near_verbatim" else ""
    return f"{m.cls.replace('_', '-')} in {doc_ref(meta, doc_id, with_date=True)}{later}{diff}"


def quote_words(claim: Claim) -> list[str]:
    """The quote's normalised words, as the documents' words are made."""
    return norm_words(claim.params.get("text") or claim.quote)[0]


@metric(MetricSpec(
    "quote_match",
    "how the quoted text stands in scope: verbatim, near_verbatim, paraphrase or absent (pipelines/core/claims/quotes.py); "
    "when the attributed scope lacks it, where else in the corpus it is",
    "class", "up",
    params={"text": Param("str", required=False, doc="the text to find (default: the claim's quote)")},
))
def quote_match(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    matcher = ctx.quote_matcher(quote_words(claim))
    need = QUOTE_RANK[str(claim.expected)] if isinstance(claim.expected, str) and claim.expected in QUOTE_RANK else 1
    scope = claim.scope.model_copy(update={"frame": "none"})  # later documents may show he said it
    cte, params = scope_cte(ctx, scope)
    in_scope = [r[0] for r in ctx.con.execute(f"{cte} SELECT doc_id FROM scope ORDER BY doc_id", params).fetchall()]
    ranked = _ranked(ctx, matcher, in_scope)
    good = [(m, d) for m, d in ranked if m.rank[0] >= need]
    detail = ""
    closest_share: float | None = None
    elsewhere: list[tuple[Match, str]] = []
    if not good:
        inside = set(in_scope)
        own = " WHERE coalesce(is_own, true)" if claim.scope.own_only else ""
        others = [r[0] for r in ctx.con.execute(f"SELECT doc_id FROM documents{own} ORDER BY doc_id").fetchall() if r[0] not in inside]
        # outside the attributed scope only a near-verbatim copy or better counts: shared words in a
        # document the profile does not point at are too weak a sign of the same idea
        strong = max(need, QUOTE_RANK["near_verbatim"])
        elsewhere = [(m, d) for m, d in _ranked(ctx, matcher, others) if m.rank[0] >= strong]
    scope_noun = n_of(len(in_scope), st.noun)
    if good:
        best, doc = good[0]
        found = f"the quote is {_where(ctx, best, doc)}"
        if len(good) > 1:
            found += f" ({len(good)} of the {scope_noun} in scope hold it)"
        hits = [_hit(ctx, m, d) for m, d in good[:EVIDENCE_PER_QUOTE]]
        cls = best.cls
    elif elsewhere:
        best, doc = elsewhere[0]
        found = (
            f"the attributed scope ({scope_noun}) lacks it, but the quote is {_where(ctx, best, doc)}"
            if in_scope
            else f"the attributed source is not collected, but the quote is {_where(ctx, best, doc)}"
        )
        hits = [_hit(ctx, m, d) for m, d in elsewhere[:EVIDENCE_PER_QUOTE]]
        cls = best.cls
    else:
        weaker = ranked[0] if ranked else None
        found = f"no passage in the {scope_noun} in scope, nor anywhere else in the corpus, holds it"
        hits = [_hit(ctx, m, d) for m, d in ranked[:1]]
        cls = "absent" if weaker is None else weaker[0].cls
        if weaker is not None:
            found += f" (the closest is a {weaker[0].cls.replace('_', '-')} in {weaker[1]}, weaker than the claim accepts)"
        else:
            share, near_doc, match = _closest(ctx, matcher, in_scope) if claim.scope.selects_sources else (0.0, None, ABSENT)
            if near_doc is not None and share >= CLOSEST_SHARE:
                doc = near_doc
                found += (
                    f"; the passage closest to it, in {doc_ref(ctx.meta([doc]).get(doc, {}), doc, with_date=True)}, "
                    f"holds {share:.0%} of its content words"
                )
                hits = [_hit(ctx, match, doc)]
                hits[0].difference = f"holds {share:.0%} of the quote's content words"
                closest_share = share
    return Measure(
        cls,
        found,
        hits=hits,
        evidence_count=len(good) or len(elsewhere),
        display=cls.replace("_", "-"),
        detail=detail,
        quote_class=cls,
        found_elsewhere=bool(not good and elsewhere),
        closest_share=closest_share,
    )
