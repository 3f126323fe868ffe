"""Which documents a claim reads, and how much of them the warehouse holds.

``scope_cte`` selects a scope's documents in SQL, inside the profile's frame: a claim about what
exists (``frame: existence``, the default) reads only documents dated up to the profile's
``as_of`` day (undated ones included); a claim about the profile's own collection (``frame:
collection``) also reads only the sources the profile itself names (``sources.in_profile``, Known
Gaps excluded); ``frame: none`` reads everything (quotes: a later document can still show he said it).

``scope_stats`` measures the scope against what the catalog expects: the claimed item count of a
tweet archive or blog feed, one document per catalogued item, or the claimed words. What is
missing is listed source by source (``Missing``), with the date the catalog or an index page
(``listings``) gives it, so the verdict can tell a gap more data could close from one it cannot.
"""

# SQL here is assembled only from fixed fragments and "?" placeholders; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pipelines.core import db
from pipelines.core.claims.context import Context, ph, utc
from pipelines.core.config import DOC_KIND_OF_SOURCE
from pipelines.core.periods import as_date

if TYPE_CHECKING:
    from pipelines.core.claims.config import Scope

NOUNS = {
    "tweet": "tweets",
    "video": "videos",
    "podcast": "podcasts",
    "blog_post": "blog posts",
    "paper": "papers",
    "repo": "repos",
    "other": "other documents",
}
CONTAINER_KINDS = {"tweet_archive", "blog_feed"}  # one catalog entry, many documents
SOURCE_KINDS_OF_DOC = {
    "tweet": ["tweet_archive"],
    "blog_post": ["blog_post", "blog_feed"],
    "video": ["video"],
    "podcast": ["podcast"],
    "paper": ["paper"],
    "repo": ["repo"],
    "other": [],
}


@dataclass
class Missing:
    """A catalogued source of the scope with no document in the warehouse."""

    source_id: str
    kind: str
    date: date | None  # the catalog's date (its first day), or the date an index page lists
    listed: bool = False  # an index page in raw/ proves it exists
    claimed_words: int | None = None

    @property
    def container(self) -> bool:
        return self.kind in CONTAINER_KINDS

    def describe(self) -> str:
        when = f", {'listed ' if self.listed else ''}{self.date}" if self.date else ""
        return f"{self.source_id}{when}"


@dataclass
class ScopeStats:
    scope_docs: int | None = None
    scope_words: int | None = None
    base_docs: int | None = None
    base_words: int | None = None
    expected_docs: int | None = None
    expected_words: int | None = None
    ratio: float | None = None
    missing: list[Missing] = field(default_factory=list)
    unknown_source_ids: list[str] = field(default_factory=list)
    later_docs: int = 0  # documents of the scope dated after the profile's as_of day, not used
    noun: str = "documents"

    @property
    def missing_sources(self) -> list[str]:
        return [m.source_id for m in self.missing]

    @property
    def complete(self) -> bool:
        return self.ratio is not None and self.ratio >= 1 - 1e-9 and not self.missing

    @property
    def gap_docs(self) -> int:
        """Documents the catalog expects that are not collected (0 when not known)."""
        if self.expected_docs and self.base_docs is not None:
            return max(0, self.expected_docs - self.base_docs)
        return 0


def select_sources(scope: Scope, alias: str, conds: list[str], params: list[Any]) -> None:
    """Append the scope's source selection to ``conds`` / ``params``: any of its source ids, URL
    patterns or collection, minus its excluded source ids. ``alias`` is the table whose
    ``source_id`` and ``url`` are matched ("d" documents or "s" sources; the collection is always
    the joined source's ``s.collection``)."""
    sel: list[str] = []
    if scope.source_ids:
        sel.append(f"{alias}.source_id IN ({ph(len(scope.source_ids))})")
        params += scope.source_ids
    for pat in scope.url_like:
        sel.append(f"{alias}.url ILIKE ?")
        params.append(pat)
    if scope.collection:
        sel.append("s.collection = ?")
        params.append(scope.collection)
    if sel:
        conds.append("(" + " OR ".join(sel) + ")")
    if scope.exclude_source_ids:
        conds.append(f"{alias}.source_id NOT IN ({ph(len(scope.exclude_source_ids))})")
        params += scope.exclude_source_ids


