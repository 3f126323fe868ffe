"""Coverage per source and per kind on a small synthetic warehouse (invented sources and text)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from pipelines.core.claims import evaluate_claims
from pipelines.core.claims.config import ClaimsConfig
from pipelines.core.coverage import (
    compute_coverage,
    coverage_by_kind,
    overall_coverage,
    write_coverage_tables,
)
from pipelines.core.schema import create_table


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


SOURCES = [
    # source_id, kind, title, url, in_catalog, in_profile, known_gap, claimed_words, claimed_items, collection
    ("tweets-ada", "tweet_archive", "Posts of @ada", None, True, True, False, 60, 5, None),
    (
        "video-intro",
        "video",
        "Intro talk",
        "https://www.youtube.com/watch?v=AAAAAAAAAAA",
        True,
        True,
        False,
        10,
        None,
        None,
    ),
    (
        "video-long",
        "video",
        "Long talk",
        "https://www.youtube.com/watch?v=CCCCCCCCCCC",
        True,
        True,
        False,
        1000,
        None,
        None,
    ),
    (
        "video-blocked",
        "video",
        "Blocked talk",
        "https://www.youtube.com/watch?v=BBBBBBBBBBB",
        True,
        True,
        False,
        300,
        None,
        None,
    ),
    ("video-never", "video", "Never fetched", None, True, False, False, None, None, None),
    ("gap-lectures", "video", "Old lectures", None, True, True, True, None, None, None),
    ("gap-closed", "paper", "The thesis", None, True, True, True, None, None, None),
    (
        "feed-ada",
        "blog_feed",
        "Ada's blog",
        "https://ada.example.org/feed.xml",
        True,
        True,
        False,
        50,
        3,
        "ada_blog",
    ),
    (
        "blog-one",
        "blog_post",
        "Post one",
        "https://ada.example.org/one/",
        True,
        False,  # not named itself, but its blog (feed-ada) is: part of the profile's corpus
        False,
        None,
        None,
        "ada_blog",
    ),
    (
        "auto-blog-two",
        "blog_post",
        "Post two",
        "https://ada.example.org/two/",
        False,
        False,
        False,
        None,
        None,
        None,
    ),
    ("auto-stray", "other", "Stray page", None, False, False, False, None, None, None),
]
DOCS = [
    # doc_id, source_id, kind, words, published
    ("tweet-1", "tweets-ada", "tweet", 12, "2023-01-01"),
    ("tweet-2", "tweets-ada", "tweet", 15, "2023-02-01"),
    ("tweet-3", "tweets-ada", "tweet", 20, "2023-03-01"),
    ("tweet-4", "tweets-ada", "tweet", 11, "2023-04-01"),
    ("video-intro", "video-intro", "video", 11, "2023-05-01"),
    ("video-long", "video-long", "video", 500, "2023-06-01"),
    ("gap-closed", "gap-closed", "paper", 40, "2016-01-01"),
    ("blog-one", "blog-one", "blog_post", 30, "2020-01-01"),
    ("blog-two", "auto-blog-two", "blog_post", 25, "2021-01-01"),
    ("other-stray", "auto-stray", "other", 5, None),
]
SNAPSHOTS = [
    # snapshot_id, source_id, path, status, error, seen_at
    ("s1", "video-blocked", None, "failed", "HTTP 429 from youtube.com", "2024-01-01 00:00"),
    ("s2", "video-blocked", None, "not_collectable", "network unreachable", "2024-02-01 00:00"),
    ("s3", "video-blocked", None, "not_modified", None, "2024-03-01 00:00"),  # later, but no error
    ("s4", "video-intro", "inbox/intro.vtt", "accepted", None, "2024-01-01 00:00"),
    ("s5", "gap-lectures", None, "skipped", "known gap", "2024-01-01 00:00"),
]


def build(con: duckdb.DuckDBPyConnection) -> None:
    create_table(con, "sources")
    con.executemany(
        "INSERT INTO sources (source_id, kind, title, url, published_at, in_catalog, in_profile, known_gap, claimed_words, claimed_items, youtube_id, collection, notes) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, NULL)",
        [list(s) for s in SOURCES],
    )
    create_table(con, "documents")
    urls = {s[0]: s[3] for s in SOURCES}
    con.executemany(
        "INSERT INTO documents (doc_id, source_id, kind, title, url, published_at, text, word_count, is_own, speakers_separated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, true, true)",
        [
            [d, s, k, d.title(), urls.get(s), ts(p) if p else None, "invented words " * (w // 2), w]
            for d, s, k, w, p in DOCS
        ],
    )
    create_table(con, "snapshots")
    con.executemany(
        "INSERT INTO snapshots (snapshot_id, source_id, path, status, error, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        [[a, b, c, d, e, ts(f)] for a, b, c, d, e, f in SNAPSHOTS],
    )


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    build(c)
    return c


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["source_id"]: r for r in rows}


def test_status_per_source(con: duckdb.DuckDBPyConnection) -> None:
    rows = by_id(compute_coverage(con))
    assert rows["video-intro"]["status"] == "collected" and rows["video-intro"]["collected"] is True
    assert rows["video-intro"]["words_ratio"] == pytest.approx(1.1)
    # 4 of 5 claimed tweets, and 500 of 1000 claimed words: partial, with the numbers.
    assert rows["tweets-ada"]["status"] == "partial"
    assert "4 of 5 claimed items" in rows["tweets-ada"]["reason"]
    assert (
        rows["video-long"]["status"] == "partial"
        and "500 of 1,000 claimed words (50%)" in rows["video-long"]["reason"]
    )
    # Missing: the latest snapshot that recorded an error explains why.
    assert rows["video-blocked"]["status"] == "missing"
    assert rows["video-blocked"]["reason"] == "not collected: network unreachable"
    assert rows["video-blocked"]["collected"] is False and rows["video-blocked"]["documents"] == 0
    assert rows["video-never"]["reason"] == "not collected: never fetched and no file dropped in raw/inbox"
    # Known Gaps: still open, or closed by what we collected.
    assert rows["gap-lectures"]["status"] == "known_gap"
    assert rows["gap-lectures"]["reason"].startswith("Known Gap in the profile; not collected")
    assert rows["gap-closed"]["status"] == "collected" and rows["gap-closed"]["known_gap"] is True
    assert rows["gap-closed"]["reason"].startswith("Known Gap closed: 1 documents, 40 words")
    # A feed counts the posts of its collection and on its host (catalogued or not): 2 of 3 claimed.
    assert rows["feed-ada"]["documents"] == 2 and rows["feed-ada"]["words"] == 55
    assert rows["feed-ada"]["status"] == "partial"
    # Found only in raw/.
    assert rows["auto-stray"]["status"] == "uncatalogued" and rows["auto-stray"]["in_catalog"] is False
    assert rows["auto-blog-two"]["status"] == "uncatalogued"
    # Worst first.
    order = [r["status"] for r in compute_coverage(con)]
    assert order == sorted(order, key=["missing", "partial", "known_gap", "collected", "uncatalogued"].index)


def test_by_kind_summary(con: duckdb.DuckDBPyConnection) -> None:
    rows = compute_coverage(con)
    kinds = {k["kind"]: k for k in coverage_by_kind(con, rows)}
    v = kinds["video"]
    assert (v["sources"], v["collected"], v["missing"], v["known_gaps"]) == (5, 2, 2, 1)
    assert v["documents"] == 2 and v["words"] == 511 and v["claimed_words"] == 1310
    t = kinds["tweet"]
    assert (t["sources"], t["collected"], t["documents"], t["words"], t["claimed_words"]) == (1, 1, 4, 58, 60)
    b = kinds["blog_post"]
    assert (b["sources"], b["collected"], b["uncatalogued"], b["documents"], b["words"]) == (2, 2, 1, 2, 55)
    assert kinds["paper"]["known_gaps"] == 0 and kinds["paper"]["collected"] == 1  # the closed gap
    assert kinds["other"]["uncatalogued"] == 1 and kinds["other"]["sources"] == 0


def test_write_tables(con: duckdb.DuckDBPyConnection) -> None:
    rows, kinds = write_coverage_tables(con)
    cols = [r[0] for r in con.execute("DESCRIBE coverage").fetchall()]
    assert cols == [
        "source_id",
        "kind",
        "title",
        "in_catalog",
        "known_gap",
        "collected",
        "documents",
        "words",
        "claimed_words",
        "claimed_items",
        "words_ratio",
        "status",
        "reason",
    ]
    types = {r[0]: r[1] for r in con.execute("DESCRIBE coverage").fetchall()}
    assert types["collected"] == "BOOLEAN"
    kcols = [r[0] for r in con.execute("DESCRIBE coverage_by_kind").fetchall()]
    for c in ("kind", "sources", "collected", "missing", "known_gaps", "words", "claimed_words"):
        assert c in kcols
    assert con.execute("SELECT count(*) FROM coverage").fetchone()[0] == len(SOURCES)
    assert con.execute("SELECT reason FROM coverage WHERE source_id = 'video-blocked'").fetchone()[0] == (
        "not collected: network unreachable"
    )
    write_coverage_tables(con)  # idempotent
    assert con.execute("SELECT count(*) FROM coverage").fetchone()[0] == len(SOURCES)


def test_overall_coverage_and_the_80_percent_claim(con: duckdb.DuckDBPyConnection) -> None:
    cov = overall_coverage(con)
    # Catalogued, feeds excluded: tweets, 4 videos + gap-lectures, gap-closed, blog-one = 8.
    assert cov["catalog_sources"] == 8
    assert cov["profile_sources"] == 5  # in_profile and not a Known Gap
    assert cov["known_gap_sources"] == 2 and cov["other_sources"] == 1
    assert cov["collected_sources"] == 5
    assert cov["profile_share"] == pytest.approx(5 / 8)
    claims = ClaimsConfig.model_validate(
        {
            "claims": [
                {
                    "id": "cov",
                    "section": "Collected Corpus",
                    "quote": "~80% coverage",
                    "type": "coverage",
                    "metric": "profile_share",
                    "params": {"basis": "sources"},
                    "comparator": "approx",
                    "expected": 0.8,
                    "tolerance": {"abs": 0.1},
                },
                {
                    "id": "cov-close",
                    "section": "Collected Corpus",
                    "quote": "~80% coverage",
                    "type": "coverage",
                    "metric": "profile_share",
                    "comparator": "approx",
                    "expected": 0.6,
                    "tolerance": {"abs": 0.05},
                },
            ]
        }
    )
    rows, _ = evaluate_claims(con, claims)
    r = {x["claim_id"]: x for x in rows}
    assert r["cov"]["verdict"] == "contradicted"
    assert "5 of 8 catalogued public sources" in r["cov"]["explanation"]
    assert r["cov"]["measured"] == "0.62"
    assert r["cov-close"]["verdict"] == "supported"


def test_empty_and_missing_tables() -> None:
    c = duckdb.connect()
    assert compute_coverage(c) == []
    assert overall_coverage(c)["catalog_sources"] == 0
    build(c)
    c.execute("DROP TABLE snapshots")
    rows = by_id(compute_coverage(c))
    assert rows["video-blocked"]["reason"] == "not collected: never fetched and no file dropped in raw/inbox"
