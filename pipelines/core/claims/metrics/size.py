"""Size, running time and dates of a claim's scope: documents, words, megabytes, hours, first and
last dates. Counts and dates of existence also read the index pages in raw/ (``listings``): a post
an index lists exists on its date even when its text is not collected."""

# SQL here is assembled only from fixed fragments and "?" placeholders; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.core.claims.fmt import doc_ref, n_of, singular
from pipelines.core.claims.metrics.base import metric
from pipelines.core.claims.scope import scope_cte, window_text
from pipelines.core.claims.spec import Hit, Measure, MetricSpec
from pipelines.core.periods import as_date
from pipelines.core.textutil import word_count

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.scope import ScopeStats


def _later(st: ScopeStats) -> str:
    return f"; {n_of(st.later_docs, 'later ' + st.noun)} (after the profile's date) not counted" if st.later_docs else ""


def _listed_note(st: ScopeStats) -> str:
    listed = [m for m in st.missing if m.listed]
    if not listed:
        return ""
    names = ", ".join(f"{m.source_id} ({m.date})" for m in listed[:4])
    return f", and {n_of(len(listed), st.noun)} an index page in raw/ lists without its text ({names})"


@metric(MetricSpec("documents", "number of documents in scope, plus items an index page lists whose text is not collected",
                   "number", "up", unit="documents", per_document=1, existence=True))
def documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    docs = ctx.rows(f"{cte} SELECT doc_id FROM scope ORDER BY published_at NULLS LAST, doc_id", params)
    listed = [m for m in st.missing if m.listed]
    n = len(docs) + len(listed)
    return Measure(
        float(n),
        f"found {n_of(len(docs), st.noun)}{window_text(claim.scope)} ({st.scope_words or 0:,} words)"
        f"{_listed_note(st)}{_later(st)}",
        hits=[Hit(d["doc_id"]) for d in docs],
        evidence_count=n,
    )


def own_words(ctx: Context, doc_id: str, words: int) -> tuple[int, bool]:
    """(the thinker's words in a document, whether speaker turns narrowed it)."""
    turns = ctx.own_turns(doc_id)
    if not turns:
        return words, False
    text = ctx.text(doc_id)
    return sum(word_count(text[a:b]) for a, b, own in turns if own), True


@metric(MetricSpec("words", "words in scope (documents.word_count; in a recording with speaker turns, only the thinker's turns)",
                   "number", "up", unit="words"))