def frame_end(ctx: Context, scope: Scope) -> date | None:
    """The last day a scope's documents may carry: the profile's as_of day, unless the frame is none."""
    return ctx.as_of if scope.frame != "none" else None


def scope_cte(
    ctx: Context,
    scope: Scope,
    *,
    own: bool | None = None,
    window: tuple[date | None, date | None] | None = None,
    later: bool = False,
) -> tuple[str, list[Any]]:
    """``WITH scope AS (...)`` selecting the scope's documents, and its parameters.

    ``own`` overrides scope.own_only; ``window`` overrides the scope's date range; ``later``
    selects instead the documents the frame leaves out (dated after the profile's as_of day)."""
    conds: list[str] = []
    params: list[Any] = []
    if scope.kinds:
        conds.append(f"d.kind IN ({ph(len(scope.kinds))})")
        params += scope.kinds
    select_sources(scope, "d", conds, params)
    in_profile = True if scope.frame == "collection" and scope.in_profile is None else scope.in_profile
    if in_profile is not None:  # the profile's corpus: named by it, not one of its Known Gaps
        conds.append("(coalesce(s.in_profile, false) AND NOT coalesce(s.known_gap, false)) = ?")
        params.append(in_profile)
    if scope.in_catalog is not None:
        conds.append("coalesce(s.in_catalog, false) = ?")
        params.append(scope.in_catalog)
    if scope.own_only if own is None else own:
        conds.append("coalesce(d.is_own, true)")
    lo, hi = window if window is not None else (scope.day_from, scope.day_to)
    if lo:
        conds.append("d.published_at >= ?")
        params.append(utc(lo))
    if hi:
        conds.append("d.published_at < ?")
        params.append(utc(hi + timedelta(days=1)))
    end = frame_end(ctx, scope)
    if end is not None:
        if later:
            conds.append("d.published_at >= ?")
        else:
            conds.append("(d.published_at IS NULL OR d.published_at < ?)")
        params.append(utc(end + timedelta(days=1)))
    elif later:
        conds.append("false")
    where = " AND ".join(conds) or "TRUE"
    basis = "d.date_basis" if ctx.has("documents", "date_basis") else "NULL::VARCHAR"
    sql = (
        "WITH scope AS (SELECT d.doc_id, d.source_id, d.kind, d.title, d.url, d.published_at, "
        f"{basis} AS date_basis, coalesce(d.word_count, 0) AS word_count "
        f"FROM documents d LEFT JOIN {ctx.sources_sql} s ON s.source_id = d.source_id WHERE {where})"
    )
    return sql, params


def _listed_dates(ctx: Context, source_ids: list[str]) -> dict[str, date]:
    """The earliest date an index page in raw/ lists each source at."""
    if not source_ids or not ctx.has("listings"):
        return {}
    rows = ctx.con.execute(
        f"SELECT source_id, min(published_at) FROM listings WHERE source_id IN ({ph(len(source_ids))}) GROUP BY 1",
        source_ids,
    ).fetchall()
    return {s: d for s, when in rows if (d := as_date(when)) is not None}


def cached_scope_stats(ctx: Context, scope: Scope) -> ScopeStats:
    """``scope_stats`` of the scope, measured once per run (per Context) for the claims that share it."""
    key = scope.model_dump_json()
    if key not in ctx._scope_stats:
        ctx._scope_stats[key] = scope_stats(ctx, scope)
    return deepcopy(ctx._scope_stats[key])


