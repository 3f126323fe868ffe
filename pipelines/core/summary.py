"""The short run summary `corpus run` prints, computed from a warehouse connection."""

from __future__ import annotations

from typing import Any

import duckdb


def status_data(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The warehouse's state as data: what `corpus status --json` prints and `run_summary` formats."""
    n_src, n_cat = con.execute("SELECT count(*), count(*) FILTER (WHERE in_catalog) FROM sources").fetchone()  # type: ignore[misc]
    kinds = con.execute(
        "SELECT kind, count(*), coalesce(sum(word_count), 0) FROM documents GROUP BY 1 ORDER BY 1"
    ).fetchall()
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    data: dict[str, Any] = {
        "sources": {"total": n_src, "in_catalog": n_cat, "only_in_raw": n_src - n_cat},
        "documents": {"total": sum(r[1] for r in kinds), "words": int(sum(r[2] for r in kinds)),
                      "by_kind": {k: {"documents": n, "words": int(w)} for k, n, w in kinds}},
        "raw_files": dict(sorted(con.execute("SELECT status, count(*) FROM snapshots GROUP BY 1").fetchall())),
        "rejected": [{"file": p, "error": e} for p, e in con.execute(
            "SELECT coalesce(path, origin), error FROM snapshots WHERE status = 'rejected' ORDER BY 1").fetchall()],
        "not_collected_by_fetcher": [{"fetcher": f, "status": st, "count": n} for f, st, n in con.execute(
            "SELECT fetcher, status, count(*) FROM snapshots WHERE status IN ('failed','not_collectable') "
            "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()],
        "missing_sources": missing_source_rows(con),
        "verdicts": {},
        "coverage": None,
    }
    if "claims" in tables:
        data["verdicts"] = dict(con.execute("SELECT verdict, count(*) FROM claims GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    if "coverage_by_kind" in tables:
        row = con.execute("SELECT sum(collected), sum(sources) - sum(known_gaps) FROM coverage_by_kind").fetchone()
        if row and row[1]:
            data["coverage"] = {"collected": int(row[0]), "expected": int(row[1])}
    return data


def run_summary(con: duckdb.DuckDBPyConnection, max_rejected: int = 15) -> str:
    d = status_data(con)
    src, docs = d["sources"], d["documents"]
    lines = [f"sources: {src['total']} ({src['in_catalog']} in the catalog, {src['only_in_raw']} found only in raw/)",
             f"documents landed: {docs['total']:,} ({docs['words']:,} words)"]
    for kind, v in docs["by_kind"].items():
        lines.append(f"  {kind:<10} {v['documents']:>6,} documents {v['words']:>10,} words")
    lines.append("raw files: " + ", ".join(f"{k} {v}" for k, v in d["raw_files"].items()))
    not_collected = len(d["missing_sources"])
    lines.append(f"catalog sources not collected yet: {not_collected}" + (" (`corpus status` lists them)" if not_collected else ""))
    rejected = d["rejected"]
    if rejected:
        lines.append(f"rejected files ({len(rejected)}):")
        for r in rejected[:max_rejected]:
            lines.append(f"  {r['file']}: {r['error']}")
        if len(rejected) > max_rejected:
            lines.append(f"  ... and {len(rejected) - max_rejected} more (SELECT * FROM snapshots WHERE status = 'rejected')")  # noqa: S608 - a hint printed for the user, not a query
    for r in d["not_collected_by_fetcher"]:
        lines.append(f"not collected by {r['fetcher']}: {r['count']} {r['status']}")
    if d["verdicts"]:
        total = sum(d["verdicts"].values())
        lines.append(f"claims verified: {total} (" + ", ".join(f"{v} {n}" for v, n in d["verdicts"].items()) + "); `corpus claims` lists them")
    if d["coverage"]:
        lines.append(f"catalog coverage: {d['coverage']['collected']} of {d['coverage']['expected']} sources collected (known gaps excluded)")
    return "\n".join(lines)


def missing_source_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every catalogued source with no document (Known Gaps and feeds apart), with the reason."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "coverage" in tables:
        rows = con.execute(
            "SELECT source_id, kind, title, reason FROM coverage WHERE status = 'missing' ORDER BY kind, source_id"
        ).fetchall()
    else:  # a warehouse published before coverage was built
        rows = con.execute(
            """SELECT s.source_id, s.kind, s.title, NULL FROM sources s
               WHERE s.in_catalog AND NOT s.known_gap AND s.kind <> 'blog_feed'
               AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.source_id = s.source_id) ORDER BY 2, 1"""
        ).fetchall()
    return [{"source_id": sid, "kind": kind, "title": title, "reason": reason} for sid, kind, title, reason in rows]


def missing_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per catalogued source with no document (Known Gaps and feeds apart), with the reason."""
    return [f"{r['source_id']} ({r['kind']}): {r['title']}" + (f" - {r['reason']}" if r["reason"] else "")
            for r in missing_source_rows(con)]
