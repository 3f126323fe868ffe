"""Coverage: how much of the catalog (and of the profile's corpus) the warehouse holds.

Pure code over a DuckDB connection, no Dagster.

``coverage`` has one row per source (catalogued or found only in raw/):

* ``collected``     documents landed, and they reach the catalog's claims
* ``partial``       documents landed but fewer items than claimed (702 of 756 tweets), or fewer
                    than ``PARTIAL_WORDS_RATIO`` of the claimed words
* ``missing``       catalogued, nothing landed; the reason comes from the source's latest
                    snapshot error ("not collected: network unreachable") when there is one
* ``known_gap``     the profile lists it under Known Gaps and nothing landed (a Known Gap with
                    documents is ``collected``/``partial`` with reason "Known Gap closed: ...")
* ``uncatalogued``  documents whose source is not in analysis/catalog.yaml

A blog feed (kind ``blog_feed``) counts every post of its blog: the posts that belong to it (posts
without a catalog entry of their own: ``documents.source_id`` is the feed's), and the catalogued
posts of its ``collection`` or on its host. Each post is one document, counted once.

``coverage_by_kind`` sums this per document kind. ``overall_coverage`` gives the overall
figure the claims compare with the profile's "~80% coverage": the share of catalogued sources
(feeds excluded, Known Gaps included) that are the profile's own corpus, and the share that
has been collected here.
"""

# SQL here is assembled only from fixed fragments and "?" placeholders; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import duckdb

from pipelines.core import db
from pipelines.core.config import DOC_KIND_OF_SOURCE
from pipelines.core.schema import BY_KIND_COLUMNS, COVERAGE_COLUMNS

PARTIAL_WORDS_RATIO = 0.8

STATUS_ORDER = {"missing": 0, "partial": 1, "known_gap": 2, "collected": 3, "uncatalogued": 4}


def _latest_errors(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str]]:
    """source_id -> (status, error) of its latest snapshot that recorded an error."""
    if "snapshots" not in db.table_names(con):
        return {}
    cols = db.column_names(con, "snapshots")
    order = "seen_at DESC NULLS LAST, snapshot_id DESC" if "seen_at" in cols else "snapshot_id DESC"
    rows = con.execute(
        f"""SELECT source_id, status, error FROM snapshots
            WHERE source_id IS NOT NULL AND error IS NOT NULL AND error <> ''
            QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY {order}) = 1"""
    ).fetchall()
    return {s: (st, e) for s, st, e in rows}


def _feed_counts(con: duckdb.DuckDBPyConnection, feed: dict[str, Any]) -> tuple[int, int]:
    """Documents and words of a blog feed: its own posts, and posts of its collection or on its host."""
    conds, params = ["d.source_id = ?"], [feed["source_id"]]
    if feed.get("collection"):
        conds.append("s.collection = ?")
        params.append(feed["collection"])
    host = (urlsplit(feed["url"]).hostname or "").lower().removeprefix("www.") if feed.get("url") else ""
    if host:
        conds += ["d.url ILIKE ?", "d.url ILIKE ?"]
        params += [f"%://{host}/%", f"%://www.{host}/%"]
    n, w = con.execute(
        f"""SELECT count(*), coalesce(sum(d.word_count), 0) FROM documents d
            LEFT JOIN sources s ON s.source_id = d.source_id
            WHERE d.kind = 'blog_post' AND ({" OR ".join(conds)})""",
        params,
    ).fetchone()  # type: ignore[misc]
    return int(n), int(w)


