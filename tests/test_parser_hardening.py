"""Hardened parsers (issue 18): one regression test per signature the fuzzer found, each from a small
synthetic input, run through the per-file entry point ``ingest.parse_path`` with a real parse cache
(what the ``raw_files`` step runs), plus the isolation of parsing in worker processes. Time bounds
are CPU time of this process (a loaded machine stretches wall time, not CPU time).

docs/reliability.md ("Hardened parsers") has the table of these cases and the fuzzer's figures.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import time
import zipfile
from pathlib import Path

import crashing_parsers
import pytest

from pipelines.core import isolation
from pipelines.core.ingest import parse_path, scan_and_parse
from pipelines.core.parsecache import ParseCache
from pipelines.core.parsers import all_parsers
from pipelines.core.parsers.common import MAX_HTML_DEPTH, html_to_text, markdown_to_text
from pipelines.core.rawstore import RawStore
from pipelines.core.records import ParseResult

T = "1800000000000000"  # tweet id prefix of these fixtures


def parse(tmp_path: Path, name: str, data: bytes) -> tuple[str, str | None, str | None, ParseResult | None]:
    """(status, error, format, result) of one file, with a real parse cache; the cache entry must load back."""
    store = RawStore(tmp_path / "raw")
    path = store.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    cache = ParseCache(tmp_path / "cache")
    pf = parse_path(store, path, cache=cache, parsers=all_parsers(), origins={})
    snap = pf.snapshot
    if pf.result is not None:
        spec = next(p for p in all_parsers() if p.name == snap.format)
        assert cache.get(snap.sha256 or "", spec.name, spec.version) is not None, "the parse cache entry cannot be read back"
    return snap.status, snap.error, snap.format, pf.result


def issues(result: ParseResult | None) -> list[tuple[str, str, str]]:
    assert result is not None
    return [(i.severity, i.position, i.message) for i in result.issues]


def has(result: ParseResult | None, severity: str, position: str, message: str) -> bool:
    return any(s == severity and position in p and message in m for s, p, m in issues(result))


def tweet(n: int, **fields: object) -> dict[str, object]:
    rec: dict[str, object] = {"id_str": f"{T}{n:03d}", "full_text": f"synthetic post number {n}", "created_at": "Sat Feb 18 12:33:11 +0000 2023"}
    rec.update(fields)
    return {"tweet": rec}


def archive_js(records: list[object], name: str = "tweets") -> bytes:
    return f"window.YTD.{name}.part0 = {json.dumps(records)}\n".encode()


# ---- exceptions that escaped parse_path (the cache write) --------------------------------------------


@pytest.mark.parametrize("field", ["title", "author"])
def test_a_lone_surrogate_in_front_matter_costs_the_character_not_the_run(tmp_path: Path, field: str) -> None:
    data = f'---\n{field}: "\\ud800 A title"\ndate: 2021-03-04\n---\n\nThe body of the post.\n'.encode()
    status, error, fmt, result = parse(tmp_path, "blog/2021-03-04-surrogate.md", data)
    assert (status, fmt) == ("accepted", "markdown_post"), error
    doc = result.documents[0]  # type: ignore[union-attr]
    if field == "title":
        assert doc.title == "A title"
        assert has(result, "warning", "document 1", "title: 1 control character(s) removed")
    else:
        assert doc.meta["author"] == "A title"
        assert has(result, "warning", "document 1, meta", "1 control character(s) removed")


def test_a_binary_title_in_video_yaml_is_dropped_and_the_file_cached(tmp_path: Path) -> None:
    data = b"videoId: AAAAAAAAAAA\ntitle: !!binary aGVsbG8=\npublishedAt: 2020-01-02\nchannel: Ada\n"
    status, error, fmt, result = parse(tmp_path, "talks/video.yml", data)
    assert (status, fmt) == ("metadata", "youtube_meta_yaml"), error
    facts = result.metadata["youtube:AAAAAAAAAAA"]  # type: ignore[union-attr]
    assert "title" not in facts and facts["channel"] == "Ada"
    assert has(result, "warning", "metadata 'youtube:AAAAAAAAAAA'", "title is a bytes, not text: dropped")


def test_any_failure_in_a_step_is_recorded_on_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ParseCache, "put", disk_full)
    status, error, fmt, _ = parse(tmp_path, "notes/notes.txt", b"Some notes.\n")
    assert status == "rejected" and fmt == "text"
    assert error == "text: writing the parse cache failed: unexpected OSError: [Errno 28] No space left on device"


# ---- native crashes and runaway parsers: worker processes --------------------------------------------


@pytest.mark.parametrize("unit", ["[", "*a", "[a](", "!["])
@pytest.mark.parametrize("name", ["notes/notes.md", "notes/notes.txt"])
def test_a_megabyte_line_of_markdown_punctuation_parses_in_seconds(tmp_path: Path, unit: str, name: str) -> None:
    data = (unit * ((1 << 20) // len(unit))).encode()
    start = time.process_time()
    status, error, _, result = parse(tmp_path, name, data)
    assert time.process_time() - start < 5  # markdown-it: 18.7 s, and SIGSEGV under a 2 GB limit
    assert status == "accepted", error
    assert result.documents[0].text.strip("*_ ")  # type: ignore[union-attr]


def _project(tmp_path: Path, files: dict[str, bytes]) -> RawStore:
    store = RawStore(tmp_path / "raw")
    for rel, data in files.items():
        p = store.inbox / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return store


def _by_path(parsed: list) -> dict[str, tuple[str, str | None]]:
    return {p.snapshot.path: (p.snapshot.status, p.snapshot.error) for p in parsed}


@pytest.mark.parametrize(
    "bad_file, env, reason",
    [
        ("boom.crash", {}, "the parser's worker process died (SIGSEGV"),  # as a native parser bug would
        ("slow.forever", {"CORPUS_PARSE_SECONDS": "1"}, "parsing stopped after the 1-second budget for a file of this size"),
        ("huge.hog", {"CORPUS_PARSE_MEMORY_MB": "1024"}, "memory_hog: ran out of memory while parsing"),
    ],
    ids=["native crash", "runaway parser", "memory blow-up"],
)
def test_a_misbehaving_parser_costs_its_file_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad_file: str, env: dict[str, str], reason: str
) -> None:
    pickle.dumps(crashing_parsers.PARSERS)  # they go to the workers (in this process the test itself would crash)
    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "2")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    store = _project(tmp_path, {"a/good.txt": b"good words before\n", f"b/{bad_file}": b"misbehave\n", "c/good.txt": b"good words after\n"})
    start = time.perf_counter()
    parsed = _by_path(scan_and_parse(store, cache_dir=tmp_path / "cache", parsers=crashing_parsers.PARSERS))
    assert time.perf_counter() - start < 60
    assert parsed["inbox/a/good.txt"] == ("accepted", None) and parsed["inbox/c/good.txt"] == ("accepted", None)
    status, error = parsed[f"inbox/b/{bad_file}"]
    assert status == "rejected" and error and error.startswith(reason), error


def test_parsing_in_workers_gives_the_same_results_as_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e2e = Path(__file__).parent / "fixtures" / "e2e" / "inbox"
    store = _project(tmp_path, {str(p.relative_to(e2e)): p.read_bytes() for p in e2e.rglob("*") if p.is_file()})
    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "0")
    here = scan_and_parse(store, cache_dir=tmp_path / "c0")
    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "2")
    there = scan_and_parse(store, cache_dir=tmp_path / "c2")
    assert [(p.snapshot, p.result) for p in here] == [(p.snapshot, p.result) for p in there]
    assert isolation.parse_workers() == 2


def test_the_forkserver_started_early_is_the_one_the_parse_workers_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`corpus run` starts the forkserver before Dagster's start-up; parsing then forks from it."""
    from multiprocessing import forkserver

    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "0")
    assert isolation.start_forkserver_early() is False  # parsing in-process: nothing to start
    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "lots")
    assert isolation.start_forkserver_early() is False  # the parsing step reports the bad value
    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "2")
    monkeypatch.setattr(isolation.os, "cpu_count", lambda: 1)
    assert isolation.start_forkserver_early() is False  # one core: nothing to overlap
    monkeypatch.undo()
    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "2")
    assert isolation.start_forkserver_early() is True
    server = forkserver._forkserver._forkserver_pid
    assert server is not None
    store = _project(tmp_path, {"note.md": b"---\ntitle: A note\ndate: 2021-03-04\n---\nQuillon Marr wrote this.\n"})
    parsed = scan_and_parse(store, cache_dir=tmp_path / "c")
    assert [p.snapshot.status for p in parsed] == ["accepted"]
    assert forkserver._forkserver._forkserver_pid == server  # the same server, not a second one


