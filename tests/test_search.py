"""Search over passages, on a small synthetic warehouse (an invented thinker's posts, talks and
tweets): passages, phrase and title signals, ordering, snippets, links, filters, copies; KWIC on
the same normalisation, with and without the index; the tweet page's policy."""

from __future__ import annotations

import html
import json
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.core import searchindex
from pipelines.core.kwic import kwic
from pipelines.core.links import passage_link
from pipelines.core.passages import split_passages
from pipelines.core.schema import create_table
from pipelines.core.search import QUOTED_BONUS, SearchIndexMissing, parse_query, quotes_phrase, search
from pipelines.core.searchindex import build_fts_index, copy_signatures, search_tables_ready, terms_of
from pipelines.core.textnorm import find_words, normalize_quote_text
from pipelines.core.warehouse import connect, fts_extension_path

YT = "https://www.youtube.com/watch?v=AbCdEfGhIjK"
FILLER = ("the model learns weights from data and the loss goes down slowly while we watch the plots "
          "and talk about tensors gradients and other plumbing of training runs").split()


def filler(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(FILLER) for _ in range(n))


def _talk() -> tuple[str, list[tuple[Any, ...]]]:
    """A timed talk: 80 captions of 2.5 s; "bicycle for the mind" said across captions 50-51."""
    pieces = []
    for i in range(80):
        if i == 50:
            pieces.append("and that is why I call the computer a bicycle")
        elif i == 51:
            pieces.append("for the mind. Simple as that.")
        else:
            pieces.append(filler(6, i) + ("." if i % 4 == 3 else ""))
    segs, pos = [], 0
    for i, p in enumerate(pieces):
        segs.append(("v1", i, 10.0 + 2.5 * i, 12.5 + 2.5 * i, pos, pos + len(p), p))
        pos += len(p) + 1
    return " ".join(pieces), segs


TALK, TALK_SEGS = _talk()
POST = "\n\n".join([
    "Software Two Point Oh",  # a heading
    filler(60, 1),
    "Neural networks are not just another classifier: they represent the beginning of a shift in how we write software.",
    filler(70, 2),
])
# (doc_id, kind, title, published_at, is_own, url, timed, source_id, text)
DOCS: list[tuple[Any, ...]] = [
    ("tweet-1", "tweet", None, "2024-01-08", True, "https://x.com/ada/status/1", False, "tw",
     "e/ia: builds “bicycle for the mind” tools that extend what humans can do."),
    ("tweet-2", "tweet", None, "2023-05-01", True, "https://x.com/ada/status/2", False, "tw",
     "My mind wanders on a bicycle; the bicycle is for commuting, the mind for thinking about the mind."),
    ("tweet-3", "tweet", None, "2022-02-02", False, "https://x.com/bob/status/3", False, "tw",
     "RT @bob: the bicycle for the mind, again"),
    ("tweet-nokey-4", "tweet", None, "2021-03-03", True, None, False, "tw",
     "Trained on CIFAR10 today, Licklider’s ideas in mind."),
    ("blog-sw2", "blog_post", "Software Two Point Oh", "2017-11-11", True, "https://ada.example.org/sw2", False, "blog-sw2", POST),
    ("blog-other", "blog_post", "Notes on software", "2019-01-01", True, "https://ada.example.org/notes", False, "blog-other",
     "Software two point oh is a phrase I use a lot. " + filler(50, 3)),
    ("tweet-copy", "tweet", None, "2017-11-12", True, "https://x.com/ada/status/9", False, "tw", POST.replace("\n\n", " ")),
    ("v1", "video", "A Talk on Tools", "2025-02-01", True, YT, True, "v1", TALK),
    ("v2", "video", "Untimed Talk", "2025-03-01", True, YT.replace("AbCd", "ZzZz"), False, "v2",
     "so the computer is a bicycle for the mind " + filler(40, 4)),
    ("tweet-5", "tweet", None, "2020-06-06", True, "https://x.com/ada/status/5", False, "tw",
     "Self-driving is a long march of 9s: each extra 9 is as much work as the last."),
    ("tweet-6", "tweet", None, "2020-06-07", True, "https://x.com/ada/status/6", False, "tw",
     "We march on, and on, and we march again: the march goes on in March."),
    ("tweet-7", "tweet", None, "2020-07-01", True, "https://x.com/ada/status/7", False, "tw",
     "Summoning ghosts. We keep summoning ghosts, summoning ghosts."),
    ("tweet-8", "tweet", None, "2020-07-02", True, "https://x.com/ada/status/8", False, "tw",
     "What we build is closer to “summoning ghosts”: echoes of the text they were trained on, not animals."),
    ("tweet-9", "tweet", None, "2020-08-01", True, "https://x.com/ada/status/9", False, "tw", "I cannot say, I can't."),
    ("p1", "paper", "CIFAR-10 by hand", "2011-04-27", True, "https://arxiv.example.org/1", False, "p1",
     "We classified CIFAR-10 images by hand. " + filler(30, 5)),
]
ALIASES = {"v1": ["The Tools Talk", "https://example.org/tools-talk"]}


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if fts_extension_path() is None:
        pytest.skip("the offline FTS extension is not installed")
    path = tmp_path_factory.mktemp("search") / "w.duckdb"
    con = connect(path)
    create_table(con, "documents")
    for d in DOCS:
        con.execute("INSERT INTO documents (doc_id, kind, title, published_at, is_own, url, timed, source_id, text, content_sha256) "
                    "VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?, md5(?))", [*d, d[-1]])
    create_table(con, "segments")
    con.executemany("INSERT INTO segments (doc_id, seq, start_s, end_s, start_char, end_char, text) VALUES (?, ?, ?, ?, ?, ?, ?)", TALK_SEGS)
    con.execute("CREATE TABLE lexicon_phrases (phrase_id VARCHAR, label VARCHAR, forms VARCHAR[], case_sensitive BOOLEAN, notes VARCHAR)")
    con.execute("CREATE TABLE phrase_hits (phrase_id VARCHAR, doc_id VARCHAR, sent_id INT, start_char INT, end_char INT, matched_text VARCHAR, is_own BOOLEAN)")
    build_fts_index(con, aliases=ALIASES)
    con.close()
    return path


