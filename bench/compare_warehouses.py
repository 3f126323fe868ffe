"""Compare every table of two warehouse files, row for row: `python bench/compare_warehouses.py A B`.

For a refactoring that must not change behaviour (issue 16): build the same project (same raw/,
same analysis/) with the old code and with the new, then compare their warehouse/corpus.duckdb.
Each table present in both is compared as a multiset (``EXCEPT ALL`` both ways) on every column
but the run timestamps (``seen_at``, ``recorded_at``, ``_publish_info.published_at``). Prints one
line per table (rows in A, rows in B, identical or not) and exits 1 when anything differs.
"""

from __future__ import annotations

import sys

import duckdb

from pipelines.core import db

TIMESTAMPS = {"seen_at", "recorded_at"}


def _columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_name = ? ORDER BY ordinal_position", [db, table]).fetchall()]


def compare(a: str, b: str) -> list[tuple[str, int | None, int | None, bool]]:
    con = duckdb.connect()
    for alias, path in (("a", a), ("b", b)):
        quoted = path.replace("'", "''")  # ATTACH takes no parameters: a quoted literal
        con.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")
    tables = {db: {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main'", [db]
    ).fetchall()} for db in ("a", "b")}
    out: list[tuple[str, int | None, int | None, bool]] = []
    for t in sorted(tables["a"] | tables["b"]):
        if t not in tables["a"] or t not in tables["b"]:
            out.append((t, None if t not in tables["a"] else -1, None if t not in tables["b"] else -1, False))
            continue
        cols_a, cols_b = _columns(con, "a", t), _columns(con, "b", t)
        skip = TIMESTAMPS | ({"published_at"} if t == "_publish_info" else set())
        sel = ", ".join(f'"{c}"' for c in cols_a if c not in skip)
        n_a = db.scalar(con, f'SELECT count(*) FROM a."{t}"')  # noqa: S608 - names from the catalogs
        n_b = db.scalar(con, f'SELECT count(*) FROM b."{t}"')  # noqa: S608
        same = cols_a == cols_b and n_a == n_b and all(
            db.scalar(con, f'SELECT count(*) FROM (SELECT {sel} FROM {x}."{t}" EXCEPT ALL SELECT {sel} FROM {y}."{t}")') == 0  # noqa: S608
            for x, y in (("a", "b"), ("b", "a"))
        )
        out.append((t, n_a, n_b, same))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 64
    rows = compare(argv[0], argv[1])
    for t, n_a, n_b, same in rows:
        print(f"{t:24s} {n_a if n_a is not None else '(absent)':>10} {n_b if n_b is not None else '(absent)':>10}  "
              f"{'identical' if same else 'DIFFERENT'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
