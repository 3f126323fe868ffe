"""The ten rules behind verdicts a careful analyst would sign, each on a small synthetic corpus.

An invented thinker (Ada, @ada) and invented text. Each test builds parsed documents, assembles
them with the catalog exactly as the pipeline does (``assemble``), loads the warehouse tables from
the schema registry, and evaluates claims over them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.core import warehouse as wh
from pipelines.core.assemble import Tables, assemble
from pipelines.core.claims import evaluate_claims
from pipelines.core.claims.config import ClaimsConfig
from pipelines.core.config import Catalog, Source, Thinker
from pipelines.core.ingest import ParsedFile, Snapshot
from pipelines.core.records import ParsedDocument, ParseResult, Segment, TweetFields
from pipelines.core.schema import CORE

ADA = Thinker(name="Ada Lovelace", twitter="ada", aliases=["Ada"])


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def pfile(path: str, docs: list[ParsedDocument] | None = None, **result: Any) -> ParsedFile:
    snap = Snapshot(snapshot_id=path, path=path, sha256="0" * 64, bytes=1, seen_at=ts("2026-06-01"),
                    origin=path, fetcher="inbox", format="test", status="accepted")
    return ParsedFile(snap, ParseResult(format="test", documents=docs or [], **result))


def tweet(tid: str, when: str, text: str, **kw: Any) -> ParsedDocument:
    return ParsedDocument(kind="tweet", text=text, external_id=tid or None, published_at=ts(when),
                          url=f"https://x.com/ada/status/{tid}" if tid else None,
                          tweet=TweetFields(tweet_id=tid, created_at=ts(when), author=kw.pop("author", None)), **kw)


def load(tables: Tables) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in CORE:
        wh.replace_table(con, t, wh.frame(t, getattr(tables, t)))
    return con


def judge(con: duckdb.DuckDBPyConnection, *claims: dict[str, Any], as_of: str | None = "2026-03",
          abbreviations: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    cfg = ClaimsConfig.model_validate(
        {"as_of": as_of, "abbreviations": abbreviations or {},
         "claims": [{"section": "test", "quote": c.get("quote", "q"), **c} for c in claims]}
    )
    rows, ev = evaluate_claims(con, cfg)
    out = {r["claim_id"]: r for r in rows}
    for r in out.values():
        r["evidence"] = [e for e in ev if e["claim_id"] == r["claim_id"]]
    return out


# ---------------------------------------------------------------- 1. one post is one row


def test_a_day_file_copy_a_month_late_merges_into_the_dumped_tweet() -> None:
    catalog = Catalog(thinker=ADA, sources=[Source(id="tweets-ada", kind="tweet_archive", title="Tweets of @ada")])
    csv = tweet("1900000000000000001", "2025-06-04 10:00",
                "I inherited this idea from a @bob post: bob.example/2025/Mar/1… But it needs work, it does not roll off the tongue.")
    day = tweet("", "2025-07-05", "I inherited this idea from a @bob post: https://bob.example/2025/Mar/19/idea/ But it needs work, "
                "it does not roll off the tongue. Here is a longer version of the same post with its ending.")
    other = tweet("", "2025-07-05", "A different post of the same day that no dump has.")
    tables = assemble(catalog, [pfile("dump.csv", [csv]), pfile("wiki/2025/7.5.md", [day, other])])
    docs = {d["doc_id"]: d for d in tables.documents}
    merged = docs["tweet-1900000000000000001"]
    assert merged["published_at"] == ts("2025-06-04 10:00")  # the id'd copy's exact timestamp
    assert merged["url"] == "https://x.com/ada/status/1900000000000000001"
    assert merged["text"].endswith("with its ending.")  # the fuller copy's text
    assert merged["date_basis"] == "published"
    assert len([d for d in docs if d.startswith("tweet-nokey")]) == 1  # only the unmatched post stays id-less
    (m,) = [r for r in tables.merges if r["doc_id"] == "tweet-1900000000000000001"]
    assert {m["kept_path"], m["merged_path"]} == {"dump.csv", "wiki/2025/7.5.md"}
    assert m["rule"] == "truncated copy" and abs(m["days_apart"]) == 31
    nokey = next(d for d in docs.values() if d["doc_id"].startswith("tweet-nokey"))
    assert nokey["url"] is None and nokey["date_basis"] == "file_name"  # no link that opens no passage


def test_posts_by_other_accounts_and_media_only_posts() -> None:
    catalog = Catalog(thinker=ADA, sources=[Source(id="tweets-ada", kind="tweet_archive", title="Tweets")])
    mine = tweet("11", "2024-01-01", "my own words", author="ada")
    theirs = tweet("12", "2024-01-02", "someone else's words in the same dump", author="bob")
    media = tweet("13", "2024-01-03", "", author="ada")
    tables = assemble(catalog, [pfile("dump.json", [mine, theirs, media])])
    own = {d["doc_id"]: d["is_own"] for d in tables.documents}
    assert own == {"tweet-11": True, "tweet-12": False}
    (row,) = [t for t in tables.tweets if t["tweet_id"] == "13"]
    assert row["doc_id"] is None and row["text"] == ""  # a media-only post lands in tweets, with no words


def test_a_guest_post_is_not_the_thinkers_own() -> None:
    catalog = Catalog(thinker=ADA, sources=[])
    guest = ParsedDocument(kind="blog_post", text="a guest writes here", url="https://ada.example/guest/", meta={"author": "Bob Guest"})
    hers = ParsedDocument(kind="blog_post", text="she writes here", url="https://ada.example/hers/", meta={"author": "Ada Lovelace"})
    tables = assemble(catalog, [pfile("guest.md", [guest]), pfile("hers.md", [hers])])
    by_url = {d["url"]: (d["is_own"], d["author"]) for d in tables.documents}
    assert by_url == {"https://ada.example/guest/": (False, "Bob Guest"), "https://ada.example/hers/": (True, "Ada Lovelace")}


# ---------------------------------------------------------------- 2. the profile's frame


def _posts_catalog() -> Catalog:
    return Catalog(thinker=ADA, sources=[
        Source(id="post-a", kind="blog_post", title="Post A", date="2025-01-10", url="https://ada.example/a/", collection="blog"),
        Source(id="post-b", kind="blog_post", title="Post B", date="2025-12-01", url="https://ada.example/b/", collection="blog"),
        Source(id="post-c", kind="blog_post", title="Post C", date="2026-04-30", url="https://ada.example/c/", collection="blog"),
    ])


def _post(url: str, when: str, text: str) -> ParsedDocument:
    return ParsedDocument(kind="blog_post", text=text, url=url, external_id=url, published_at=ts(when))


def test_a_document_after_the_profiles_date_never_contradicts_it() -> None:
    tables = assemble(_posts_catalog(), [pfile(f"{x}.md", [_post(f"https://ada.example/{x}/", d, f"post {x} text")])
                                         for x, d in (("a", "2025-01-10"), ("b", "2025-12-01"), ("c", "2026-04-30"))])
    con = load(tables)
    scope = {"collection": "blog", "own_only": False}
    by = judge(
        con,
        {"id": "last", "type": "date", "metric": "last_date", "comparator": "within", "expected": 2025, "scope": scope},
        {"id": "count", "type": "corpus_size", "metric": "documents", "comparator": "eq", "expected": 2, "scope": scope},
    )
    assert by["last"]["verdict"] == "supported" and by["last"]["measured"] == "2025-12-01"
    assert by["count"]["verdict"] == "supported" and by["count"]["later_docs"] == 1
    assert "1 later blog post (after the profile's date) not counted" in by["count"]["explanation"]
    # without the frame the April post would refute "the last post is from 2025"
    no_frame = judge(con, {"id": "last", "type": "date", "metric": "last_date", "comparator": "within", "expected": 2025,
                           "scope": scope}, as_of=None)
    assert no_frame["last"]["verdict"] == "contradicted"


def test_a_collection_claim_reads_only_the_sources_the_profile_names() -> None:
    catalog = Catalog(thinker=ADA, sources=[
        Source(id="talk-1", kind="video", title="Talk 1", youtube_id="AAAAAAAAAAA", date="2024-01-01"),
        Source(id="talk-2", kind="video", title="Talk 2", youtube_id="BBBBBBBBBBB", date="2024-02-01", in_profile=False),
    ])
    docs = [ParsedDocument(kind="video", text="one two three " * 10, external_id="AAAAAAAAAAA"),
            ParsedDocument(kind="video", text="four five " * 10, external_id="BBBBBBBBBBB")]
    con = load(assemble(catalog, [pfile("1.vtt", [docs[0]]), pfile("2.vtt", [docs[1]])]))
    by = judge(con, {"id": "n", "type": "corpus_size", "metric": "documents", "comparator": "eq", "expected": 1,
                     "scope": {"kinds": ["video"], "frame": "collection", "own_only": False}})
    assert by["n"]["verdict"] == "supported" and by["n"]["measured_value"] == 1


# ---------------------------------------------------------------- 3. missing is not zero


def test_captions_without_real_timings_make_a_duration_not_checkable() -> None:
    catalog = Catalog(thinker=ADA, sources=[Source(id="pod", kind="podcast", title="Pod", youtube_id="CCCCCCCCCCC", date="2022-10-29")])
    words = [f"word{i}" for i in range(3000)]
    segs = [Segment(seq=i, text=" ".join(words[i * 10:(i + 1) * 10]), start_s=float(i % 13), end_s=None) for i in range(300)]
    pod = ParsedDocument(kind="podcast", text="\n".join(s.text for s in segs), external_id="CCCCCCCCCCC", segments=segs)
    tables = assemble(catalog, [pfile("pod.md", [pod])])
    assert tables.documents[0]["timed"] is False and tables.documents[0]["duration_s"] is None
    by = judge(load(tables), {"id": "hours", "type": "composition", "metric": "duration_hours", "comparator": "approx",
                              "expected": 2.5, "tolerance": {"abs": 0.25}, "scope": {"source_ids": ["pod"], "own_only": False}})
    assert by["hours"]["verdict"] == "not_checkable", by["hours"]
    assert "running time of pod is unknown" in by["hours"]["explanation"]
    assert all(e["start_s"] is None and "&t=" not in (e["link"] or "") for e in by["hours"]["evidence"])


def test_a_duration_from_metadata_when_captions_have_no_timings() -> None:
    catalog = Catalog(thinker=ADA, sources=[Source(id="v", kind="video", title="V", youtube_id="DDDDDDDDDDD", date="2024-01-01")])
    doc = ParsedDocument(kind="video", text="word " * 500, external_id="DDDDDDDDDDD")
    meta = pfile("v.meta.json", metadata={"youtube:DDDDDDDDDDD": {"duration_s": 5400.0}})
    tables = assemble(catalog, [pfile("v.txt", [doc]), meta])
    assert (tables.documents[0]["duration_s"], tables.documents[0]["duration_basis"]) == (5400.0, "metadata")
    by = judge(load(tables), {"id": "h", "type": "composition", "metric": "duration_hours", "comparator": "approx",
                              "expected": 1.5, "tolerance": {"abs": 0.1}, "scope": {"source_ids": ["v"], "own_only": False}})
    assert by["h"]["verdict"] == "supported" and "By the video metadata" in by["h"]["explanation"]


# ---------------------------------------------------------------- 4. lower bound only when reachable


def _videos(n_collected: int, n_missing: int, text: str) -> duckdb.DuckDBPyConnection:
    ids = [f"{chr(65 + i) * 11}" for i in range(n_collected + n_missing)]
    catalog = Catalog(thinker=ADA, sources=[
        Source(id=f"v{i}", kind="video", title=f"V{i}", youtube_id=y, date=f"2024-0{i + 1}-01") for i, y in enumerate(ids)
    ])
    files = [pfile(f"{y}.vtt", [ParsedDocument(kind="video", text=text, external_id=y)]) for y in ids[:n_collected]]
    return load(assemble(catalog, files))


def test_an_unreachable_gap_is_a_contradiction_with_its_arithmetic() -> None:
    con = _videos(3, 2, "nothing about the name here")
    claim = {"type": "citation", "metric": "pattern_documents", "params": {"pattern": "babbage"}, "comparator": "ge",
             "scope": {"kinds": ["video"]}}
    by = judge(con, {**claim, "id": "three", "expected": 3}, {**claim, "id": "two", "expected": 2})
    assert by["three"]["verdict"] == "contradicted"
    assert "0 found + at most 2 from the 2 uncollected videos" in by["three"]["explanation"]
    assert "= 2 < 3" in by["three"]["explanation"]
    assert by["two"]["verdict"] == "lower_bound"  # the two uncollected videos could still hold it


# ---------------------------------------------------------------- 5. listings prove existence


def test_an_index_page_proves_a_post_exists_and_when() -> None:
    catalog = _posts_catalog()
    index = pfile("blog/index.html", listings=[
        {"url": "/a/", "title": "Post A", "published_at": ts("2025-01-10")},
        {"url": "/b/", "title": "Post B", "published_at": ts("2025-12-01")},
        {"url": "/c/", "title": "Post C", "published_at": ts("2026-04-30")},
    ])
    tables = assemble(catalog, [pfile("b.md", [_post("https://ada.example/b/", "2025-12-01", "post b")]), index])
    assert [(r["source_id"], r["doc_id"]) for r in tables.listings] == [("post-a", None), ("post-b", "post-b"), ("post-c", None)]
    scope = {"collection": "blog", "own_only": False}
    by = judge(
        load(tables),
        {"id": "count", "type": "corpus_size", "metric": "documents", "comparator": "eq", "expected": 2, "scope": scope},
        {"id": "first", "type": "date", "metric": "first_date", "comparator": "within", "expected": 2025, "scope": scope},
    )
    assert by["count"]["verdict"] == "supported", by["count"]["explanation"]
    assert "an index page in raw/ lists without its text (post-a (2025-01-10))" in by["count"]["explanation"]
    assert by["first"]["verdict"] == "supported" and by["first"]["measured"] == "2025-01-10"


# ---------------------------------------------------------------- 6. who is speaking


def test_a_chaptered_event_counts_only_the_thinkers_turn() -> None:
    catalog = Catalog(thinker=ADA, sources=[Source(id="event", kind="video", title="Keynotes", youtube_id="EEEEEEEEEEE", date="2024-10-02")])
    segs, texts = [], []
    for i in range(60):  # one cue a minute: 0-20 min Bob, 20-40 min Ada, 40-60 min Cy
        who = "bob" if i < 20 else "ada" if i < 40 else "cy"
        t = " ".join([f"{who}word"] * 120)
        segs.append(Segment(seq=i, text=t, start_s=60.0 * i, end_s=60.0 * (i + 1)))
        texts.append(t)
    doc = ParsedDocument(kind="video", text="\n".join(texts), external_id="EEEEEEEEEEE", segments=segs,
                         url="https://www.youtube.com/watch?v=EEEEEEEEEEE")
    chapters = [{"title": "Bob Builder", "start": 0, "end": 1200}, {"title": "Ada Lovelace", "start": 1200, "end": 2400},
                {"title": "Cy Young", "start": 2400, "end": 3600}]
    tables = assemble(catalog, [pfile("e.json", [doc]), pfile("e.meta.json", metadata={"youtube:EEEEEEEEEEE": {"chapters": chapters}})])
    assert [(t["speaker"], t["is_own"]) for t in tables.speaker_turns] == [("Bob Builder", False), ("Ada Lovelace", True), ("Cy Young", False)]
    by = judge(load(tables), {"id": "w", "type": "corpus_size", "metric": "words", "comparator": "approx", "expected": 2400,
                              "tolerance": {"rel": 0.05}, "scope": {"source_ids": ["event"]}})
    assert by["w"]["verdict"] == "supported" and by["w"]["measured_value"] == pytest.approx(2400, rel=0.02)
    assert "only the thinker's speaker turns count" in by["w"]["explanation"]
    assert by["w"]["evidence"][0]["link"].endswith("&t=1200s")  # the evidence opens where her part starts


# ---------------------------------------------------------------- 7. dating


def test_a_readme_is_not_dated_by_its_repository() -> None:
    catalog = Catalog(thinker=ADA, sources=[Source(id="repo-x", kind="repo", title="x", date="2025-10", github_repo="ada/x")])
    readme = ParsedDocument(kind="repo", text="autotune results table, row of Mar 9 2026", external_id="github:ada/x")
    post = tweet("21", "2026-03-07 12:00", "I packaged up autotune into a repo")
    cat = Catalog(thinker=ADA, sources=[*catalog.sources, Source(id="tweets-ada", kind="tweet_archive", title="T")])
    tables = assemble(cat, [pfile("README.md", [readme]), pfile("t.json", [post])])
    assert {d["doc_id"]: d["date_basis"] for d in tables.documents} == {"repo-x": "repo_created", "tweet-21": "published"}
    by = judge(load(tables), {"id": "first", "type": "date", "metric": "pattern_first_use", "params": {"pattern": "autotune"},
                              "comparator": "within", "expected": "2026-03"})
    assert by["first"]["verdict"] == "supported" and by["first"]["measured"] == "2026-03-07"
    assert "1 undated document also use it (repo-x" in by["first"]["explanation"]


# ---------------------------------------------------------------- 8. quotes


QUOTE_TEXT = (
    "Well, I think maybe the engines of thought are mechanical. "
    "Later she said the loom weaves algebraic patterns just as it weaves flowers and leaves. "
    "On tools she wrote that a good notebook is worth more than a clever machine, always."
)


def _one_post_con(source_id: str, text: str) -> duckdb.DuckDBPyConnection:
    url = f"https://ada.example/{source_id}/"
    catalog = Catalog(thinker=ADA, sources=[Source(id=source_id, kind="blog_post", title=source_id.title(),
                                                   date="2024-05-01", url=url)])
    return load(assemble(catalog, [pfile(f"{source_id}.md", [_post(url, "2024-05-01", text)])]))


def _quote_con() -> duckdb.DuckDBPyConnection:
    return _one_post_con("essay", QUOTE_TEXT)


@pytest.mark.parametrize(
    ("quote", "cls", "verdict", "difference"),
    [
        ("the loom weaves algebraic patterns", "verbatim", "supported", None),
        ("I think the engines of thought are mechanical.", "near_verbatim", "supported", "source adds 'maybe'"),
        ("She wrote that on tools a clever machine is worth less than a good notebook.", "paraphrase", "supported", None),
        ("Steam trains dream of electric sheep.", "absent", "contradicted", None),
    ],
)
def test_each_quote_class(quote: str, cls: str, verdict: str, difference: str | None) -> None:
    by = judge(_quote_con(), {"id": "q", "quote": quote, "type": "quote", "metric": "quote_match", "comparator": "ge",
                              "expected": "paraphrase", "scope": {"source_ids": ["essay"], "own_only": False}})
    r = by["q"]
    assert (r["quote_class"], r["verdict"]) == (cls, verdict), r["explanation"]
    if difference:
        assert r["evidence"][0]["difference"] == difference
    if cls != "absent":
        assert r["evidence"][0]["match_class"] == cls and r["evidence"][0]["link"] == "https://ada.example/essay/"


def test_near_verbatim_pairs_the_words_of_the_passage_not_an_earlier_sentence() -> None:
    """difflib pairs the earliest equal words: "I think" a sentence before must not stretch the match."""
    catalog = Catalog(thinker=ADA, sources=[Source(id="talk", kind="podcast", title="Talk", date="2022-10-01",
                                                   url="https://ada.example/talk/")])
    text = ("I think it is complicated, there is a lot to say about randomness and about noise, and "
            "whether anything is random at all. I think maybe the laws of nature are deterministic, so yes.")
    con = load(assemble(catalog, [pfile("t.md", [_post("https://ada.example/talk/", "2022-10-01", text)])]))
    by = judge(con, {"id": "q", "quote": "I think the laws of nature are deterministic.", "type": "quote",
                     "metric": "quote_match", "comparator": "ge", "expected": "paraphrase",
                     "scope": {"source_ids": ["talk"], "own_only": False}})
    ev = by["q"]["evidence"][0]
    assert by["q"]["quote_class"] == "near_verbatim" and ev["difference"] == "source adds 'maybe'"
    assert ev["matched_text"] == "I think maybe the laws of nature are deterministic"


def test_a_replaced_content_word_is_not_near_verbatim() -> None:
    by = judge(_quote_con(), {"id": "q", "quote": "the loom weaves algebraic flowers", "type": "quote", "metric": "quote_match",
                              "comparator": "ge", "expected": "near_verbatim", "scope": {"source_ids": ["essay"], "own_only": False}})
    assert by["q"]["quote_class"] != "near_verbatim" and by["q"]["verdict"] != "supported"


ABBR_TEXT = (
    "Some days I call what we build MA (mechanical augmentation) instead of MI, and it fits. "
    "Elsewhere the weather was fine and the river rose. "
    "Her method: a failure to use the loom well feels like a weaving issue, nothing more. "
    "Weaving is hard. Some issue with the thread came up later, far from any loom."
)


def _abbr_con() -> duckdb.DuckDBPyConnection:
    return _one_post_con("notes", ABBR_TEXT)


def _q(quote: str) -> dict[str, Any]:
    return {"id": "q", "quote": quote, "type": "quote", "metric": "quote_match", "comparator": "ge",
            "expected": "paraphrase", "scope": {"source_ids": ["notes"], "own_only": False}}


def test_an_abbreviation_stands_for_its_expansion_both_ways() -> None:
    abbr = {"MA": "mechanical augmentation", "MI": "machine intelligence"}
    quote = "Mechanical Augmentation, not Machine Intelligence"
    without = judge(_abbr_con(), _q(quote))["q"]
    assert without["quote_class"] == "absent"  # "machine intelligence" is written MI
    with_table = judge(_abbr_con(), _q(quote), abbreviations=abbr)["q"]
    assert (with_table["quote_class"], with_table["verdict"]) == ("paraphrase", "supported")
    assert with_table["evidence"][0]["link"] == "https://ada.example/notes/"
    # the other way: the quote abbreviates what the passage writes out
    assert judge(_abbr_con(), _q("MA instead of machine intelligence"), abbreviations=abbr)["q"]["quote_class"] == "paraphrase"
    with pytest.raises(ValueError, match="must be two words or more"):
        ClaimsConfig.model_validate({"abbreviations": {"MA": "mechanics"}, "claims": []})


def test_two_content_words_paraphrase_only_together_and_in_order() -> None:
    assert judge(_abbr_con(), _q("Everything is a weaving issue."))["q"]["quote_class"] == "paraphrase"
    # both words are in the text, but never side by side in this order: two scattered words prove nothing
    assert judge(_abbr_con(), _q("Everything is a thread weaving."))["q"]["quote_class"] == "absent"
    assert judge(_abbr_con(), _q("Everything is an issue weaving."))["q"]["quote_class"] == "absent"


# ---------------------------------------------------------------- 9. spelling and caption variants


def test_a_caption_spelling_counts_through_the_lexicon() -> None:
    from pipelines.core.lexicon import load_lexicon
    from pipelines.core.nlp.processor import TextProcessor

    proc = TextProcessor(load_lexicon())  # the shipped lexicon: ten-terabytes lists the caption form "10 terab"
    for text, found in (("you should be thinking 10 terab of text", "10 terab"), ("about 10TB of text", "10TB"),
                        ("hundreds of terabytes of text", None)):
        res = proc.process_text(text)
        hits = [text[s:e] for p, _, s, e in res.phrase_hits if p == "ten-terabytes"]
        assert hits == ([found] if found else []), text


# ---------------------------------------------------------------- 10. links that open the passage


def test_links_carry_the_passage_second_only_when_timed() -> None:
    catalog = Catalog(thinker=ADA, sources=[
        Source(id="timed", kind="video", title="Timed", youtube_id="FFFFFFFFFFF", date="2024-01-01"),
        Source(id="untimed", kind="video", title="Untimed", youtube_id="GGGGGGGGGGG", date="2024-01-02"),
    ])
    timed = [Segment(seq=i, text=t, start_s=s, end_s=s + 30) for i, (t, s) in enumerate(
        [("welcome everyone", 0.0), ("some words first", 30.0), ("the loom weaves patterns", 95.0)])]
    flat = [Segment(seq=i, text=s.text, start_s=0.0, end_s=None) for i, s in enumerate(timed)]
    docs = [ParsedDocument(kind="video", text="\n".join(s.text for s in segs), external_id=y, segments=segs,
                           url=f"https://www.youtube.com/watch?v={y}")
            for y, segs in (("FFFFFFFFFFF", timed), ("GGGGGGGGGGG", flat))]
    con = load(assemble(catalog, [pfile("t.vtt", [docs[0]]), pfile("u.md", [docs[1]])]))
    by = judge(con, {"id": "p", "type": "phrase_count", "metric": "pattern_documents", "params": {"pattern": "loom weaves"},
                     "comparator": "ge", "expected": 2, "scope": {"kinds": ["video"], "own_only": False}},
               {"id": "w", "type": "phrase_count", "metric": "pattern_documents", "params": {"pattern": "welcome"},
                "comparator": "ge", "expected": 1, "scope": {"source_ids": ["timed"], "own_only": False}})
    links = {e["doc_id"]: e["link"] for e in by["p"]["evidence"]}
    assert links == {"timed": "https://www.youtube.com/watch?v=FFFFFFFFFFF&t=95s",
                     "untimed": "https://www.youtube.com/watch?v=GGGGGGGGGGG"}
    assert by["w"]["evidence"][0]["link"] == "https://www.youtube.com/watch?v=FFFFFFFFFFF"  # second 0 is no passage's own


# ---------------------------------------------------------------- the quote cache


def test_cached_quote_answers_equal_fresh_ones_after_the_corpus_changes(tmp_path: Path) -> None:
    """Quote answers kept between runs (quotecache.py) give the verdicts a run without them gives: on
    the same corpus (every answer from the file, a weight-dependent one included), and after a
    document's text changes and a new one arrives (every weight changes)."""
    import hashlib
    import json

    quotes = [("verbatim", "the loom weaves algebraic patterns"),
              ("near", "I think the engines of thought are mechanical."),
              ("para", "She wrote that on tools a clever machine is worth less than a good notebook."),
              ("absent", "Steam trains dream of electric sheep.")]
    cfg = ClaimsConfig.model_validate({"as_of": "2026-03", "claims": [
        {"id": i, "section": "t", "quote": q, "type": "quote", "metric": "quote_match", "comparator": "ge",
         "expected": "paraphrase", "scope": {"source_ids": ["essay"], "own_only": False}} for i, q in quotes]})
    cache = tmp_path / "quotes.json"
    con = _quote_con()

    def verdicts(path: Path | None) -> list[tuple[Any, ...]]:
        rows, ev = evaluate_claims(con, cfg, quote_cache=path)
        return [(r["claim_id"], r["verdict"], r["quote_class"], r["explanation"]) for r in rows] + \
            [tuple(sorted(e.items())) for e in ev]

    fresh = verdicts(None)
    assert [v[1:3] for v in fresh[:4]] == [("supported", "verbatim"), ("supported", "near_verbatim"),
                                           ("supported", "paraphrase"), ("contradicted", "absent")]
    assert verdicts(cache) == fresh and verdicts(cache) == fresh  # cold file, then warm
    kept = json.loads(cache.read_text())
    (doc_answers,) = kept["answers"].values()  # one document: its verbatim, near and paraphrase answers
    # the paraphrase is kept as its windows, weighed with the corpus weights when it is read
    assert sorted(a[0] for a in doc_answers.values()) == ["near_verbatim", "verbatim", "windows"]
    assert len(kept["covered"]) == len(kept["present"]) == 1  # the absent quote: covered, nothing stored

    text = QUOTE_TEXT + " Steam trains dream of electric sheep, she said."
    con.execute("UPDATE documents SET text = ?, content_sha256 = ?", [text, hashlib.sha256(text.encode()).hexdigest()])
    con.execute("INSERT INTO documents SELECT * REPLACE ('post-2' AS doc_id, 'x' AS content_sha256, "
                "'Clever machines, good notebooks, and tools.' AS text) FROM documents")
    changed = verdicts(None)
    assert changed[3][1:3] == ("supported", "verbatim")  # the changed text now holds it
    assert verdicts(cache) == changed


