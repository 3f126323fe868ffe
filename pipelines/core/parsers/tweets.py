"""Tweets: the X/Twitter archive (zip or unpacked ``tweets.js``/``tweet.js``/``note-tweet.js``), scraper
dumps (CSV, JSON, JSONL), GraphQL timeline responses, thread Markdown and dated day-files of posts.

Every format yields ``ParsedDocument(kind="tweet")`` with ``TweetFields``. Retweets are kept and flagged
(``is_retweet``); the assembler excludes them from the author's own words.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.core.parsers.common import (
    basename,
    dig,
    json_decoder,
    loads_json,
    parse_date,
    record_failure,
    split_front_matter,
    suffix,
)
from pipelines.core.parsers.spec import ParserSpec
from pipelines.core.records import ParsedDocument, ParseError, ParseIssue, ParseResult, TweetFields
from pipelines.core.textutil import clean_text, decode_bytes

# Sniffs any window.YTD.* file (even one missing its '='), so a broken archive file is rejected with the reason.
_YTD_RE = re.compile(rb"^\s*window\.YTD\.[A-Za-z0-9_]+", re.S)
_STATUS_URL = re.compile(r"(?:twitter|x)\.com/([A-Za-z0-9_]{1,30})/status(?:es)?/(\d{1,25})")
_URL = re.compile(r"https?://\S+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_ZIP_MEMBER_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200


def match_key(text: str) -> str:
    """Comparable form of a tweet's text across dumps: lower-case words, URLs dropped, first 100 chars."""
    t = _URL.sub(" ", clean_text(text).lower())
    t = t.replace("…", " ")
    return _NON_WORD.sub(" ", t).strip()[:100]


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v is None:
        return False
    return str(v).strip().lower() in {"true", "1", "yes", "y", "t"}


def _int(v: Any) -> int | None:
    """A count as dumps write it (12, "12", 12.0); None when unreadable, infinite or NaN (the vetting
    pass then drops a negative one)."""
    if isinstance(v, bool) or isinstance(v, list | dict):
        return None
    try:
        return int(float(v)) if v not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


def _url_list(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, list):
        return [str(u) for u in v if u]
    s = str(v).strip()
    if s.startswith("["):
        for loader in (json.loads, ast.literal_eval):
            try:
                parsed = loader(s)
                if isinstance(parsed, list):
                    return [str(u) for u in parsed if u]
            except (ValueError, SyntaxError):
                continue
    return _URL.findall(s)


def tweet_from_record(rec: dict[str, Any], default_author: str | None = None) -> tuple[ParsedDocument | None, str | None]:
    """One tweet from a dict in any of the shapes dumps use. Returns (doc, problem)."""
    if isinstance(rec.get("tweet"), dict):
        rec = rec["tweet"]
    tid = rec.get("id_str") or rec.get("tweet_id") or rec.get("id") or rec.get("rest_id")
    text = rec.get("full_text") or rec.get("text") or rec.get("content") or rec.get("tweet")
    if isinstance(text, dict):
        return None, "text field is an object, not a string (no text field full_text/text/content)"
    if text is not None and not isinstance(text, str):
        return None, f"text field is a {type(text).__name__}, not a string"
    tid_s = str(tid).strip() if tid is not None else None
    if tid_s and not re.fullmatch(r"\d{1,25}", tid_s):
        return None, f"tweet id {tid_s[:40]!r} is not numeric"
    if not text or not str(text).strip():
        if not tid_s:
            return None, "no text field (full_text/text/content) and no id"
        text = ""  # a media-only post: it still lands in `tweets` (with no document: no words)
    text = clean_text(str(text))
    created_raw = rec.get("created_at") or rec.get("date") or rec.get("createdAt") or rec.get("timestamp")
    created = parse_date(created_raw)
    url = rec.get("url") if isinstance(rec.get("url"), str) else None
    author = rec.get("username") or rec.get("screen_name") or rec.get("user_screen_name") or default_author
    if isinstance(rec.get("user"), dict):
        author = rec["user"].get("screen_name") or author
    if not isinstance(author, str):
        author = None
    if url and (m := _STATUS_URL.search(url)):
        author = author or m.group(1)
        tid_s = tid_s or m.group(2)
    urls: list[str] = []
    ents = rec.get("entities")
    if isinstance(ents, dict) and isinstance(ents.get("urls"), list):
        found = [u.get("expanded_url") or u.get("url") for u in ents["urls"] if isinstance(u, dict)]
        urls = [str(u) for u in found if u]
    elif "urls" in rec:
        urls = _url_list(rec.get("urls"))
    reply_to = rec.get("in_reply_to_status_id_str") or rec.get("in_reply_to_status_id") or rec.get("reply_to_id")
    is_retweet = _bool(rec.get("is_retweet")) or _bool(rec.get("retweeted")) or text.startswith("RT @")
    if isinstance(rec.get("retweeted_status"), dict):
        is_retweet = True
    fields = TweetFields(
        tweet_id=tid_s or "",
        created_at=created,
        is_retweet=is_retweet,
        is_reply=_bool(rec.get("is_reply")) or bool(reply_to),
        is_quote=_bool(rec.get("is_quote")) or _bool(rec.get("is_quote_status")),
        reply_to_id=str(reply_to) if reply_to else None,
        urls=urls,
        retweet_count=_int(rec.get("retweet_count")),
        like_count=_int(rec.get("favorite_count") if rec.get("favorite_count") is not None else rec.get("like_count")),
        reply_count=_int(rec.get("reply_count") if rec.get("reply_count") is not None else rec.get("comment_count")),
        author=str(author) if author else None,
    )
    if not url and tid_s and fields.author:
        url = f"https://x.com/{fields.author}/status/{tid_s}"
    elif not url and tid_s:
        url = f"https://x.com/i/status/{tid_s}"
    doc = ParsedDocument(
        kind="tweet",
        text=text,
        url=url,
        published_at=created,
        external_id=tid_s or None,
        tweet=fields,
        quality=20,
    )
    if created_raw not in (None, "") and created is None:
        doc.meta["bad_date"] = str(created_raw)[:60]
    return doc, None


