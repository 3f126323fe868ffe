"""A seeded mutation fuzzer for the per-file ingest entry point (``ingest.parse_path`` with a real
``ParseCache``, which is what the ``raw_files`` step runs for every file).

Seeds are small synthetic files, one or more for every format the parsers read (``SEEDS``). Each
input is one seed with 1-4 mutations (``MUTATIONS``): byte flips, inserts, deletions, duplications,
truncation, splices of two seeds, interesting tokens (lone surrogates, ``Infinity``, 4,400-digit
numbers, impossible dates and cue times, control characters, ``!!binary``), typed replacement of a
JSON or YAML value, pathological runs (a long line of ``[``, ``*a``, ``[a](``, spaces, 200k nested
``<div>``...), line-ending changes, and re-encoding as UTF-16/UTF-32 with a BOM. Input ``i`` of seed
``s`` is a pure function of (s, i): ``--replay i`` writes it out again.

Each input is parsed in a worker process (memory limit; stopped after 4x the time limit of wall time), and the report counts:

* inputs per seed format, and the outcome (snapshot status) of each;
* **escaped exceptions**: ``parse_path`` raised instead of recording the failure on the snapshot;
* **dead workers**: the worker process died (a native crash);
* **inputs over the time limit**: more than `--limit` seconds of CPU time (wall time depends on what else the machine runs), or stopped;
* **vetting violations**: a value that landed and breaks a rule of the vetting pass (a control
  character in a title, a lone surrogate, a NaN or out-of-range cue time, a negative count, an
  implausible date without its warning, a non-http link, a result the parse cache cannot store);
* **re-encodings that lost structure**: a seed re-encoded as UTF-16/32 that no longer parses as the
  same format with the same documents;
* what the guard caught: files rejected by an unexpected exception, and records dropped by one
  (not failures of the promise, but places where a rule is missing), by exception type.

    uv run python bench/fuzz.py --inputs 100000 --seed 1 [--workers 2] [--limit 5] [--json out.json]
    uv run python bench/fuzz.py --seed 1 --replay 4242 --out /tmp/input   # write one input to a file

Exit status 1 when any escaped exception, dead worker, slow input or violation was seen.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pipelines.core import isolation  # noqa: E402
from pipelines.core.ingest import parse_path  # noqa: E402
from pipelines.core.parsecache import ParseCache, result_to_json  # noqa: E402
from pipelines.core.parsers import all_parsers  # noqa: E402
from pipelines.core.rawstore import RawStore  # noqa: E402
from pipelines.core.records import ParseResult  # noqa: E402

# ---- seeds: small synthetic files, one or more per format ------------------------------------------

T = "1700000000000000"  # tweet id prefix of the seeds


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF whose page shows ``text`` (Helvetica), with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (A synthetic paper) /CreationDate (D:20200102030405Z) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tweet(n: int, text: str, day: int) -> dict[str, Any]:
    return {"tweet": {"id_str": f"{T}{n:03d}", "full_text": text, "created_at": f"Sat Feb {day:02d} 12:33:11 +0000 2023",
                      "favorite_count": "12", "retweet_count": "3", "entities": {"urls": [{"expanded_url": "https://example.org/a"}]}}}


_TWEETS_JS = ("window.YTD.tweets.part0 = " + json.dumps(
    [_tweet(1, "A synthetic post about gradient descent and small models", 11), _tweet(2, "RT @someone: a retweeted line", 12),
     _tweet(3, "Third post, with a link https://example.org/b and an @mention", 13)], indent=2) + "\n").encode()
_NOTES_JS = ("window.YTD.note_tweet.part0 = " + json.dumps(
    [{"noteTweet": {"noteTweetId": "99", "createdAt": "2023-02-11T12:33:11.000Z", "core": {"text": "A synthetic post about gradient descent and small models, the long version of it."}}}],
    indent=2) + "\n").encode()
_GRAPHQL = json.dumps({"data": {"user": {"result": {"timeline": {"instructions": [{"entries": [
    {"content": {"itemContent": {"itemType": "TimelineTweet", "tweet_results": {"result": {
        "rest_id": f"{T}401", "core": {"user_results": {"result": {"legacy": {"screen_name": "ada"}}}},
        "legacy": {"full_text": "A post from a GraphQL timeline", "created_at": "Sat Feb 18 12:33:11 +0000 2023", "favorite_count": 5}}}}}},
    {"content": {"itemContent": {"itemType": "TimelineTweet", "tweet_results": {"result": {
        "rest_id": f"{T}402", "note_tweet": {"note_tweet_results": {"result": {"text": "A long note tweet text"}}},
        "legacy": {"full_text": "A long note", "created_at": "Sun Feb 19 12:33:11 +0000 2023", "retweet_count": 1}}}}}},
]}]}}}}}, indent=1).encode()
_TWEETS_JSON = json.dumps([
    {"id": f"{T}501", "text": "A scraped post about tokenizers", "date": "2022-03-04T05:06:07Z", "like_count": 4, "retweet_count": 1, "reply_count": 0, "username": "ada"},
    {"id": f"{T}502", "text": "Another scraped post", "date": "2022-03-05T05:06:07Z", "like_count": 2, "urls": ["https://example.org/c"], "username": "ada"},
], indent=1).encode()
_TWEETS_JSONL = b"\n".join(json.dumps(r).encode() for r in json.loads(_TWEETS_JSON)) + b"\n"
_THREAD_MD = f"""---
title: "ada thread - A synthetic thread"
date: 2024-01-02T03:04:05.000Z
url: "https://x.com/ada/status/{T}601"
platform: twitter
tweet_id: "{T}601"
tweet_count: 2
---