def test_a_cached_paraphrase_follows_the_weights_of_a_changed_corpus(tmp_path: Path) -> None:
    """The essay is unchanged, but new documents make the quote's shared words common, so the one it
    lacks ("diary") weighs more: the paraphrase no longer carries enough of the quote's weight, with
    the cache as without it."""
    quote = "She wrote that on tools a clever machine is worth less than a good diary."
    cfg = ClaimsConfig.model_validate({"as_of": "2026-03", "claims": [
        {"id": "para", "section": "t", "quote": quote, "type": "quote", "metric": "quote_match", "comparator": "ge",
         "expected": "paraphrase", "scope": {"source_ids": ["essay"], "own_only": False}}]})
    cache = tmp_path / "quotes.json"
    con = _quote_con()

    def add(texts: list[str], prefix: str) -> None:
        for i, text in enumerate(texts):
            con.execute("INSERT INTO documents SELECT * REPLACE (? AS doc_id, ? AS content_sha256, ? AS text) "
                        "FROM documents LIMIT 1", [f"{prefix}-{i}", f"{prefix}-{i}", text])

    def cls(path: Path | None) -> str:
        return str(evaluate_claims(con, cfg, quote_cache=path)[0][0]["quote_class"])

    add([f"Unrelated note number {i}." for i in range(8)] + ["A diary."], "bg")
    assert cls(None) == cls(cache) == cls(cache) == "paraphrase"
    add(["She wrote of tools.", "A clever machine.", "Worth a good deal."] * 12, "new")
    assert cls(None) == "absent"
    assert cls(cache) == "absent"