def words(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    mixed = "NOT coalesce(d.speakers_separated, true)" if ctx.has("documents", "speakers_separated") else "false"
    docs = ctx.rows(
        f"{cte} SELECT sc.doc_id, sc.word_count, {mixed} AS mixed FROM scope sc JOIN documents d USING (doc_id) "
        "ORDER BY sc.word_count DESC, sc.doc_id",
        params,
    )
    total, narrowed, mixed_docs = 0, [], []
    hits = []
    for d in docs:
        w = int(d["word_count"] or 0)
        hit = Hit(d["doc_id"])
        if claim.scope.own_only:
            w, by_turns = own_words(ctx, d["doc_id"], w)
            if by_turns:
                narrowed.append(f"{d['doc_id']}: {w:,} of {int(d['word_count'] or 0):,} in the thinker's turns")
                first = next((a for a, _, own in ctx.own_turns(d["doc_id"]) or [] if own), None)
                if first is not None:  # the evidence opens where his part starts
                    hit = Hit(d["doc_id"], first, first + 1)
        hits.append(hit)
        total += w
        if d["mixed"] and not (claim.scope.own_only and ctx.own_turns(d["doc_id"])):
            mixed_docs.append(d["doc_id"])
    notes = ""
    if narrowed:
        notes += "; only the thinker's speaker turns count (" + "; ".join(narrowed[:3]) + ")"
    if mixed_docs:
        notes += (
            f"; {n_of(len(mixed_docs), st.noun)} without speaker information "
            f"({', '.join(mixed_docs[:3])}) count every speaker's words"
        )
    return Measure(
        float(total),
        f"found {total:,} words in {n_of(len(docs), st.noun)}{window_text(claim.scope)}{notes}{_later(st)}",
        hits=hits,
        evidence_count=len(docs),
    )


@metric(MetricSpec("megabytes", "UTF-8 size of the documents' text in scope, in MB (10^6 bytes)", "number", "up", unit="MB"))
def megabytes(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    b, n = ctx.con.execute(
        f"{cte} SELECT coalesce(sum(octet_length(encode(coalesce(d.text, '')))), 0), count(*) "
        "FROM scope JOIN documents d USING (doc_id)",
        params,
    ).fetchone()  # type: ignore[misc]
    mb = b / 1e6
    return Measure(mb, f"the text of {n_of(n, st.noun)} is {mb:.2f} MB (UTF-8){_later(st)}", display=f"{mb:.2f}")


@metric(MetricSpec("duration_hours", "running time of the scope's recordings, in hours: per document the last caption's end "
                   "when its timings are real, else the duration its metadata gives; unknown is never 0",
                   "number", "up", tables=("documents", "segments"), unit="hours"))
def duration_hours(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    if ctx.has("documents", "duration_s"):
        rows = ctx.rows(
            f"{cte} SELECT sc.doc_id, d.duration_s AS seconds, d.duration_basis AS basis, d.timed "
            "FROM scope sc JOIN documents d USING (doc_id) ORDER BY sc.doc_id",
            params,
        )
    else:  # an older warehouse: the last caption end
        rows = ctx.rows(
            f"""{cte} SELECT sc.doc_id, max(g.end_s) FILTER (WHERE g.end_s > 0) AS seconds, 'captions' AS basis,
                   true AS timed FROM scope sc LEFT JOIN segments g ON g.doc_id = sc.doc_id GROUP BY sc.doc_id ORDER BY 1""",
            params,
        )
    unknown = [r["doc_id"] for r in rows if r["seconds"] is None]
    if unknown:
        why = "no real caption timings (every stamp near 0:00) and no duration in its metadata"
        return Measure(
            None, "", unavailable=f"the running time of {', '.join(unknown[:4])} is unknown: {why}"
            + (f" ({len(rows) - len(unknown)} of {len(rows)} {st.noun} in scope have one)" if len(rows) > 1 else "")
        )
    hours = sum(float(r["seconds"]) for r in rows) / 3600
    bases = sorted({r["basis"] for r in rows if r["basis"]})
    how = " and ".join({"captions": "caption timings", "metadata": "the video metadata"}.get(b, b) for b in bases)
    return Measure(
        hours,
        f"by {how or 'caption timings'} the {n_of(len(rows), st.noun)} in scope "
        f"{'run' if len(rows) != 1 else 'runs'} {hours:.2f} hours",
        display=f"{hours:.2f}",
        hits=[Hit(r["doc_id"]) for r in rows],
        evidence_count=len(rows),
    )


def _date_measure(ctx: Context, claim: Claim, st: ScopeStats, *, first: bool) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    order = "ASC" if first else "DESC"
    rows = ctx.rows(
        f"{cte} SELECT doc_id, title, kind, published_at FROM scope WHERE published_at IS NOT NULL "
        f"AND coalesce(date_basis, '') <> 'repo_created' ORDER BY published_at {order}, doc_id",
        params,
    )
    listed = [m for m in st.missing if m.listed and m.date is not None]
    candidates: list[tuple[object, str, str]] = [(as_date(r["published_at"]), "doc", r["doc_id"]) for r in rows]
    candidates += [(m.date, "listed", m.source_id) for m in listed]
    if not candidates:
        return Measure(None, "", unavailable=f"none of the {st.scope_docs} {st.noun} in scope carries a date that dates its text")
    candidates.sort(key=lambda c: (c[0], c[2]), reverse=not first)  # type: ignore[arg-type, return-value]
    when, how, ident = candidates[0]
    which = "earliest" if first else "latest"
    if how == "listed":
        found = f"the {which} {singular(st.noun)} in scope is {ident}, listed on an index page in raw/ on {when} (its text is not collected)"
    else:
        top = next(r for r in rows if r["doc_id"] == ident)
        found = f"the {which} dated {singular(st.noun)} in scope is {doc_ref(top, ident)} of {when}"
    return Measure(
        when,  # type: ignore[arg-type]
        found + _later(st),
        hits=[Hit(r["doc_id"]) for r in rows],
        evidence_count=len(rows),
        display=str(when),
    )


@metric(MetricSpec("first_date", "earliest date in scope (documents whose date dates their text, and listed items)", "date", "down",
                   existence=True))
def first_date(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    return _date_measure(ctx, claim, st, first=True)


@metric(MetricSpec("last_date", "latest date in scope up to the profile's date (documents and listed items)", "date", "up",
                   existence=True))
def last_date(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    return _date_measure(ctx, claim, st, first=False)
