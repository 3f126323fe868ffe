"""`search` and `kwic` read the FTS index's side tables (_fts_postings, _text_words, _text_pairs) when
they are there, and score / scan every document when they are not: both plans give the same rows,
in the same order, with the same snippets and links."""

# SQL text here is assembled from the module's table-name constants only.
# ruff: noqa: S608

from __future__ import annotations

import math
import random
import re
from dataclasses import astuple
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.core import kwic as kwic_mod
from pipelines.core import search as search_mod
from pipelines.core.kwic import kwic, query_regex
from pipelines.core.search import (
    PAIRS_TABLE,
    POSTINGS_TABLE,
    WORDS_TABLE,
    build_fts_index,
    holder_docids,
    search,
    search_tables_ready,
)
from pipelines.core.warehouse import connect, fts_extension_path

pytestmark = pytest.mark.skipif(fts_extension_path() is None, reason="the offline FTS extension is not installed")

YT = "https://www.youtube.com/watch?v=AbCdEfGhIjK"
SIDE_TABLES = (POSTINGS_TABLE, WORDS_TABLE, PAIRS_TABLE)

# (doc_id, kind, title, published_at, is_own, url, text)
DOCS: list[tuple[str, str, str | None, str | None, bool | None, str, str | None]] = [
    ("t1", "tweet", None, "2024-01-15", True, "https://x.com/a/status/1", "I built it from scratch. From-Scratch again!"),
    ("t2", "tweet", None, "2024-01-20", True, "https://x.com/a/status/2", "A scratchpad is not from  scratch, or is it?"),
    ("t3", "tweet", None, "2024-02-03", True, "https://x.com/a/status/3", "Vibe coding\tfrom\nscratch with Licklider’s ideas"),
    ("t4", "tweet", None, "2024-02-03", True, "https://x.com/a/status/4", "Vibe coding from scratch with Licklider's ideas"),
    ("t4b", "tweet", None, "2024-02-03", True, "https://x.com/a/status/5", "Vibe coding from scratch with Licklider's ideas"),
    ("rt", "tweet", None, "2024-01-10", False, "https://x.com/b/status/9", "RT: vibe coding from scratch"),
    ("b1", "blog_post", "Working memory people", "2023-05-01", True, "https://blog/1",
     "Networking memory people talk. Working memory is small; people forget. working memory  people"),
    ("b2", "blog_post", "Bicycle for the mind", "2022-01-01", True, "https://blog/2",
     "The computer is a bicycle for the mind, said Jobs. Man-computer symbiosis (Licklider) came first."),
    ("b3", "blog_post", "No text at all: scratch from", None, True, "https://blog/3", None),
    ("p1", "paper", "Café GPT-2 notes", None, None, "https://arxiv/1",
     "We train GPT-2 from scratch in a café; the İstanbul run, KELVIN and ſcratch tests. "
     "Cafe\u0301 de\u0301ja\u0300 vu: 🤖🤖robots  𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ok"),
    ("v1", "video", "Lecture", "2025-02-01", True, YT, ""),
]