@pytest.fixture()
def con(wh: Path) -> duckdb.DuckDBPyConnection:
    c = connect(wh, read_only=True)
    yield c
    c.close()


# --------------------------------------------------------------------------- passages


def test_passages_tile_the_text_and_follow_the_rules() -> None:
    assert split_passages("tweet", "a short tweet") == [split_passages("tweet", "a short tweet")[0]]
    assert split_passages("tweet", "x" * 5000)[0].end_char == 5000  # a tweet is one passage, however long
    segs = [(a, b, s0, s1) for _, _, s0, s1, a, b, _ in TALK_SEGS]
    timed = split_passages("video", TALK, segs, timed=True)
    assert timed[0].start_char == 0 and timed[-1].end_char == len(TALK)
    assert all(p.end_char == q.start_char for p, q in zip(timed, timed[1:], strict=False))
    spans = [q.start_s - p.start_s for p, q in zip(timed, timed[1:], strict=False)]  # type: ignore[operator]
    assert all(30 <= s <= 60 for s in spans), spans  # caption windows of 30-60 s
    untimed = split_passages("video", TALK, segs, timed=False)
    assert all(p.start_s is None for p in untimed)
    assert all(len(TALK[p.start_char : p.end_char].split()) >= 110 for p in untimed[:-1])
    post = split_passages("blog_post", POST)
    assert [len(POST[p.start_char : p.end_char].split()) >= 40 for p in post] == [True] * len(post)
    assert POST[post[0].start_char :].startswith("Software Two Point Oh")  # a heading joins what follows
    # a caption block of 10 minutes is cut near 150 words, its seconds interpolated by position
    long_text = " ".join(f"w{i}." if i % 20 == 19 else f"w{i}" for i in range(600))
    pieces = split_passages("video", long_text, [(0, len(long_text), 100.0, 700.0)], timed=True)
    assert len(pieces) >= 3 and pieces[0].start_s == 100.0
    assert all(100 < p.start_s < 700 for p in pieces[1:])  # type: ignore[operator]
    assert split_passages("blog_post", "") == [] and split_passages("blog_post", None) == []


def test_passages_tile_random_texts() -> None:
    rng = random.Random(3)
    for n in range(60):
        words = [rng.choice(["a", "bb.", "ccc", "\n\n", "dd?"]) for _ in range(rng.randrange(1, 900))]
        text = " ".join(words)
        segs = []
        pos = 0
        while pos < len(text) and n % 2:
            end = min(len(text), pos + rng.randrange(5, 300))
            segs.append((pos, end, pos / 10, end / 10))
            pos = end
        parts = split_passages("video" if n % 3 else "blog_post", text, segs, timed=bool(n % 2))
        assert parts[0].start_char == 0 and parts[-1].end_char == len(text)
        assert all(p.end_char == q.start_char and p.start_char < p.end_char for p, q in zip(parts, parts[1:], strict=False))


# --------------------------------------------------------------------------- normalisation