# ---- slower than linear ------------------------------------------------------------------------------


def test_html_whitespace_is_linear() -> None:
    start = time.process_time()
    assert html_to_text("<p>a" + " " * (1 << 20) + "b</p>") == "a b"  # the old regex: ~20 minutes
    assert time.process_time() - start < 2


@pytest.mark.parametrize(
    "name, data",
    [
        ("blog/page.html", b"<html><body><article>" + b"<div>" * 200_000 + b"deep words" + b"</div>" * 200_000 + b"</article></body></html>"),
        ("talks/captions.html", b'<html><body><div class="t"></div><div class="s"></div>' + b'<div class="c"><div class="s">0:01</div><div class="t">cue</div>' * 60_000 + b"</body></html>"),
        ("notes/notes.md", b"<div>" * 200_000 + b"raw html words"),
    ],
)
def test_200k_nested_divs_parse_in_seconds_with_the_cap_stated(tmp_path: Path, name: str, data: bytes) -> None:
    start = time.process_time()
    status, error, _, result = parse(tmp_path, name, data)
    assert time.process_time() - start < 10  # ~quadratic before: minutes
    assert status == "accepted", error
    assert has(result, "warning", "file", f"HTML nested deeper than {MAX_HTML_DEPTH} elements")


def test_the_depth_cap_keeps_the_text_and_leaves_ordinary_pages_alone() -> None:
    assert html_to_text("<div>" * 5000 + "deep <b>words</b>" + "</div>" * 5000 + "<p>after</p>") == "deep words\n\nafter"
    page = "<html><body>" + "<div><p>para</p><ul><li>x<li>y</ul></div>" * 2000 + "</body></html>"
    issues: list = []
    html_to_text(page, issues)
    assert issues == []  # thousands of tags, little depth: not capped