# -- X archive (window.YTD.*) -------------------------------------------------------------------------


def _salvage_array(body: str) -> tuple[list[Any], str | None]:
    """Decode a JSON array element by element; return the good prefix and what broke it."""
    dec = json_decoder()
    i = body.find("[")
    if i < 0:
        return [], "no JSON array after '='"
    i += 1
    items: list[Any] = []
    n = len(body)
    while True:
        while i < n and body[i] in " \t\r\n,":
            i += 1
        if i >= n:
            return items, f"array not closed (cut after record {len(items)})"
        if body[i] == "]":
            return items, None
        try:
            obj, i = dec.raw_decode(body, i)
        except json.JSONDecodeError as e:
            return items, f"record {len(items) + 1} is cut or malformed at character {e.pos}: {e.msg}"
        except RecursionError:
            return items, f"record {len(items) + 1} is nested too deeply to read"
        items.append(obj)


def _parse_ytd(text: str, name: str) -> tuple[str, list[Any], list[ParseIssue]]:
    m = re.match(r"^\s*window\.YTD\.([A-Za-z0-9_]+)\.part\d+\s*=\s*", text)
    if not m:
        raise ParseError("not an X archive data file: expected 'window.YTD.<name>.partN = [...]' at the start")
    body = text[m.end():].rstrip().rstrip(";")
    issues: list[ParseIssue] = []
    try:
        data = loads_json(body)
    except (json.JSONDecodeError, RecursionError):
        data, problem = _salvage_array(body)
        if problem:
            issues.append(ParseIssue(f"after record {len(data)}", problem + "; records before it kept"))
        if not data and problem:
            raise ParseError(f"{problem}; no records could be read") from None
    if not isinstance(data, list):
        raise ParseError(f"expected a JSON array after '=', found {type(data).__name__}")
    return m.group(1), data, issues


class _RepeatedIds:
    """Flags a tweet id seen twice in one file with different text (both are kept; dedup picks one)."""

    def __init__(self, issues: list[ParseIssue]):
        self.issues = issues
        self.seen: dict[str, tuple[str, str]] = {}

    def check(self, doc: ParsedDocument, where: str) -> None:
        if not doc.external_id:
            return
        first = self.seen.setdefault(doc.external_id, (where, doc.text))
        if first[0] != where and first[1] != doc.text:
            self.issues.append(
                ParseIssue(where, f"tweet id {doc.external_id} repeats {first[0]} with different text: both kept, the warehouse keeps one (docs/warehouse.md)", "warning")
            )


