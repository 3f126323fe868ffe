"""Analysis tables and KWIC over a small invented warehouse with phrases planted at known places."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.core import analysis
from pipelines.core.kwic import kwic
from pipelines.core.lexicon import load_lexicon
from pipelines.core.links import evidence_link
from pipelines.core.nlp.cache import NlpCache
from pipelines.core.nlp.processor import CAPTION_MAX_WORDS, MAX_SENTENCE_WORDS
from pipelines.core.textutil import WORD_RE, word_count
from pipelines.core.warehouse import connect, create_table, frame, replace_table

LEX = load_lexicon()
YT = "https://www.youtube.com/watch?v=AbCdEfGhIjK"


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def caption_doc() -> tuple[str, list[dict[str, Any]]]:
    """30 caption segments of 5 words, 2.5 s apart, no punctuation; "from scratch" in segment 12."""
    pieces = []
    for i in range(30):
        pieces.append("so we build it from scratch" if i == 12 else f"then seg{i} talks about tensors")
    text, segs, pos = "", [], 0
    for i, p in enumerate(pieces):
        segs.append(
            {
                "doc_id": "v1",
                "seq": i,
                "start_s": 1.0 + 2.5 * i,
                "end_s": 3.5 + 2.5 * i,
                "start_char": pos,
                "end_char": pos + len(p),
                "text": p,
            }
        )
        pos += len(p) + 1
    text = " ".join(pieces)
    return text, segs


V1_TEXT, V1_SEGS = caption_doc()
DOCS: list[dict[str, Any]] = [
    # doc_id, kind, published_at, is_own, speakers_separated, url, text
    dict(
        doc_id="t1",
        kind="tweet",
        published_at=ts("2024-01-15T10:00:00"),
        is_own=True,
        speakers_separated=True,
        url="https://x.com/someone/status/1",
        text="Wrote a tiny parser from scratch today. From-Scratch beats frameworks.",
    ),
    dict(
        doc_id="t2",
        kind="tweet",
        published_at=ts("2024-01-20T10:00:00"),
        is_own=True,
        speakers_separated=True,
        url="https://x.com/someone/status/2",
        text="Vibe coding a tiny recurrent widget. Not a scratchpad.",
    ),
    dict(
        doc_id="t3",
        kind="tweet",
        published_at=ts("2024-02-03T23:30:00"),
        is_own=True,
        speakers_separated=True,
        url="https://x.com/someone/status/3",
        text="FROM SCRATCH again: vibe-coded a tiny recurrent widget with Alan Kay in mind.",
    ),
    dict(
        doc_id="rt",
        kind="tweet",
        published_at=ts("2024-01-02T08:00:00"),
        is_own=False,
        speakers_separated=True,
        url="https://x.com/other/status/4",
        text="RT @other: from scratch vibe coding with Kahneman and a tiny recurrent widget",
    ),
    dict(
        doc_id="v1",
        kind="video",
        published_at=ts("2025-02-10T12:00:00"),
        is_own=True,
        speakers_separated=True,
        url=YT,
        text=V1_TEXT,
        timed=True,  # real caption timings: KWIC links jump to the caption
    ),
    dict(
        doc_id="p1",
        kind="podcast",
        published_at=ts("2025-03-01T12:00:00"),
        is_own=True,
        speakers_separated=False,
        url="https://podcasts.example.org/ep1",
        text="We talked about Kahneman and the tiny recurrent widget built from scratch. Kay said hi. "
        "Licklider wrote Man-Computer Symbiosis.",
    ),
    dict(
        doc_id="b1",
        kind="blog_post",
        published_at=None,
        is_own=True,
        speakers_separated=True,
        url="https://blog.example.org/post",
        text="Alan Kay and the bicycle for the mind. Nothing else here.",
    ),
]
ERAS = [
    ("the-return", "The Return", "2022-11", "2023-03"),
    ("post-openai", "Post-OpenAI Independence", "2024-01", "2024-07"),
    ("scaling-down", "Scaling Down", "2024-08", "2025-01"),
    ("framework", "The Framework Era", "2025-02", "2025-10"),
]


def load_docs(con: duckdb.DuckDBPyConnection, docs: list[dict[str, Any]], segs: list[dict[str, Any]]) -> None:
    rows = []
    for d in docs:
        rows.append(
            {
                **d,
                "source_id": f"src-{d['doc_id']}",
                "title": f"Title {d['doc_id']}",
                "word_count": word_count(d["text"]),
                "content_sha256": None,
                "versions": 1,
            }
        )
    replace_table(con, "documents", frame("documents", rows))
    replace_table(con, "segments", frame("segments", segs))
    create_table(con, "tweets")


@pytest.fixture()
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    c = connect(tmp_path / "work.duckdb")
    load_docs(c, DOCS, V1_SEGS)
    yield c
    c.close()


@pytest.fixture()
def built(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    out = analysis.build_all(con, LEX, eras=ERAS)
    assert out["nlp"].processed == len(DOCS)
    return con


def freq(con: duckdb.DuckDBPyConnection, phrase: str, kind: str, month: str | None) -> tuple:
    return con.execute(
        """SELECT documents, hits, words, per_10k_words, mixed_speakers_documents FROM phrase_frequencies
           WHERE phrase_id = ? AND kind = ? AND period_month IS NOT DISTINCT FROM ?::DATE""",
        [phrase, kind, month],
    ).fetchone()


def test_phrase_frequencies_exact_counts(built: duckdb.DuckDBPyConnection) -> None:
    own_tweet_words = sum(word_count(d["text"]) for d in DOCS if d["kind"] == "tweet" and d["is_own"])
    # 2 own tweets contain it (t1 twice, t3 once); the retweet does not count.
    docs, hits, words, per10k, mixed = freq(built, "from-scratch", "tweet", None)
    assert (docs, hits, words, mixed) == (2, 3, own_tweet_words, 0)
    assert per10k == pytest.approx(3 * 10000 / own_tweet_words)
    # Every kind: t1, t3, v1, p1; p1 is a podcast whose speakers are mixed.
    assert freq(built, "from-scratch", "*", None)[:2] == (4, 5)
    assert freq(built, "from-scratch", "*", None)[4] == 1
    # Per month (UTC): January has t1 (t2 has none), February t3; the retweet's month is empty.
    assert freq(built, "from-scratch", "tweet", "2024-01-01")[:2] == (1, 2)
    assert freq(built, "from-scratch", "tweet", "2024-02-01")[:2] == (1, 1)
    assert freq(built, "from-scratch", "video", "2025-02-01")[:2] == (1, 1)
    assert freq(built, "vibe-coding", "*", None)[:2] == (2, 2)
    # Scratchpad is not "from scratch".
    assert built.execute(
        "SELECT count(*) FROM phrase_hits WHERE doc_id = 't2' AND phrase_id = 'from-scratch'"
    ).fetchone() == (0,)


def test_zero_rows_for_unhit_phrases(built: duckdb.DuckDBPyConnection) -> None:
    assert freq(built, "jagged-intelligence", "*", None)[:2] == (0, 0)
    assert freq(built, "jagged-intelligence", "tweet", "2024-01-01")[:2] == (0, 0)
    n_phrases = built.execute(
        "SELECT count(DISTINCT phrase_id) FROM phrase_frequencies WHERE kind = '*' AND period_month IS NULL"
    ).fetchone()
    assert n_phrases == (len(LEX.phrases),)
    # No bucket for a month without own documents of that kind.
    assert freq(built, "from-scratch", "video", "2024-01-01") is None


def test_citation_tallies(built: duckdb.DuckDBPyConnection) -> None:
    def tally(entity: str, kind: str = "*") -> tuple:
        return built.execute(
            "SELECT documents, mentions, first_seen, mixed_speakers_documents FROM citation_tallies WHERE entity_id = ? AND kind = ?",
            [entity, kind],
        ).fetchone()

    # t3 and b1 say "Alan Kay"; p1's "Kay said hi" does not count. b1 is undated.
    assert tally("alan-kay")[:3] == (2, 2, ts("2024-02-03T23:30:00"))
    assert tally("alan-kay", "tweet")[:2] == (1, 1)
    assert tally("alan-kay", "podcast")[:2] == (0, 0)
    # Kahneman only in the podcast (the retweet is someone else's words), flagged as mixed speakers.
    assert tally("kahneman") == (1, 1, ts("2025-03-01T12:00:00"), 1)
    assert tally("licklider")[:2] == (1, 1)
    assert tally("man-computer-symbiosis")[:2] == (1, 1)
    assert tally("feynman") == (0, 0, None, 0)
    kinds = {
        r[0]
        for r in built.execute("SELECT kind FROM citation_tallies WHERE entity_id = 'feynman'").fetchall()
    }
    assert kinds == {"*", "tweet", "video", "podcast", "blog_post"}
    assert built.execute(
        "SELECT alias, matched_text FROM mentions WHERE entity_id = 'alan-kay' ORDER BY doc_id"
    ).fetchall() == [
        ("Alan Kay", "Alan Kay"),
        ("Alan Kay", "Alan Kay"),
    ]


def test_offsets_slice_back_to_the_text(built: duckdb.DuckDBPyConnection) -> None:
    texts = {d["doc_id"]: d["text"] for d in DOCS}
    for table, col in (("phrase_hits", "matched_text"), ("mentions", "matched_text"), ("sentences", "text")):
        rows = built.execute(f"SELECT doc_id, start_char, end_char, {col} FROM {table}").fetchall()  # noqa: S608
        assert rows
        for doc_id, s, e, shown in rows:
            assert texts[doc_id][s:e] == shown
    bad = built.execute(
        """SELECT count(*) FROM phrase_hits h JOIN sentences s USING (doc_id, sent_id)
           WHERE NOT (s.start_char <= h.start_char AND h.end_char <= s.end_char)"""
    ).fetchone()
    assert bad == (0,)
    t1 = texts["t1"]
    assert built.execute(
        "SELECT start_char, end_char FROM phrase_hits WHERE doc_id = 't1' ORDER BY 1"
    ).fetchall() == [
        (t1.index("from scratch"), t1.index("from scratch") + 12),
        (t1.index("From-Scratch"), t1.index("From-Scratch") + 12),
    ]


def test_caption_pseudo_sentences_are_bounded(built: duckdb.DuckDBPyConnection) -> None:
    rows = built.execute("SELECT text, method FROM sentences WHERE doc_id = 'v1' ORDER BY sent_id").fetchall()
    assert len(rows) == 4  # 150 words in groups of at most 40 along caption boundaries
    assert all(len(WORD_RE.findall(t)) <= CAPTION_MAX_WORDS for t, _ in rows)
    assert {m for _, m in rows} == {"caption"}
    longest = built.execute("SELECT max(len(regexp_extract_all(text, '\\w+'))) FROM sentences").fetchone()[0]
    assert longest <= MAX_SENTENCE_WORDS


def test_first_uses(built: duckdb.DuckDBPyConnection) -> None:
    def first(phrase: str) -> tuple:
        return built.execute(
            "SELECT first_seen, doc_id, kind, url, link FROM first_uses WHERE phrase_id = ?", [phrase]
        ).fetchone()

    # The retweet (Jan 2) is earlier but not the author's words.
    assert first("vibe-coding") == (ts("2024-01-20T10:00:00"), "t2", "tweet", DOCS[1]["url"], DOCS[1]["url"])
    assert first("from-scratch")[1] == "t1"
    assert first("jagged-intelligence") == (None, None, None, None, None)
    assert built.execute("SELECT count(*) FROM first_uses").fetchone() == (len(LEX.phrases),)


def test_timeline_with_era_tuples_and_callable(built: duckdb.DuckDBPyConnection) -> None:
    rows = dict(built.execute("SELECT doc_id, era_id FROM timeline").fetchall())
    assert rows == {
        "rt": "post-openai",
        "t1": "post-openai",
        "t2": "post-openai",
        "t3": "post-openai",
        "v1": "framework",
        "p1": "framework",
    }
    assert built.execute("SELECT era_name FROM timeline WHERE doc_id = 'v1'").fetchone() == (
        "The Framework Era",
    )
    analysis.build_timeline(built, lambda t: (f"y{t.year}", str(t.year)) if t.year > 2024 else None)
    rows = dict(built.execute("SELECT doc_id, era_id FROM timeline").fetchall())
    assert rows["v1"] == "y2025" and rows["t1"] is None
    analysis.build_timeline(
        built, [{"id": "all", "name": "Everything", "start": date(2020, 1, 1), "end": None}]
    )
    assert {r[0] for r in built.execute("SELECT era_id FROM timeline").fetchall()} == {"all"}
    analysis.build_timeline(built, None)
    assert built.execute("SELECT count(*), count(era_id) FROM timeline").fetchone() == (6, 0)


def test_ngrams(built: duckdb.DuckDBPyConnection) -> None:
    rows = {
        (n, g): (f, d)
        for n, g, f, d in built.execute("SELECT n, ngram, frequency, documents FROM ngrams").fetchall()
    }
    # t2, t3, p1 (own); the retweet's copy is not counted.
    assert rows[(3, "tiny recurrent widget")] == (3, 3)
    assert rows[(2, "tiny recurrent")] == (3, 3)
    from spacy.lang.en.stop_words import STOP_WORDS

    for _, g in rows:
        assert not all(w in STOP_WORDS for w in g.split()), g
    assert all(f >= 3 for f, _ in rows.values())
    first_last = built.execute(
        "SELECT first_seen, last_seen FROM ngrams WHERE ngram = 'tiny recurrent widget'"
    ).fetchone()
    assert first_last == (ts("2024-01-20T10:00:00"), ts("2025-03-01T12:00:00"))
    analysis.build_ngrams(built, ns=(1,), min_frequency=1)
    uni = dict(built.execute("SELECT ngram, frequency FROM ngrams").fetchall())
    assert uni["kahneman"] == 1  # the podcast's; the retweet's is not the author's
    assert uni["from-scratch"] == 1  # WORD_RE keeps hyphenated words whole
    assert "rt" not in uni and "the" not in uni
    n = analysis.build_ngrams(built, ns=(2,), min_frequency=1, top_n=2)
    assert n == 2
    assert built.execute("SELECT DISTINCT n FROM ngrams").fetchall() == [(2,)]
    with pytest.raises(ValueError):
        analysis.build_ngrams(built, ns=(5,))


def test_kwic_phrase_links_and_filters(built: duckdb.DuckDBPyConnection) -> None:
    lines = kwic(built, "from-scratch", kind="video")
    assert len(lines) == 1
    line = lines[0]
    assert line["match"] == "from scratch" and line["doc_id"] == "v1"
    assert line["link"] == f"{YT}&t=31s"  # segment 12 starts at 1.0 + 2.5 * 12 = 31.0 s
    assert line["left"].endswith("so we build it ")
    assert len(line["left"]) <= 60 and len(line["right"]) <= 60
    own = kwic(built, "from-scratch")
    assert [r["doc_id"] for r in own] == ["t1", "t1", "t3", "v1", "p1"]
    assert own[0]["link"] == DOCS[0]["url"]
    assert [r["doc_id"] for r in kwic(built, "vibe-coding", since="2024-02")] == ["t3"]
    assert len(kwic(built, "from-scratch", limit=2)) == 2
    assert kwic(built, "from-scratch", width=5)[0]["left"] == "rser "


def test_kwic_free_text(built: duckdb.DuckDBPyConnection) -> None:
    everyone = kwic(built, "from scratch", own_only=False)
    assert [r["doc_id"] for r in everyone] == ["rt", "t1", "t1", "t3", "v1", "p1"]
    assert [r["match"] for r in everyone][:3] == ["from scratch", "from scratch", "From-Scratch"]
    video = [r for r in everyone if r["doc_id"] == "v1"][0]
    assert video["link"] == f"{YT}&t=31s"
    assert kwic(built, "scratch", kind="tweet", own_only=True)[0]["match"] == "scratch"
    assert [r["doc_id"] for r in kwic(built, "scratchpad")] == ["t2"]
    assert kwic(built, "Robert'); DROP TABLE documents;--") == []
    assert built.execute("SELECT count(*) FROM documents").fetchone() == (len(DOCS),)


def test_evidence_link() -> None:
    assert evidence_link("video", YT, 75.9) == f"{YT}&t=75s"
    assert (
        evidence_link("video", "https://youtu.be/AbCdEfGhIjK", 75.2) == "https://youtu.be/AbCdEfGhIjK?t=75s"
    )
    assert evidence_link("video", f"{YT}&t=10s", 5) == f"{YT}&t=5s"
    assert (
        evidence_link("video", "https://youtube.com/live/AbCdEfGhIjK", 3)
        == "https://youtube.com/live/AbCdEfGhIjK?t=3s"
    )
    assert evidence_link("video", YT, None) == YT
    assert evidence_link("tweet", "https://x.com/a/status/1", 12.0) == "https://x.com/a/status/1"
    assert (
        evidence_link("podcast", "https://podcasts.example.org/ep1", 12.0)
        == "https://podcasts.example.org/ep1"
    )
    assert evidence_link("video", None, 3) is None


def test_cache_rerun_processes_nothing_new(con: duckdb.DuckDBPyConnection) -> None:
    first = analysis.build_text_tables(con, LEX)
    assert (first.processed, first.cached) == (len(DOCS), 0)
    before = con.execute("SELECT * FROM phrase_hits ORDER BY ALL").fetchall()
    again = analysis.build_text_tables(con, LEX)
    assert (again.processed, again.cached) == (0, len(DOCS))
    assert con.execute("SELECT * FROM phrase_hits ORDER BY ALL").fetchall() == before
    # Change one document: only it is processed again, and the stale entry is pruned.
    con.execute(
        "UPDATE documents SET text = text || ' Jagged intelligence too.', content_sha256 = NULL WHERE doc_id = 'p1'"
    )
    third = analysis.build_text_tables(con, LEX)
    assert (third.processed, third.cached, third.pruned) == (1, len(DOCS) - 1, 1)
    assert con.execute(
        "SELECT count(*) FROM phrase_hits WHERE phrase_id = 'jagged-intelligence'"
    ).fetchone() == (1,)


def test_cache_file_survives_a_rebuilt_warehouse(tmp_path: Path) -> None:
    cache_path = tmp_path / "cache" / "nlp.duckdb"
    for run, expected in ((1, len(DOCS)), (2, 0)):
        c = connect(tmp_path / f"warehouse{run}.duckdb")
        load_docs(c, DOCS, V1_SEGS)
        with NlpCache(c, cache_path) as cache:
            stats = analysis.build_text_tables(c, LEX, cache)
            assert stats.processed == expected
            assert c.execute(
                "SELECT count(*) FROM phrase_hits WHERE phrase_id = 'from-scratch' AND is_own"
            ).fetchone() == (5,)
        c.close()


def test_empty_warehouse(tmp_path: Path) -> None:
    c = connect(":memory:")
    load_docs(c, [], [])
    out = analysis.build_all(c, LEX)
    assert out["sentences"] == 0 and out["ngrams"] == 0 and out["timeline"] == 0
    assert freq(c, "from-scratch", "*", None) == (0, 0, 0, None, 0)
    assert out["citation_tallies"] == len(LEX.entities)


@pytest.mark.real_corpus
def test_real_corpus_markdown_texts(tmp_path: Path) -> None:
    """Every Markdown text of the real corpus, loaded as plain documents: offsets slice back,
    sentences stay bounded, and the throughput is reported."""
    root = os.environ.get("CORPUS_REAL_DIR")
    if not root or not Path(root).is_dir():
        pytest.skip("CORPUS_REAL_DIR is not set")
    files = sorted(Path(root).rglob("*.md"))
    if not files:
        pytest.skip("no Markdown files in CORPUS_REAL_DIR")
    docs = []
    for i, f in enumerate(files):
        kind = "video" if "transcripts" in f.parts else "blog_post"
        docs.append(
            dict(
                doc_id=f"real{i:04d}",
                kind=kind,
                published_at=None,
                is_own=True,
                speakers_separated=True,
                url=None,
                text=f.read_text(encoding="utf-8", errors="replace"),
            )
        )
    c = connect(tmp_path / "real.duckdb")
    load_docs(c, docs, [])
    t0 = time.perf_counter()
    stats = analysis.build_text_tables(c, LEX)
    elapsed = time.perf_counter() - t0
    words = sum(word_count(d["text"]) for d in docs)
    print(
        f"\nreal corpus: {len(docs)} docs, {words} words, nlp {stats.words_per_second:,.0f} words/s, "
        f"{words / elapsed:,.0f} words/s incl. tables"
    )
    bad = c.execute(
        """SELECT count(*) FROM sentences s JOIN documents d USING (doc_id)
           WHERE substring(d.text, s.start_char + 1, s.end_char - s.start_char) <> s.text
              OR len(regexp_extract_all(s.text, '\\w+')) > ? * 2""",
        [MAX_SENTENCE_WORDS],
    ).fetchone()
    assert bad == (0,)
    assert c.execute("SELECT count(*) FROM phrase_hits WHERE phrase_id = 'from-scratch'").fetchone()[0] > 0
    assert analysis.build_text_tables(c, LEX).processed == 0
    c.close()


def test_nlp_in_worker_processes_equals_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two NLP workers (nlp/parallel.py, forced on for this small corpus, in small chunks) store the
    same cache rows and build the same tables as the calling process alone."""
    from pipelines.core.nlp import cache as nlp_cache

    def build(workers: str, name: str) -> dict[str, list[tuple[Any, ...]]]:
        monkeypatch.setenv("CORPUS_NLP_WORKERS", workers)
        c = connect(tmp_path / f"{name}.duckdb")
        load_docs(c, DOCS, V1_SEGS)
        with NlpCache(c, tmp_path / f"{name}-nlp.duckdb") as cache:
            stats = nlp_cache.process_documents(c, LEX, cache, chunk_docs=3)
            assert stats.processed == len(DOCS)
            analysis.build_text_tables(c, LEX, cache)
            out = {t: c.execute(f"SELECT * EXCLUDE (processed_at) FROM {cache.t(t)} ORDER BY ALL" if t == "docs"  # noqa: S608
                                else f"SELECT * FROM {cache.t(t)} ORDER BY ALL").fetchall()  # noqa: S608
                   for t in ("docs", "sentences", "phrase_hits", "mentions")}
        for t in ("sentences", "phrase_hits", "mentions"):
            out[t + "_table"] = c.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608
        c.close()
        return out

    monkeypatch.setattr(nlp_cache, "MIN_PARALLEL_WORDS", 0)
    one, two = build("1", "one"), build("2", "two")
    assert one["sentences"] and one["phrase_hits_table"]
    assert two == one