# ada thread - A synthetic thread

## Thread

### Tweet 1

- Date: 2024-01-02T03:04:05.000Z
- URL: https://x.com/ada/status/{T}601
- Tweet ID: {T}601

The first post of a synthetic thread about training small models.

### Tweet 2

- Date: 2024-01-02T03:05:05.000Z
- URL: https://x.com/ada/status/{T}602
- Tweet ID: {T}602

The second post of the thread, which ends here.
""".encode()
_SNIPPETS = [{"text": "hello and welcome to this synthetic talk", "start": 0.0, "duration": 2.5},
             {"text": "today we train a tiny network from scratch", "start": 2.5, "duration": 3.0},
             {"text": "and we look at the loss going down.", "start": 5.5, "duration": 2.0}]
_VTT = b"""WEBVTT

00:00:00.000 --> 00:00:02.500
hello and welcome to this synthetic talk

00:00:02.500 --> 00:00:05.500
today we train a tiny network from scratch

00:00:05.500 --> 00:00:07.500
and we look at the loss going down.
"""
_SRT = b"""1
00:00:00,000 --> 00:00:02,500
hello and welcome to this synthetic talk

2
00:00:02,500 --> 00:00:05,500
today we train a tiny network from scratch

3
00:00:05,500 --> 00:00:07,500
and we look at the loss going down.
"""
_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>A synthetic blog</title>
<item><title>First post</title><link>https://ada.example.org/2020/01/02/first/</link><pubDate>Thu, 02 Jan 2020 10:00:00 +0000</pubDate>
<description>&lt;p&gt;Words of the first post.&lt;/p&gt;&lt;p&gt;More words.&lt;/p&gt;</description></item>
<item><title>Second post</title><link>https://ada.example.org/2020/02/03/second/</link><pubDate>Mon, 03 Feb 2020 10:00:00 +0000</pubDate>
<description>Words of the second post.</description></item>
</channel></rss>
"""
_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom blog</title>
<entry><title>An atom post</title><link href="https://ada.example.org/atom-post/"/><id>tag:ada,2021:1</id>
<updated>2021-05-06T07:08:09Z</updated><content type="html">&lt;p&gt;The atom post's words.&lt;/p&gt;</content></entry>
</feed>
"""
_ARXIV = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
<link href="http://arxiv.org/api/query?id_list=1234.56789" rel="self"/>
<entry><id>http://arxiv.org/abs/1234.56789v1</id><published>2012-03-04T05:06:07Z</published>
<title>A Synthetic Paper</title><summary>We study synthetic things at length.</summary>
<author><name>Ada Lovelace</name></author></entry>
</feed>
"""
_POST_MD = b"""---
layout: post
title: "Hello, synthetic world"
date: 2020-01-02 09:00:00 -0700
author: Ada
permalink: https://ada.example.org/2020/01/02/hello/
---

# Hello, synthetic world

A paragraph with *emphasis*, a [link](https://example.org) and `code`.

| a | b |
|---|---|
| 1 | 2 |

> a quote

- a list item
"""
_PUBLICATION_MD = b"""---
layout: publication
title: "A synthetic publication"
authors: "A. Lovelace, C. Babbage"
year: 2015
additional_links:
  - name: arXiv
    url: https://arxiv.org/abs/1506.02078
---

The abstract of the publication, in a few words.
"""
_PAGE_HTML = b"""<!DOCTYPE html>
<html><head><title>A synthetic page - Ada's blog</title>
<meta property="og:title" content="A synthetic page">
<link rel="canonical" href="https://ada.example.org/blog/page/">
<meta property="article:published_time" content="2021-06-07T08:09:10Z">
<script>var x = 1;</script></head>
<body><nav><a href="/">home</a></nav><article><h1>A synthetic page</h1>
<p>The first paragraph of the page, with <b>bold</b> words.</p><div><p>A nested paragraph.</p></div>
</article><footer>footer</footer></body></html>
"""
_CAPTION_HTML = b"""<html><body><h3>A synthetic talk</h3><a href="https://www.youtube.com/watch?v=JJJJJJJJJJJ">video</a>
<div class="c"><div class="s">0:00</div><div class="t">hello and welcome to this synthetic talk</div></div>
<div class="c"><div class="s">0:03</div><div class="t">today we train a tiny network</div></div>
<div class="c"><div class="s">0:07</div><div class="t">and we look at the loss.</div></div>
</body></html>
"""
_TIMED_MD = b"""---
title: A synthetic talk
video_id: KKKKKKKKKKK
platform: youtube
date: 2022-02-03
transcript_method: manual
---

## Timed Segments

[0:00] hello and welcome to this synthetic talk
[0:03] today we train a tiny network from scratch
[0:07] and we look at the loss going down.
[1:02:03] much later, the end.
"""
_PARA_MD = """# A talk with timed paragraphs

The first paragraph of the talk, which is long enough to be a paragraph. [00:00:00 \u2192 00:00:30]

The second paragraph, about training. [00:00:30 \u2192 00:01:10]

The third paragraph closes it. [00:01:10 \u2192 00:02:00]
""".encode()
_BILINGUAL = """# [A synthetic talk](https://www.youtube.com/watch?v=LLLLLLLLLLL)

This is the English paragraph of the talk, with more than eight words in it.

\u8fd9\u662f\u4e2d\u6587\u7684\u6bb5\u843d\uff0c\u7ffb\u8bd1\u4e86\u4e0a\u9762\u7684\u82f1\u6587\u3002

Another English paragraph that also has more than eight words in it.

\u53e6\u4e00\u4e2a\u4e2d\u6587\u6bb5\u843d\u3002
""".encode()
_META_YAML = b"""videoId: MMMMMMMMMMM
title: A synthetic talk
publishedAt: 2019-04-05T06:07:08Z
channel: Ada Talks
"""
_CSV = (f"tweet_id,text,created_at,like_count\n{T}701,\"a scraped csv post\",2021-04-01 10:00:00,5\n"
        f"{T}702,\"another, quoted, post\",2021-04-02 10:00:00,0\n").encode()