def _archive_records(kind: str, data: list[Any], issues: list[ParseIssue], src: str = "") -> list[ParsedDocument]:
    docs: list[ParsedDocument] = []
    repeated = _RepeatedIds(issues)
    for i, rec in enumerate(data, 1):
        where = f"{src}record {i}"
        try:
            doc = _archive_record(kind, rec, where, issues)
        except Exception as e:  # a record no rule foresaw costs that record
            issues.append(ParseIssue(where, record_failure(e)))
            continue
        if doc is not None:
            repeated.check(doc, where)
            docs.append(doc)
    return docs


def _archive_record(kind: str, rec: Any, where: str, issues: list[ParseIssue]) -> ParsedDocument | None:
    if not isinstance(rec, dict):
        issues.append(ParseIssue(where, f"expected an object, found {type(rec).__name__}"))
        return None
    if kind.startswith("note_tweet") or "noteTweet" in rec:
        note = rec.get("noteTweet", rec)
        text = dig(note, "core", "text")
        if not text:
            issues.append(ParseIssue(where, "note tweet without core.text"))
            return None
        if not isinstance(text, str):
            issues.append(ParseIssue(where, f"note tweet core.text is a {type(text).__name__}, not a string"))
            return None
        created = parse_date(note.get("createdAt"))
        note_id = note.get("noteTweetId", "")
        return ParsedDocument(
            kind="tweet",
            text=clean_text(text),
            published_at=created,
            tweet=TweetFields(tweet_id="", created_at=created),
            quality=25,
            meta={"note_tweet_id": str(note_id) if isinstance(note_id, str | int) else "", "note_tweet": True},
        )
    doc, problem = tweet_from_record(rec)
    if doc is None:
        issues.append(ParseIssue(where, problem or "unreadable tweet"))
        return None
    if not doc.external_id:
        issues.append(ParseIssue(where, "tweet without id_str/id: kept, matched by day and text", "warning"))
    if doc.meta.get("bad_date"):
        issues.append(ParseIssue(where, f"unreadable created_at {doc.meta['bad_date']!r}: kept without a date", "warning"))
    return doc


def _parse_archive_js(data: bytes, name: str) -> ParseResult:
    kind, records, issues = _parse_ytd(decode_bytes(data), name)
    if kind not in {"tweets", "tweet", "note_tweet", "community_tweet"}:
        return ParseResult(format="x_archive_js", skipped_reason=f"X archive file '{kind}' carries no posts")
    docs = _archive_records(kind, records, issues)
    return ParseResult(format="x_archive_js", documents=docs, issues=issues)


def _parse_archive_zip(data: bytes, name: str) -> ParseResult:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as e:  # BadZipFile, a cut archive's ValueError/OSError, NotImplementedError ("zip file version 8.4")
        raise ParseError(f"not a readable zip archive: {type(e).__name__}: {e}") from e
    issues: list[ParseIssue] = []
    docs: list[ParsedDocument] = []
    found = False
    with zf:
        for info in zf.infolist():
            member = info.filename
            parts = member.replace("\\", "/").split("/")
            if member.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                issues.append(ParseIssue(f"member {member!r}", "path escapes the archive (absolute or '..'): not read"))
                continue
            if not re.search(r"(^|/)(data/)?(tweets?|note-tweet)(-part\d+)?\.js$", member):
                continue
            if info.file_size > MAX_ZIP_MEMBER_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO and info.file_size > 10 * 1024 * 1024):
                issues.append(ParseIssue(f"member {member!r}", f"expands to {info.file_size:,} bytes (ratio {info.file_size / max(1, info.compress_size):.0f}:1): refused as a possible zip bomb"))
                continue
            found = True
            try:
                with zf.open(info) as f:
                    raw = f.read(MAX_ZIP_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError, struct.error) as e:
                issues.append(ParseIssue(f"member {member!r}", f"cannot be read from the archive: {type(e).__name__}: {e}"))
                continue
            try:
                kind, records, sub = _parse_ytd(decode_bytes(raw), member)
            except ParseError as e:
                issues.append(ParseIssue(f"member {member!r}", str(e)))
                continue
            except RecursionError:
                issues.append(ParseIssue(f"member {member!r}", "nested too deeply to read (recursion limit)"))
                continue
            for s in sub:
                s.position = f"{member}: {s.position}"
            issues.extend(sub)
            docs.extend(_archive_records(kind, records, issues, src=f"{member}: "))
    if not found and not issues:
        raise ParseError("zip holds no data/tweets*.js, data/tweet.js or data/note-tweet.js: not an X archive")
    return ParseResult(format="x_archive_zip", documents=docs, issues=issues)


