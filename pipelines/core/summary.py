"""The short run summary `corpus run` prints, computed from a warehouse connection."""

from __future__ import annotations

import duckdb


def run_summary(con: duckdb.DuckDBPyConnection, max_rejected: int = 15) -> str:
    lines = []
    n_src, n_cat = con.execute("SELECT count(*), count(*) FILTER (WHERE in_catalog) FROM sources").fetchone()  # type: ignore[misc]
    lines.append(f"sources: {n_src} ({n_cat} in the catalog, {n_src - n_cat} found only in raw/)")
    rows = con.execute(
        "SELECT kind, count(*), coalesce(sum(word_count), 0) FROM documents GROUP BY 1 ORDER BY 1"
    ).fetchall()
    total_docs = sum(r[1] for r in rows)
    total_words = sum(r[2] for r in rows)
    lines.append(f"documents landed: {total_docs:,} ({total_words:,} words)")
    for kind, n, w in rows:
        lines.append(f"  {kind:<10} {n:>6,} documents {w:>10,} words")
    status = dict(con.execute("SELECT status, count(*) FROM snapshots GROUP BY 1").fetchall())
    lines.append("raw files: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
    not_collected = len(missing_sources(con))
    lines.append(f"catalog sources not collected yet: {not_collected}" + (" (`corpus status` lists them)" if not_collected else ""))
    rejected = con.execute(
        "SELECT coalesce(path, origin), error FROM snapshots WHERE status = 'rejected' ORDER BY 1"
    ).fetchall()
    if rejected:
        lines.append(f"rejected files ({len(rejected)}):")
        for path, err in rejected[:max_rejected]:
            lines.append(f"  {path}: {err}")
        if len(rejected) > max_rejected:
            lines.append(f"  ... and {len(rejected) - max_rejected} more (SELECT * FROM snapshots WHERE status = 'rejected')")  # noqa: S608 - identifiers are module constants, never user input
    failed = con.execute(
        "SELECT fetcher, status, count(*) FROM snapshots WHERE status IN ('failed','not_collectable') GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    for fetcher, st, n in failed:
        lines.append(f"not collected by {fetcher}: {n} {st}")
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "claims" in tables:
        verdicts = con.execute("SELECT verdict, count(*) FROM claims GROUP BY 1 ORDER BY 2 DESC").fetchall()
        if verdicts:
            total = sum(n for _, n in verdicts)
            lines.append(f"claims verified: {total} (" + ", ".join(f"{v} {n}" for v, n in verdicts) + "); `corpus claims` lists them")
    if "coverage_by_kind" in tables:
        row = con.execute(
            "SELECT sum(collected), sum(sources) - sum(known_gaps) FROM coverage_by_kind"
        ).fetchone()
        if row and row[1]:
            lines.append(f"catalog coverage: {row[0]} of {row[1]} sources collected (known gaps excluded)")
    return "\n".join(lines)


def missing_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per catalogued source with no document (Known Gaps and feeds apart), with the reason."""
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
    return [f"{sid} ({kind}): {title}" + (f" - {reason}" if reason else "") for sid, kind, title, reason in rows]
