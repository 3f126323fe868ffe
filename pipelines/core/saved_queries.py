"""Saved SQL questions (analysis/queries/*.sql) and running SQL read-only on the published warehouse.

A saved query is a ``.sql`` file whose first comment line says what it answers and whose
``-- param NAME: what it is (default VALUE)`` lines document the values it reads with
``getvariable('NAME')``. ``run_query`` binds each value with ``SET VARIABLE`` (a bound parameter,
never pasted into the SQL) on a read-only connection, so no statement can change the warehouse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

_PARAM = re.compile(r"^--\s*param\s+([A-Za-z_]\w*)\s*:\s*(.*?)\s*(?:\(default\s+([^)]*)\))?\s*$")
_NAME = re.compile(r"^[A-Za-z_]\w{0,63}$")


class QueryError(ValueError):
    """An unknown saved query, an undeclared parameter, or a malformed parameter."""


@dataclass(frozen=True)
class Param:
    name: str
    doc: str
    default: str | None


@dataclass(frozen=True)
class SavedQuery:
    name: str  # the file stem, e.g. "04_phrase_trend"
    path: Path
    title: str
    params: dict[str, Param] = field(default_factory=dict)

    @property
    def short(self) -> str:
        """The name without its number: "phrase_trend"."""
        return re.sub(r"^\d+_", "", self.name)

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def read_query(path: Path) -> SavedQuery:
    title = ""
    params: dict[str, Param] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        m = _PARAM.match(line)
        if m:
            params[m.group(1)] = Param(m.group(1), m.group(2), m.group(3))
        elif not title:
            title = line.lstrip("-").strip()
    return SavedQuery(path.stem, path, title, params)


def saved_queries(folder: Path) -> list[SavedQuery]:
    return [read_query(p) for p in sorted(folder.glob("*.sql"))] if folder.is_dir() else []


def find_query(folder: Path, name: str) -> SavedQuery:
    """A saved query by file stem ("04_phrase_trend") or by its name without the number ("phrase_trend")."""
    queries = saved_queries(folder)
    for q in queries:
        if name in (q.name, q.short, q.path.name):
            return q
    names = ", ".join(q.short for q in queries) or "none"
    raise QueryError(f"no saved query {name!r} in {folder} (saved queries: {names})")


def parse_params(pairs: list[str], query: SavedQuery | None) -> dict[str, str]:
    """``key=value`` strings, checked against what the query documents."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _NAME.match(key):
            raise QueryError(f"--param {pair!r}: expected name=value")
        if query is not None and key not in query.params:
            known = ", ".join(query.params) or "none"
            raise QueryError(f"--param {key}: query {query.short} takes no such parameter (it takes: {known})")
        out[key] = value
    return out


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, str] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of the last statement of ``sql``, with each parameter set as a variable."""
    for key, value in (params or {}).items():
        if not _NAME.match(key):
            raise QueryError(f"parameter name {key!r} is not an identifier")
        con.execute(f"SET VARIABLE {key} = ?", [value])
    cur = con.execute(sql)
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()
