"""Tracked phrases and entities (``phrase_hits`` / ``mentions``, built from analysis/lexicon.yaml)
and free-text patterns for events the lexicon does not track.

Counts read only the thinker's own words when the scope says so (``own_only``, the default): his
documents, and in a recording with speaker turns only his turns (``is_own`` on the hit). A first
use needs a document whose date dates its text: a README is not dated by its repository's creation.
"""

# SQL here is assembled only from fixed fragments and "?" placeholders; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.core.claims.fmt import doc_ref, n_of
from pipelines.core.claims.metrics.base import first_per_doc, hit, in_own_turn, metric, said
from pipelines.core.claims.scope import scope_cte, window_text
from pipelines.core.claims.spec import Measure, MetricSpec, Param
from pipelines.core.periods import as_date

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.scope import ScopeStats

_PHRASE = {"phrase": Param("id", doc="phrase id from analysis/lexicon.yaml", refers_to="phrase")}
_ENTITY = {"entity": Param("id", doc="entity id from analysis/lexicon.yaml", refers_to="entity")}
_PATTERN = {
    "pattern": Param("regex", doc="case-insensitive Python regular expression searched in documents.text"),
    "label": Param("str", required=False, doc="how explanations name what the pattern finds"),
}


def _table_hits(ctx: Context, claim: Claim, table: str, id_col: str, id_value: str | list[str]) -> list[dict[str, Any]]:
    """All hits (phrase_hits / mentions) of one id inside the claim's scope, oldest first; only the
    thinker's own hits (``is_own``: his turns of a multi-speaker recording) when the scope is own_only."""
    cte, params = scope_cte(ctx, claim.scope)
    if table == "phrase_hits":
        text_col = "h.matched_text"
    else:  # the words as written when the mentions table keeps them, else the lexicon alias
        text_col = "coalesce(h.matched_text, h.alias)" if "matched_text" in ctx.columns(table) else "h.alias"
    own = " AND h.is_own" if claim.scope.own_only and "is_own" in ctx.columns(table) else ""
    return ctx.rows(
        f"""{cte} SELECT h.doc_id, h.start_char, h.end_char, {text_col} AS matched_text,
                   sc.published_at, sc.date_basis, sc.kind, sc.title
            FROM {table} h JOIN scope sc ON sc.doc_id = h.doc_id
            WHERE h.{id_col} IN (SELECT unnest(?::VARCHAR[])){own}
            ORDER BY sc.published_at NULLS LAST, h.doc_id, h.start_char""",
        [*params, id_value if isinstance(id_value, list) else [id_value]],
    )


def _later(st: ScopeStats) -> str:
    return f"; {n_of(st.later_docs, 'later ' + st.noun)} (after the profile's date) not read" if st.later_docs else ""


def _phrase_label(claim: Claim, hits: list[dict[str, Any]]) -> str:
    return claim.label or said(hits, claim.params["phrase"].replace("_", " "))


@metric(MetricSpec("phrase_documents", "documents in scope with at least one hit of the phrase", "number", "up",
                   tables=("documents", "phrase_hits"), params=_PHRASE, unit="documents", per_document=1))
def phrase_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "phrase_hits", "phrase_id", claim.params["phrase"])
    docs = first_per_doc(hits)
    label = _phrase_label(claim, hits)
    return Measure(
        float(len(docs)),
        f"found {n_of(len(docs), st.noun)} with '{label}' in {n_of(st.scope_docs, 'collected ' + st.noun)}"
        f"{window_text(claim.scope)}{_later(st)}",
        hits=[hit(h) for h in docs],
        evidence_count=len(docs),
    )


@metric(MetricSpec("phrase_hits", "hits of the phrase in scope", "number", "up",
                   tables=("documents", "phrase_hits"), params=_PHRASE, unit="hits"))
def phrase_hits(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "phrase_hits", "phrase_id", claim.params["phrase"])
    ndocs = len({h["doc_id"] for h in hits})
    label = _phrase_label(claim, hits)
    return Measure(
        float(len(hits)),
        f"found {len(hits):,} uses of '{label}' in {ndocs:,} of {n_of(st.scope_docs, 'collected ' + st.noun)}"
        f"{window_text(claim.scope)}{_later(st)}",
        hits=[hit(h) for h in hits],
        evidence_count=len(hits),
    )


