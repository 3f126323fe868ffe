"""The report at a glance: charts start where the data is, claims grouped by the profile's sections."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from pipelines.core import warehouse as wh
from pipelines.core.report import chart_start, group_claims, section_of


def test_the_charts_start_where_the_dated_documents_are() -> None:
    con = duckdb.connect()
    wh.create_table(con, "documents")
    rows = [(f"d{i}", datetime(2024, 1 + i % 12, 1, tzinfo=UTC)) for i in range(96)]
    rows += [(f"old{i}", datetime(1999 + i, 6, 1, tzinfo=UTC)) for i in range(4)]  # a sparse past (4%)
    con.executemany("INSERT INTO documents (doc_id, published_at) VALUES (?, ?)", rows)
    assert chart_start(con) == date(2024, 1, 1)
    con.execute("DELETE FROM documents WHERE doc_id LIKE 'd%'")
    assert chart_start(con) == date(1999, 6, 1)  # only the past: it is the data
    con.execute("DELETE FROM documents")
    assert chart_start(con) is None


def test_claims_group_by_section_worst_first_and_open_only_where_wrong() -> None:
    claims = [
        {"claim_id": "a", "section": "Header / Written", "verdict": "supported", "_order": 1},
        {"claim_id": "b", "section": "Axiom 4 — From Scratch", "verdict": "supported", "_order": 2},
        {"claim_id": "c", "section": "Header", "verdict": "contradicted", "_order": 3},
        {"claim_id": "d", "section": "Axiom 4 (quote)", "verdict": "lower_bound", "_order": 4},
    ]
    groups = group_claims(claims)
    assert [g["section"] for g in groups] == ["Header", "Axiom 4"]
    assert [c["claim_id"] for c in groups[0]["claims"]] == ["c", "a"]
    assert groups[0]["open"] and not groups[1]["open"]
    assert groups[0]["counts"] == [("contradicted", 1), ("supported", 1)]
    assert section_of(None) == "Other"