def test_the_sql_prefilter_of_a_pattern_keeps_every_document_python_matches() -> None:
    """pattern_* metrics let DuckDB (RE2) select the documents first only for patterns where RE2
    matches wherever Python's re does; on texts with non-ASCII letters, spaces and case, every
    document re matches is among those RE2 selects."""
    import re

    import duckdb

    from pipelines.core.claims.metrics.lexicon import _sql_prefilter

    accepted = [r"\b200 lines\b", "auto-?gpt", r"llama2\.c", "open.?source[^.]{0,80}bacteri", r"e/ia\b", "embodi(ed|ment)"]
    refused = [r"naive\sapproach", r"\w+ing", "café", r"(?<=x)y", r"\.\b", r"(a)\1", r"\d+ lines", r"\bé"]
    assert [p for p in accepted if _sql_prefilter(p) != p] == []
    assert [p for p in refused if _sql_prefilter(p) is not None] == []
    texts = ["Exactly 200 LINES of code", "x200 lines", "AutoGPT and auto-gpt", "LLAMA2.C port", "llama2xc",
             "Open-source,\nlike bacteria", "open source. bacteria", "the e/IA framing", "e/iat", "EMBODIED",
             "naïve 200 lines", "200 lines\u00a0more", "déjà e/ia.", "ﬁ auto-GPT"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES " + ", ".join(["(?, ?)"] * len(texts)) + ") v(i, text)",
                [x for i, t in enumerate(texts) for x in (i, t)])
    for p in accepted:
        by_re = {i for i, t in enumerate(texts) if re.search(p, t, re.IGNORECASE)}
        by_re2 = {r[0] for r in con.execute("SELECT i FROM t WHERE regexp_matches(text, ?, 'i')", [p]).fetchall()}
        assert by_re and by_re <= by_re2, p