def first_use(hits: list[dict[str, Any]], label: str, st: ScopeStats, claim: Claim) -> Measure:
    """The earliest use among documents whose date dates their text; the others are named apart."""
    per_doc = first_per_doc(hits)
    dated = [h for h in per_doc if h["published_at"] is not None and h.get("date_basis") != "repo_created"]
    undated = [h for h in per_doc if h not in dated]
    tail = ""
    if undated:
        shown = ", ".join(h["doc_id"] for h in undated[:3])
        tail = f"; {n_of(len(undated), 'undated ' + st.noun)} also use it ({shown}: a README or snapshot is not dated by its repository)"
    if not dated:
        return Measure(
            None,
            f"found no dated use of '{label}' in {n_of(st.scope_docs, 'collected ' + st.noun)}{window_text(claim.scope)}{tail}{_later(st)}",
        )
    first = dated[0]
    d = as_date(first["published_at"])
    how = " (dated only by its file's name)" if first.get("date_basis") == "file_name" else ""
    return Measure(
        d,
        f"the earliest use of '{label}' found is {d}, in {doc_ref(first, first['doc_id'])}{how}, "
        f"among {n_of(len(dated), 'dated ' + st.noun)} using it{tail}{_later(st)}",
        hits=[hit(h) for h in dated],
        evidence_count=len(dated),
        display=str(d),
    )


@metric(MetricSpec("phrase_first_use", "date of the earliest document in scope using the phrase (its date must date its text)",
                   "date", "down", tables=("documents", "phrase_hits"), params=_PHRASE))
def phrase_first_use(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "phrase_hits", "phrase_id", claim.params["phrase"])
    return first_use(hits, _phrase_label(claim, hits), st, claim)


def _entity_label(claim: Claim) -> str:
    return claim.label or claim.params["entity"].replace("_", " ").title()


@metric(MetricSpec(
    "entity_documents", "documents in scope mentioning the entity (or any of `or_entities`: a person's works)",
    "number", "up", tables=("documents", "mentions"), unit="documents", per_document=1,
    params={**_ENTITY, "or_entities": Param("id_list", required=False, doc="entity ids that count as citing it too",
                                            refers_to="entity")},
))
def entity_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    ids = [claim.params["entity"], *(claim.params.get("or_entities") or [])]
    hits = _table_hits(ctx, claim, "mentions", "entity_id", ids)
    docs = first_per_doc(hits)
    return Measure(
        float(len(docs)),
        f"found {n_of(len(docs), st.noun)} citing {_entity_label(claim)} ({n_of(len(hits), 'mentions')}) in "
        f"{n_of(st.scope_docs, 'collected ' + st.noun)}{window_text(claim.scope)}{_later(st)}",
        hits=[hit(h) for h in docs],
        evidence_count=len(docs),
    )


@metric(MetricSpec("entity_mentions", "mentions of the entity in scope", "number", "up",
                   tables=("documents", "mentions"), params=_ENTITY, unit="mentions"))
def entity_mentions(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "mentions", "entity_id", claim.params["entity"])
    ndocs = len({h["doc_id"] for h in hits})
    return Measure(
        float(len(hits)),
        f"found {len(hits):,} mentions of {_entity_label(claim)} in {ndocs:,} of {st.scope_docs:,} collected "
        f"{st.noun}{window_text(claim.scope)}{_later(st)}",
        hits=[hit(h) for h in hits],
        evidence_count=len(hits),
    )


