"""Small helpers for asset metadata and check results."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from dagster import MetadataValue

from pipelines.core import fingerprint as fp

CHECK_RESULTS = "checks.json"  # in the project's cache folder


def preview(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, limit: int = 10) -> MetadataValue:
    """A Markdown table of the first rows of a query (cells escaped and shortened)."""
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", params or [])  # noqa: S608 - identifiers are module constants, never user input
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()

    def cell(v: object) -> str:
        s = "" if v is None else str(v)
        s = s.replace("\n", " ").replace("|", "\\|")
        return (s[:77] + "...") if len(s) > 80 else s

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return MetadataValue.md("\n".join(lines))


def reused_check(
    con: duckdb.DuckDBPyConnection, store: Path, name: str, steps: list[str], compute: Callable[[], tuple[bool, dict[str, Any]]]
) -> tuple[bool, dict[str, Any]]:
    """A check's (passed, metadata), computed again only when a step that writes the tables it reads
    recorded other inputs since (``fingerprint``): a no-change run does not scan whole tables.
    Results are kept in ``store`` (a JSON file in the cache folder, never published)."""
    recorded = [fp.previous(con, s) for s in steps]
    if any(r is None for r in recorded):  # a step that did not finish: its tables are not vouched for
        return compute()
    inputs = "|".join(f"{s}={r}" for s, r in zip(steps, recorded, strict=True))
    kept: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        kept = json.loads(store.read_text(encoding="utf-8"))
    entry = kept.get(name) if isinstance(kept, dict) else None
    if isinstance(entry, dict) and entry.get("inputs") == inputs:
        return bool(entry["passed"]), dict(entry["metadata"])
    passed, metadata = compute()
    kept = kept if isinstance(kept, dict) else {}
    kept[name] = {"inputs": inputs, "passed": passed, "metadata": metadata}
    with contextlib.suppress(OSError):  # a read-only cache costs speed only
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f".tmp-{store.name}")
        tmp.write_text(json.dumps(kept), encoding="utf-8")
        os.replace(tmp, store)
    return passed, metadata