def join_note_tweets(docs: list[ParsedDocument]) -> list[ParsedDocument]:
    """Give long posts their full text: a note tweet replaces the text of the tweet posted at the same
    time (within 10 s) whose text the note starts with. Unmatched notes stay as their own tweets."""
    notes = [d for d in docs if d.meta.get("note_tweet")]
    if not notes:
        return docs
    rest = [d for d in docs if not d.meta.get("note_tweet")]
    by_time: dict[int, list[ParsedDocument]] = {}
    for d in rest:
        if d.published_at:
            by_time.setdefault(int(d.published_at.timestamp()) // 10, []).append(d)
    out = list(rest)
    for n in notes:
        target = None
        if n.published_at:
            slot = int(n.published_at.timestamp()) // 10
            for cand in by_time.get(slot, []) + by_time.get(slot - 1, []) + by_time.get(slot + 1, []):
                if cand.published_at and abs((cand.published_at - n.published_at).total_seconds()) <= 10:
                    if match_key(n.text).startswith(match_key(cand.text)[:40]):
                        target = cand
                        break
        if target is not None:
            target.text = n.text
            target.meta["note_tweet_id"] = n.meta.get("note_tweet_id")
            target.quality = max(target.quality, n.quality)
        else:
            out.append(n)
    return out


# -- scraper dumps: CSV / JSON / JSONL -------------------------------------------------------------

_ID_COLS = ("tweet_id", "id_str", "id", "status_id", "tweetid")
_TEXT_COLS = ("full_text", "text", "content", "tweet", "body")


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM (Excel's "Unicode text")
        return head[: len(head) // 2 * 2].decode("utf-16", "replace")
    return head.decode("utf-8", "replace")


def _header_has(head: bytes, names: tuple[str, ...]) -> bool:
    first = _head_text(head).split("\n", 1)[0].lower().lstrip("\ufeff")
    cols = [c.strip().strip('"') for c in first.split(",")]
    return any(n in cols for n in names)


def _sniff_csv(name: str, head: bytes) -> bool:
    if suffix(name) not in {".csv", ".tsv"}:
        return False
    h = _head_text(head).replace("\t", ",").encode()
    return _header_has(h, _TEXT_COLS) and (_header_has(h, _ID_COLS) or _header_has(h, ("created_at", "date")))


def _parse_csv(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    issues: list[ParseIssue] = []
    if "\x00" in text:
        issues.append(ParseIssue("file", f"{text.count(chr(0))} NUL byte(s) removed", "warning"))
        text = text.replace("\x00", "")
    delim = "\t" if suffix(name) == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise ParseError("CSV has no header row") from None
    except csv.Error as e:
        raise ParseError(f"CSV header unreadable: {e}") from e
    default_author = None
    docs: list[ParsedDocument] = []
    repeated = _RepeatedIds(issues)
    row_no = 1
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            issues.append(ParseIssue(f"line {line}", f"CSV error: {e}"))
            continue
        row_no += 1
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            issues.append(ParseIssue(f"line {line} (row {row_no})", f"expected {len(header)} columns, found {len(row)}: row rejected"))
            continue
        rec = dict(zip(header, row, strict=True))
        try:
            doc, problem = tweet_from_record(rec, default_author)
        except Exception as e:  # a row no rule foresaw costs that row
            doc, problem = None, record_failure(e)
        if doc is None:
            issues.append(ParseIssue(f"line {line} (row {row_no})", problem or "unreadable"))
            continue
        if doc.meta.get("bad_date"):
            issues.append(ParseIssue(f"line {line} (row {row_no})", f"unreadable date {doc.meta['bad_date']!r}: kept without a date", "warning"))
        doc.quality = 15 if not doc.text.endswith("…") else 5
        repeated.check(doc, f"line {line} (row {row_no})")
        docs.append(doc)
    return ParseResult(format="tweets_csv", documents=docs, issues=issues)


def _find_records(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("items", "tweets", "data", "results", "statuses"):
            if isinstance(data.get(key), list):
                return data[key]
    return None


def _sniff_json(name: str, head: bytes) -> bool:
    if suffix(name) not in {".json", ".jsonl", ".ndjson"}:
        return False
    h = head[:65536]
    if b'"platform": "twitter"' in h or b'"platform":"twitter"' in h:
        return True
    if b'"tweet_results"' in h or b'"start"' in h:
        return False
    return b'"full_text"' in h or b'"tweet_id"' in h or b'"id_str"' in h or (
        b'"id"' in h and b'"text"' in h and (b'"date"' in h or b'"created_at"' in h)
    )


def _parse_json(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    issues: list[ParseIssue] = []
    records: list[Any] = []
    if suffix(name) in {".jsonl", ".ndjson"}:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(loads_json(line))
            except json.JSONDecodeError as e:
                issues.append(ParseIssue(f"line {i}", f"not valid JSON: {e.msg} at column {e.colno}"))
                records.append(None)
            except RecursionError:
                issues.append(ParseIssue(f"line {i}", "nested too deeply to read (recursion limit)"))
                records.append(None)
    else:
        try:
            found = _find_records(loads_json(text))
        except json.JSONDecodeError as e:
            raise ParseError(f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
        if found is None:
            raise ParseError("JSON holds no list of tweets (top-level array or items/tweets/data)")
        records = found
    docs: list[ParsedDocument] = []
    repeated = _RepeatedIds(issues)
    for i, rec in enumerate(records, 1):
        if rec is None:
            continue
        if not isinstance(rec, dict):
            issues.append(ParseIssue(f"record {i}", f"expected an object, found {type(rec).__name__}"))
            continue
        try:
            doc, problem = tweet_from_record(rec)
        except Exception as e:  # a record no rule foresaw costs that record
            doc, problem = None, record_failure(e)
        if doc is None:
            issues.append(ParseIssue(f"record {i}", problem or "unreadable"))
            continue
        doc.quality = 18
        repeated.check(doc, f"record {i}")
        docs.append(doc)
    return ParseResult(format="tweets_json", documents=docs, issues=issues)


# -- GraphQL timeline responses (raw JSON, or fenced in Markdown) -----------------------------------


def _walk(obj: Any) -> Iterator[dict[str, Any]]:
    stack = [obj]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            legacy = cur.get("legacy")
            if isinstance(legacy, dict) and "full_text" in legacy and cur.get("rest_id"):
                yield cur
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)


def _sniff_graphql(name: str, head: bytes) -> bool:
    return suffix(name) in {".json", ".md", ".markdown", ".txt"} and (b'"tweet_results"' in head or b'"TimelineTweet"' in head)


def _parse_graphql(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    issues: list[ParseIssue] = []
    blobs: list[tuple[str, str]] = []
    if suffix(name) == ".json":
        blobs.append(("file", text))
    else:
        for i, m in enumerate(re.finditer(r"```json\s*\n(.*?)\n```", text, re.S), 1):
            blobs.append((f"code block {i} (line {text.count(chr(10), 0, m.start()) + 1})", m.group(1)))
    seen: set[str] = set()
    docs: list[ParsedDocument] = []
    for where, blob in blobs:
        try:
            obj = loads_json(blob)
        except json.JSONDecodeError as e:
            issues.append(ParseIssue(where, f"not valid JSON: {e.msg}"))
            continue
        except RecursionError:
            issues.append(ParseIssue(where, "nested too deeply to read (recursion limit)"))
            continue
        for node in _walk(obj):
            legacy = node["legacy"]
            rid = str(node["rest_id"])
            if rid in seen:
                continue
            seen.add(rid)
            rec = {**legacy, "id_str": legacy.get("id_str") or rid,
                   "screen_name": dig(node, "core", "user_results", "result", "legacy", "screen_name")}
            note = dig(node, "note_tweet", "note_tweet_results", "result", "text")
            if note:
                rec["full_text"] = note
            try:
                doc, problem = tweet_from_record(rec)
            except Exception as e:  # a tweet no rule foresaw costs that tweet
                doc, problem = None, record_failure(e)
            if doc is None:
                issues.append(ParseIssue(f"{where}, tweet {rid}", problem or "unreadable"))
                continue
            doc.quality = 25
            docs.append(doc)
    if not docs and not issues:
        raise ParseError("no tweet objects (tweet_results.result.legacy.full_text) found")
    return ParseResult(format="x_graphql", documents=docs, issues=issues)


# -- Markdown: threads with '### Tweet N' blocks, and day files of posts ------------------------------


def _sniff_thread_md(name: str, head: bytes) -> bool:
    return suffix(name) in {".md", ".markdown"} and b"### Tweet 1" in head and b"Tweet ID:" in head


def _parse_thread_md(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    meta, body, fm_issue = split_front_matter(text)
    issues = [fm_issue] if fm_issue else []
    blocks = re.split(r"^### Tweet \d+\s*$", body, flags=re.M)[1:]
    docs: list[ParsedDocument] = []
    for i, block in enumerate(blocks, 1):
        fields: dict[str, str] = {}
        lines = block.strip("\n").split("\n")
        k = 0
        while k < len(lines) and (lines[k].startswith("- ") or not lines[k].strip()):
            m = re.match(r"^- ([A-Za-z ]+):\s*(.*)$", lines[k])
            if m:
                fields[m.group(1).strip().lower()] = m.group(2).strip()
            k += 1
        content = "\n".join(lines[k:]).strip()
        content = re.split(r"^## ", content, flags=re.M)[0].strip()  # a trailing section is not the tweet
        rec = {"id_str": fields.get("tweet id"), "full_text": content, "created_at": fields.get("date"), "url": fields.get("url")}
        doc, problem = tweet_from_record(rec)
        if doc is None:
            issues.append(ParseIssue(f"tweet {i}", problem or "unreadable"))
            continue
        doc.quality = 22
        docs.append(doc)
    if not docs and not issues:
        raise ParseError("no '### Tweet N' blocks with text")
    # A file cut short keeps its last tweet as a prefix: say so (the tweet is kept, flagged).
    if blocks and not body.endswith("\n"):
        issues.append(ParseIssue(f"tweet {len(blocks)}", "the file ends mid-line (no final line break): this tweet may be cut short; kept", "warning"))
    expected = (meta or {}).get("tweet_count")
    if isinstance(expected, int) and not isinstance(expected, bool) and expected != len(blocks):
        issues.append(ParseIssue("front matter 'tweet_count'", f"says {expected} tweets, the file has {len(blocks)}: the file may be cut or padded", "warning"))
    return ParseResult(format="tweet_thread_md", documents=docs, issues=issues)


_DAY_FILE = re.compile(r"(?:^|/)(\d{4})/(\d{1,2})\.(\d{1,2})\.(?:md|markdown|txt)$")


def _sniff_day_file(name: str, head: bytes) -> bool:
    return bool(_DAY_FILE.search(name)) and not head.startswith(b"---\n")


def _parse_day_file(data: bytes, name: str) -> ParseResult:
    """'<year>/<month>.<day>.md': posts of one day, separated by '---' lines; the date comes from the path."""
    m = _DAY_FILE.search(name)
    if m is None:
        raise ParseError("not a day file: the path must end in <year>/<month>.<day>.md")
    try:
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError as e:
        raise ParseError(f"path date {m[1]}/{m[2]}.{m[3]} is not a valid date") from e
    text = decode_bytes(data)
    docs: list[ParsedDocument] = []
    for i, chunk in enumerate(re.split(r"^-{3,}\s*$", text, flags=re.M), 1):
        body = clean_text(chunk)
        if not body:
            continue
        docs.append(
            ParsedDocument(
                kind="tweet",
                text=body,
                published_at=day,
                tweet=TweetFields(tweet_id="", created_at=day),
                quality=12,
                meta={"date_only": True, "post_in_file": i},
            )
        )
    return ParseResult(format="tweet_day_md", documents=docs)


def within_a_day(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= timedelta(days=1, hours=12)


def _sniff_archive_js(name: str, head: bytes) -> bool:
    return bool(_YTD_RE.match(head[:4096].lstrip(b"\xef\xbb\xbf")))


def _sniff_archive_zip(name: str, head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") and suffix(name) == ".zip"


PARSERS = [
    ParserSpec("x_archive_js", _sniff_archive_js, _parse_archive_js, version=2),
    ParserSpec("x_archive_zip", _sniff_archive_zip, _parse_archive_zip, version=2),
    ParserSpec("x_graphql", _sniff_graphql, _parse_graphql, version=2),
    ParserSpec("tweets_csv", _sniff_csv, _parse_csv, version=2),
    ParserSpec("tweets_json", _sniff_json, _parse_json, version=2),
    ParserSpec("tweet_thread_md", _sniff_thread_md, _parse_thread_md, version=1),
    ParserSpec("tweet_day_md", _sniff_day_file, _parse_day_file, version=1),
]

__all__ = ["PARSERS", "join_note_tweets", "match_key", "tweet_from_record", "basename"]