def test_nlp_pieces_and_a_dead_worker() -> None:
    """A chunk is cut into contiguous pieces of about equal characters, and a piece whose worker died
    is analysed in the calling process, with the same frames."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from pipelines.core.nlp.frames import concat
    from pipelines.core.nlp.parallel import ParallelProcessor, PendingChunk, analyse, pieces
    from pipelines.core.nlp.processor import TextProcessor

    items = [(f"k{i}", f"s{i}", ("Built from scratch. " * (1 + i % 5)).strip(), None) for i in range(40)]
    parts = pieces(items, 4)
    assert [x for p in parts for x in p] == items and len(parts) == 4
    sizes = [sum(len(t) for _, _, t, _ in p) for p in parts]
    assert max(sizes) - min(sizes) <= 2 * max(len(t) for _, _, t, _ in items)
    proc = TextProcessor(LEX)
    expected = concat([analyse(proc, p, "lex", "code") for p in parts])
    pool = ParallelProcessor.__new__(ParallelProcessor)  # no processes: only the fallback is exercised
    pool.lexicon, pool.batch_size, pool.lex_hash, pool.code_version, pool._local = LEX, 64, "lex", "code", None
    dead: Future[Any] = Future()
    dead.set_exception(BrokenProcessPool("killed"))
    done: Future[Any] = Future()
    done.set_result(analyse(proc, parts[1], "lex", "code"))
    futures = [dead, done] + [dead] * (len(parts) - 2)
    got = PendingChunk(pool, parts, futures).frames()
    assert {t: f.to_dicts() for t, f in got.items()} == {t: f.to_dicts() for t, f in expected.items()}