def test_markdown_text_is_unchanged_by_the_engine() -> None:
    md = "# Title\n\nSome *text* with [a link](https://x.org) and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n\n- item\n"
    assert markdown_to_text(md) == "Title\n\nSome text with a link and code.\n\na b\n\n1 2\n\nquoted\n\nitem"


# ---- one bad value rejected the whole file ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["2015-13-45", "0000-00-00", "2020-01-01 25:00:00"])
def test_an_impossible_yaml_date_costs_the_date_not_the_front_matter(tmp_path: Path, bad: str) -> None:
    data = f"---\ntitle: Kept title\ndate: {bad}\n---\n\nThe body.\n".encode()
    status, error, _, result = parse(tmp_path, "blog/_posts/undated.md", data)
    assert status == "accepted", error
    doc = result.documents[0]  # type: ignore[union-attr]
    assert doc.title == "Kept title" and doc.published_at is None and doc.text == "The body."
    assert has(result, "warning", "front matter 'date'", f"unreadable date '{bad}'")


def test_a_25_hour_clock_in_yaml_is_no_longer_a_file_error(tmp_path: Path) -> None:
    status, error, _, result = parse(tmp_path, "talks/video.yml", b"videoId: AAAAAAAAAAA\ntitle: Talk\npublishedAt: 25:00:00\n")
    assert status == "metadata", error  # YAML 1.1 reads 25:00:00 as a base-60 number (90000): epoch seconds, flagged
    assert result.metadata["youtube:AAAAAAAAAAA"]["published_at"].date().isoformat() == "1970-01-02"  # type: ignore[union-attr]
    assert has(result, "warning", "metadata 'youtube:AAAAAAAAAAA'", "published_at 1970-01-02 is before 1990: kept, flagged as implausible")


def test_bad_publication_values_cost_the_value(tmp_path: Path) -> None:
    data = b"---\nlayout: publication\ntitle: A paper\nauthors: A. B.\nyear: 99999\nadditional_links: 5\n---\n\nThe abstract.\n"
    status, error, _, result = parse(tmp_path, "blog/publications/paper.md", data)
    assert status == "accepted", error
    assert result.documents[0].kind == "paper" and result.documents[0].published_at is None  # type: ignore[union-attr]
    assert has(result, "warning", "front matter 'year'", "year 99999 is not a calendar year: ignored")
    assert has(result, "warning", "front matter 'additional_links'", "is a int, not a list: ignored")