def test_find_words_on_the_shared_normalisation() -> None:
    text = "Builds “Bicycle for the  mind” tools; Licklider’s ideas — from-scratch… models, Model"
    def found(q: str) -> list[str]:
        return [text[a:b] for a, b in find_words(text, [{w} for w in normalize_quote_text(q).split()])]
    assert found("bicycle for the mind") == ["Bicycle for the  mind"]
    assert found("“bicycle for the mind”") == ["Bicycle for the  mind"]
    assert found("licklider") == ["Licklider"]  # the possessive 's does not hide the word
    assert found("licklider's ideas") == ["Licklider’s ideas"]
    assert found("from scratch") == ["from-scratch"] and found("ideas from") == ["ideas — from"]
    assert found("model") == ["Model"]  # "models" is another word
    assert found("mind tools") == ["mind” tools"] and found("bicycle mind") == []
    assert find_words(text, []) == [] and find_words("", [{"a"}]) == []


def test_terms_split_letters_and_digits() -> None:
    assert terms_of("cifar10") == terms_of("cifar") + terms_of("10")
    assert [t for w in normalize_quote_text("CIFAR-10").split() for t in terms_of(w)] == list(terms_of("cifar10"))
    assert terms_of("the") == () and terms_of("models") == ("model",)
    assert terms_of("nines") == terms_of("nine") == terms_of("9s") == ("9",) and terms_of("two") == ("2",)
    assert terms_of("one") == ("one",)  # mostly a pronoun, not a number
    assert terms_of("cannot") == terms_of(normalize_quote_text("can't")) == terms_of("can") == ()  # as "can" and "not"


def test_a_number_word_matches_its_digits(con: duckdb.DuckDBPyConnection) -> None:
    # tweet-5 writes "9s" for "nines": it holds every content word of the query, tweet-6 repeats one
    hits = search(con, "march of nines")
    assert hits[0].doc_id == "tweet-5" and "[[9s]]" in hits[0].snippet
    assert [h.doc_id for h in hits[:2]] == ["tweet-5", "tweet-6"]


# --------------------------------------------------------------------------- ranking


def test_the_phrase_in_curly_quotes_comes_first(con: duckdb.DuckDBPyConnection) -> None:
    hits = search(con, "bicycle for the mind")
    ids = [h.doc_id for h in hits]
    # every passage holding the phrase (tweet-1 in curly quotes, the talk across two captions, the
    # untimed talk, the retweet) above tweet-2, which has the words scattered (and more often)
    phrase = {"tweet-1", "v1", "v2", "tweet-3"}
    assert set(ids[:4]) == phrase and ids[4] == "tweet-2"
    assert all(h.passages[0].phrase for h in hits[:4]) and not hits[4].passages[0].phrase
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)  # ordered by the score shown
    assert min(h.score for h in hits[:4]) >= 2 > hits[4].score


def test_a_passage_quoting_the_phrase_names_it(con: duckdb.DuckDBPyConnection) -> None:
    # tweet-7 says the phrase three times in a short text (a higher BM25); tweet-8 puts it in quotes
    hits = search(con, "summoning ghosts")
    assert [h.doc_id for h in hits[:2]] == ["tweet-8", "tweet-7"]
    assert hits[0].score - hits[1].score < QUOTED_BONUS  # without the quotes tweet-7 would lead
    q = parse_query("bicycle for the mind")
    assert quotes_phrase("builds “bicycle for the mind,” tools", q, 40)
    assert not quotes_phrase("the “bicycle for the mind’s” eye", q, 40)  # a possessive is no closing quote
    assert not quotes_phrase("a bicycle for the mind", q, 40) and not quotes_phrase("“bicycle for the mind”", q, 0)


def test_exact_keeps_only_the_phrase(con: duckdb.DuckDBPyConnection) -> None:
    assert {h.doc_id for h in search(con, "bicycle for the mind", exact=True)} == {"tweet-1", "v1", "v2", "tweet-3"}
    assert search(con, "mind bicycle", exact=True) == []
    assert [h.doc_id for h in search(con, "“Bicycle  for the MIND”", exact=True, own_only=True, kind="tweet")] == ["tweet-1"]


def test_a_title_finds_its_document_first(con: duckdb.DuckDBPyConnection) -> None:
    # blog-other says "software two point oh" in its text; blog-sw2's title is the query
    hits = search(con, "software two point oh")
    assert hits[0].doc_id == "blog-sw2" and hits[0].title_bonus == searchindex_title_exact()
    assert search(con, "the tools talk")[0].doc_id == "v1"  # a catalog alias of its source is a title too
    with_title = {h.doc_id: h.title_bonus for h in search(con, "talk on tools")}
    assert 1 < with_title["v1"] < 2  # the query is a phrase of the title: 1 + its share


def searchindex_title_exact() -> float:
    from pipelines.core.search import TITLE_EXACT

    return TITLE_EXACT