_README = b"""# tinygrad-synthetic

A README with a heading, some *words* and a [link](https://example.org).

```python
print("code is kept")
```
"""
_GITHUB = json.dumps({"full_name": "ada/synthetic", "description": "A synthetic repo", "stargazers_count": 42,
                      "created_at": "2018-01-02T03:04:05Z", "pushed_at": "2023-01-02T03:04:05Z", "html_url": "https://github.com/ada/synthetic"}).encode()

SEEDS: dict[str, bytes] = {
    "archive/data/tweets.js": _TWEETS_JS,
    "archive/data/note-tweet.js": _NOTES_JS,
    "archive/twitter-archive.zip": _zip({"data/tweets.js": _TWEETS_JS, "data/note-tweet.js": _NOTES_JS, "data/manifest.js": b"window.__THAR_CONFIG = {};\n"}),
    "dumps/timeline.json": _GRAPHQL,
    "dumps/scraped.csv": _CSV,
    "dumps/tweets.json": _TWEETS_JSON,
    "dumps/tweets.jsonl": _TWEETS_JSONL,
    "threads/2024-01-02-thread.md": _THREAD_MD,
    "days/2023/4.5.md": b"A post written on the fifth of April.\n\n---\n\nA second post of the same day.\n",
    "talks/AAAAAAAAAAA.youtube-transcript.json": json.dumps(
        {"video_id": "AAAAAAAAAAA", "language_code": "en", "is_generated": False, "snippets": _SNIPPETS}).encode(),
    "talks/caption_BBBBBBBBBBB.json": json.dumps({"videoId": "BBBBBBBBBBB", "segments": [
        {"text": s["text"], "start": s["start"], "end": s["start"] + s["duration"]} for s in _SNIPPETS]}).encode(),
    "talks/whisper_CCCCCCCCCCC.json": json.dumps({"text": " ".join(s["text"] for s in _SNIPPETS), "segments": [
        {"id": i, "seek": 0, "start": s["start"], "end": s["start"] + s["duration"], "text": s["text"]} for i, s in enumerate(_SNIPPETS)]}).encode(),
    "talks/DDDDDDDDDDD.meta.json": json.dumps({"videoId": "DDDDDDDDDDD", "title": "A synthetic talk", "publishDate": "2020-05-06",
                                               "channel": "Ada Talks", "language": {"isGenerated": False}, "chapters": []}).encode(),
    "talks/catalog.json": json.dumps({"platform": "youtube", "items": [{"id": "EEEEEEEEEEE", "title": "Talk one", "date": "2019-01-02"},
                                                                       {"id": "FFFFFFFFFFF", "title": "Talk two", "date": "2021-03-04"}]}).encode(),
    "talks/list_GGGGGGGGGGG.json": json.dumps(_SNIPPETS).encode(),
    "talks/sentences_HHHHHHHHHHH.json": json.dumps([{"text": s["text"], "start": f"00:00:0{int(s['start'])}"} for s in _SNIPPETS]).encode(),
    "talks/talk_IIIIIIIIIII.vtt": _VTT,
    "talks/talk_NNNNNNNNNNN.srt": _SRT,
    "talks/talk_OOOOOOOOOOO.tsv": b"start\tend\ttext\n0\t2500\thello and welcome\n2500\t5500\ttoday we train a network\n5500\t7500\tand the loss goes down.\n",
    "talks/captions.html": _CAPTION_HTML,
    "talks/talk_KKKKKKKKKKK.md": _TIMED_MD,
    "talks/paragraphs.md": _PARA_MD,
    "talks/bilingual.md": _BILINGUAL,
    "talks/video.yml": _META_YAML,
    "talks/talk_PPPPPPPPPPP.whisper.txt": b"hello and welcome to this synthetic talk\ntoday we train a tiny network\n",
    "blog/feed.xml": _FEED,
    "blog/atom.xml": _ATOM,
    "blog/_posts/2020-01-02-hello.markdown": _POST_MD,
    "blog/publications/synthetic.md": _PUBLICATION_MD,
    "blog/page.html": _PAGE_HTML,
    "papers/1234.56789.pdf": _minimal_pdf("A synthetic paper about small models."),
    "papers/arxiv-1234.56789.xml": _ARXIV,
    "repos/ada_synthetic.readme.md": _README,
    "repos/ada_synthetic.json": _GITHUB,
    "blog/index.html": (
        b"<html><body><ul class='blog-posts'>"
        b"<li><span><time datetime='2024-03-01T10:00Z'>01 Mar, 2024</time></span><a href='/first/'>First post</a></li>"
        b"<li><span><time datetime='2024-05-02T10:00Z'>02 May, 2024</time></span><a href='/second/'>Second post</a></li>"
        b"<li><span><time datetime='2025-01-03T10:00Z'>03 Jan, 2025</time></span><a href='/third/'>Third post</a></li>"
        b"</ul></body></html>\n"
    ),
    "blog/index.md": (
        b"[ada](/)\n\n- 01 Mar, 2024 [First post](/first/)\n\n- 02 May, 2024 [Second post](/second/)\n\n"
        b"- 03 Jan, 2025 [Third post](/third/)\n"
    ),
    "notes/notes.md": b"# Notes\n\nSome notes in *Markdown*, with a [link](https://example.org).\n\nA second paragraph.\n",
    "notes/notes.txt": b"Plain notes, in plain text.\n\nA second paragraph of them.\n",
    "notes/LICENSE": b"MIT License\n\nCopyright (c) 2020 Ada\n",
}