def test_a_400_digit_whisper_time_costs_its_line(tmp_path: Path) -> None:
    data = b"start\tend\ttext\n0\t1000\tfirst line\n" + b"9" * 400 + b"\t2000\tsecond line\n2000\t3000\tthird line\n"
    status, error, _, result = parse(tmp_path, "talks/talk_AAAAAAAAAAA.tsv", data)
    assert status == "accepted", error
    assert [s.text for s in result.documents[0].segments] == ["first line", "third line"]  # type: ignore[union-attr]
    assert has(result, "error", "line 3", "are not integer milliseconds: line dropped")


def test_an_infinite_count_costs_the_count_not_the_dump(tmp_path: Path) -> None:
    records = [{"id": f"{T}{n:03d}", "text": f"post {n}", "date": "2022-01-02", "retweet_count": n} for n in range(1, 51)]
    text = json.dumps(records).replace('"retweet_count": 7', '"retweet_count": Infinity').replace('"retweet_count": 9', '"retweet_count": NaN')
    status, error, _, result = parse(tmp_path, "dumps/tweets.json", text.encode())
    assert status == "accepted", error
    counts = {d.external_id: d.tweet.retweet_count for d in result.documents}  # type: ignore[union-attr]
    assert len(counts) == 50 and counts[f"{T}007"] is None and counts[f"{T}009"] is None and counts[f"{T}008"] == 8


@pytest.mark.parametrize("value", [42, True, ["a", "list"]])
def test_a_note_tweet_whose_text_is_not_a_string_costs_that_note(tmp_path: Path, value: object) -> None:
    notes = [{"noteTweet": {"noteTweetId": "1", "createdAt": "2023-02-11T12:33:11.000Z", "core": {"text": value}}},
             {"noteTweet": {"noteTweetId": "2", "createdAt": "2023-02-12T12:33:11.000Z", "core": {"text": "a good note"}}}]
    status, error, _, result = parse(tmp_path, "archive/data/note-tweet.js", archive_js(notes, "note_tweet"))
    assert status == "accepted", error
    assert [d.text for d in result.documents] == ["a good note"]  # type: ignore[union-attr]
    assert has(result, "error", "record 1", f"note tweet core.text is a {type(value).__name__}, not a string")