def _video() -> tuple[str, list[tuple[Any, ...]]]:
    """40 caption segments; "from scratch" in segment 12 and "vibe-coding" in 30, a segment without
    a time at 20, and an untimed gap (no start_char) at 25."""
    pieces = [
        "so we build it from scratch" if i == 12 else "vibe-coding the model with Licklider" if i == 30
        else f"then seg{i} talks about working memory" for i in range(40)
    ]
    segs, pos = [], 0
    for i, p in enumerate(pieces):
        start = None if i == 25 else pos
        segs.append(("v1", i, None if i == 20 else 1.0 + 2.5 * i, 3.5 + 2.5 * i, start, None if start is None else pos + len(p), p))
        pos += len(p) + 1
    return " ".join(pieces), segs


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("speed") / "w.duckdb"
    con = connect(path)
    video_text, segs = _video()
    rows = [d if d[0] != "v1" else (*d[:6], video_text) for d in DOCS]
    con.execute(
        "CREATE TABLE documents (doc_id VARCHAR PRIMARY KEY, kind VARCHAR, title VARCHAR, url VARCHAR, "
        "published_at TIMESTAMPTZ, text VARCHAR, is_own BOOLEAN)"
    )
    for doc_id, kind, title, published, own, url, text in rows:
        con.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?::TIMESTAMPTZ, ?, ?)", [doc_id, kind, title, url, published, text, own]
        )
    con.execute(
        "CREATE TABLE segments (doc_id VARCHAR, seq INT, start_s DOUBLE, end_s DOUBLE, start_char INT, end_char INT, text VARCHAR)"
    )
    con.executemany("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?)", segs)
    # a paragraph of b1: a post's link never gets a time
    con.execute("INSERT INTO segments VALUES ('b1', 0, NULL, NULL, 0, 30, 'Networking memory people talk.')")
    con.execute("CREATE TABLE lexicon_phrases (phrase_id VARCHAR, label VARCHAR, forms VARCHAR[], case_sensitive BOOLEAN, notes VARCHAR)")
    con.execute("CREATE TABLE phrase_hits (phrase_id VARCHAR, doc_id VARCHAR, sent_id INT, start_char INT, end_char INT, matched_text VARCHAR, is_own BOOLEAN)")
    build_fts_index(con)
    con.close()
    return path


def _plain(path: Path, tmp_path: Path) -> Path:
    """A copy of the warehouse without the side tables (as an index built by an older version)."""
    out = tmp_path / "plain.duckdb"
    out.write_bytes(path.read_bytes())
    con = connect(out)
    for table in SIDE_TABLES:
        con.execute(f"DROP TABLE {table}")
    con.close()
    return out


def _same_hits(a: list[Any], b: list[Any]) -> None:
    assert [h.doc_id for h in a] == [h.doc_id for h in b]
    for x, y in zip(a, b, strict=True):
        tx, ty = astuple(x), astuple(y)
        assert tx[:5] == ty[:5] and tx[6:] == ty[6:]
        assert math.isclose(x.score, y.score, rel_tol=1e-12)


SEARCHES = [
    "from scratch", "From Scratch", "licklider", "Licklider's", "working memory people", "memory people",
    "bicycle for the mind", "man computer symbiosis", "Man-Computer", "gpt-2", "café", "istanbul", "kelvin",
    "scratch", "scratch from", "the", "vibe coding", "!!! hello", "xyzzy", "a", "is it", "scratchpad",
    "cafe\u0301 de\u0301ja\u0300 vu", "🤖robots 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "vu robots",
]


@pytest.mark.parametrize("query", SEARCHES)
def test_search_same_with_and_without_side_tables(wh: Path, tmp_path: Path, query: str) -> None:
    fast, slow = connect(wh, read_only=True), connect(_plain(wh, tmp_path), read_only=True)
    try:
        assert search_tables_ready(fast) and not search_tables_ready(slow)
        for kind, exact, own, limit in [(None, False, False, 20), (None, True, False, 20), ("tweet", False, False, 2),
                                        (None, False, True, 3), ("blog_post", False, False, 1), (None, False, False, 0)]:
            try:
                expected = search(slow, query, kind=kind, limit=limit, exact=exact, own_only=own)
            except AttributeError:  # a document without text among the rows shown: no snippet either way
                with pytest.raises(AttributeError):
                    search(fast, query, kind=kind, limit=limit, exact=exact, own_only=own)
                continue
            _same_hits(search(fast, query, kind=kind, limit=limit, exact=exact, own_only=own), expected)
    finally:
        fast.close()
        slow.close()