@metric(MetricSpec(
    "entity_rank",
    "rank of the entity (1 = most cited) among `among` (default: every entity mentioned in scope), by documents or mentions; "
    "uncollected documents could only lift it by documents (each adds at most one), never by an unknown number of mentions",
    "number", "down", tables=("documents", "mentions"),
    params={
        **_ENTITY,
        "among": Param("id_list", required=False, doc="entity ids to rank against", refers_to="entity"),
        "by": Param("str", required=False, choices=("documents", "mentions")),
    },
))
def entity_rank(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    target = claim.params["entity"]
    among: list[str] | None = claim.params.get("among")
    by = claim.params.get("by", "documents")
    cte, params = scope_cte(ctx, claim.scope)
    own = " WHERE m.is_own" if claim.scope.own_only and "is_own" in ctx.columns("mentions") else ""
    rows = ctx.rows(
        f"""{cte} SELECT m.entity_id, count(DISTINCT m.doc_id) AS documents, count(*) AS mentions
            FROM mentions m JOIN scope sc ON sc.doc_id = m.doc_id{own} GROUP BY m.entity_id""",
        params,
    )
    counts = {r["entity_id"]: int(r[by]) for r in rows}
    pool = set(among) if among else set(counts)
    pool.add(target)
    mine = counts.get(target, 0)
    rank = 1 + sum(1 for e in pool if e != target and counts.get(e, 0) > mine)
    ties = sorted(e for e in pool if e != target and counts.get(e, 0) == mine and mine > 0)
    ranked = sorted(((counts.get(e, 0), e) for e in pool if e != target), reverse=True)
    ahead = [(n, e) for n, e in ranked if n > mine]
    parts = [
        f"{_entity_label(claim)} is cited in {mine:,} {by} in scope and ranks {rank} of {len(pool)} tracked"
        + (" contemporaries" if among else " entities")
    ]
    if ties:
        parts.append(f"tied with {', '.join(ties[:3])}")
    if ahead:
        parts.append("ahead: " + ", ".join(f"{e} {n:,}" for n, e in ahead[:6]))
    elif ranked and not ties:
        parts.append(f"next is {ranked[0][1]} with {ranked[0][0]:,}")
    hits = first_per_doc(_table_hits(ctx, claim, "mentions", "entity_id", target))
    needs, needs_text = _rank_needs(claim, by, mine, ranked)
    return Measure(
        float(rank),
        "; ".join(parts) + _later(st),
        hits=[hit(h) for h in hits],
        evidence_count=len(hits),
        display=str(rank),
        needs_documents=needs,
        needs_text=needs_text,
    )


def _rank_needs(claim: Claim, by: str, mine: int, ranked: list[tuple[int, str]]) -> tuple[int | None, str]:
    """Documents the entity would need to reach the claimed rank (its rivals gaining none): to rank
    R it must at least equal the R-th of the others. None by mentions (one document may add many)."""
    if by != "documents" or claim.comparator not in ("eq", "le", "lt") or not isinstance(claim.expected, int | float):
        return None, ""
    want = int(claim.expected) - (1 if claim.comparator == "lt" else 0)
    if want < 1 or want > len(ranked):
        return 0, ""
    bar, rival = ranked[want - 1]
    return max(0, bar - mine), f"{n_of(max(0, bar - mine), 'more citing documents')} to equal {rival}'s {bar:,}"


def _sql_prefilter(pattern: str) -> str | None:
    """The pattern, when DuckDB's regular expressions (RE2, multi-threaded) can select the documents
    before Python's ``re`` reads them, because RE2 matches wherever ``re`` does; else None, and
    ``re`` reads every document. That holds for an ASCII pattern without lookaround, backreference,
    character-class escapes (``\\w \\s \\d`` are Unicode-wide in ``re``, ASCII in RE2) or other
    escaped letters, and with a word boundary ``\\b`` only beside an ASCII letter or digit of the
    pattern itself (there both see a boundary where ``re`` does; a non-ASCII case variant of that
    letter, the Kelvin sign for "k", aside)."""
    if not pattern.isascii() or "(?" in pattern:
        return None
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            if i + 1 >= len(pattern):
                return None
            escaped = pattern[i + 1]
            if escaped == "b":
                before = pattern[i - 1] if i > 0 else ""
                after = pattern[i + 2] if i + 2 < len(pattern) else ""
                if not (before.isalnum() or after.isalnum()):
                    return None
            elif escaped.isalnum():
                return None
            i += 2
        else:
            i += 1
    return pattern


def _pattern_hits(ctx: Context, claim: Claim) -> list[dict[str, Any]]:
    pattern = claim.params["pattern"]
    rx = re.compile(pattern, re.IGNORECASE)
    cte, params = scope_cte(ctx, claim.scope)
    sql = f"{cte} SELECT doc_id, kind, title, published_at, date_basis FROM scope"
    order = " ORDER BY published_at NULLS LAST, doc_id"
    pre = _sql_prefilter(pattern)
    docs = None
    if pre is not None:
        try:  # documents RE2 finds the pattern in (multi-threaded, in DuckDB); Python's re then decides
            docs = ctx.rows(f"{sql} WHERE doc_id IN (SELECT doc_id FROM documents WHERE regexp_matches(text, ?, 'i')){order}",
                            [*params, pre])
        except duckdb.Error:
            docs = None  # RE2 does not take it: read every document
    if docs is None:
        docs = ctx.rows(sql + order, params)
    out = []
    for d in docs:
        turns = ctx.own_turns(d["doc_id"]) if claim.scope.own_only else None
        for m in rx.finditer(ctx.text(d["doc_id"])):
            if in_own_turn(turns, m.start()):
                out.append({**d, "start_char": m.start(), "end_char": m.end(), "matched_text": m.group(0)})
                break
    return out


def _pattern_label(claim: Claim, hits: list[dict[str, Any]]) -> str:
    return claim.label or claim.params.get("label") or said(hits, claim.params["pattern"])


@metric(MetricSpec("pattern_documents", "documents in scope whose text matches the pattern", "number", "up",
                   params=_PATTERN, unit="documents", per_document=1))
def pattern_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _pattern_hits(ctx, claim)
    label = _pattern_label(claim, hits)
    return Measure(
        float(len(hits)),
        f"found {n_of(len(hits), st.noun)} with '{label}' in {n_of(st.scope_docs, 'collected ' + st.noun)}"
        f"{window_text(claim.scope)}{_later(st)}",
        hits=[hit(h) for h in hits],
        evidence_count=len(hits),
    )


@metric(MetricSpec("pattern_first_use", "date of the earliest document in scope matching the pattern (its date must date its text)",
                   "date", "down", params=_PATTERN))
def pattern_first_use(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _pattern_hits(ctx, claim)
    return first_use(hits, _pattern_label(claim, hits), st, claim)