def test_a_zip_cut_at_the_start_is_reported_member_by_member(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/tweets.js", archive_js([tweet(1)]))
    cut = b"PK\x03\x04" + buf.getvalue()[5:]  # five bytes gone: every offset in the archive is one too far
    status, error, fmt, _ = parse(tmp_path, "archive/twitter-archive.zip", cut)
    assert (status, fmt) == ("rejected", "x_archive_zip")
    assert error == "no documents: member 'data/tweets.js': cannot be read from the archive: ValueError: negative seek value -1"


def test_a_zip_too_short_to_be_one_is_not_a_readable_archive(tmp_path: Path) -> None:
    status, error, _, _ = parse(tmp_path, "archive/twitter-archive.zip", b"PK\x03\x04\x14\x00")
    assert status == "rejected" and error and "not a readable zip archive" in error


def test_4400_digit_subtitle_numbers_and_times_cost_at_most_a_timing(tmp_path: Path) -> None:
    data = (b"1\n00:00:00,000 --> 00:00:01,000\nfirst subtitle\n\n" + b"9" * 4400 + b"\n00:00:01,000 --> 00:00:02,000\nhuge number\n\n"
            b"3\n" + b"9" * 4400 + b":00:02,000 --> 00:00:03,000\nhuge time\n\n4\n00:00:03,000 --> 00:00:04,000\nlast subtitle\n")
    status, error, _, result = parse(tmp_path, "talks/talk_AAAAAAAAAAA.srt", data)
    assert status == "accepted", error
    segs = [(s.text, s.start_s) for s in result.documents[0].segments]  # type: ignore[union-attr]
    assert segs == [("first subtitle", 0.0), ("huge number", 1.0), ("huge time", None), ("last subtitle", 3.0)]
    assert has(result, "warning", "line 10", "unreadable subtitle timing '99999")


def test_srt_is_read_in_linear_time(tmp_path: Path) -> None:
    for filler in (b"\n", b" ", b"1", b"\xc2\xa0"):  # the srt library's regex: minutes for 20 KB of these
        data = b"1\n00:00:00,000 --> 00:00:01,000\nfirst subtitle\n\n" + filler * 500_000 + b"\n\n2\n00:00:01,000 --> 00:00:02,000\nlast\n"
        start = time.process_time()
        status, error, _, _ = parse(tmp_path / str(len(filler)) / filler.hex(), "talks/talk_AAAAAAAAAAA.srt", data)
        assert time.process_time() - start < 5 and status == "accepted", (filler, error)


@pytest.mark.parametrize("where", ["id", "like_count"])
def test_a_4400_digit_json_number_costs_its_field_or_record(tmp_path: Path, where: str) -> None:
    records = [{"id": f"{T}001", "text": "first", "date": "2022-01-02", "like_count": 1},
               {"id": f"{T}002", "text": "second", "date": "2022-01-02", "like_count": 2}]
    text = json.dumps(records).replace(f'"{T}002"' if where == "id" else '"like_count": 2', "9" * 4400 if where == "id" else '"like_count": ' + "9" * 4400)
    status, error, _, result = parse(tmp_path, "dumps/tweets.json", text.encode())
    assert status == "accepted", error
    docs = {d.text: d for d in result.documents}  # type: ignore[union-attr]
    if where == "id":
        assert list(docs) == ["first"]
        assert has(result, "error", "record 2", "is not numeric")
    else:
        assert docs["second"].tweet.like_count is None and docs["first"].tweet.like_count == 1  # type: ignore[union-attr]


# ---- wrong values accepted without a word ------------------------------------------------------------


THREAD = f"""---
title: "a thread"
tweet_count: 2
---

### Tweet 1

- Date: 2024-01-02T03:04:05.000Z
- Tweet ID: {T}601

The first post of the thread.

### Tweet 2

- Date: 2024-01-02T03:05:05.000Z
- Tweet ID: {T}602

The second post, which is cut mid-sen"""


def test_a_thread_cut_mid_tweet_is_flagged(tmp_path: Path) -> None:
    status, error, fmt, result = parse(tmp_path, "threads/cut.md", THREAD.encode())
    assert (status, fmt) == ("accepted", "tweet_thread_md"), error
    assert [d.text for d in result.documents][-1] == "The second post, which is cut mid-sen"  # type: ignore[union-attr]
    assert has(result, "warning", "tweet 2", "the file ends mid-line (no final line break): this tweet may be cut short; kept")
    status, _, _, result = parse(tmp_path, "threads/short.md", THREAD.replace("tweet_count: 2", "tweet_count: 5").encode() + b"tence.\n")
    assert status == "accepted"
    assert issues(result) == [("warning", "front matter 'tweet_count'", "says 5 tweets, the file has 2: the file may be cut or padded")]


@pytest.mark.parametrize("year", ["2199", "9999", "1985"])
@pytest.mark.parametrize("fmt", ["json", "yml"])
def test_implausible_metadata_dates_are_flagged(tmp_path: Path, year: str, fmt: str) -> None:
    if fmt == "json":
        name, data = "talks/AAAAAAAAAAA.meta.json", json.dumps({"videoId": "AAAAAAAAAAA", "title": "T", "publishDate": f"{year}-05-06"}).encode()
    else:
        name, data = "talks/video.yml", f"videoId: AAAAAAAAAAA\ntitle: T\npublishedAt: {year}-05-06\n".encode()
    status, error, _, result = parse(tmp_path, name, data)
    assert status == "metadata", error
    assert result.metadata["youtube:AAAAAAAAAAA"]["published_at"].year == int(year)  # type: ignore[union-attr]
    what = "is before 1990" if year == "1985" else "is in the future"
    assert has(result, "warning", "metadata 'youtube:AAAAAAAAAAA'", f"published_at {year}-05-06 {what}: kept, flagged as implausible")


def test_impossible_cue_times_are_dropped_and_the_words_kept(tmp_path: Path) -> None:
    snippets = '[{"text": "nan start", "start": NaN, "duration": 1}, {"text": "infinite", "start": Infinity}, ' \
               '{"text": "huge", "start": 1e308, "duration": 1}, {"text": "fine", "start": 3.0, "duration": 1.0}]'
    data = ('{"video_id": "AAAAAAAAAAA", "snippets": ' + snippets + "}").encode()
    status, error, _, result = parse(tmp_path, "talks/AAAAAAAAAAA.youtube-transcript.json", data)
    assert status == "accepted", error
    segs = result.documents[0].segments  # type: ignore[union-attr]
    assert [(s.text, s.start_s) for s in segs] == [("nan start", None), ("infinite", None), ("huge", None), ("fine", 3.0)]
    assert all(math.isfinite(s.end_s) for s in segs if s.end_s is not None)
    assert sum(1 for _, p, m in issues(result) if "impossible timing" in m) == 3
    vtt = b"WEBVTT\n\n50:00:00.000 --> 50:00:01.000\nover two days\n\n00:00:01.000 --> 00:00:02.000\nfine\n"
    status, _, _, result = parse(tmp_path, "talks/talk_BBBBBBBBBBB.vtt", vtt)
    assert status == "accepted"
    assert [(s.text, s.start_s) for s in result.documents[0].segments] == [("over two days", None), ("fine", 1.0)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name, data",
    [
        ("blog/page.html", "<html><head><title>A\x1b page title</title></head><body><article><p>Words.</p></article></body></html>"),
        ("blog/page.html", "<html><head><title>A\u202e page title</title></head><body><article><p>Words.</p></article></body></html>"),
        ("blog/_posts/2020-01-02-nul.md", '---\ntitle: "A\\0 page title"\n---\n\nWords.\n'),  # YAML's escape for NUL
        ("blog/_posts/2020-01-02-esc.md", '---\ntitle: "A\\e page title"\n---\n\nWords.\n'),  # and for ESC
    ],
)
def test_control_characters_in_a_title_are_removed_with_a_warning(tmp_path: Path, name: str, data: str) -> None:
    status, error, _, result = parse(tmp_path, name, data.encode())
    assert status == "accepted", error
    assert result.documents[0].title == "A page title"  # type: ignore[union-attr]
    assert has(result, "warning", "document 1", "title: 1 control character(s) removed")


def test_a_negative_count_is_dropped_with_a_warning(tmp_path: Path) -> None:
    status, error, _, result = parse(tmp_path, "archive/data/tweets.js", archive_js([tweet(1, favorite_count="-5", retweet_count="2")]))
    assert status == "accepted", error
    tw = result.documents[0].tweet  # type: ignore[union-attr]
    assert (tw.like_count, tw.retweet_count) == (None, 2)  # type: ignore[union-attr]
    assert has(result, "warning", f"id {T}001", "like_count -5 is negative: dropped")


UTF8_FILES = {
    "threads/thread.md": (THREAD + "tence.\n").encode(),
    "talks/talk_AAAAAAAAAAA.vtt": b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello there\n\n00:00:01.000 --> 00:00:02.000\nsecond cue\n",
    "talks/talk_BBBBBBBBBBB.md": b"---\nvideo_id: BBBBBBBBBBB\nplatform: youtube\n---\n\n[0:00] one\n[0:01] two\n[0:02] three\n",
    "archive/data/tweets.js": archive_js([tweet(1), tweet(2)]),
    "blog/_posts/2020-01-02-post.md": b"---\ntitle: A post\n---\n\nBody *words*.\n",
    "dumps/scraped.csv": f"tweet_id,text,created_at\n{T}701,a csv post,2021-04-01\n".encode(),
}


@pytest.mark.parametrize("codec, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff")])
@pytest.mark.parametrize("name", list(UTF8_FILES))
def test_utf16_and_utf32_with_a_bom_parse_as_what_they_are(tmp_path: Path, name: str, codec: str, bom: bytes) -> None:
    _, _, fmt8, r8 = parse(tmp_path / "utf8", name, UTF8_FILES[name])
    status, error, fmt, result = parse(tmp_path / codec, name, bom + UTF8_FILES[name].decode().encode(codec))
    assert (status, fmt) == ("accepted", fmt8), error
    assert [(d.text, d.title, len(d.segments)) for d in result.documents] == [(d.text, d.title, len(d.segments)) for d in r8.documents]  # type: ignore[union-attr]


def test_invalid_utf16_after_a_bom_is_rejected_naming_the_byte(tmp_path: Path) -> None:
    status, error, _, _ = parse(tmp_path, "notes/notes.txt", b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8")  # a lone high surrogate
    assert status == "rejected" and error == "text: invalid UTF-16 at byte 6: unexpected end of data"