def test_copies_are_folded_into_the_better_result(con: duckdb.DuckDBPyConnection) -> None:
    hits = search(con, "beginning of a shift in how we write software")
    ids = [h.doc_id for h in hits]
    assert "blog-sw2" in ids and "tweet-copy" not in ids  # the tweet carrying the post is a copy of it
    post = next(h for h in hits if h.doc_id == "blog-sw2")
    assert [d for d, _ in post.copies] == ["tweet-copy"]
    assert copy_signatures(normalize_quote_text(POST).split()) == copy_signatures(normalize_quote_text(POST.replace("\n\n", " ")).split())


def test_snippets_mark_only_the_words_that_matched(con: duckdb.DuckDBPyConnection) -> None:
    hit = next(h for h in search(con, "bicycle for the mind") if h.doc_id == "tweet-2")
    marked = re.findall(r"\[\[(.*?)\]\]", hit.snippet)
    assert marked and set(m.lower() for m in marked) <= {"bicycle", "mind"}  # never "the" or "for" alone
    phrase_hit = next(h for h in search(con, "bicycle for the mind") if h.doc_id == "tweet-1")
    assert "[[bicycle for the mind]]" in phrase_hit.snippet


def test_links_jump_to_the_passage_only_when_timed(con: duckdb.DuckDBPyConnection) -> None:
    by = {h.doc_id: h for h in search(con, "bicycle for the mind")}
    v1 = by["v1"].passages[0]
    assert v1.link == f"{YT}&t={int(v1.start_s)}s" and v1.start_s is not None  # type: ignore[arg-type]
    caption = 10.0 + 2.5 * 50  # the phrase starts in caption 50: its window starts at or before it
    assert v1.start_s <= caption < v1.start_s + 60  # type: ignore[operator]
    assert "&t=" not in (by["v2"].link or "")  # untimed: the video from its start
    assert by["tweet-1"].link == "https://x.com/ada/status/1"
    assert search(con, "cifar10", kind="tweet")[0].link is None  # a tweet without a status id has no link
    assert passage_link("video", YT, 0.4, True) == YT and passage_link("video", YT, 75.9, True) == f"{YT}&t=75s"
    assert passage_link("video", YT, 75.9, False) == YT and passage_link("tweet", None, None, False) is None


def test_filters_kind_own_dates_and_passages_per_document(con: duckdb.DuckDBPyConnection) -> None:
    assert {h.doc_id for h in search(con, "bicycle", kind="tweet")} == {"tweet-1", "tweet-2", "tweet-3"}
    assert "tweet-3" not in {h.doc_id for h in search(con, "bicycle", own_only=True)}
    assert {h.doc_id for h in search(con, "bicycle", since="2024", until="2025-02")} == {"tweet-1", "v1"}
    assert {h.doc_id for h in search(con, "bicycle", until="2023-05-01")} == {"tweet-2", "tweet-3"}
    for h in search(con, "model loss weights", per_doc=2):
        assert 1 <= len(h.passages) <= 2
        assert h.passages[0].score == h.score and all(p.score <= h.score for p in h.passages)
    with pytest.raises(ValueError, match="not a date"):
        search(con, "bicycle", since="last year")
    assert search(con, "   ") == [] and search(con, "bicycle", limit=0) == []


def test_compounds_stop_words_and_unknown_words(con: duckdb.DuckDBPyConnection) -> None:
    assert {h.doc_id for h in search(con, "CIFAR-10")} == {"tweet-nokey-4", "p1"}  # "CIFAR10" too
    assert {h.doc_id for h in search(con, "cifar10")} == {"tweet-nokey-4", "p1"}
    only_stop_words = search(con, "for the")  # no content word: the passages holding the phrase
    assert {h.doc_id for h in only_stop_words} >= {"tweet-1", "v1", "v2", "tweet-3"}
    assert all("[[for the]]" in h.snippet.lower() for h in only_stop_words)
    assert search(con, "xyzzy") == []
    assert search(con, "Robert'); DROP TABLE documents;--") == []
    assert {h.doc_id for h in search(con, "licklider")} == {"tweet-nokey-4"}
    # "cannot" is a function word, as "can" and "not" are: tweet-9 holds no content word of the query
    assert "tweet-9" not in {h.doc_id for h in search(con, "the model cannot learn", limit=50)}


def test_a_warehouse_without_the_index_says_so(tmp_path: Path) -> None:
    con = connect(tmp_path / "empty.duckdb")
    try:
        create_table(con, "documents")
        assert not search_tables_ready(con)
        with pytest.raises(SearchIndexMissing, match="corpus run"):
            search(con, "bicycle")
    finally:
        con.close()


