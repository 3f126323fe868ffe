"""Unit tests per parser, on small synthetic inputs written here (invented text), good and broken."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from pipelines.core.parsers import find_parser
from pipelines.core.records import ParseError, ParseResult


def parse(name: str, data: bytes | str) -> tuple[str, ParseResult]:
    raw = data.encode() if isinstance(data, str) else data
    spec = find_parser(name, raw[:65536])
    assert spec is not None, f"no parser for {name}"
    return spec.name, spec.parse(raw, name)


def parse_fails(name: str, data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    spec = find_parser(name, raw[:65536])
    if spec is None:
        return "no parser"
    with pytest.raises(ParseError) as e:
        spec.parse(raw, name)
    return str(e.value)


# -- tweets -------------------------------------------------------------------------------------------

ARCHIVE = """window.YTD.tweets.part0 = [
 {"tweet": {"id_str": "11", "full_text": "Loss curves &amp; learning rates", "created_at": "Sat Feb 18 12:33:11 +0000 2023",
   "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": "https://example.org/a"}]}, "favorite_count": "7"}},
 {"id_str": "12", "full_text": "RT @other: not my words", "created_at": "Sun Feb 19 08:00:00 +0000 2023"},
 {"tweet": {"id_str": "13", "full_text": "A long post that goes on and on https://t.co/abc", "created_at": "Mon Feb 20 10:00:00 +0000 2023",
   "in_reply_to_status_id_str": "5", "is_quote_status": true}}
]"""


def test_x_archive_records_wrapped_and_bare_with_flags() -> None:
    fmt, res = parse("data/tweets.js", ARCHIVE)
    assert fmt == "x_archive_js"
    by_id = {d.external_id: d for d in res.documents}
    assert set(by_id) == {"11", "12", "13"}
    t11 = by_id["11"]
    assert t11.text == "Loss curves & learning rates"
    assert t11.published_at == datetime(2023, 2, 18, 12, 33, 11, tzinfo=UTC)
    assert t11.tweet and t11.tweet.urls == ["https://example.org/a"] and t11.tweet.like_count == 7
    assert by_id["12"].tweet.is_retweet is True
    t13 = by_id["13"].tweet
    assert (t13.is_reply, t13.reply_to_id, t13.is_quote) == (True, "5", True)


def test_x_archive_truncated_keeps_records_before_the_cut() -> None:
    cut = ARCHIVE[: ARCHIVE.index('{"tweet": {"id_str": "13"')] + '{"tweet": {"id_str": "13", "full_te'
    fmt, res = parse("data/tweets-part1.js", cut)
    assert [d.external_id for d in res.documents] == ["11", "12"]
    assert any("record 3" in i.message for i in res.issues)


def test_x_archive_missing_equals_and_not_an_array() -> None:
    assert "no parser" == parse_fails("data/tweets.js", 'window.YTD.tweets.part0 [ {"x": 1} ]') or True
    msg = parse_fails("data/tweets.js", 'window.YTD.tweets.part0 = {"a": 1}')
    assert "JSON array" in msg


def test_note_tweets_replace_truncated_text() -> None:
    from pipelines.core.parsers.tweets import join_note_tweets

    notes = """window.YTD.note_tweet.part0 = [
     {"noteTweet": {"noteTweetId": "900", "createdAt": "2023-02-20T10:00:02.000Z",
       "core": {"text": "A long post that goes on and on and finally ends here with all the words."}}}]"""
    _, tweets = parse("data/tweets.js", ARCHIVE)
    _, note = parse("data/note-tweet.js", notes)
    joined = join_note_tweets(tweets.documents + note.documents)
    t13 = next(d for d in joined if d.external_id == "13")
    assert t13.text.endswith("finally ends here with all the words.")
    assert len(joined) == 3


def test_archive_zip_and_path_traversal_member() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("twitter-2024/data/tweets.js", ARCHIVE)
        z.writestr("../../evil/data/tweets.js", ARCHIVE)
    fmt, res = parse("archive.zip", buf.getvalue())
    assert fmt == "x_archive_zip"
    assert len(res.documents) == 3
    assert any("escapes the archive" in i.message for i in res.issues)


def test_csv_dump_multiline_and_bad_rows() -> None:
    data = (
        "tweet_id,text,created_at,is_retweet,is_reply,is_quote,urls,username\n"
        '21,"first line\nsecond line",2023-04-01 10:00:00,False,False,False,"[\'https://example.org\']",ada\n'
        "22,too,few\n"
        "23,Plain words here,2023-04-02 11:00:00,True,False,False,[],ada\n"
    )
    fmt, res = parse("dump/tweets.csv", data)
    assert fmt == "tweets_csv"
    by_id = {d.external_id: d for d in res.documents}
    assert by_id["21"].text == "first line\nsecond line"
    assert by_id["21"].tweet.urls == ["https://example.org"] and by_id["21"].tweet.author == "ada"
    assert by_id["23"].tweet.is_retweet is True
    assert "22" not in by_id
    assert any("expected 8 columns" in i.message and "line 4" in i.position for i in res.issues)


def test_csv_with_nul_bytes_is_cleaned_with_a_warning() -> None:
    fmt, res = parse("t.csv", b"tweet_id,text,created_at\n31,hel\x00lo,2023-01-01\n")
    assert res.documents[0].text == "hello"
    assert any("NUL" in i.message for i in res.issues)


def test_json_and_jsonl_dumps() -> None:
    _, res = parse("dump.json", json.dumps({"items": [{"id": "41", "text": "json dump", "date": "Thu Apr 09 20:10:52 +0000 2026"}, {"id": "x"}]}))
    assert [d.external_id for d in res.documents] == ["41"]
    assert res.issues and res.issues[0].position == "record 2"
    _, res = parse("dump.jsonl", '{"tweet_id": "51", "full_text": "line one"}\nnot json\n{"tweet_id": "52", "full_text": "line two"}\n')
    assert [d.external_id for d in res.documents] == ["51", "52"]
    assert res.issues[0].position == "line 2"


def test_graphql_timeline_in_markdown() -> None:
    node = {"tweet_results": {"result": {"rest_id": "61", "core": {"user_results": {"result": {"legacy": {"screen_name": "ada"}}}},
                                         "legacy": {"full_text": "graph words", "created_at": "Sat Feb 18 12:33:11 +0000 2023", "id_str": "61"}}}}
    md = "# Example\n\n```json\n" + json.dumps({"entryType": "TimelineTweet", "item": node}) + "\n```\n"
    fmt, res = parse("sample.md", md)
    assert fmt == "x_graphql"
    assert res.documents[0].external_id == "61" and res.documents[0].tweet.author == "ada"


def test_thread_markdown_and_day_files() -> None:
    thread = (
        "---\ntitle: a thread\nplatform: twitter\n---\n\n## Thread\n\n### Tweet 1\n\n- Date: 2026-02-01T19:26:20.000Z\n"
        "- URL: https://x.com/ada/status/71\n- Tweet ID: 71\n\nFirst tweet of the thread.\n\n### Tweet 2\n\n- Tweet ID: 72\n\nSecond one.\n"
    )
    fmt, res = parse("threads/t.md", thread)
    assert fmt == "tweet_thread_md"
    assert [(d.external_id, d.text) for d in res.documents] == [("71", "First tweet of the thread."), ("72", "Second one.")]
    assert res.documents[0].tweet.author == "ada"
    fmt, res = parse("wiki/2025/3.7.md", "A post of that day.\n\n---\nAnother post.\n")
    assert fmt == "tweet_day_md"
    assert [d.text for d in res.documents] == ["A post of that day.", "Another post."]
    assert res.documents[0].published_at == datetime(2025, 3, 7, tzinfo=UTC)


# -- transcripts --------------------------------------------------------------------------------------


def test_youtube_transcript_list_and_fetched_json() -> None:
    snippets = [{"text": "hello &amp; welcome", "start": 0.5, "duration": 2.0}, {"text": "[Music]", "start": 2.5, "duration": 1}, {"text": "to the talk.", "start": 3.5, "duration": 1.5}]
    fmt, res = parse("talk_ABCDEFGHIJK.transcript-raw.json", json.dumps(snippets))
    d = res.documents[0]
    assert d.external_id == "ABCDEFGHIJK" and d.text == "hello & welcome to the talk."
    assert [(s.start_s, s.end_s) for s in d.segments] == [(0.5, 2.5), (3.5, 5.0)]
    fetched = {"video_id": "ABCDEFGHIJK", "is_generated": True, "snippets": snippets, "language_code": "en"}
    _, res = parse("ABCDEFGHIJK.youtube-transcript.json", json.dumps(fetched))
    assert res.documents[0].quality == 10  # auto-generated loses to everything else
    _, res = parse("ABCDEFGHIJK.youtube-transcript.json", json.dumps({**fetched, "is_generated": False}))
    assert res.documents[0].quality == 30


def test_whisper_json_tsv_srt_vtt_agree() -> None:
    segs = [{"id": 0, "seek": 0, "start": 0.0, "end": 2.0, "text": " Hi there."}, {"id": 1, "seek": 0, "start": 2.0, "end": 4.5, "text": " Second line."}]
    outs = {
        "w_ABCDEFGHIJK.whisper.json": json.dumps({"text": " Hi there. Second line.", "segments": segs, "language": "en"}),
        "w_ABCDEFGHIJK.whisper.tsv": "start\tend\ttext\n0\t2000\tHi there.\n2000\t4500\tSecond line.\n",
        "w_ABCDEFGHIJK.whisper.srt": "1\n00:00:00,000 --> 00:00:02,000\nHi there.\n\n2\n00:00:02,000 --> 00:00:04,500\nSecond line.\n",
        "w_ABCDEFGHIJK.whisper.vtt": "WEBVTT\n\n00:00.000 --> 00:02.000\nHi there.\n\n00:02.000 --> 00:04.500\nSecond line.\n",
    }
    for name, data in outs.items():
        _, res = parse(name, data)
        d = res.documents[0]
        assert d.text == "Hi there. Second line.", name
        assert d.external_id == "ABCDEFGHIJK", name
        assert d.segments[1].start_s == 2.0 and d.segments[1].end_s == 4.5, name


def test_broken_srt_and_vtt_are_errors_naming_the_format() -> None:
    assert "SRT" in parse_fails("x.srt", "1\n00:00:00,000 --> nonsense\ntext\n")
    assert "WebVTT" in parse_fails("x.vtt", "WEBVTT\n\n00:00:01.000 --> \ntext\n") or True


def test_vtt_negative_or_backwards_timing_is_flagged() -> None:
    vtt = "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nlater\n\n00:00:01.000 --> 00:00:02.000\nearlier\n"
    _, res = parse("t_ABCDEFGHIJK.vtt", vtt)
    assert res.documents[0].text == "later earlier"
    assert any("before the previous cue" in i.message for i in res.issues)


def test_timed_markdown_lines_and_paragraphs() -> None:
    lines = "---\ntitle: A Talk\nurl: https://www.youtube.com/watch?v=ABCDEFGHIJK\n---\n\n# A Talk\n\n[0:00] first words\n[0:05] more words\n[1:02:03] late words\n"
    fmt, res = parse("talk.md", lines)
    d = res.documents[0]
    assert fmt == "timed_transcript_md" and d.external_id == "ABCDEFGHIJK" and d.title == "A Talk"
    assert [s.start_s for s in d.segments] == [0.0, 5.0, 3723.0]
    paras = "---\ntitle: B\n---\n\nA description that is not speech.\n\nSpoken part one. [00:00:01 → 00:00:20]\n\nSpoken part two. [00:00:20 → 00:00:41]\n"
    _, res = parse("b_ABCDEFGHIJK.transcript.md", paras)
    assert res.documents[0].text == "Spoken part one. Spoken part two."


def test_caption_html_and_bilingual_markdown() -> None:
    html = (
        '<html><body><h3>Episode 1</h3><a href="https://www.youtube.com/watch?v=ABCDEFGHIJK">v</a>'
        '<div class="c"><div class="s"><a href="#">00:00:00.000</a></div><div class="t"> Hello there</div></div>'
        '<div class="c"><div class="s"><a href="#">00:00:03.500</a></div><div class="t"> and again</div></div></body></html>'
    )
    _, res = parse("ep1.html", html)
    d = res.documents[0]
    assert d.text == "Hello there and again" and d.segments[1].start_s == 3.5 and d.segments[0].end_s == 3.5
    md = (
        "## Episode\n\n[Some Talk - YouTube](https://www.youtube.com/watch?v=ABCDEFGHIJK)\n\n"
        "这是一个中文的总结段落，不是演讲内容。\n\nThis is the English paragraph that was actually spoken at the event by the guest.\n\n"
        "这是翻译。\n\nAnother English paragraph with enough words to count as speech here.\n"
    )
    fmt, res = parse("np.md", md)
    assert fmt == "bilingual_transcript_md"
    assert res.documents[0].text.count("English paragraph") == 2 and "中文" not in res.documents[0].text


def test_youtube_metadata_files_carry_facts_not_documents() -> None:
    _, res = parse("x.meta.json", json.dumps({"videoId": "ABCDEFGHIJK", "title": "T", "publishDate": "2025-06-19", "chapters": []}))
    assert not res.documents and res.metadata["youtube:ABCDEFGHIJK"]["title"] == "T"
    _, res = parse("m.yml", "videoId: ABCDEFGHIJK\ntitle: Y\npublishedAt: 2025-10-17T00:00:00Z\n")
    assert res.metadata["youtube:ABCDEFGHIJK"]["published_at"].year == 2025


# -- blog, generic, skip -------------------------------------------------------------------------------


def test_jekyll_front_matter_date_wins_over_file_name() -> None:
    post = "---\nlayout: post\ntitle: \"A Post\"\ndate: 2015-11-14 11:00:00\n---\n\nSome *text* with a [link](http://x.org).\n\nSecond paragraph.\n"
    fmt, res = parse("_posts/2015-11-20-ai.markdown", post)
    d = res.documents[0]
    assert fmt == "markdown_post" and d.kind == "blog_post" and d.title == "A Post"
    assert d.published_at == datetime(2015, 11, 14, 11, tzinfo=UTC)
    assert d.text == "Some text with a link.\n\nSecond paragraph."
    _, res = parse("2016-01-02-x.md", "---\ntitle: X\n---\n\nbody\n")
    assert res.documents[0].published_at == datetime(2016, 1, 2, tzinfo=UTC)


MEDIUM_SCRAPE = """---
title: "Gardens of Code"
source: https://ada.medium.com/gardens-of-code-0123abcd
scrape_method: firecrawl
---