def test_search_order_and_links(wh: Path) -> None:
    con = connect(wh, read_only=True)
    try:
        # 9 documents hold both words; b3 only in its title (it has no text: it sorts last)
        hits = search(con, "from scratch", limit=8)
        ids = [h.doc_id for h in hits]
        # the phrase verbatim first (by score; t4 and t4b tie: by doc_id), then t2 ("from  scratch")
        # and t3 (a tab and a newline between the words)
        assert set(ids[:6]) == {"t1", "t4", "t4b", "rt", "p1", "v1"} and set(ids[6:]) == {"t2", "t3"}
        assert ids.index("t4") + 1 == ids.index("t4b")
        assert all(a.score >= b.score for a, b in zip(hits[:6], hits[1:6], strict=False))
        assert next(h for h in hits if h.doc_id == "v1").link == f"{YT}&t=31s"  # the caption holding "from"
        with pytest.raises(AttributeError):  # the 9th has no text to cut a snippet from (as before)
            search(con, "from scratch", limit=9)
        # "networking memory people" holds "working memory people"
        assert [h.doc_id for h in search(con, "working memory people", exact=True)] == ["b1"]
        assert {h.doc_id for h in search(con, "working memory", exact=True)} == {"b1", "v1"}
        assert [h.doc_id for h in search(con, "licklider", kind="tweet")] == ["t4", "t4b"]  # not "licklider’s"
    finally:
        con.close()


def test_bm25_scores_are_match_bm25s(wh: Path) -> None:
    con = connect(wh, read_only=True)
    try:
        for query in ["from scratch", "working memory people", "bicycle for the mind", "licklider"]:
            expected = dict(
                con.execute(
                    "SELECT doc_id, fts_main_documents.match_bm25(doc_id, ?, conjunctive := 1) AS s FROM documents "
                    "WHERE s IS NOT NULL",
                    [query],
                ).fetchall()
            )
            got = dict(search_mod._ranked_indexed(con, query, None, 100, False, False))
            assert got.keys() == expected.keys() and got
            for doc_id, score in got.items():
                assert math.isclose(score, expected[doc_id], rel_tol=1e-12)
    finally:
        con.close()