# ---- mutations -------------------------------------------------------------------------------------

TOKENS = [
    b'"\\ud800"', b'"\\ud83d"', b"\\ud800", b"!!binary aGVsbG8=", b"Infinity", b"-Infinity", b"NaN", b"1e308", b"-1e308",
    b"-1", b"-999999", b"0", b"9" * 400, b"9" * 4400, b"2015-13-45", b"25:00:00", b"0000-00-00", b"9999-12-31",
    b"2199-01-01", b"1969-12-31", b"2031-01-01", b"99:99:99.999", b"-00:00:01.000", b"\x00", b"\x1b[2J", "\u202e".encode(),
    "\ufeff".encode(), b"\x85", b"\r", b"null", b"true", b"false", b"[]", b"{}", b"[1, 2]", b'"x"', b"<script>alert(1)</script>",
    b"&#0;", b"&lol;", b'<!ENTITY a "b">', b"*a", b"[a](", b"```", b"---\n", b"### Tweet 99\n", b"- Tweet ID: x\n", b" --> ",
    b"<div>", b"</div>", b"javascript:alert(1)", b"file:///etc/passwd", b"\\", b'"', b"'", b",", b"\t", b"\r\n", "\u2026".encode(),
    b"!!set {a, b}", b"!!python/object/apply:os.system ['true']", b"*alias", b"&anchor", b"%YAML 1.1\n", b"<![CDATA[", b"]]>",
    b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"0x7fffffffffffffff", b"18446744073709551616", b"1.7976931348623157e309",
]
# A pathological run: (what repeats, a prefix, a suffix)
RUNS = [
    (b"[", b"", b""), (b"*a", b"", b""), (b"[a](", b"", b""), (b"![", b"", b""), (b"_a", b"", b""), (b" ", b"a", b"b"),
    (b"<div>", b"<html><body>", b""), (b"<div class=\"c\">", b"<html><body>", b""), (b"<section>", b"", b""),
    (b"> ", b"", b"x"), (b"- ", b"", b"x"), (b"`", b"", b""), (b"<", b"", b""), (b"[\\", b"", b""), (b"&#", b"", b""),
    (b"\n", b"", b""), (b"\n\n", b"", b""), (b" \n", b"", b""), (b"9", b"", b""), (b"-->", b"", b""), (b"#", b"", b""),
    (b"|a", b"", b"|\n"), (b"<b x=1>", b"", b""), (b"<p>", b"", b""), (b"<!--", b"", b""), (b"{", b"", b""), (b"[", b"x = ", b""),
    (b"- a: ", b"---\n", b"\n---\nbody\n"), (b"[0:00] a\n", b"", b""), (b"00:00:00.000 --> 00:00:01.000\nx\n\n", b"WEBVTT\n\n", b""),
    (b"\t", b"", b""), (b"a ", b"", b""), (b"\\", b"", b""), (b"]", b"", b""), (b"(", b"", b""), (b"~~a", b"", b""),
]
JSON_VALUES: list[Any] = [None, True, False, 0, -1, -999999, 10**30, 1e308, float("inf"), float("-inf"), float("nan"), "",
                          "\ud800", "\x1b[31mred", "x\x00y", "\u202egnp", "2015-13-45", "9999-12-31", "2199-01-01", "0000-00-00",
                          "99:99:99.999", "1e308", "-1", [], {}, [1, 2], {"a": 1}, "javascript:alert(1)", "9" * 4400, 12.5]
YAML_VALUES = [b"!!binary aGVsbG8=", b'"\\ud800"', b'"\\ud83d"', b"2015-13-45", b"25:00:00", b"0000-00-00", b"2020-01-01 25:00:00",
               b"9999-12-31", b"2199-01-01", b"1969-12-31", b"[1, 2]", b"{a: 1}", b"5", b"99999", b"-1", b".nan", b".inf", b"!!set {a}",
               b"1e308", b"9" * 4400, b'"\\x1b[2J"', b'"\\0"', b"null", b"true", b'"javascript:alert(1)"', b"- a\n- b"]
