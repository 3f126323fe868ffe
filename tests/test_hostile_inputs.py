"""Hostile and broken input: one `corpus run` over a corpus of ~50 bad files, each with its expected outcome.

The corpus is tests/fixtures/hostile/inbox/ (small text files) plus files generated here (zips, binary,
non-UTF-8 names, symlinks, a file over the size limit; the 1 GB file is sparse, in tmp, in its own test).
For every case: the run finishes (exit 0), the bad file is rejected with its reason in ``snapshots`` or
its bad records are listed in ``parse_issues`` with file, position and reason, the good parts land, no
payload appears unescaped in reports/, and nothing is written outside the project. docs/reliability.md
has the table of cases.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import shutil
import tracemalloc
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.core.ingest import (
    DEFAULT_MAX_FILE_BYTES,
    max_file_bytes,
    parse_path,
    scan_and_parse,
    vet_result,
)
from pipelines.core.parsecache import ParseCache
from pipelines.core.parsers import all_parsers
from pipelines.core.rawstore import RawStore
from pipelines.core.records import ParsedDocument, ParseResult, TweetFields

HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "inbox"
E2E = Path(__file__).parent / "fixtures" / "e2e"
REPO = Path(__file__).resolve().parents[1]
SIZE_LIMIT = 256 * 1024  # CORPUS_MAX_FILE_BYTES for the run: small, so the over-limit file stays small
T = "3000000000000000"  # tweet id prefix of the fixtures


# ---- the generated part of the corpus ---------------------------------------------------------------

GOOD_ZIP_TWEET = (
    b'window.YTD.tweets.part0 = [ { "tweet" : { "id_str" : "' + T.encode() + b'301", "full_text" : '
    b'"a tweet inside a zip with hostile members", "created_at" : "Sat Feb 18 12:33:11 +0000 2023" } } ]\n'
)


def _zip_traversal(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../x", b"escaped")
        zf.writestr("/abs/evil.js", b"absolute")
        zf.writestr("..\\..\\win.js", b"backslashes")
        zf.writestr("data/../../../tweets.js", GOOD_ZIP_TWEET)
        zf.writestr("data/tweets.js", GOOD_ZIP_TWEET)


def _zip_bomb(path: Path, megabytes: int = 64) -> None:
    """~64 KB on disk, 64 MiB once inflated (ratio > 1000:1), streamed so the test never holds it."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("data/tweets.js", "w", force_zip64=True) as f:
            f.write(b"window.YTD.tweets.part0 = [")
            block = b" " * (1 << 20)
            for _ in range(megabytes):
                f.write(block)