def test_index_tables_shape(con: duckdb.DuckDBPyConnection) -> None:
    assert search_tables_ready(con)
    n_pass, n_docs = con.execute("SELECT count(*), count(DISTINCT doc_id) FROM _search_passages").fetchone()  # type: ignore[misc]
    assert n_docs == len(DOCS) and n_pass > n_docs
    # every posting's passage exists, and a term's df counts the passages whose own words hold it
    assert con.execute(
        "SELECT count(*) FROM _search_postings p LEFT JOIN _search_passages s USING (pid) WHERE s.pid IS NULL"
    ).fetchone() == (0,)
    assert con.execute(
        "SELECT count(*) FROM _search_terms t JOIN (SELECT termid, count(*) FILTER (WHERE tf > 0) AS n FROM _search_postings GROUP BY 1) p "
        "USING (termid) WHERE t.df <> p.n"
    ).fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM _search_copies").fetchone() == (1,)
    # a catalog alias that is a URL is no title
    assert con.execute("SELECT count(*) FROM _search_titles WHERE title_norm LIKE 'https%'").fetchone() == (0,)


def test_index_built_in_batches_is_the_same(wh: Path, tmp_path: Path) -> None:
    copy = tmp_path / "batched.duckdb"
    copy.write_bytes(wh.read_bytes())
    tables = ["_search_passages", "_search_ptext", "_search_postings", "_search_terms", "_search_copies",
              "_search_titles", "_search_docs"]
    c = connect(copy)
    try:
        before = {t: c.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}  # noqa: S608 - constants
        searchindex.build_search_index(c, batch_chars=1, aliases=ALIASES)
        after = {t: c.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}  # noqa: S608 - constants
    finally:
        c.close()
    assert all(before[t] for t in tables) and after == before


def _canonical(c: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: c.execute(sql + " ORDER BY ALL").fetchall() for t, sql in searchindex.CANONICAL.items()}


UPDATE_QUERIES = ["bicycle for the mind", "software two point oh", "licklider", "summoning ghosts", "march of nines",
                  "a brand new idea", "the tools talk", "mind"]


def test_an_index_updated_in_place_holds_and_finds_what_a_full_build_does(wh: Path, tmp_path: Path) -> None:
    """A document added, one changed (text and title) and one deleted: the index is updated in place
    (not built), its tables equal a full build's but for the ids, and every query gives the same
    results, scores included; a further change to more than REBUILD_SHARE of the documents builds it."""
    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    inc.write_bytes(wh.read_bytes())
    edits = [
        ("INSERT INTO documents (doc_id, kind, title, published_at, is_own, url, timed, source_id, text, content_sha256) "
         "VALUES ('tweet-new', 'tweet', NULL, '2026-01-01'::TIMESTAMPTZ, true, 'https://x.com/ada/status/99', false, 'tw', "
         "'A brand new idea about the bicycle for the mind, and a neologism: zorblax.', md5('new'))"),
        "UPDATE documents SET text = text || ' Summoning ghosts, once more.', content_sha256 = md5('changed'), "
        "title = 'Notes on software, revised' WHERE doc_id = 'blog-other'",
        "DELETE FROM documents WHERE doc_id = 'tweet-7'",
    ]
    c = connect(inc)
    try:
        before = _canonical(c)
        for sql in edits:
            c.execute(sql)
        assert searchindex.update_search_index(c, aliases=ALIASES) == "updated"
        got = _canonical(c)
        appended = c.execute("SELECT appended FROM _search_stats").fetchone()[0]  # type: ignore[index]
        assert appended > 0
        assert searchindex.update_search_index(c, aliases=ALIASES) == "kept"
    finally:
        c.close()
    full.write_bytes(inc.read_bytes())
    f = connect(full)
    try:
        searchindex.build_search_index(f, aliases=ALIASES)
        want = _canonical(f)
        assert f.execute("SELECT appended FROM _search_stats").fetchone() == (0,)
    finally:
        f.close()
    assert got == want and got != before
    assert ("zorblax", 1) in got["_search_terms"] and not [r for r in got["_search_passages"] if r[0] == "tweet-7"]
    assert ("blog-other", "notes on software revised") in got["_search_titles"]
    a, b = connect(inc, read_only=True), connect(full, read_only=True)
    try:
        for q in UPDATE_QUERIES:
            ra, rb = search(a, q, limit=20), search(b, q, limit=20)
            assert [(h.doc_id, round(h.score, 9), h.snippet, h.link) for h in ra] == \
                   [(h.doc_id, round(h.score, 9), h.snippet, h.link) for h in rb], q
        assert [h.doc_id for h in search(a, "zorblax")] == ["tweet-new"]
        ghosts = {h.doc_id for h in search(a, "summoning ghosts", limit=50)}
        assert {"tweet-8", "blog-other"} <= ghosts and "tweet-7" not in ghosts
    finally:
        a.close()
        b.close()
    c = connect(inc)
    try:
        c.execute("UPDATE documents SET text = text || ' again', content_sha256 = md5(text || ' again') WHERE kind = 'tweet'")  # most documents
        assert searchindex.update_search_index(c, aliases=ALIASES) == "built"
        assert _canonical(c)["_search_passages"] != got["_search_passages"]
        assert c.execute("SELECT appended FROM _search_stats").fetchone() == (0,)
    finally:
        c.close()