def test_holder_docids_is_a_superset(wh: Path) -> None:
    con = connect(wh, read_only=True)
    try:
        names = dict(con.execute("SELECT docid, name FROM fts_main_documents.docs").fetchall())
        for low in ["from scratch", "working memory people", "memory people", "licklider", "a scratch", "from  scratch",
                    "coding\tfrom", "is it?", "for the mind,", "scratch.", "gpt-2 from scratch in a",
                    "cafe\u0301 de\u0301ja\u0300 vu", "fe\u0301 de\u0301ja\u0300", "vu: 🤖🤖robots", "🤖robots  𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]:
            truth = {
                r[0] for r in con.execute("SELECT doc_id FROM documents WHERE strpos(lower(text), ?) > 0", [low]).fetchall()
            }
            assert truth <= {names[d] for d in holder_docids(con, low)}, low
    finally:
        con.close()


KWICS = ["from-scratch", "from scratch", "Licklider", "vibe coding", "scratch", "build model", "working memory",
         "gpt-2", "istanbul", "kelvin", "scratch from", "the", "xyzzy", "Robert'); DROP TABLE documents;--", "café"]


@pytest.mark.parametrize("query", KWICS)
def test_kwic_same_with_and_without_side_tables(wh: Path, tmp_path: Path, query: str) -> None:
    fast, slow = connect(wh, read_only=True), connect(_plain(wh, tmp_path), read_only=True)
    try:
        for kind, own, since, limit, lemma, width in [(None, True, None, 50, False, 60), (None, False, None, 3, False, 10),
                                                      ("tweet", False, "2024-02", 50, False, 60), (None, False, None, 50, True, 30),
                                                      ("video", True, None, 0, False, 60)]:
            args: dict[str, Any] = dict(width=width, kind=kind, limit=limit, own_only=own, since=since, lemma=lemma)
            assert kwic(fast, query, **args) == kwic(slow, query, **args)
    finally:
        fast.close()
        slow.close()


def test_kwic_text_links(wh: Path) -> None:
    con = connect(wh, read_only=True)
    try:
        lines = kwic(con, "vibe coding", own_only=False)
        assert [ln["doc_id"] for ln in lines] == ["rt", "t3", "t4", "t4b", "v1"]
        assert lines[-1]["match"] == "vibe-coding" and lines[-1]["link"] == f"{YT}&t=76s"  # 1.0 + 2.5 * 30
        assert [ln["link"] for ln in kwic(con, "seg21", own_only=False)] == [f"{YT}&t=53s"]
        assert [ln["link"] for ln in kwic(con, "seg20", own_only=False)] == [YT]  # a caption without a time
        # segment 25 was not located in the text: its words take the time of segment 24
        assert [ln["link"] for ln in kwic(con, "seg25", own_only=False)] == [f"{YT}&t=61s"]
        assert [ln["link"] for ln in kwic(con, "seg26", own_only=False)] == [f"{YT}&t=66s"]
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (len(DOCS),)
    finally:
        con.close()


def test_spans_match_finditer() -> None:
    rng = random.Random(7)
    alphabet = "ab -_\tAB\u0130\u017fk\u212a'’\n"
    for query, lemma in [("ab", False), ("a b", False), ("ab ba", False), ("build model", True), ("k", False), ("s", False)]:
        rx = query_regex(query, lemma)
        for _ in range(300):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
            text += rng.choice(["", " built models", "ab", "ABab ab"])
            assert kwic_mod._spans(rx, text) == [m.span() for m in rx.finditer(text)], (query, text)
    assert kwic_mod._spans(re.compile("x*"), "axxb") == [m.span() for m in re.finditer("x*", "axxb")]


def test_find_word_matches_re_search() -> None:
    rng = random.Random(11)
    for word in ["ab", "a", "b_", "k", "ſ"]:
        for _ in range(300):
            text = "".join(rng.choice("ab_ -K\u212aſs.") for _ in range(rng.randrange(0, 30)))
            found = re.search(rf"(?i)\b{re.escape(word)}\b", text)
            assert search_mod._find_word(word, text) == (found.start() if found else None), (word, text)


def test_side_tables_shape(wh: Path) -> None:
    con: duckdb.DuckDBPyConnection = connect(wh, read_only=True)
    try:
        # every (term, document) of the index once, with the same counts as the index's terms table
        assert con.execute(
            f"""SELECT count(*) FROM (SELECT termid, docid, count(*) AS tf FROM fts_main_documents.terms GROUP BY ALL) t
                FULL JOIN {POSTINGS_TABLE} p USING (termid, docid) WHERE t.tf IS DISTINCT FROM p.tf"""
        ).fetchone() == (0,)
        words = dict(con.execute(f"SELECT word, docids FROM {WORDS_TABLE}").fetchall())
        docid = dict(con.execute("SELECT name, docid FROM fts_main_documents.docs").fetchall())
        assert docid["t3"] in words["licklider’s"] and docid["t3"] in words["coding"]
        assert all(docid["b3"] not in ids for ids in words.values())  # no text, no words
        pairs = {r[0] for r in con.execute(f"SELECT pair FROM {PAIRS_TABLE} WHERE docid = ?", [docid["b1"]]).fetchall()}
        assert "king memo" in pairs and "mory peop" in pairs
    finally:
        con.close()


def test_side_tables_built_in_batches_are_the_same(wh: Path, tmp_path: Path) -> None:
    """Batches of one document each (the 100x corpus uses ~12M characters) give the same rows in the same order."""
    from pipelines.core.search import build_search_tables

    copy = tmp_path / "batched.duckdb"
    copy.write_bytes(wh.read_bytes())
    con = connect(copy)
    try:
        before = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in SIDE_TABLES}  # noqa: S608 - module constants
        build_search_tables(con, batch_chars=1)
        after = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in SIDE_TABLES}  # noqa: S608 - module constants
    finally:
        con.close()
    assert all(before[t] for t in SIDE_TABLES)
    assert after == before
