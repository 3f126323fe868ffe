"""Check a project's configuration before any work: every YAML file of analysis/, the saved
queries, and the ids one file takes from another.

Cross-references checked: claims -> lexicon phrases and entities and catalog source ids; eras'
events -> catalog source ids; the audit -> claim ids; saved queries (analysis/queries/*.sql) ->
warehouse tables. ``validate_project`` returns the problems, each naming the file, the entry (by
its id) and the field, with the nearest valid id or field when there is one; an empty list means
the run can start. ``corpus validate`` prints them, ``corpus run`` and the Dagster code location
refuse to start on any (exit 2 / a failed ``dg check defs``), so a typo never costs a parse of the
corpus, let alone becomes a verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.core import db
from pipelines.core.config import ConfigError, load_catalog, nearest


class InvalidProject(ConfigError):
    """The project's configuration has problems; the message lists every one."""

    def __init__(self, root: Path, problems: list[str]) -> None:
        self.root = root
        self.problems = problems
        super().__init__(
            f"invalid configuration of the project in {root} ({len(problems)} problem(s); "
            "`corpus validate` lists them):\n" + "\n".join(problems)
        )


def lexicon_path(analysis: Path) -> Path:
    """The project's lexicon, or the shipped one when the project has none."""
    from pipelines.core.lexicon import default_lexicon_path

    own = analysis / "lexicon.yaml"
    return own if own.exists() else default_lexicon_path()


def validate_project(analysis: Path, catalog_path: Path | None = None) -> list[str]:
    from pipelines.core.claims.audit import load_audit
    from pipelines.core.claims.config import check_references, load_claims
    from pipelines.core.eras import load_eras
    from pipelines.core.fetch.settings import load_fetch_settings
    from pipelines.core.lexicon import load_lexicon

    catalog_path = catalog_path or analysis / "catalog.yaml"
    problems: list[str] = []

    def attempt(load: Any, *args: Any) -> Any:
        try:
            return load(*args)
        except ConfigError as e:
            problems.append(str(e))
            return None

    catalog = attempt(load_catalog, catalog_path)
    lexicon = attempt(load_lexicon, lexicon_path(analysis))
    claims_path = analysis / "claims.yaml"
    claims = attempt(load_claims, claims_path) if claims_path.exists() else None
    eras_path = analysis / "eras.yaml"
    eras = attempt(load_eras, eras_path) if eras_path.exists() else None
    attempt(load_fetch_settings, analysis / "fetch.yaml")
    audit_path = analysis / "audit.yaml"
    audit = attempt(load_audit, audit_path)
    sources = {s.id for s in catalog.sources} if catalog is not None else None
    if claims is not None and lexicon is not None and sources is not None:
        attempt(
            lambda: check_references(
                claims, claims_path,
                phrases={p.id for p in lexicon.phrases}, entities={e.id for e in lexicon.entities},
                sources=sources,
            )
        )
    if eras is not None and sources is not None:
        for i, ev in enumerate(eras.events):
            for v in ev.sources:
                if v not in sources:
                    problems.append(
                        f"{eras_path}: entry {ev.id!r} (events[{i}]), field 'sources': unknown source id {v!r} "
                        f"(not in analysis/catalog.yaml){nearest(v, sources)}"
                    )
    if audit is not None:
        claim_ids = {c.id for c in claims.claims} if claims is not None else set()
        for i, entry in enumerate(audit.claims):
            if claims is not None and entry.id not in claim_ids:
                problems.append(
                    f"{audit_path}: entry {entry.id!r} (claims[{i}]), field 'id': unknown claim id {entry.id!r} "
                    f"(not in analysis/claims.yaml){nearest(entry.id, claim_ids)}"
                )
    problems += check_queries(analysis / "queries")
    return problems


def _tables_read(node: Any, out: set[str], ctes: set[str]) -> None:
    """Base tables a serialised SELECT reads (``json_serialize_sql``), and the CTE names it defines."""
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and isinstance(node.get("table_name"), str):
            out.add(node["table_name"])
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(e["key"] for e in cte_map.get("map") or [] if isinstance(e, dict) and "key" in e)
        for v in node.values():
            _tables_read(v, out, ctes)
    elif isinstance(node, list):
        for v in node:
            _tables_read(v, out, ctes)


def check_queries(queries_dir: Path) -> list[str]:
    """Every saved query parses and reads only tables of the published warehouse."""
    import duckdb

    from pipelines.core.schema import PUBLIC_TABLES

    if not queries_dir.is_dir():
        return []
    problems: list[str] = []
    con = duckdb.connect()
    try:
        for path in sorted(queries_dir.glob("*.sql")):
            try:
                statements = con.extract_statements(path.read_text(encoding="utf-8"))
            except (duckdb.Error, UnicodeDecodeError) as e:
                problems.append(f"{path}: not valid SQL: {str(e).splitlines()[0]}")
                continue
            for n, st in enumerate(statements, 1):
                if st.type != duckdb.StatementType.SELECT:
                    continue
                tree = json.loads(db.scalar(con, "SELECT json_serialize_sql(?)", [st.query]))
                if tree.get("error"):
                    problems.append(f"{path}: statement {n}: not valid SQL: {tree.get('error_message')}")
                    continue
                read: set[str] = set()
                ctes: set[str] = set()
                _tables_read(tree, read, ctes)
                for table in sorted(read - ctes):
                    if table not in PUBLIC_TABLES:
                        problems.append(
                            f"{path}: statement {n}, table {table!r}: not a table of the warehouse"
                            f"{nearest(table, PUBLIC_TABLES)} (docs/warehouse.md lists them)"
                        )
    finally:
        con.close()
    return problems


def project_notes(analysis: Path) -> list[str]:
    """What is not wrong but worth knowing: optional files left out, and what is used instead."""
    from pipelines.core.lexicon import default_lexicon_path

    notes = []
    if not (analysis / "lexicon.yaml").exists():
        notes.append(
            f"{analysis / 'lexicon.yaml'}: not found; the shipped lexicon ({default_lexicon_path()}, the default "
            "thinker's phrases and citations) is used instead"
        )
    if not (analysis / "claims.yaml").exists():
        notes.append(f"{analysis / 'claims.yaml'}: not found; no claims are verified")
    return notes


def project_summary(analysis: Path) -> str:
    """One line of what a valid configuration holds (for `corpus validate`)."""
    from pipelines.core.claims.config import load_claims
    from pipelines.core.lexicon import load_lexicon

    catalog = load_catalog(analysis / "catalog.yaml")
    lexicon = load_lexicon(lexicon_path(analysis))
    claims_path = analysis / "claims.yaml"
    n_claims = len(load_claims(claims_path).claims) if claims_path.exists() else 0
    queries = analysis / "queries"
    n_queries = len(list(queries.glob("*.sql"))) if queries.is_dir() else 0
    return (
        f"thinker {catalog.thinker.name}; {len(catalog.sources)} sources, {len(lexicon.phrases)} phrases, "
        f"{len(lexicon.entities)} entities, {n_claims} claims, {n_queries} saved queries"
    )