def _zip_bad_crc(path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("data/tweets.js", GOOD_ZIP_TWEET)
    data = bytearray(buf.getvalue())
    i = data.find(b"a tweet inside")
    data[i : i + 1] = b"A"  # the stored bytes no longer match the CRC in the headers
    path.write_bytes(bytes(data))


def _padded_dtd_feed(entities: bytes, body: bytes, slug: bytes) -> bytes:
    """A feed whose DTD sits after 80 KB of comment (beyond the 64 KiB head the parser screens)."""
    pad = b"<!-- <rss> " + b"padding " * 10000 + b"-->\n"
    return (
        b'<?xml version="1.0"?>\n' + pad + b"<!DOCTYPE rss [ " + entities + b" ]>\n"
        b'<rss version="2.0"><channel><title>Padded</title><item><title>Padded DTD</title>'
        b"<link>https://ada.example.org/" + slug + b"/</link><description>" + body + b"</description></item></channel></rss>\n"
    )


LAUGHS = b'<!ENTITY lol "lol">' + b"".join(
    b"<!ENTITY lol%d \"%s\">" % (i, (b"&lol%s;" % (str(i - 1).encode() if i > 1 else b"")) * 10) for i in range(1, 10)
)

NON_UTF8_NAME = b"caf\xe9-notes.txt"


def build_corpus(inbox: Path, outside: Path) -> None:
    shutil.copytree(HOSTILE, inbox, dirs_exist_ok=True)

    def put(rel: str, data: bytes) -> None:
        f = inbox / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)

    put("empty/empty.txt", b"")
    put("binary-txt/photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    rnd = random.Random(8)
    put("random-txt/noise.txt", bytes(rnd.randrange(256) for _ in range(4096)))
    put("text-invalid-utf8/notes.txt", "Caf\u00e9 notes: na\u00efve words in Latin-1.\n".encode("latin-1"))
    put("text-utf16le-bom/notes-le.txt", "\ufeffNotes written in UTF-16 little endian, with a BOM.\n".encode("utf-16-le"))
    put("text-utf16be-bom/notes-be.txt", "\ufeffNotes written in UTF-16 big endian, with a BOM.\n".encode("utf-16-be"))
    put(
        "tweets-utf8-bom/data/tweets.js",
        b"\xef\xbb\xbfwindow.YTD.tweets.part0 = [ { \"tweet\" : { \"id_str\" : \"" + T.encode() + b"231\", "
        b'"full_text" : "a tweet from an archive file with a UTF-8 BOM", "created_at" : "Sat Feb 18 12:33:11 +0000 2023" } } ]\n',
    )
    put(
        "csv-mismatched-nul/scraped.csv",
        b"tweet_id,text,created_at\n"
        + T.encode() + b'211,"a good csv row",2021-04-01 10:00:00\n'
        + T.encode() + b'212,"too few"\n'
        + T.encode() + b'213,"too many",2021-04-01,extra,more\n'
        + T.encode() + b'214,"a row with an embedded \x00NUL byte",2021-04-02 10:00:00\n',
    )
    put(
        "csv-utf16-bom/scraped-utf16.csv",
        f'\ufefftweet_id,text,created_at\n{T}221,"a tweet from a UTF-16 CSV",2021-04-03 10:00:00\n'.encode("utf-16-le"),
    )
    put("json-deeply-nested/tweets.json", b'{"full_text": "deep", "id_str": "1", "n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    put("xss-file-name/<img src=x onerror=alert(1)>.xyz", b'<script>alert("xss-name")</script>')
    (inbox / "archive-traversal").mkdir()
    _zip_traversal(inbox / "archive-traversal" / "twitter-archive.zip")
    (inbox / "archive-bomb").mkdir()
    _zip_bomb(inbox / "archive-bomb" / "twitter-archive.zip")
    (inbox / "archive-bad-crc").mkdir()
    _zip_bad_crc(inbox / "archive-bad-crc" / "twitter-archive.zip")
    put("archive-corrupt/twitter-archive.zip", b"PK\x03\x04" + b"\x00garbage" * 20)
    put("feed-billion-laughs-padded/feed.xml", _padded_dtd_feed(LAUGHS, b"&lol9;", b"laughs"))
    put("feed-xxe-padded/feed.xml", _padded_dtd_feed(b'<!ENTITY xxe SYSTEM "file:///etc/passwd">', b"before &xxe; after", b"xxe"))
    put("over-size-limit/big-notes.md", b"# Big\n\n" + b"many words in a big file. " * 12_000)
    # a file name that is not UTF-8 (Linux allows any bytes but '/' and NUL)
    os.makedirs(inbox / "non-utf8-name", exist_ok=True)
    with open(os.fsencode(inbox / "non-utf8-name") + b"/" + NON_UTF8_NAME, "wb") as f:
        f.write(b"Notes in a file whose name is not UTF-8.\n")
    # terminal escapes and a bidi override in a file name (printed by the run summary)
    put("control-chars-name/evil\x1b[2J\x1b[31m\u202egnp.xyz", b"a file no parser reads, so the summary prints its name\n")
    # symbolic links pointing outside the project
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("TOP-SECRET-OUTSIDE-THE-PROJECT\n")
    (inbox / "symlinks").mkdir()
    os.symlink(outside / "secret.txt", inbox / "symlinks" / "linked-notes.txt")
    os.symlink(outside, inbox / "symlinks" / "linked-dir")


# ---- the expected outcome of every case -------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # under raw/inbox/
    status: str  # snapshots.status
    reason: str | None = None  # in snapshots.error
    issues: tuple[tuple[str, str, str], ...] = ()  # (severity, in position, in message) rows of parse_issues
    lands: tuple[str, ...] = ()  # in the text of a document this file supplied
    docs: tuple[str, ...] = ()  # doc_ids that must exist
    never: tuple[str, ...] = ()  # in no document's text or title


def tw(n: int) -> str:
    return f"tweet-{T}{n:03d}"


CASES = [
    # -- the good files: everything that is fine lands
    Case("good-archive", "good/data/tweets.js", "accepted", docs=(tw(1), tw(2)), lands=("A perfectly ordinary post",)),
    Case("good-blog-post", "good/blog/2020-01-02-hello.markdown", "accepted", docs=("blog-hello",)),
    # -- X archive data files
    Case("tweets.js missing '='", "tweets-missing-equals/data/tweets.js", "rejected",
         reason="expected 'window.YTD.<name>.partN = [...]' at the start", never=("missing equals sign",)),
    Case("tweets.js cut mid-record", "tweets-cut/data/tweets.js", "accepted",
         issues=(("error", "after record 2", "record 3 is cut or malformed"),), docs=(tw(111), tw(112)),
         never=("third record is cut",)),
    Case("tweets.js not an array", "tweets-not-array/data/tweets.js", "rejected",
         reason="expected a JSON array after '=', found dict"),
    Case("tweets.js records of wrong types", "tweets-wrong-types/data/tweets.js", "accepted",
         issues=(("error", "record 1", "expected an object, found str"),
                 ("error", "record 2", "tweet id '../../etc/passwd' is not numeric"),
                 ("error", "record 3", "no text field"),
                 ("error", "record 4", "text field is a int, not a string"),
                 ("error", "record 6", "expected an object, found int"),
                 ("error", "record 7", "expected an object, found NoneType")),
         docs=(tw(133),), never=("id is a path",)),
    Case("tweets.js with a UTF-8 BOM", "tweets-utf8-bom/data/tweets.js", "accepted", docs=(tw(231),)),
    Case("tweet text with <script> and onerror=", "tweets-xss/data/tweets.js", "accepted",
         issues=(("warning", "document 2", "link 'javascript:alert(\"xss-tweet-url\")' is not http(s): dropped"),),
         docs=(tw(141), tw(142)), lands=('<script>alert("xss-tweet")</script>',)),
    Case("duplicate tweet id in one file, different text", "tweets-dup-id/data/tweets.js", "accepted",
         issues=(("warning", "record 2", f"tweet id {T}151 repeats record 1 with different text"),),
         docs=(tw(151),), lands=("a second, different and longer text",)),
    Case("duplicate tweet id across files, different text", "tweets-dup-id-csv/scraped.csv", "duplicate",
         reason=f"{tw(1)} (kept inbox/good/data/tweets.js)", never=("A scraped text that differs",)),
    Case("dates in the future, before 1990, unreadable", "tweets-dates/data/tweets.js", "accepted",
         issues=(("warning", f"id {T}161", "2199-01-01 is in the future: kept"),
                 ("warning", f"id {T}162", "1985-01-01 is before 1990: kept"),
                 ("warning", f"id {T}163", "1970-01-01 is before 1990: kept"),
                 ("warning", "record 4", "unreadable created_at 'the day after tomorrow'")),
         docs=(tw(161), tw(162), tw(163), tw(164), tw(165))),
    Case("terminal escapes and bidi override in a tweet", "tweets-control-chars/data/tweets.js", "accepted",
         docs=(tw(171),), never=("\x1b", "\x07", "\u202e")),
    # -- X archive zips
    Case("zip with path traversal members", "archive-traversal/twitter-archive.zip", "accepted",
         issues=(("error", "'../../x'", "path escapes the archive"),
                 ("error", "'/abs/evil.js'", "path escapes the archive"),
                 ("error", "'..\\\\..\\\\win.js'", "path escapes the archive"),
                 ("error", "'data/../../../tweets.js'", "path escapes the archive")),
         docs=(tw(301),)),
    # (a rejected file's reason names the position: its parse issues are not loaded, see docs/reliability.md)
    Case("zip bomb (1000:1)", "archive-bomb/twitter-archive.zip", "rejected",
         reason="member 'data/tweets.js': expands to 67,108,891 bytes (ratio 1028:1): refused as a possible zip bomb"),
    Case("zip member with a bad CRC", "archive-bad-crc/twitter-archive.zip", "rejected",
         reason="member 'data/tweets.js': cannot be read from the archive: BadZipFile: Bad CRC-32"),
    Case("truncated zip", "archive-corrupt/twitter-archive.zip", "rejected", reason="not a readable zip archive"),
    # -- scraper dumps
    Case("CSV with mismatched columns and a NUL", "csv-mismatched-nul/scraped.csv", "accepted",
         issues=(("warning", "file", "1 NUL byte(s) removed"),
                 ("error", "line 3", "expected 3 columns, found 2: row rejected"),
                 ("error", "line 4", "expected 3 columns, found 5: row rejected")),
         docs=(tw(211), tw(214)), never=("\x00",)),
    Case("CSV in UTF-16 with a BOM", "csv-utf16-bom/scraped-utf16.csv", "accepted", docs=(tw(221),)),
    Case("JSON with wrong types", "json-wrong-types/tweets.json", "accepted",
         issues=(("error", "record 1", "tweet id '[1, 2]' is not numeric"),
                 ("error", "record 2", "text field is a int"),
                 ("error", "record 3", "expected an object, found str")),
         docs=(tw(182), tw(183))),
    Case("JSON object instead of a list", "json-not-a-list/tweets.json", "rejected", reason="holds no list of tweets"),
    Case("JSON nested 100,000 deep", "json-deeply-nested/tweets.json", "rejected", reason="nested too deeply to read"),
    Case("JSONL with a cut line and a list line", "jsonl-bad-lines/tweets.jsonl", "accepted",
         issues=(("error", "line 2", "not valid JSON"), ("error", "record 3", "expected an object, found list")),
         docs=(tw(201), tw(203))),
    # -- captions
    Case("VTT with overlapping cues", "vtt-overlap/overlap-talk_CCCCCCCCCCC.vtt", "accepted",
         lands=("the first cue runs long the second cue overlaps the first",)),
    Case("VTT with a negative timestamp", "vtt-negative/negative-talk_DDDDDDDDDDD.vtt", "accepted",
         issues=(("error", "line 3", "unreadable cue timing '-00:00:02.000 --> 00:00:01.000': cue dropped"),),
         lands=("a normal cue after it",)),
    Case("VTT cue that ends before it starts", "vtt-end-before-start/backwards-talk_GGGGGGGGGGG.vtt", "accepted",
         issues=(("warning", "cue 1", "bad timing start=10.0 end=4.0: timing dropped"),),
         lands=("this cue ends before it starts a normal cue",)),
    Case("SRT overlapping, backwards and negative", "srt-overlap-negative/subtitles_EEEEEEEEEEE.srt", "accepted",
         issues=(("warning", "line 10", "unreadable subtitle timing '-00:00:01,000 --> 00:00:02,000'"),
                 ("warning", "cue 2", "bad timing start=3.0 end=1.0")),
         lands=("third subtitle starts before zero",), never=("-00:00:01,000",)),
    Case("transcript JSON with wrong types", "transcript-json-wrong-types/FFFFFFFFFFF.json", "accepted",
         issues=(("error", "snippet 2", "expected an object with a text string"),
                 ("error", "snippet 3", "expected an object with a text string"),
                 ("warning", "cue 3", "bad timing start=-4.0")),
         lands=("a caption with sane types",)),
    # -- feeds
    Case("RSS billion laughs", "feed-billion-laughs/feed.xml", "rejected", reason="feed declares XML entities"),
    Case("RSS external entity (file:///etc/passwd)", "feed-xxe/feed.xml", "rejected", reason="feed declares XML entities"),
    Case("RSS billion laughs after 80 KB", "feed-billion-laughs-padded/feed.xml", "accepted",
         issues=(("warning", "file", "amplification factor"),), never=("lol" * 20,)),
    Case("RSS external entity after 80 KB", "feed-xxe-padded/feed.xml", "accepted", never=("root:",)),
    Case("RSS post with <script> and onerror=", "feed-script/feed.xml", "accepted",
         lands=("Visible words of the feed post.\n\nMore visible words.",), never=("xss-feed",)),
    # -- pages and Markdown
    Case("HTML page with <script>, onerror=, onclick=", "html-xss/post.html", "accepted",
         lands=("Visible words of the hostile page.", '<script>alert("xss-post-escaped")</script>'),
         never=("xss-post-head", 'alert("xss-post")', "xss-post-img", "xss-post-click")),
    Case("HTML page with a javascript: canonical link", "html-javascript-url/page.html", "accepted",
         issues=(("warning", "document 1", "link \"javascript:alert('xss-canonical')\" is not http(s): dropped"),)),
    Case("front matter that is not YAML", "md-front-matter-not-yaml/2021-03-04-broken.md", "accepted",
         issues=(("warning", "front matter line 3", "front matter is not valid YAML"),),
         lands=("The body of a post whose front matter is not YAML.",)),
    Case("front matter with a python/object tag", "md-front-matter-python-tag/2021-03-05-tagged.md", "accepted",
         issues=(("warning", "front matter", "could not determine a constructor"),), lands=("tries to run code",)),
    Case("front matter that is a list", "md-front-matter-list/2021-03-06-list.md", "accepted",
         issues=(("warning", "front matter", "front matter is a list, not a mapping"),)),
    Case("front matter alias bomb", "md-front-matter-alias-bomb/2021-03-07-bomb.md", "accepted",
         issues=(("warning", "front matter", "YAML aliases (*name) are not accepted"),),
         lands=("a YAML alias bomb",), never=("lol', 'lol",)),
    Case("Markdown with raw <script>", "md-script/2021-03-08-script.md", "accepted",
         lands=("Visible Markdown words.",), never=('alert("xss-md")',)),
    # -- files that are not what they say
    Case("empty file", "empty/empty.txt", "rejected", reason="empty file (0 bytes)"),
    Case("PNG named .txt", "binary-txt/photo.txt", "rejected", reason="binary file (image data"),
    Case("random bytes named .txt", "random-txt/noise.txt", "rejected", reason="binary file"),
    Case("invalid UTF-8", "text-invalid-utf8/notes.txt", "rejected", reason="not valid UTF-8 at byte 3"),
    Case("UTF-16 LE with a BOM", "text-utf16le-bom/notes-le.txt", "accepted", lands=("Notes written in UTF-16 little endian",)),
    Case("UTF-16 BE with a BOM", "text-utf16be-bom/notes-be.txt", "accepted", lands=("Notes written in UTF-16 big endian",)),
    Case("file over CORPUS_MAX_FILE_BYTES", "over-size-limit/big-notes.md", "rejected",
         reason=f"over the {SIZE_LIMIT:,}-byte limit for one file", never=("many words in a big file",)),
    Case("<script> in the file name and content", "xss-file-name/<img src=x onerror=alert(1)>.xyz", "rejected",
         reason="no parser recognises this file"),
    Case("file name that is not UTF-8", "non-utf8-name/caf\\xe9-notes.txt", "accepted",
         lands=("Notes in a file whose name is not UTF-8.",)),
    Case("terminal escapes in the file name", "control-chars-name/evil\\x1b[2J\\x1b[31m\\u202egnp.xyz", "rejected",
         reason="no parser recognises this file"),
    Case("symlink to a file outside the project", "symlinks/linked-notes.txt", "rejected",
         reason="symbolic link", never=("TOP-SECRET",)),
    Case("symlink to a folder outside the project", "symlinks/linked-dir", "rejected", reason="symbolic link"),
]

# Active markup a payload would need in the page: a tag, an event handler inside a tag, a script link.
ACTIVE = [
    re.compile(r"<\s*script", re.I),
    re.compile(r"<\s*img\b", re.I),
    re.compile(r"<[^<>]*\bon[a-z]+\s*=", re.I),
    re.compile(r"(href|src)\s*=\s*[\"']?\s*javascript:", re.I),
]


# ---- the run ------------------------------------------------------------------------------------------


@dataclass
class Built:
    base: Path
    root: Path
    rc: int
    output: str
    before: dict[str, str]
    after: dict[str, str]
    inbox_before: dict[str, str]
    inbox_after: dict[str, str]


def tree(base: Path) -> dict[str, str]:
    """Every path under base (symlinks not followed): path -> content hash, 'dir' or 'link'."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, base)
            if os.path.islink(p):
                out[rel] = "link"
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("hostile")
    root = base / "project"
    (root / "analysis").mkdir(parents=True)
    shutil.copy(E2E / "catalog.yaml", root / "analysis" / "catalog.yaml")
    shutil.copy(REPO / "dagster.yaml", root / "dagster.yaml")
    build_corpus(root / "raw" / "inbox", base / "outside")
    before = tree(base)
    cwd = Path.cwd()
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CORPUS_MAX_FILE_BYTES", str(SIZE_LIMIT))
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                rc = main(["--project", str(root), "run", "--offline"])
        finally:
            os.chdir(cwd)
    after = tree(base)
    inbox = "project/raw/inbox/"
    return Built(
        base, root, rc, out.getvalue(), before, after,
        {k: v for k, v in before.items() if k.startswith(inbox)},
        {k: v for k, v in after.items() if k.startswith(inbox)},
    )


def q(b: Built, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(b.root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_the_corpus_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.path for c in CASES}) == len(CASES)


def test_the_run_finishes(built: Built) -> None:
    assert built.rc == 0, built.output
    assert "run completed" in built.output
    assert "inbox/control-chars-name/evil\\x1b[2J\\x1b[31m\\u202egnp.xyz" in built.output  # listed as rejected ...
    assert "\x1b" not in built.output and "\u202e" not in built.output  # ... with no terminal escape reaching the console


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_outcome(built: Built, case: Case) -> None:
    path = f"inbox/{case.path}"
    rows = q(built, "SELECT snapshot_id, status, error FROM snapshots WHERE path = ?", [path])
    assert len(rows) == 1, f"{path}: expected one snapshot, found {rows}"
    sid, status, error = rows[0]
    assert status == case.status, f"{path}: {status} ({error})"
    if case.reason:
        assert error and case.reason in error, f"{path}: error {error!r}"
    if status != "accepted":
        assert error, f"{path}: {status} without a reason"
    issues = q(built, "SELECT severity, position, message FROM parse_issues WHERE path = ?", [path])
    for severity, position, message in case.issues:
        assert any(s == severity and position in p and message in m for s, p, m in issues), (
            f"{path}: no {severity} issue at {position!r} with {message!r} in {issues}"
        )
    texts = [t for (t,) in q(built, "SELECT text FROM documents WHERE snapshot_id = ?", [sid])]
    for piece in case.lands:
        assert any(piece in t for t in texts), f"{path}: {piece!r} not in {texts}"
    for doc_id in case.docs:
        assert q(built, "SELECT 1 FROM documents WHERE doc_id = ?", [doc_id]), f"{doc_id} did not land"
    if case.never:
        everything = q(built, "SELECT doc_id, text, coalesce(title, '') FROM documents")
        for piece in case.never:
            hits = [d for d, text, title in everything if piece in text or piece in title]
            assert not hits, f"{piece!r} landed in {hits}"


def test_every_file_has_exactly_one_snapshot_and_every_refusal_a_reason(built: Built) -> None:
    entries = sum(1 for v in built.inbox_before.values() if v != "dir")  # files and symlinks
    rows = q(built, "SELECT path, status, error FROM snapshots WHERE path IS NOT NULL")
    assert len(rows) == len({r[0] for r in rows}) == entries
    assert all(e for _, s, e in rows if s != "accepted")
    bad = q(built, "SELECT * FROM parse_issues WHERE path IS NULL OR coalesce(position, '') = '' OR coalesce(message, '') = ''")
    assert bad == []
    counted = q(built, "SELECT count(*) FROM snapshots s WHERE issues <> (SELECT count(*) FROM parse_issues p WHERE p.snapshot_id = s.snapshot_id)")
    assert counted == [(0,)]


def test_duplicates_keep_one_version(built: Built) -> None:
    text, versions = q(built, "SELECT text, versions FROM documents WHERE doc_id = ?", [tw(151)])[0]
    assert (text, versions) == ("a second, different and longer text of the same id", 2)
    text, versions = q(built, "SELECT text, versions FROM documents WHERE doc_id = ?", [tw(1)])[0]
    assert (text, versions) == ("A perfectly ordinary post about gradient descent", 2)  # the archive beats the scrape


def test_implausible_dates_are_kept_and_flagged(built: Built) -> None:
    dates = dict(q(built, "SELECT doc_id, published_at::DATE::VARCHAR FROM documents WHERE doc_id LIKE ?", [f"tweet-{T}16%"]))
    # 164's date is unreadable: it gets the catalog's date for the archive (assemble's fallback)
    assert {k: v for k, v in dates.items() if k != tw(164)} == {
        tw(161): "2199-01-01", tw(162): "1985-01-01", tw(163): "1970-01-01", tw(165): "2023-02-18"
    }
    assert tw(164) in dates


def test_no_link_is_active_content(built: Built) -> None:
    for table in ("documents", "sources"):
        bad = q(built, f"SELECT url FROM {table} WHERE url IS NOT NULL AND NOT regexp_matches(url, '^https?://')")  # noqa: S608
        assert bad == [], table


def test_no_payload_reaches_the_reports_unescaped(built: Built) -> None:
    html = (built.root / "reports" / "index.html").read_text(encoding="utf-8")
    md = (built.root / "reports" / "claims.md").read_text(encoding="utf-8")
    for pattern in ACTIVE:
        assert not pattern.search(html), pattern.search(html)
        assert not pattern.search(md), pattern.search(md)
    # the payloads did reach the page, escaped: the test would fail if escaping were turned off
    assert "&lt;script&gt;alert(&#34;xss-title&#34;)&lt;/script&gt; Hostile Title" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.xyz" in html
    assert "Content-Security-Policy" in html


def test_nothing_is_written_outside_the_project_and_raw_is_never_changed(built: Built) -> None:
    assert built.inbox_after == built.inbox_before  # raw/inbox: read, never changed
    allowed = ("project/warehouse", "project/reports", "project/.dagster_home", "project/raw/store", "project/raw/.tmp")
    new = sorted(p for p in built.after if p not in built.before)
    assert [p for p in new if not p.startswith(allowed)] == []
    changed = sorted(p for p in built.before if built.after.get(p) != built.before[p] and built.before[p] != "dir")
    assert changed == []
    assert built.after["outside/secret.txt"] == built.before["outside/secret.txt"]
    names = {Path(p).name for p in built.after if not p.startswith("project/raw/inbox")}
    assert not names & {"x", "evil.js", "win.js", "pwned-by-yaml", "passwd"}
    assert not (Path.cwd() / "pwned-by-yaml").exists()


def test_secret_behind_a_symlink_is_never_read(built: Built) -> None:
    for table, col in (("documents", "text"), ("snapshots", "error"), ("parse_issues", "message")):
        sql = f"SELECT count(*) FROM {table} WHERE contains(coalesce({col}, ''), 'TOP-SECRET')"  # noqa: S608
        assert q(built, sql) == [(0,)]


# ---- catalog ids --------------------------------------------------------------------------------------

HOSTILE_IDS = ["../etc", "x'; drop table sources; --", "Robert'); DROP TABLE documents;--", "..", "a/../../b", "<script>alert(1)</script>", "ok\x00nul"]


@pytest.mark.parametrize("bad_id", HOSTILE_IDS)
def test_catalog_ids_that_try_traversal_or_sql_are_refused(tmp_path: Path, bad_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    cat = (E2E / "catalog.yaml").read_text().replace("id: blog-hello", f"id: {json.dumps(bad_id)}")
    (root / "analysis" / "catalog.yaml").write_text(cat)
    shutil.copy(REPO / "dagster.yaml", root / "dagster.yaml")
    before = tree(tmp_path)
    assert main(["--project", str(root), "run", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "catalog.yaml" in err and "sources[1]" in err and "'id'" in err
    assert tree(tmp_path) == before  # refused before anything is written


# ---- limits and the date rule, below the run --------------------------------------------------------


def test_a_1gb_file_is_hashed_in_chunks_and_refused_without_reading_it(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    store.ensure()
    huge = store.inbox / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB that takes no disk
    tracemalloc.start()
    try:
        pf = parse_path(store, huge, cache=ParseCache(None), parsers=all_parsers(), origins={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pf.snapshot.status == "rejected"
    assert f"over the {DEFAULT_MAX_FILE_BYTES:,}-byte limit" in (pf.snapshot.error or "")
    assert pf.snapshot.bytes == 1 << 30 and pf.snapshot.sha256
    assert peak < 16 * 1024 * 1024  # never read whole


def test_size_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORPUS_MAX_FILE_BYTES", raising=False)
    assert max_file_bytes() == DEFAULT_MAX_FILE_BYTES
    monkeypatch.setenv("CORPUS_MAX_FILE_BYTES", "1_000")
    assert max_file_bytes() == 1000
    for bad in ("lots", "-5", "0"):
        monkeypatch.setenv("CORPUS_MAX_FILE_BYTES", bad)
        with pytest.raises(ValueError, match="CORPUS_MAX_FILE_BYTES"):
            max_file_bytes()


def test_the_date_rule_lives_in_one_place() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)

    def doc(when: datetime | None, n: int) -> ParsedDocument:
        return ParsedDocument(kind="tweet", text="t", published_at=when, external_id=str(n), tweet=TweetFields(str(n), when))

    result = vet_result(
        ParseResult(
            format="x",
            documents=[
                doc(datetime(1989, 12, 31, tzinfo=UTC), 1),
                doc(datetime(1990, 1, 1, tzinfo=UTC), 2),
                doc(datetime(2025, 6, 2, tzinfo=UTC), 3),  # within a day: time zones
                doc(datetime(2025, 6, 3, tzinfo=UTC), 4),
                doc(None, 5),
            ],
        ),
        now=now,
    )
    assert [(i.position, i.severity) for i in result.issues] == [("document 1 (id 1)", "warning"), ("document 4 (id 4)", "warning")]
    assert [d.published_at for d in result.documents][0] == datetime(1989, 12, 31, tzinfo=UTC)  # kept, not nulled


# ---- names that try to leave raw/ ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../../etc/passwd", "..\\..\\windows\\evil.txt", "/abs/path.txt", "..", ".hidden", "-rf", "a\x00b.txt",
     "<script>alert(1)</script>.html", "x" * 240 + ".txt", "caf\u00e9 \u202egnp.txt"],
)
def test_landed_and_imported_names_stay_inside_raw_store(tmp_path: Path, name: str) -> None:
    store = RawStore(tmp_path / "raw")
    event = store.land_bytes(b"fetched body for " + name.encode("utf-8", "replace"), name, origin="https://example.org/x", fetcher="page")
    dest = (store.root / event.path).resolve()  # type: ignore[operator]
    assert dest.is_relative_to(store.store.resolve()) and dest.parent.parent.parent == store.store.resolve()
    assert not dest.name.startswith(".") and "/" not in dest.name and "\\" not in dest.name and len(dest.name) <= 120
    if "\x00" not in name and "/" not in name and name not in ("..",):
        src = tmp_path / "elsewhere" / name.replace("\\", "_")
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(b"imported body for " + name.encode("utf-8", "replace"))
        imported = (store.root / store.import_file(src).path).resolve()  # type: ignore[operator]
        assert imported.is_relative_to(store.store.resolve())
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(store.root) and "elsewhere" not in p.parts]
    assert outside == []


def test_an_inbox_that_is_itself_a_link_to_a_shared_folder_is_read(tmp_path: Path) -> None:
    """`ln -s ../shared/corpus raw/inbox` is the user's own setup (unlike a link inside the inbox)."""
    shared = tmp_path / "shared" / "talks"
    shared.mkdir(parents=True)
    (shared / "notes.txt").write_text("Notes kept in a shared folder.\n")
    (tmp_path / "raw").mkdir()
    os.symlink(tmp_path / "shared", tmp_path / "raw" / "inbox")
    parsed = scan_and_parse(RawStore(tmp_path / "raw"))
    assert [(p.snapshot.path, p.snapshot.status) for p in parsed] == [("inbox/talks/notes.txt", "accepted")]


def test_raw_store_lists_files_as_its_rules_say(tmp_path: Path) -> None:
    """``RawStore.files``: hidden files and folders and the store's own names are left out, links are
    listed but never followed, a FIFO is not a file, and the order is pathlib's (by path parts:
    ``a/b`` before ``a-c``, though '-' sorts before '/' as a character)."""
    store = RawStore(tmp_path / "raw")
    store.ensure()
    inbox = store.inbox
    for rel in ("a/b.txt", "a-c.txt", "a/deep/x.json", "README.md", "sub/README.md", "z.txt", "sub/.gitkeep"):
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_text("x", encoding="utf-8")
    for hidden in (".hidden.txt", ".git/config", "a/.cache/y.txt"):
        (inbox / hidden).parent.mkdir(parents=True, exist_ok=True)
        (inbox / hidden).write_text("x", encoding="utf-8")
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "secret.txt").write_text("s", encoding="utf-8")
    os.symlink(outside, inbox / "linked-dir")
    os.symlink(outside / "inner" / "secret.txt", inbox / "a" / "linked.txt")
    os.symlink(tmp_path / "missing", inbox / "dangling.txt")
    os.mkfifo(inbox / "a" / "pipe")
    (store.store / "ab" / "abc").mkdir(parents=True)
    (store.store / "ab" / "abc" / "page.html").write_text("<p>x</p>", encoding="utf-8")
    got = [p.relative_to(store.root).as_posix() for p in store.files()]
    assert got == [
        "inbox/a/b.txt", "inbox/a/deep/x.json", "inbox/a/linked.txt", "inbox/a-c.txt", "inbox/dangling.txt",
        "inbox/linked-dir", "inbox/z.txt", "store/ab/abc/page.html",
    ]
    assert got == [p.relative_to(store.root).as_posix() for p in sorted(store.files())]