REENCODINGS = [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff"), ("utf-8", b"\xef\xbb\xbf")]


@dataclass(frozen=True)
class FuzzInput:
    index: int
    seed_name: str
    name: str  # the path the input is parsed as (the seed's)
    data: bytes
    mutations: tuple[str, ...]
    reencoding_of_pristine: str | None = None  # set when the input is the seed itself, only re-encoded


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1) if data else 0


def _typed_json(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Replace one value of the seed's JSON (after any 'window.YTD... =' prefix) with a value of another type."""
    text = data.decode("utf-8", "replace")
    m = re.match(r"^\s*window\.YTD\.[A-Za-z0-9_]+\.part\d+\s*=\s*", text)
    prefix, body = (text[: m.end()], text[m.end():]) if m else ("", text)
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return data, "typed-json(skipped: not JSON)"
    slots: list[tuple[Any, Any]] = []
    stack = [obj]
    while stack:
        cur = stack.pop()
        items = cur.items() if isinstance(cur, dict) else enumerate(cur) if isinstance(cur, list) else ()
        for k, v in items:
            slots.append((cur, k))
            if isinstance(v, dict | list):
                stack.append(v)
    if not slots:
        return data, "typed-json(skipped: no values)"
    parent, key = rng.choice(slots)
    value = rng.choice(JSON_VALUES)
    parent[key] = value
    try:
        out = prefix + json.dumps(obj, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    except (ValueError, RecursionError):
        return data, "typed-json(skipped: cannot write)"
    return out.encode("utf-8", "surrogatepass"), f"typed-json({key!r}={value!r:.40})"


def _typed_yaml(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    lines = data.split(b"\n")
    slots = [i for i, line in enumerate(lines) if re.match(rb"^\s*[A-Za-z_][\w-]*:\s*\S", line)]
    if not slots:
        return data, "typed-yaml(skipped)"
    i = rng.choice(slots)
    key = lines[i].split(b":", 1)[0]
    value = rng.choice(YAML_VALUES)
    lines[i] = key + b": " + value
    return b"\n".join(lines), f"typed-yaml({key.decode(errors='replace').strip()}={value[:30]!r})"


def mutate(rng: random.Random, data: bytes, max_run: int) -> tuple[bytes, str]:
    kind = rng.choice(["flip", "insert", "delete", "duplicate", "truncate", "splice", "token", "token", "token",
                       "typed-json", "typed-yaml", "run", "crlf", "reencode"])
    if kind == "flip" and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b), "flip"
    if kind == "insert":
        p = _pos(rng, data)
        return data[:p] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[p:], f"insert@{p}"
    if kind == "delete" and data:
        p = _pos(rng, data)
        n = rng.randint(1, max(1, len(data) // 4))
        return data[:p] + data[p + n:], f"delete@{p}+{n}"
    if kind == "duplicate" and data:
        p = _pos(rng, data)
        n = rng.randint(1, max(1, len(data) // 3))
        return data[:p + n] + data[p:p + n] * rng.randint(1, 4) + data[p + n:], f"duplicate@{p}+{n}"
    if kind == "truncate" and data:
        p = rng.randrange(len(data))
        return data[:p], f"truncate@{p}"
    if kind == "splice":
        other = SEEDS[rng.choice(list(SEEDS))]
        p, q = _pos(rng, data), _pos(rng, other)
        return data[:p] + other[q:], f"splice@{p}"
    if kind == "token":
        tok = rng.choice(TOKENS)
        p = _pos(rng, data)
        # near a value more often than not: right after a ':' or '=' or '>' when there is one
        anchors = [m.end() for m in re.finditer(rb'[:=>,]\s*"?', data)]
        if anchors and rng.random() < 0.6:
            p = rng.choice(anchors)
        replace = rng.randint(0, 12) if rng.random() < 0.5 else 0
        return data[:p] + tok + data[p + replace:], f"token@{p}:{tok[:24]!r}"
    if kind == "typed-json":
        return _typed_json(rng, data)
    if kind == "typed-yaml":
        return _typed_yaml(rng, data)
    if kind == "run":
        unit, pre, post = rng.choice(RUNS)
        n = max(1, rng.choice([100, 1_000, 10_000, max_run]) // len(unit))
        p = _pos(rng, data)
        if rng.random() < 0.3:  # the run alone, as the whole file
            return pre + unit * n + post, f"run({unit!r}x{n})"
        return data[:p] + pre + unit * n + post + data[p:], f"run@{p}({unit!r}x{n})"
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n") if rng.random() < 0.7 else data.replace(b"\n", b"\r"), "line-endings"
    if kind == "reencode":
        codec, bom = rng.choice(REENCODINGS)
        try:
            return bom + data.decode("utf-8").encode(codec), f"reencode({codec})"
        except UnicodeError:
            return data, "reencode(skipped: not UTF-8)"
    return data, f"{kind}(skipped)"


def make_input(seed: int, index: int, max_run: int) -> FuzzInput:
    rng = random.Random(f"{seed}:{index}")  # noqa: S311  (a fuzzer: reproducible, not secret)
    names = list(SEEDS)
    name = names[index % len(names)]
    data = SEEDS[name]
    if rng.random() < 0.05:  # the seed itself, only re-encoded: it must parse as the same thing
        codec, bom = rng.choice(REENCODINGS)
        return FuzzInput(index, name, name, bom + data.decode("utf-8").encode(codec), (f"reencode({codec})",), codec) \
            if not name.endswith((".zip", ".pdf")) else FuzzInput(index, name, name, data, ("none",))
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        data, what = mutate(rng, data, max_run)
        steps.append(what)
    return FuzzInput(index, name, name, data, tuple(steps))


# ---- the oracle: values that break a vetting rule ---------------------------------------------------

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
MAX_CUE = 48 * 3600.0
_CONTROL_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_CONTROL_TITLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def violations(status: str, error: str | None, result: ParseResult | None, now: datetime) -> list[str]:
    """Values that landed and break a rule (independent of pipelines/core/vetting.py, on purpose)."""
    out: list[str] = []
    if status == "rejected":
        if not error:
            out.append("rejected without a reason")
        elif _CONTROL_TITLE.search(error):
            out.append("control character in the snapshot's error")
        return out
    if result is None:
        return ["not rejected, but no result"]
    try:
        result_to_json(result).encode("utf-8")
    except Exception as e:
        out.append(f"result cannot be cached: {type(e).__name__}: {e}"[:200])
    flagged = " ".join(i.message for i in result.issues)
    latest = now + timedelta(days=1)

    def check_date(value: datetime, what: str) -> None:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        if (aware < EARLIEST or aware > latest) and not (aware.date().isoformat() in flagged and "implausible" in flagged):
            out.append(f"{what}: date {aware.date()} outside the range, not flagged")

    def check_value(value: Any, what: str, depth: int = 0) -> None:
        if isinstance(value, str):
            if _CONTROL_TEXT.search(value):
                out.append(f"{what}: control character or surrogate {_CONTROL_TEXT.search(value).group(0)!r}")  # type: ignore[union-attr]
        elif isinstance(value, float):
            if not math.isfinite(value):
                out.append(f"{what}: non-finite number {value}")
        elif isinstance(value, datetime):
            check_date(value, what)
        elif isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    out.append(f"{what}: key {k!r} is not text")
                check_value(v, f"{what}.{k}", depth + 1)
                if k in ("title", "channel", "author") and isinstance(v, str) and _CONTROL_TITLE.search(v):
                    out.append(f"{what}.{k}: control character in a title")
                if k.endswith("_count") or k == "stars":
                    if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                        out.append(f"{what}.{k}: count {v!r} is not a whole number >= 0")
        elif isinstance(value, list | tuple):
            for j, v in enumerate(value):
                check_value(v, f"{what}[{j}]", depth + 1)
        elif value is not None and not isinstance(value, bool | int | date):
            out.append(f"{what}: {type(value).__name__} value is not plain data")

    for i, doc in enumerate(result.documents, 1):
        w = f"document {i}"
        if doc.title is not None and (not isinstance(doc.title, str) or _CONTROL_TITLE.search(doc.title)):
            out.append(f"{w}: title {doc.title!r:.60} has a control character or is not text")
        check_value(doc.text, f"{w}.text")
        if doc.url is not None and not str(doc.url).lower().startswith(("http://", "https://")):
            out.append(f"{w}: link {doc.url!r:.60} is not http(s)")
        if doc.published_at is not None:
            check_date(doc.published_at, f"{w}.published_at")
        check_value(doc.meta, f"{w}.meta")
        if doc.external_id is not None:
            check_value(doc.external_id, f"{w}.external_id")
        for seg in doc.segments:
            check_value(seg.text, f"{w}.segment {seg.seq}")
            for t in (seg.start_s, seg.end_s):
                if t is not None and not (isinstance(t, float | int) and math.isfinite(t) and 0 <= t <= MAX_CUE):
                    out.append(f"{w}.segment {seg.seq}: cue time {t!r} not finite within 0..48 h")
            if seg.start_s is not None and seg.end_s is not None and seg.end_s < seg.start_s:
                out.append(f"{w}.segment {seg.seq}: ends before it starts")
        tw = doc.tweet
        if tw is not None:
            for k in ("retweet_count", "like_count", "reply_count"):
                v = getattr(tw, k)
                if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                    out.append(f"{w}: {k} {v!r} is not a whole number >= 0")
            if tw.author is not None and _CONTROL_TITLE.search(tw.author):
                out.append(f"{w}: author has a control character")
            if tw.created_at is not None:
                check_date(tw.created_at, f"{w}.created_at")
            for u in tw.urls:
                check_value(u, f"{w}.urls")
    for key, facts in result.metadata.items():
        check_value(key, "metadata key")
        check_value(facts, f"metadata {key[:40]!r}")
    for issue in result.issues:
        if not issue.position or not issue.message:
            out.append("an issue without position or message")
        elif _CONTROL_TITLE.search(issue.position + issue.message):
            out.append(f"control character in an issue: {issue.message[:60]!r}")
    return out


# ---- the run ----------------------------------------------------------------------------------------


def _fuzz_one(root: str, rel: str, data: bytes) -> dict[str, Any]:
    """In a worker: write the input into raw/, parse it with a real parse cache, read the cache back."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # a damaged PDF's warnings, thousands of them
    store = RawStore(Path(root))
    path = store.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=root))
    started, cpu_started = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {"escaped": None}
    try:
        try:
            pf = parse_path(store, path, cache=ParseCache(cache_dir), parsers=all_parsers(), origins={}, max_bytes=64 << 20)
        except BaseException:
            out["escaped"] = traceback.format_exc(limit=6)
            return out
        out["elapsed"] = time.perf_counter() - started
        out["cpu"] = time.process_time() - cpu_started
        snap = pf.snapshot
        out.update(status=snap.status, error=snap.error, format=snap.format, result=pf.result)
        if pf.result is not None and snap.format:
            spec = next(p for p in all_parsers() if p.name == snap.format)
            if ParseCache(cache_dir).get(snap.sha256 or "", spec.name, spec.version) is None:
                out["cache_unreadable"] = True
        return out
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        shutil.rmtree(path.parent, ignore_errors=True)


@dataclass
class Report:
    inputs: int = 0
    seconds: float = 0.0
    per_format: Counter[str] = field(default_factory=Counter)
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    escaped: list[str] = field(default_factory=list)
    dead_workers: list[str] = field(default_factory=list)
    over_time_limit: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    reencodings: int = 0
    reencodings_changed: list[str] = field(default_factory=list)
    guard_files: Counter[str] = field(default_factory=Counter)
    guard_records: Counter[str] = field(default_factory=Counter)
    guard_examples: dict[str, str] = field(default_factory=dict)
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def failures(self) -> int:
        return len(self.escaped) + len(self.dead_workers) + len(self.over_time_limit) + len(self.violations) + len(self.reencodings_changed)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in vars(self).items() if k != "outcomes"}
        d["outcomes"] = {k: dict(v) for k, v in self.outcomes.items()}
        d["slowest"] = sorted(self.slowest, reverse=True)[:10]
        return d


def _shape(result: ParseResult | None) -> tuple[Any, ...]:
    if result is None:
        return ()
    return (result.format, [(d.kind, d.text, d.title, d.external_id, len(d.segments)) for d in result.documents], sorted(result.metadata))


def _pristine(seed_name: str, tmp: Path) -> dict[str, Any]:
    return _fuzz_one(str(tmp / "raw"), f"inbox/pristine/{seed_name}", SEEDS[seed_name])


_GUARDED = re.compile(r"unexpected ([A-Z][A-Za-z]*): ")  # the guard's own wording (ingest._failure, record_failure)


def _label(inp: FuzzInput, seed: int) -> str:
    return f"input {inp.index} (seed {seed}; {inp.seed_name}; {' + '.join(inp.mutations)})"[:300]


def _record(report: Report, inp: FuzzInput, seed: int, out: dict[str, Any], limit: float, now: datetime,
            reference: dict[str, tuple[Any, ...]]) -> None:
    label = _label(inp, seed)
    if out.get("escaped"):
        report.escaped.append(f"{label}: {out['escaped'].strip().splitlines()[-1]}")
        return
    cpu, elapsed = out.get("cpu", 0.0), out.get("elapsed", 0.0)
    report.slowest.append((round(cpu, 3), f"{label} ({elapsed:.2f} s wall)"))
    report.slowest = sorted(report.slowest, reverse=True)[:10]
    if cpu > limit:
        report.over_time_limit.append(f"{label}: {cpu:.1f} s of CPU time ({elapsed:.1f} s wall)")
    status = out["status"]
    report.outcomes[inp.seed_name][status] += 1
    for v in violations(status, out.get("error"), out.get("result"), now):
        report.violations.append(f"{label}: {v}")
    if out.get("cache_unreadable"):
        report.violations.append(f"{label}: the parse cache entry cannot be read back")
    error = out.get("error") or ""
    caught = _GUARDED.search(error) if status == "rejected" else None
    if caught:
        key = f"{out.get('format')}: {caught.group(1)}"
        report.guard_files[key] += 1
        report.guard_examples.setdefault(key, f"{label}: {error[:200]}")
    result: ParseResult | None = out.get("result")
    for issue in result.issues if result else []:
        caught = _GUARDED.search(issue.message)
        if caught and "record dropped" in issue.message:
            key = f"{result.format}: {caught.group(1)}"  # type: ignore[union-attr]
            report.guard_records[key] += 1
            report.guard_examples.setdefault(key, f"{label}: {issue.position}: {issue.message[:200]}")
    if inp.reencoding_of_pristine:
        report.reencodings += 1
        if _shape(result) != reference[inp.seed_name]:
            report.reencodings_changed.append(f"{label}: parsed as {out.get('format')} ({status}), not as the seed")


def run(inputs: int, seed: int = 1, workers: int = 2, limit: float = 5.0, max_run: int = 1 << 20,
        memory_mb: int = 2048, start: int = 0, progress: bool = False, kill_after: float | None = None) -> Report:
    """Fuzz ``inputs`` inputs. An input is over the time limit when its parse takes more than ``limit``
    seconds of CPU time (wall time depends on what else the machine runs); its worker is stopped after
    ``kill_after`` seconds of wall time (default 4 x limit), which also counts as over the limit."""
    kill_after = kill_after or 4 * limit
    report = Report()
    now = datetime.now(UTC)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "raw" / "inbox").mkdir(parents=True)
        reference = {name: _shape(_pristine(name, tmp).get("result")) for name in SEEDS}
        with isolation.WorkerPool(workers, memory_mb) as pool:
            pending: dict[Any, FuzzInput] = {}
            next_index = start
            done = 0
            while done < inputs:
                while len(pending) < 4 * workers and next_index < start + inputs:
                    inp = make_input(seed, next_index, max_run)
                    rel = f"inbox/f{next_index}/{inp.name}"
                    pending[pool.submit(_fuzz_one, kill_after, str(tmp / "raw"), rel, inp.data)] = inp
                    report.per_format[inp.seed_name] += 1
                    next_index += 1
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    inp = pending.pop(fut)
                    done += 1
                    report.inputs += 1
                    out, failure = isolation.outcome(fut, kill_after, memory_mb)
                    if out is None:
                        label = _label(inp, seed)
                        if failure and "budget" in failure:
                            report.over_time_limit.append(f"{label}: stopped after {kill_after:g} s of wall time")
                        elif failure and "died" in failure:
                            report.dead_workers.append(f"{label}: {failure.split(';')[0]}")
                        else:
                            report.escaped.append(f"{label}: {failure}")
                        shutil.rmtree(tmp / "raw" / "inbox" / f"f{inp.index}", ignore_errors=True)
                        continue
                    _record(report, inp, seed, out, limit, now, reference)
                if progress and done % 1000 < len(finished):
                    rate = done / (time.perf_counter() - began)
                    print(f"  {done:,}/{inputs:,} inputs ({rate:.0f}/s); escaped {len(report.escaped)}, dead {len(report.dead_workers)}, "
                          f"slow {len(report.over_time_limit)}, violations {len(report.violations)}", file=sys.stderr, flush=True)
    report.seconds = time.perf_counter() - began
    return report


def format_report(r: Report, seed: int, limit: float) -> str:
    lines = [f"{r.inputs:,} inputs (seed {seed}) in {r.seconds:,.0f} s; time limit {limit:g} s of CPU time per input "
             f"(a worker is stopped after {4 * limit:g} s of wall time)",
             f"escaped exceptions: {len(r.escaped)}", f"dead workers: {len(r.dead_workers)}",
             f"inputs over the time limit: {len(r.over_time_limit)}", f"vetting violations: {len(r.violations)}",
             f"re-encoded seeds: {r.reencodings}, of which parsed as something else: {len(r.reencodings_changed)}",
             "", "inputs per seed (format): accepted / metadata / skipped / rejected"]
    for name in SEEDS:
        o = r.outcomes.get(name, Counter())
        lines.append(f"  {name:45s} {r.per_format[name]:7,d}: {o['accepted']:,} / {o['metadata']:,} / {o['skipped']:,} / {o['rejected']:,}")
    lines.append("files rejected by an unexpected exception (caught by the guard): " + (", ".join(f"{k} x{v}" for k, v in r.guard_files.most_common()) or "none"))
    lines.append("records dropped by an unexpected exception: " + (", ".join(f"{k} x{v}" for k, v in r.guard_records.most_common()) or "none"))
    for key, example in r.guard_examples.items():
        lines.append(f"  e.g. {key}: {example}")
    lines.append("slowest inputs (CPU seconds): " + "; ".join(f"{s:.2f} s {label[:160]}" for s, label in sorted(r.slowest, reverse=True)[:5]))
    for title, items in (("ESCAPED", r.escaped), ("DEAD WORKER", r.dead_workers), ("OVER THE TIME LIMIT", r.over_time_limit),
                         ("VIOLATION", r.violations), ("RE-ENCODING LOST STRUCTURE", r.reencodings_changed)):
        for item in items[:20]:
            lines.append(f"{title}: {item}")
        if len(items) > 20:
            lines.append(f"{title}: ... and {len(items) - 20} more")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="index of the first input")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--limit", type=float, default=5.0, help="seconds of CPU time per input (stopped after 4x that of wall time)")
    ap.add_argument("--max-run", type=int, default=1 << 20, help="longest pathological run, in bytes")
    ap.add_argument("--memory-mb", type=int, default=2048, help="memory limit per worker")
    ap.add_argument("--json", type=Path, help="write the report as JSON here")
    ap.add_argument("--replay", type=int, help="write input N to --out instead of fuzzing")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.replay is not None:
        inp = make_input(args.seed, args.replay, args.max_run)
        dest = args.out or Path(f"fuzz-input-{args.replay}-{Path(inp.name).name}")
        dest.write_bytes(inp.data)
        print(f"{dest}: {len(inp.data):,} bytes, parsed as {inp.name}; {' + '.join(inp.mutations)}")
        return 0
    report = run(args.inputs, args.seed, args.workers, args.limit, args.max_run, args.memory_mb, args.start, progress=True)
    print(format_report(report, args.seed, args.limit))
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=1, default=str))
    return 1 if report.failures() else 0


if __name__ == "__main__":
    # Run as the module ``fuzz`` (bench/ is on sys.path), so that workers can unpickle its functions.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fuzz

    raise SystemExit(fuzz.main())