def scope_stats(ctx: Context, scope: Scope) -> ScopeStats:
    st = ScopeStats()
    cte, params = scope_cte(ctx, scope)
    st.scope_docs, st.scope_words, kinds_seen = ctx.con.execute(
        f"{cte} SELECT count(*), coalesce(sum(word_count), 0), list(DISTINCT kind) FROM scope", params
    ).fetchone()  # type: ignore[misc]
    cte, params = scope_cte(ctx, scope, later=True)
    st.later_docs = int(db.scalar(ctx.con, f"{cte} SELECT count(*) FROM scope", params))
    kinds = set(scope.kinds) or {k for k in (kinds_seen or []) if k}
    cov_window = (
        scope.coverage_from.start if scope.coverage_from else None,
        scope.coverage_to.end if scope.coverage_to else None,
    )
    cte, params = scope_cte(ctx, scope, own=False, window=cov_window)
    st.base_docs, st.base_words = ctx.con.execute(
        f"{cte} SELECT count(*), coalesce(sum(word_count), 0) FROM scope", params
    ).fetchone()  # type: ignore[misc]
    st.unknown_source_ids = [s for s in scope.source_ids if s not in ctx.source_ids]

    # What the catalog expects of the scope's sources.
    exp_docs: int | None = None
    exp_words: int | None = None
    if "sources" in ctx.tables:
        conds = ["coalesce(s.in_catalog, false)", "NOT coalesce(s.known_gap, false)"]
        params = []
        if scope.kinds:
            skinds = sorted({k for dk in scope.kinds for k in SOURCE_KINDS_OF_DOC.get(dk, [])})
            if not skinds:
                skinds = ["-none-"]
            conds.append(f"s.kind IN ({ph(len(skinds))})")
            params += skinds
        select_sources(scope, "s", conds, params)
        in_profile = True if scope.frame == "collection" and scope.in_profile is None else scope.in_profile
        if in_profile is not None:
            conds.append("coalesce(s.in_profile, false) = ?")
            params.append(in_profile)
        if scope.in_catalog is False:
            conds.append("false")
        srcs = ctx.rows(
            f"""SELECT s.source_id, s.kind, s.collection, s.claimed_items, s.claimed_words, s.published_at,
                       (SELECT count(*) FROM documents d WHERE d.source_id = s.source_id) AS docs
                FROM sources s WHERE {" AND ".join(conds)} ORDER BY s.source_id""",
            params,
        )
        listed = _listed_dates(ctx, [s["source_id"] for s in srcs if not s["docs"]])
        end = frame_end(ctx, scope)
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for s in srcs:
            when = listed.get(s["source_id"]) or as_date(s["published_at"])
            if end is not None and when is not None and when > end:
                continue  # after the profile's day: not part of what it speaks about
            if when is not None and ((scope.day_from and when < scope.day_from) or (scope.day_to and when > scope.day_to)):
                continue  # outside the scope's dates
            key = (
                s["kind"] if s["kind"] not in ("blog_post", "blog_feed") else "blog",
                s["collection"] or "",
            )
            g = groups.setdefault(key, {"containers": 0, "known": False, "items": 0})
            miss = Missing(s["source_id"], s["kind"], when, s["source_id"] in listed, s["claimed_words"])
            if s["kind"] in CONTAINER_KINDS:
                if s["claimed_items"] is not None:
                    g["containers"] += int(s["claimed_items"])
                    g["known"] = True
                if s["kind"] == "tweet_archive" and not s["docs"]:
                    st.missing.append(miss)
            else:
                g["items"] += 1
                g["known"] = True
                if not s["docs"]:
                    st.missing.append(miss)
            if s["claimed_words"] is not None:
                exp_words = (exp_words or 0) + int(s["claimed_words"])
        if not kinds:
            kinds = {DOC_KIND_OF_SOURCE.get(x["kind"], x["kind"]) for x in srcs}
        if any(g["known"] for g in groups.values()):
            exp_docs = sum(max(g["containers"], g["items"]) for g in groups.values())
    st.noun = NOUNS.get(next(iter(kinds)), "documents") if len(kinds) == 1 else "documents"
    st.expected_docs = scope.expected_docs if scope.expected_docs is not None else exp_docs
    st.expected_words = scope.expected_words if scope.expected_words is not None else exp_words
    if st.expected_docs:
        st.ratio = st.base_docs / st.expected_docs
    elif st.expected_words:
        st.ratio = st.base_words / st.expected_words
    return st


def window_text(scope: Scope) -> str:
    lo, hi = scope.day_from, scope.day_to
    if lo and hi:
        return f" dated {lo} to {hi}"
    if lo:
        return f" dated from {lo}"
    if hi:
        return f" dated up to {hi}"
    return ""