def compute_coverage(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per source: what was expected, what landed, and why not when it did not."""
    tables = db.table_names(con)
    if "sources" not in tables:
        return []
    has_docs = "documents" in tables
    doc_join = (
        "LEFT JOIN (SELECT source_id, count(*) AS documents, coalesce(sum(word_count), 0) AS words "
        "FROM documents GROUP BY source_id) d ON d.source_id = s.source_id"
        if has_docs
        else "LEFT JOIN (SELECT NULL::VARCHAR AS source_id, 0 AS documents, 0 AS words WHERE false) d "
        "ON d.source_id = s.source_id"
    )
    sources = db.rows(
        con,
        f"""SELECT s.source_id, s.kind, s.title, s.url, s.collection,
                   coalesce(s.in_catalog, false) AS in_catalog, coalesce(s.known_gap, false) AS known_gap,
                   s.claimed_words, s.claimed_items,
                   coalesce(d.documents, 0) AS documents, coalesce(d.words, 0) AS words
            FROM sources s {doc_join}
            ORDER BY s.kind, s.source_id""",
    )
    errors = _latest_errors(con)
    out = []
    for s in sources:
        docs, words = int(s["documents"]), int(s["words"])
        if s["kind"] == "blog_feed" and has_docs:
            docs, words = _feed_counts(con, s)
        claimed_w, claimed_i = s["claimed_words"], s["claimed_items"]
        ratio = round(words / claimed_w, 4) if claimed_w else None
        err = errors.get(s["source_id"])
        reason: str | None
        if not s["in_catalog"]:
            status, reason = "uncatalogued", "found in raw/ but not in analysis/catalog.yaml"
        elif docs == 0:
            if s["known_gap"]:
                status = "known_gap"
                reason = "Known Gap in the profile; not collected" + (f": {err[1]}" if err else "")
            else:
                status = "missing"
                reason = (
                    f"not collected: {err[1]}"
                    if err
                    else "not collected: never fetched and no file dropped in raw/inbox"
                )
        else:
            short = []
            if claimed_i and docs < claimed_i:
                short.append(f"{docs:,} of {claimed_i:,} claimed items")
            if claimed_w and words < PARTIAL_WORDS_RATIO * claimed_w:
                short.append(f"{words:,} of {claimed_w:,} claimed words ({words / claimed_w:.0%})")
            status = "partial" if short else "collected"
            reason = "; ".join(short) or None
            if s["known_gap"]:
                reason = f"Known Gap closed: {docs:,} documents, {words:,} words" + (
                    f"; {reason}" if reason else ""
                )
        out.append(
            {
                "source_id": s["source_id"],
                "kind": s["kind"],
                "title": s["title"],
                "in_catalog": bool(s["in_catalog"]),
                "known_gap": bool(s["known_gap"]),
                "collected": docs > 0,
                "documents": docs,
                "words": words,
                "claimed_words": claimed_w,
                "claimed_items": claimed_i,
                "words_ratio": ratio,
                "status": status,
                "reason": reason,
            }
        )
    out.sort(key=lambda r: (STATUS_ORDER.get(r["status"], 9), r["kind"] or "", r["source_id"]))
    return out


def _doc_kind(source_kind: str | None) -> str:
    return DOC_KIND_OF_SOURCE.get(source_kind or "", source_kind or "other")


def coverage_by_kind(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per document kind: catalogued sources, how many collected / missing / Known Gaps, words."""
    by: dict[str, dict[str, Any]] = {}

    def slot(kind: str) -> dict[str, Any]:
        return by.setdefault(
            kind,
            {
                "kind": kind,
                "sources": 0,
                "collected": 0,
                "missing": 0,
                "known_gaps": 0,
                "uncatalogued": 0,
                "documents": 0,
                "words": 0,
                "claimed_words": 0,
            },
        )

    for r in rows:
        k = slot(_doc_kind(r["kind"]))
        if not r["in_catalog"]:
            k["uncatalogued"] += 1
            continue
        k["sources"] += 1
        k["collected"] += r["status"] in ("collected", "partial")
        k["missing"] += r["status"] == "missing"
        k["known_gaps"] += r["status"] == "known_gap"
        k["claimed_words"] += r["claimed_words"] or 0
    if "documents" in db.table_names(con):
        for kind, n, w in con.execute(
            "SELECT kind, count(*), coalesce(sum(word_count), 0) FROM documents GROUP BY kind"
        ).fetchall():
            k = slot(kind or "other")
            k["documents"], k["words"] = int(n), int(w)
    return sorted(by.values(), key=lambda k: (-k["words"], k["kind"]))


def overall_coverage(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The overall figures set beside the profile's "~80% coverage of total public corpus".

    Catalogued sources exclude blog feeds (their posts are sources of their own). The profile's
    corpus is the catalogued sources it names (``in_profile``), and the posts of the blogs it
    names (a feed with ``in_profile``, by ``collection``), that are not Known Gaps.
    """
    tables = db.table_names(con)
    out: dict[str, Any] = {
        "catalog_sources": 0,
        "profile_sources": 0,
        "known_gap_sources": 0,
        "other_sources": 0,
        "collected_sources": 0,
        "profile_words": 0,
        "all_words": 0,
        "claimed_words": 0,
        "claimed_words_collected": 0,
    }
    if "sources" not in tables:
        return out
    docs = "documents" in tables
    words_sql = (
        "(SELECT coalesce(sum(word_count), 0) FROM documents d WHERE d.source_id = s.source_id)"
        if docs
        else "0"
    )
    rows = db.rows(
        con,
        f"""SELECT coalesce(s.in_catalog, false) AS in_catalog, coalesce(s.in_profile, false) AS in_profile,
                   coalesce(s.known_gap, false) AS known_gap, s.kind, s.collection, s.claimed_words,
                   {words_sql} AS words,
                   {"EXISTS (SELECT 1 FROM documents d WHERE d.source_id = s.source_id)" if docs else "false"} AS has_docs
            FROM sources s""",
    )
    # A blog the profile names (its feed) brings every post of that blog into the profile's corpus.
    named_blogs = {
        r["collection"] for r in rows if r["kind"] == "blog_feed" and r["in_profile"] and r["collection"]
    }
    for r in rows:
        r["in_profile"] = bool(r["in_profile"]) or (
            r["kind"] == "blog_post" and r["collection"] in named_blogs
        )
    for r in rows:
        words = int(r["words"] or 0)
        out["all_words"] += words
        if r["in_profile"] and not r["known_gap"]:
            out["profile_words"] += words
        if not r["in_catalog"] or r["kind"] == "blog_feed":
            continue
        out["catalog_sources"] += 1
        out["collected_sources"] += bool(r["has_docs"])
        if r["known_gap"]:
            out["known_gap_sources"] += 1
        elif r["in_profile"]:
            out["profile_sources"] += 1
        else:
            out["other_sources"] += 1
        if r["claimed_words"]:
            out["claimed_words"] += int(r["claimed_words"])
            out["claimed_words_collected"] += min(words, int(r["claimed_words"]))
    n = out["catalog_sources"]
    out["profile_share"] = out["profile_sources"] / n if n else None
    out["collected_share"] = out["collected_sources"] / n if n else None
    out["claimed_words_share"] = (
        out["claimed_words_collected"] / out["claimed_words"] if out["claimed_words"] else None
    )
    return out


def write_coverage_tables(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Compute and replace ``coverage`` and ``coverage_by_kind`` in one transaction."""
    rows = compute_coverage(con)
    kinds = coverage_by_kind(con, rows)
    db.replace_tables(con, [("coverage", COVERAGE_COLUMNS, rows), ("coverage_by_kind", BY_KIND_COLUMNS, kinds)])
    return rows, kinds