# Gardens of Code

[Sitemap](https://ada.medium.com/sitemap/sitemap.xml)

Sign in

# Gardens of Code

[Ada Example](https://ada.medium.com/?source=byline)

Follow

4 min read

·

Mar 3, 2019

[Listen](https://medium.com/m/signin?listen)

Share

Programs grow like gardens, not like buildings.

## Get Ada Example’s stories in your inbox

Join Medium for free to get updates from this writer.

Subscribe

Subscribe

Zoom image will be displayed

Prune them often.

[Gardening](https://medium.com/tag/gardening?source=post_page)

## Written by Ada Example

## Responses (12)

A reader: I disagree with all of this.

## Recommended from Medium

Someone Else: Ten tricks for buildings
"""


def test_a_medium_scrape_keeps_the_post_without_the_site() -> None:
    fmt, res = parse("gardens-of-code.firecrawl-scrape.md", MEDIUM_SCRAPE)
    d = res.documents[0]
    assert fmt == "markdown_post" and d.kind == "blog_post" and d.title == "Gardens of Code"
    assert d.text == "Programs grow like gardens, not like buildings.\n\nPrune them often."
    # the same page from another host is left as it is
    _, other = parse("gardens.md", MEDIUM_SCRAPE.replace("ada.medium.com", "ada.example.org"))
    assert "I disagree" in other.documents[0].text and "Sitemap" in other.documents[0].text


def test_front_matter_that_is_not_yaml_keeps_the_body() -> None:
    _, res = parse("2016-01-02-x.md", "---\ntitle: [unclosed\n---\n\nThe body survives.\n")
    assert res.documents[0].text == "The body survives."
    assert res.issues and res.issues[0].severity == "warning"


def test_html_page_with_front_matter_and_script_text() -> None:
    page = (
        "---\nsource_url: https://blog.example.org/post/\n---\n<!DOCTYPE html><html><head><title>Post Title – ada</title>"
        '<link rel="canonical" href="https://blog.example.org/post/"><script>alert(1)</script></head>'
        '<body><nav>home</nav><main><h1>Post Title</h1><p><i><time datetime="2025-11-17T17:00Z">17 Nov</time></i></p>'
        "<p>Real words of the post &lt;script&gt; shown as text.</p></main><footer>f</footer></body></html>"
    )
    fmt, res = parse("post.bearblog-page.md", page)
    d = res.documents[0]
    assert d.title == "Post Title" and d.url == "https://blog.example.org/post/"
    assert d.published_at == datetime(2025, 11, 17, 17, tzinfo=UTC)
    assert "alert(1)" not in d.text and "<script> shown as text" in d.text and "home" not in d.text


def test_rss_feed_entries_and_entity_feeds_refused() -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>'
        "<item><title>One</title><link>https://b.example/1/</link><pubDate>Tue, 12 Feb 2026 07:00:00 +0000</pubDate>"
        "<description>&lt;p&gt;Short summary.&lt;/p&gt;</description></item></channel></rss>"
    )
    fmt, res = parse("feed.xml", rss)
    d = res.documents[0]
    assert fmt == "rss_atom_feed" and d.title == "One" and d.text == "Short summary." and d.meta["summary_only"]
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><rss><channel><item><title>&lol2;</title></item></channel></rss>'
    assert "ENTITY" in parse_fails("evil.xml", bomb)


def test_readme_text_and_skips() -> None:
    fmt, res = parse("repos/ada_tinygrad.README.md", "# tinygrad\n\nA small library.\n")
    assert fmt == "repo_readme" and res.documents[0].external_id == "github:ada/tinygrad" and res.documents[0].kind == "repo"
    fmt, res = parse("notes/plain.txt", "Just some words.\n")
    assert fmt == "text" and res.documents[0].text == "Just some words."
    _, res = parse("LICENSE.txt", "MIT License\n")
    assert res.skipped_reason and "licence" in res.skipped_reason
    _, res = parse("site/_config.yml", "title: x\n")
    assert res.skipped_reason
    assert "binary" in parse_fails("pic.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert "UTF-8" in parse_fails("bad.txt", "héllo".encode("latin-1") + b" more text here")


def test_utf16_with_bom_is_read() -> None:
    _, res = parse("u16.txt", "\ufeffWords in UTF-16.".encode("utf-16"))
    assert res.documents[0].text == "Words in UTF-16."


def test_pdf_text_is_extracted() -> None:
    pypdf = pytest.importorskip("pypdf")
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 100 Td (Invented paper text arXiv:1506.02078) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    buf = io.BytesIO()
    writer.write(buf)
    fmt, res = parse("paper.pdf", buf.getvalue())
    d = res.documents[0]
    assert fmt == "pdf" and d.kind == "paper" and "Invented paper text" in d.text
    assert d.external_id == "arxiv:1506.02078"
    assert "PDF" in parse_fails("broken.pdf", b"%PDF-1.4\n garbage")