def test_cli_search_json(wh: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli import main

    root = tmp_path / "project"
    (root / "warehouse").mkdir(parents=True)
    (root / "analysis").mkdir()
    (root / "warehouse" / "corpus.duckdb").write_bytes(wh.read_bytes())
    assert main(["--project", str(root), "search", "bicycle for the mind", "--json", "--limit", "3"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and {"doc_id", "kind", "date", "title", "link", "snippet", "score"} <= set(rows[0])
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert main(["--project", str(root), "search", "mind bicycle", "--exact"]) == 0
    assert "no passage holds the exact phrase" in capsys.readouterr().out
    assert main(["--project", str(root), "search", "bicycle", "--since", "soon"]) == 64  # a usage error
    capsys.readouterr()
    assert main(["--project", str(root), "kwic", "bicycle for the mind", "--all", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {ln["doc_id"] for ln in lines} == {"tweet-1", "tweet-3", "v1", "v2"}
    assert all(ln["match"] == "bicycle for the mind" for ln in lines)
    assert next(ln for ln in lines if ln["doc_id"] == "v1")["link"] == f"{YT}&t=135s"


# --------------------------------------------------------------------------- KWIC


def test_kwic_shares_the_normalisation(con: duckdb.DuckDBPyConnection) -> None:
    lines = kwic(con, "bicycle for the mind", own_only=False)
    assert {ln["doc_id"] for ln in lines} == {"tweet-1", "tweet-3", "v1", "v2"}
    t1 = next(ln for ln in lines if ln["doc_id"] == "tweet-1")
    assert t1["match"] == "bicycle for the mind" and t1["right"].startswith("” tools")
    v1 = next(ln for ln in lines if ln["doc_id"] == "v1")
    assert v1["match"] == "bicycle for the mind" and v1["link"] == f"{YT}&t=135s"  # caption 50: 10 + 2.5 * 50
    assert next(ln for ln in lines if ln["doc_id"] == "v2")["link"] == YT.replace("AbCd", "ZzZz")  # untimed
    assert [ln["match"] for ln in kwic(con, "licklider")] == ["Licklider"]
    assert [ln["doc_id"] for ln in kwic(con, "cifar-10")] == ["p1"]  # KWIC matches words as written


@pytest.mark.parametrize("query", ["bicycle for the mind", "licklider", "mind", "for the", "software two", "xyzzy",
                                   "cifar 10", "Robert'); DROP TABLE documents;--", "the"])
def test_kwic_same_with_and_without_the_index(wh: Path, tmp_path: Path, query: str) -> None:
    plain = tmp_path / "plain.duckdb"
    plain.write_bytes(wh.read_bytes())
    c = connect(plain)
    searchindex.drop_search_tables(c)
    c.close()
    fast, slow = connect(wh, read_only=True), connect(plain, read_only=True)
    try:
        assert search_tables_ready(fast) and not search_tables_ready(slow)
        for args in [dict(own_only=False), dict(own_only=True, limit=2), dict(kind="tweet", own_only=False, since="2022-06"),
                     dict(own_only=False, lemma=True, width=10)]:
            assert kwic(fast, query, **args) == kwic(slow, query, **args)  # type: ignore[arg-type]
    finally:
        fast.close()
        slow.close()


def test_search_and_kwic_do_not_import_each_other() -> None:
    code = ("import sys, pipelines.core.kwic as k, pipelines.core.search as s; "
            "import ast, inspect; "
            "names = lambda m: {n.module for n in ast.walk(ast.parse(inspect.getsource(m))) if isinstance(n, ast.ImportFrom)}; "
            "assert 'pipelines.core.search' not in names(k) and 'pipelines.core.kwic' not in names(s)")
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our own interpreter


# --------------------------------------------------------------------------- the tweet page


def test_tweet_page_policy_hashes_its_own_script_and_escapes_the_data(wh: Path, tmp_path: Path) -> None:
    import base64
    import hashlib

    from pipelines.core.tweetpage import embed_json, render_tweet_page

    c = connect(tmp_path / "t.duckdb")
    try:
        create_table(c, "documents")
        create_table(c, "tweets")
        c.execute("INSERT INTO documents (doc_id, kind, text, url, published_at, is_own) VALUES ('t1', 'tweet', '</script><script>alert(1)</script> & more', NULL, ?, true)",
                  [datetime(2024, 1, 1, tzinfo=UTC)])
        page = render_tweet_page(c, thinker="Ada <Example>")
    finally:
        c.close()
    policy = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    digest = lambda s: "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"  # noqa: E731
    assert f"script-src {digest(scripts[0])};" in policy and f"style-src {digest(styles[0])};" in policy
    assert policy.startswith("default-src 'none';") and "unsafe" not in policy
    assert "</script><script>alert" not in page and "Ada &lt;Example&gt;" in page
    data = re.search(r'<script type="application/json" id="tweets-data">(.*?)</script>', page, re.S).group(1)  # type: ignore[union-attr]
    assert json.loads(data)["tweets"][0]["text"].startswith("</script>")  # the same text once parsed
    assert embed_json({"a": "<&>\u2028"}) == '{"a":"\\u003c\\u0026\\u003e\\u2028"}'


def test_relevance_bench_scores_the_fixture(wh: Path, tmp_path: Path) -> None:
    """bench/relevance.py's evaluate() on this warehouse: its metrics follow the judgements (a found
    item, a missed one, a passage named by its anchor), for passage search and the baseline."""
    import importlib.util
    import shutil

    spec = importlib.util.spec_from_file_location("relevance_bench", Path(__file__).parents[1] / "bench" / "relevance.py")
    assert spec and spec.loader
    rel = importlib.util.module_from_spec(spec)
    sys.modules["relevance_bench"] = rel
    spec.loader.exec_module(rel)
    db = tmp_path / "w.duckdb"
    shutil.copy(wh, db)
    c = connect(db)
    c.execute("CREATE TABLE snapshots (snapshot_id VARCHAR, path VARCHAR)")
    text = c.execute("SELECT text FROM documents WHERE doc_id = 'blog-sw2'").fetchone()[0]  # type: ignore[index]
    c.close()
    at = text.index("Neural networks are not just")
    anchor, _ = rel.anchor_at(text, at)
    item = lambda doc, anchor=None: rel.Item((rel.Alt(doc, anchor),))  # noqa: E731
    queries = [
        rel.Query("t", "title", "CIFAR-10 by hand", (item("p1"),)),
        rel.Query("m", "phrase", "march of 9s", (item("tweet-5"), item("blog-other"))),
        rel.Query("p", "idea", "a shift in how we write software", (item("blog-sw2", anchor),)),
    ]
    res = rel.evaluate(db, queries, repeats=1)
    by_id = {q["id"]: q for q in res["queries"]}
    assert by_id["t"]["passage"]["recall3"] == 1.0 and by_id["t"]["passage"]["first_relevant_rank"] == 1
    assert by_id["m"]["passage"]["recall3"] == 0.5 and by_id["m"]["passage"]["rr10"] == 1.0  # blog-other never says it
    assert by_id["p"]["passage"]["first_relevant_rank"] == 1 and by_id["p"]["top3"][0] == "blog-sw2"
    assert res["documents"] == len(DOCS) and res["passages"] > len(DOCS)
    assert res["summary"]["all"]["passage"]["recall3"] == pytest.approx((1.0 + 0.5 + 1.0) / 3, abs=1e-3)
    assert set(res["summary"]["all"]["baseline"]) >= {"recall3", "mrr10", "median_ms"}


def test_the_set_based_fts_build_gives_the_pragmas_tables_and_scores(tmp_path: Path) -> None:
    """fts.build (the extension's schema and macros, its tables filled by joins) against the
    extension's own PRAGMA build on the same documents: every table equal (term ids compared by
    term), every match_bm25 score equal, on texts with accents, punctuation, an empty text and a
    missing title."""
    from pipelines.core import fts

    rng = random.Random(7)
    words = ["tokenizer", "gradient", "Café", "naïve", "bicycle", "mind", "the", "for", "mind's", "self-driving",
             "2.0", "LLM", "don't", "scratch", "from", "ÉCOLE", "a"]
    rows = [(f"d{i:03d}", None if i % 7 == 0 else " ".join(rng.choices(words, k=3)),
             "" if i == 5 else " ".join(rng.choices(words, k=rng.randint(1, 60))) + rng.choice([".", "!", ", ok", "…"]))
            for i in range(80)]
    built = {}
    for how in ("pragma", "ours", "ours in batches"):
        con = connect(tmp_path / f"{how}.duckdb")
        con.execute("CREATE TABLE documents (doc_id VARCHAR PRIMARY KEY, title VARCHAR, text VARCHAR)")
        con.executemany("INSERT INTO documents VALUES (?, ?, ?)", rows)
        if how == "pragma":
            fts.build_with_pragma(con)
        else:  # one batch, or a batch of a few documents at a time (about 600 characters: 10+ batches)
            fts.build(con, batch_chars=600 if how == "ours in batches" else fts.BATCH_CHARS)
        s = fts.SCHEMA
        built[how] = {
            "docs": con.execute(f"SELECT * FROM {s}.docs ORDER BY docid").fetchall(),
            "dict": con.execute(f"SELECT term, df FROM {s}.dict ORDER BY term").fetchall(),
            "terms": con.execute(f"SELECT t.docid, t.fieldid, d.term, count(*) FROM {s}.terms t JOIN {s}.dict d USING (termid) "
                                 "GROUP BY ALL ORDER BY ALL").fetchall(),
            "stats": con.execute(f"SELECT * FROM {s}.stats").fetchall(),
            "fields": con.execute(f"SELECT * FROM {s}.fields ORDER BY ALL").fetchall(),
            "columns": con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                   f"WHERE table_schema = '{s}' ORDER BY ALL").fetchall(),
            "scores": [
                [(d, round(x, 9)) for d, x in con.execute(
                    f"SELECT doc_id, {s}.match_bm25(doc_id, ?) AS x FROM documents WHERE x IS NOT NULL ORDER BY doc_id", [q]
                ).fetchall()]
                for q in ("tokenizer gradient", "cafe", "naive école", "bicycle for the mind", "llm 2.0", "don t")
            ],
        }
        con.close()
    assert built["ours"]["docs"] and all(built["ours"]["scores"])
    for part in built["pragma"]:
        assert built["ours"][part] == built["pragma"][part], part
        assert built["ours in batches"][part] == built["pragma"][part], part


def _fts_by_name(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """fts_main_documents as what it says, not under which ids: per document name its length and
    (field, term, count) rows, per term its df, the stats, and match_bm25's scores."""
    s = "fts_main_documents"
    return {
        "docs": con.execute(f"SELECT name, len FROM {s}.docs ORDER BY name").fetchall(),
        "terms": con.execute(f"SELECT o.name, t.fieldid, d.term, count(*) FROM {s}.terms t JOIN {s}.dict d USING (termid) "
                             f"JOIN {s}.docs o USING (docid) GROUP BY ALL ORDER BY ALL").fetchall(),
        "dict": con.execute(f"SELECT term, df FROM {s}.dict ORDER BY term").fetchall(),
        "stats": [(n, round(a, 9)) for n, a in con.execute(f"SELECT * FROM {s}.stats").fetchall()],
        "scores": [[(d, round(x, 9)) for d, x in con.execute(
            f"SELECT doc_id, {s}.match_bm25(doc_id, ?) AS x FROM documents WHERE x IS NOT NULL ORDER BY doc_id", [q]).fetchall()]
            for q in ("tokenizer gradient", "quillon", "vellum marr", "lattice")],
    }


def test_the_fts_index_updated_in_place_equals_a_full_build(tmp_path: Path) -> None:
    """fts.refresh after a document changes, one is deleted and one added: the index is updated in
    place (not rebuilt) and says what the extension's own build on the new documents says."""
    from pipelines.core import fts

    rng = random.Random(11)
    words = ["tokenizer", "gradient", "quillon", "vellum", "marr", "lattice", "the", "of"]
    rows = [(f"d{i:03d}", f"Title {i}", " ".join(rng.choices(words, k=rng.randint(3, 30)))) for i in range(40)]
    con = connect(tmp_path / "inc.duckdb")
    con.execute("CREATE TABLE documents (doc_id VARCHAR PRIMARY KEY, title VARCHAR, text VARCHAR)")
    con.executemany("INSERT INTO documents VALUES (?, ?, ?)", rows)
    assert fts.refresh(con) == "built"
    assert fts.refresh(con) == "kept"
    con.execute("UPDATE _fts_docs SET code = 'other code'")  # built by another version of fts.py
    assert fts.refresh(con) == "built"
    with pytest.MonkeyPatch.context() as mp:  # a build killed before its tables were filled
        mp.setattr(fts, "_record_state", lambda c: (_ for _ in ()).throw(KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            fts.build(con)
    assert fts.refresh(con) == "built"  # no signatures left: not updated in place
    con.execute("UPDATE documents SET text = 'quillon quillon brand new words' WHERE doc_id = 'd003'")
    con.execute("DELETE FROM documents WHERE doc_id = 'd010'")
    con.execute("INSERT INTO documents VALUES ('d999', 'Late', 'a lattice of marr and zephyr')")
    assert fts.refresh(con) == "updated"
    got = _fts_by_name(con)
    ref = connect(tmp_path / "ref.duckdb")
    ref.execute("CREATE TABLE documents AS SELECT * FROM (VALUES " + ", ".join(["(?, ?, ?)"] * 40) + ") v(doc_id, title, text)",
                [x for r in con.execute("SELECT * FROM documents ORDER BY doc_id").fetchall() for x in r])
    fts.build_with_pragma(ref)
    want = _fts_by_name(ref)
    assert ("zephyr", 1) in got["dict"] and not [t for t in got["dict"] if t[0] == "brand" and t[1] != 1]
    for part in want:
        assert got[part] == want[part], part
