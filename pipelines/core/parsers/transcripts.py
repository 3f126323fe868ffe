"""Transcripts: youtube-transcript-api JSON (ours, with provenance, or the bare snippet list), caption
JSON wrappers, Whisper JSON/TSV, WebVTT, SRT, Markdown with timestamped lines, caption HTML pages,
bilingual Markdown, and YouTube metadata files (title/date facts merged into the video's document).

Quality ranks versions of one video (higher wins, see docs/warehouse.md): human captions 30, caption
tracks of unknown origin 25, re-segmented sentence files 24, Whisper ASR 20, other timed files 15,
untimed ASR text 12, auto-generated captions 10.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import webvtt

from pipelines.core.ids import is_youtube_id
from pipelines.core.parsers.common import (
    YAML_ERRORS,
    as_number,
    cjk_ratio,
    hms_to_seconds,
    load_untrusted_yaml,
    loads_json,
    looks_unpunctuated,
    parse_date,
    parse_html,
    split_front_matter,
    suffix,
    youtube_id_from_name,
)
from pipelines.core.parsers.spec import ParserSpec
from pipelines.core.records import ParsedDocument, ParseError, ParseIssue, ParseResult, Segment
from pipelines.core.textutil import clean_text, decode_bytes, join_fragments
from pipelines.core.vetting import MAX_CUE_SECONDS

HUMAN, UNKNOWN_TRACK, SENTENCES, WHISPER, TIMED, UNTIMED, AUTO = 30, 25, 24, 20, 15, 12, 10
_YT_URL = re.compile(r"(?:youtube\.com/watch\?v=|youtu\.be/)([A-Za-z0-9_-]{11})")
_MUSIC = re.compile(r"^\[(music|applause|laughter)\]$", re.I)


def _clean_cue(text: str) -> str:
    return clean_text(text.replace("\n", " "))


def build_transcript(
    cues: Sequence[tuple[float | None, float | None, str]],
    *,
    video_id: str | None,
    quality: int,
    title: str | None = None,
    url: str | None = None,
    published: Any = None,
    issues: list[ParseIssue] | None = None,
) -> ParsedDocument:
    """Join caption cues into one document; consecutive identical cues (rolling auto captions) merge."""
    segments: list[Segment] = []
    texts: list[str] = []
    last = None
    prev_start = None
    for i, (start, end, raw) in enumerate(cues, 1):
        text = _clean_cue(raw)
        if not text or _MUSIC.match(text) or text == last:
            continue
        if any(t is not None and not (math.isfinite(t) and t <= MAX_CUE_SECONDS) for t in (start, end)):
            # NaN, infinite or past 48 h (99:99:99.999, 1e308): no time this cue can have
            if issues is not None:
                issues.append(ParseIssue(f"cue {i}", f"impossible timing start={start} end={end}: timing dropped", "warning"))
            start, end = None, None
        if issues is not None and start is not None:
            if start < 0 or (end is not None and end < start):
                issues.append(ParseIssue(f"cue {i}", f"bad timing start={start} end={end}: timing dropped", "warning"))
                start, end = None, None
            elif prev_start is not None and start < prev_start - 1:
                issues.append(ParseIssue(f"cue {i}", f"starts at {start}s, before the previous cue ({prev_start}s)", "warning"))
        if start is not None:
            prev_start = start
        last = text
        segments.append(Segment(seq=len(segments), text=text, start_s=start, end_s=end))
        texts.append(text)
    timed = [s.start_s for s in segments if s.start_s is not None]
    backwards = sum(1 for a, b in zip(timed, timed[1:], strict=False) if b < a - 1)
    if timed and backwards > max(3, len(timed) // 20):
        # timings that keep jumping back are corrupt: keep the words, drop every timing
        if issues is not None:
            issues.append(ParseIssue("file", f"{backwards} of {len(timed)} cue timings go backwards: all timings dropped", "warning"))
        for seg in segments:
            seg.start_s = seg.end_s = None
    body = join_fragments(texts)
    q = quality
    if q > AUTO and looks_unpunctuated(body):
        q = AUTO + 2 if q == WHISPER else AUTO
    if video_id and not url:
        url = f"https://www.youtube.com/watch?v={video_id}"
    return ParsedDocument(
        kind="video",
        text=body,
        title=title,
        url=url,
        published_at=parse_date(published),
        external_id=video_id,
        segments=segments,
        quality=q,
    )


def _video_id(name: str, *candidates: Any) -> str | None:
    for c in candidates:
        if is_youtube_id(c):
            return c
        if isinstance(c, str) and (m := _YT_URL.search(c)):
            return m.group(1)
    return youtube_id_from_name(name)


def _result(fmt: str, doc: ParsedDocument, issues: list[ParseIssue]) -> ParseResult:
    if not doc.text:
        raise ParseError("no caption text in the file")
    return ParseResult(format=fmt, documents=[doc], issues=issues)


# -- JSON shapes ---------------------------------------------------------------------------------------


def _json_kind(head: bytes) -> str | None:
    h = head[:65536]
    if b'"snippets"' in h and b'"video_id"' in h:
        return "fetched"
    if b'"segments"' in h and (b'"videoId"' in h or b'"video_id"' in h):
        return "wrapped"
    if (b'"segments"' in h and b'"seek"' in h) or h.lstrip().startswith(b'{"text":'):
        return "whisper"  # Whisper JSON starts with the whole text; its segments may lie beyond the head
    if b'"publishDate"' in h or (b'"videoId"' in h and b'"chapters"' in h):
        return "meta"
    if b'"platform": "youtube"' in h or b'"platform":"youtube"' in h:
        return "catalog"
    stripped = h.lstrip()
    if stripped.startswith(b"[") and b'"text"' in h and b'"start"' in h:
        return "list"
    return None


def _sniff_json(name: str, head: bytes) -> bool:
    return suffix(name) == ".json" and _json_kind(head) is not None


def _load_json(data: bytes) -> Any:
    try:
        return loads_json(decode_bytes(data))
    except json.JSONDecodeError as e:
        raise ParseError(f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e


def _snippet_cues(items: Any, issues: list[ParseIssue], where: str = "snippet") -> list[tuple[float | None, float | None, str]]:
    if not isinstance(items, list):
        raise ParseError(f"expected a list of {where}s, found {type(items).__name__}")
    cues = []
    for i, it in enumerate(items, 1):
        if not isinstance(it, dict) or not isinstance(it.get("text"), str):
            issues.append(ParseIssue(f"{where} {i}", "expected an object with a text string"))
            continue
        start = hms_to_seconds(it.get("start"))
        end = hms_to_seconds(it.get("end"))
        dur = as_number(it.get("duration"))
        if end is None and start is not None and dur is not None:
            end = start + dur
        cues.append((start, end, it["text"]))
    return cues


def _seconds(v: Any) -> float | None:
    """A duration in seconds (a number); None for anything else or a non-positive, non-finite value."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) and 0 < f < 7 * 86400 else None


def _chapters(v: Any) -> list[dict[str, Any]] | None:
    """Video chapters as [{title, start, end}] in seconds; malformed entries are dropped."""
    if not isinstance(v, list):
        return None
    out = []
    for ch in v:
        if not isinstance(ch, dict) or not isinstance(ch.get("title"), str):
            continue
        start, end = _seconds(ch.get("start")) if ch.get("start") != 0 else 0.0, _seconds(ch.get("end"))
        if start is None:
            continue
        out.append({"title": ch["title"][:200], "start": start, "end": end})
    return out or None


def _parse_json(data: bytes, name: str) -> ParseResult:
    kind = _json_kind(data[:65536])
    obj = _load_json(data)
    issues: list[ParseIssue] = []
    if kind == "fetched" and isinstance(obj, dict):
        q = AUTO if obj.get("is_generated") else HUMAN
        doc = build_transcript(_snippet_cues(obj.get("snippets"), issues), video_id=_video_id(name, obj.get("video_id")), quality=q, issues=issues)
        doc.meta.update({k: obj.get(k) for k in ("language_code", "is_generated", "library_version", "fetched_at")})
        return _result("youtube_transcript_json", doc, issues)
    if kind == "wrapped" and isinstance(obj, dict):
        vid = _video_id(name, obj.get("videoId"), obj.get("video_id"))
        doc = build_transcript(_snippet_cues(obj.get("segments"), issues, "segment"), video_id=vid, quality=UNKNOWN_TRACK, issues=issues)
        return _result("caption_json", doc, issues)
    if kind == "whisper" and isinstance(obj, dict):
        doc = build_transcript(_snippet_cues(obj.get("segments"), issues, "segment"), video_id=_video_id(name), quality=WHISPER, issues=issues)
        return _result("whisper_json", doc, issues)
    if kind == "meta" and isinstance(obj, dict):
        vid = _video_id(name, obj.get("videoId"), obj.get("url"))
        if not vid:
            raise ParseError("video metadata without a videoId")
        lang_raw = obj.get("language")
        lang: dict = lang_raw if isinstance(lang_raw, dict) else {}
        facts = {"title": obj.get("title"), "published_at": parse_date(obj.get("publishDate")), "channel": obj.get("channel"),
                 "is_generated": lang.get("isGenerated"), "duration_s": _seconds(obj.get("duration")),
                 "chapters": _chapters(obj.get("chapters"))}
        return ParseResult(format="youtube_meta_json", metadata={f"youtube:{vid}": {k: v for k, v in facts.items() if v is not None}})
    if kind == "catalog" and isinstance(obj, dict) and isinstance(obj.get("items"), list):
        meta = {}
        listed = []
        for it in obj["items"]:
            if isinstance(it, dict) and is_youtube_id(it.get("id")):
                facts = {"title": it.get("title"), "published_at": parse_date(it.get("date")),
                         "duration_s": _seconds(it.get("duration"))}
                facts = {k: v for k, v in facts.items() if v is not None}
                meta[f"youtube:{it['id']}"] = facts
                listed.append({"youtube_id": it["id"], "url": it.get("url") if isinstance(it.get("url"), str) else None, **facts})
        return ParseResult(format="youtube_catalog_json", metadata=meta, listings=listed)
    if kind == "list":
        sentences = isinstance(obj, list) and obj and isinstance(obj[0], dict) and isinstance(obj[0].get("start"), str)
        doc = build_transcript(_snippet_cues(obj, issues), video_id=_video_id(name), quality=SENTENCES if sentences else UNKNOWN_TRACK, issues=issues)
        return _result("transcript_sentences_json" if sentences else "youtube_transcript_list", doc, issues)
    raise ParseError("JSON is not a transcript shape this parser knows")


# -- WebVTT / SRT / TSV --------------------------------------------------------------------------------


_VTT_TIMING = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{1,2}\.\d{1,3}\s+-->\s+(?:\d+:)?\d{1,2}:\d{1,2}\.\d{1,3}(?:\s|$)")


def _bad_timing_lines(text: str, good: re.Pattern[str]) -> list[tuple[int, str]]:
    """Lines that look like a cue timing ('-->') but that the caption library cannot read (e.g. negative)."""
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if "-->" in line and not good.match(line)]


def _parse_vtt(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except Exception as e:  # webvtt raises MalformedFileError/MalformedCaptionError
        raise ParseError(f"malformed WebVTT: {e}") from e
    issues: list[ParseIssue] = []
    # webvtt-py skips a cue whose timing it cannot read without a word: record each one.
    for line_no, line in _bad_timing_lines(text, _VTT_TIMING):
        issues.append(ParseIssue(f"line {line_no}", f"unreadable cue timing {line[:60]!r}: cue dropped"))
    cues = [(hms_to_seconds(c.start), hms_to_seconds(c.end), c.text) for c in captions.captions]
    q = WHISPER if "whisper" in name.lower() else TIMED
    return _result("webvtt", build_transcript(cues, video_id=_video_id(name), quality=q, issues=issues), issues)


_SRT_DELIM = "[,.:\uff0c\uff0e\u3002\uff1a]"  # what the srt library accepts between the fields of a time
_SRT_TS = rf"(\d{{1,9}}){_SRT_DELIM}(\d{{1,9}}){_SRT_DELIM}(\d{{1,9}}){_SRT_DELIM}?(\d{{0,9}})"
_SRT_TIMING_LINE = re.compile(rf"\s*{_SRT_TS} *-[ -] *> *{_SRT_TS}")
_SRT_INDEX = re.compile(r"\s*-?\d+\.?\d*\s*")


def _srt_seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + (int(ms) if ms else 0) / 1000


def _srt_cues(text: str, issues: list[ParseIssue]) -> list[tuple[float | None, float | None, str]]:
    """SubRip, line by line in one pass (the srt library's regex is quadratic on a long run of blank
    lines, spaces or digits), reading what that library reads: an optional index line, a timing line,
    text up to a blank line — or up to the next index-and-timing pair when the blank line is missing.
    A block without a timing line continues the previous subtitle's text (as the library does); a
    timing that cannot be read keeps its text untimed, with a warning naming its line; text before
    the first subtitle is dropped with an error."""
    lines = text.replace("\r\n", "\n").split("\n")
    n = len(lines)
    cues: list[tuple[float | None, float | None, str]] = []
    content: list[str] = []
    timing: tuple[float | None, float | None] | None = None  # of the open subtitle

    def close() -> None:
        nonlocal content, timing
        if timing is not None:
            cues.append((timing[0], timing[1], "\n".join(content).strip()))
        content, timing = [], None

    def starts_subtitle(i: int) -> bool:
        return i + 1 < n and _SRT_INDEX.fullmatch(lines[i]) is not None and _SRT_TIMING_LINE.match(lines[i + 1]) is not None

    i = 0
    blank_before = True
    while i < n:
        line = lines[i]
        if not line.strip():
            blank_before = True
            if timing is not None:
                content.append("")
            i += 1
            continue
        opens = blank_before or starts_subtitle(i)
        blank_before = False
        at = i
        if opens and _SRT_INDEX.fullmatch(line) and i + 1 < n and "-->" in lines[i + 1]:
            at = i + 1  # an index line, then the timing line
        m = _SRT_TIMING_LINE.match(lines[at])
        if opens and m:
            close()
            timing = (_srt_seconds(*m.groups()[:4]), _srt_seconds(*m.groups()[4:]))
            i = at + 1
            continue
        if "-->" in lines[at] and not m:
            # a timing line the library cannot read (negative, a field of 10+ digits): its text is kept
            if at == i and content and _SRT_INDEX.fullmatch(content[-1] or "x"):
                content.pop()  # this subtitle's index line, read as the previous one's text
            close()
            issues.append(ParseIssue(f"line {at + 1}", f"unreadable subtitle timing {lines[at].strip()[:80]!r}: text kept without timing", "warning"))
            timing = (None, None)
            i = at + 1
            continue
        if timing is None:
            issues.append(ParseIssue(f"line {i + 1}", "text before the first subtitle (no timing line): dropped"))
            while i < n and lines[i].strip():
                i += 1
            continue
        content.append(line)
        i += 1
    close()
    return cues


def _parse_srt(data: bytes, name: str) -> ParseResult:
    issues: list[ParseIssue] = []
    cues = _srt_cues(decode_bytes(data), issues)
    if not any(start is not None for start, _, _ in cues):
        first = next((f"{i.position}: {i.message}" for i in issues), "no timing line")
        raise ParseError(f"malformed SRT: no subtitle timing could be read ({first})")
    q = WHISPER if "whisper" in name.lower() else TIMED
    return _result("srt", build_transcript(cues, video_id=_video_id(name), quality=q, issues=issues), issues)


def _sniff_tsv(name: str, head: bytes) -> bool:
    return suffix(name) == ".tsv" and head.lstrip(b"\xef\xbb\xbf").startswith(b"start\tend\ttext")


def _parse_tsv(data: bytes, name: str) -> ParseResult:
    issues: list[ParseIssue] = []
    cues = []
    for i, line in enumerate(decode_bytes(data).splitlines()[1:], 2):
        parts = line.split("\t", 2)
        if len(parts) != 3:
            if line.strip():
                issues.append(ParseIssue(f"line {i}", f"expected 3 tab-separated columns, found {len(parts)}"))
            continue
        try:
            start, end = int(parts[0]) / 1000, int(parts[1]) / 1000  # Whisper TSV: milliseconds
        except (ValueError, OverflowError):  # not digits, or too many of them (4,300+ or past a float)
            issues.append(ParseIssue(f"line {i}", f"start/end {parts[0][:20]!r}/{parts[1][:20]!r} are not integer milliseconds: line dropped"))
            continue
        cues.append((start, end, parts[2]))
    return _result("whisper_tsv", build_transcript(cues, video_id=_video_id(name), quality=WHISPER, issues=issues), issues)


# -- Markdown with timestamps ------------------------------------------------------------------------

_LINE_TS = re.compile(r"^\[(\d{1,3}(?::\d{2}){1,2}(?:\.\d+)?)\]\s*(.*)$")
# (no leading \s*: with re.search that is quadratic on a long run of spaces; the text before is stripped anyway)
_PARA_TS = re.compile(r"\[(\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)\s*(?:→|->|-->)\s*(\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)\]\s*$")


def _sniff_timed_md(name: str, head: bytes) -> bool:
    if suffix(name) not in {".md", ".markdown", ".txt"}:
        return False
    text = head.decode("utf-8", "replace")
    if text.startswith("---") and re.search(r"^(video_id|videoId):", text, re.M) and re.search(r"^(source_type|platform): *youtube", text, re.M):
        return True  # caption Markdown whose timed lines may lie beyond the head
    return len(re.findall(r"^\[\d{1,3}:\d{2}(?::\d{2})?\] ", text, re.M)) >= 3 or len(re.findall(r"\[\d{1,2}:\d{2}:\d{2}\s*(?:→|->)\s*\d{1,2}:\d{2}:\d{2}\]\s*$", text, re.M)) >= 1


def _parse_timed_md(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    meta, body, fm_issue = split_front_matter(text)
    meta = meta or {}
    issues = [fm_issue] if fm_issue else []
    cues: list[tuple[float | None, float | None, str]] = []
    timed_part = body.split("## Timed Segments", 1)[-1]
    for line in timed_part.splitlines():
        m = _LINE_TS.match(line.strip())
        if m:
            cues.append((hms_to_seconds(m[1]), None, m[2]))
    if len(cues) < 3:
        cues = []
        started = False
        for para in re.split(r"\n\s*\n", body):
            p = para.strip()
            if not p or p.startswith("#"):
                continue
            m = _PARA_TS.search(p)
            if m:
                started = True
                cues.append((hms_to_seconds(m[1]), hms_to_seconds(m[2]), p[: m.start()]))
            elif started:
                cues.append((None, None, p))
    if not cues and "## Transcript" in body:  # untimed: the paragraph(s) under '## Transcript'
        part = body.split("## Transcript", 1)[1].split("\n## ", 1)[0]
        cues = [(None, None, p) for p in re.split(r"\n\s*\n", part) if p.strip()]
    for i in range(len(cues) - 1):  # a line's end is the next line's start
        s, e, t = cues[i]
        if e is None and s is not None and cues[i + 1][0] is not None:
            cues[i] = (s, cues[i + 1][0], t)
    vid = _video_id(name, meta.get("video_id"), meta.get("videoId"), meta.get("url"))
    method = str(meta.get("transcript_method", "")).lower()
    q = AUTO if "auto" in method else UNKNOWN_TRACK
    title = meta.get("title")
    doc = build_transcript(cues, video_id=vid, quality=q, title=str(title) if title else None, published=meta.get("date"), issues=issues)
    issues[:] = [i for i in issues if "before the previous cue" not in i.message] if any("all timings dropped" in i.message for i in issues) else issues
    if str(meta.get("platform", meta.get("source_type", ""))).lower() not in ("", "youtube"):
        doc.kind = None
    return _result("timed_transcript_md", doc, issues)


# -- caption HTML (one block per cue with a timestamp link) ------------------------------------------


def _sniff_caption_html(name: str, head: bytes) -> bool:
    return suffix(name) in {".html", ".htm"} and b'class="t"' in head and b'class="s"' in head


def _parse_caption_html(data: bytes, name: str) -> ParseResult:
    issues: list[ParseIssue] = []
    tree = parse_html(decode_bytes(data), issues)
    cues: list[tuple[float | None, float | None, str]] = []
    for i, block in enumerate(tree.css("div.c"), 1):
        t = block.css_first("div.t")
        s = block.css_first("div.s")
        if t is None:
            issues.append(ParseIssue(f"cue block {i}", "no div.t text"))
            continue
        start = hms_to_seconds(s.text(strip=True)) if s is not None else None
        cues.append((start, None, t.text()))
    if not cues:
        return ParseResult(format="caption_html", skipped_reason="caption index page: links only, no caption text")
    for i in range(len(cues) - 1):
        cues[i] = (cues[i][0], cues[i + 1][0], cues[i][2])
    h3 = tree.css_first("h3")
    link = tree.css_first('a[href*="youtube.com/watch"]')
    href = link.attributes.get("href") if link is not None else None
    doc = build_transcript(cues, video_id=_video_id(name, href), quality=WHISPER, title=h3.text(strip=True) if h3 else None, issues=issues)
    return _result("caption_html", doc, issues)


# -- bilingual Markdown (English paragraphs interleaved with a translation) ----------------------------


def _sniff_bilingual(name: str, head: bytes) -> bool:
    if suffix(name) not in {".md", ".markdown"}:
        return False
    text = head.decode("utf-8", "replace")
    return bool(_YT_URL.search(text)) and 0.05 < cjk_ratio(text) < 0.95


def _parse_bilingual(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    _, body, _ = split_front_matter(text)
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    english = [p for p in paras if cjk_ratio(p) < 0.05 and len(p.split()) >= 8 and not p.startswith(("#", "\\#", "["))]
    dropped = len(paras) - len(english)
    m = _YT_URL.search(text)
    title_m = re.search(r"^\[([^\]\n]+)\]\(https?://(?:www\.)?youtube", body, re.M)  # one line: linear
    segs = [(None, None, p) for p in english]
    doc = build_transcript(segs, video_id=_video_id(name, m.group(0) if m else None), quality=UNTIMED, title=title_m.group(1).removesuffix(" - YouTube") if title_m else None)
    doc.text = "\n\n".join(s.text for s in doc.segments)
    issues = [ParseIssue("file", f"{dropped} non-English or heading paragraph(s) left out (translation, outline)", "warning")] if dropped else []
    return _result("bilingual_transcript_md", doc, issues)


# -- YAML video metadata -------------------------------------------------------------------------------


def _sniff_meta_yaml(name: str, head: bytes) -> bool:
    return suffix(name) in {".yml", ".yaml"} and (head.startswith(b"videoId:") or b"\nvideoId:" in head)


def _parse_meta_yaml(data: bytes, name: str) -> ParseResult:
    try:
        obj = load_untrusted_yaml(decode_bytes(data))
    except YAML_ERRORS as e:
        raise ParseError(f"not valid YAML: {'nested too deeply' if isinstance(e, RecursionError) else e}") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("videoId"), str):
        raise ParseError("YAML metadata without a videoId string")
    facts = {"title": obj.get("title"), "published_at": parse_date(obj.get("publishedAt") or obj.get("publishDate")), "channel": obj.get("channel")}
    return ParseResult(format="youtube_meta_yaml", metadata={f"youtube:{obj['videoId']}": {k: v for k, v in facts.items() if v is not None}})


def _plain_transcript(name: str, head: bytes) -> bool:
    return suffix(name) == ".txt" and youtube_id_from_name(name) is not None


def _parse_plain(data: bytes, name: str) -> ParseResult:
    lines = [ln for ln in decode_bytes(data).splitlines() if ln.strip()]
    q = WHISPER - 1 if "whisper" in name.lower() else UNTIMED
    return _result("plain_transcript", build_transcript([(None, None, ln) for ln in lines], video_id=youtube_id_from_name(name), quality=q), [])


def _sniff_vtt(name: str, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT")


def _sniff_srt(name: str, head: bytes) -> bool:
    return suffix(name) == ".srt"


PARSERS = [
    ParserSpec("transcript_json", _sniff_json, _parse_json, version=2),
    ParserSpec("webvtt", _sniff_vtt, _parse_vtt, version=1),
    ParserSpec("srt", _sniff_srt, _parse_srt, version=2),
    ParserSpec("whisper_tsv", _sniff_tsv, _parse_tsv, version=1),
    ParserSpec("caption_html", _sniff_caption_html, _parse_caption_html, version=1),
    ParserSpec("timed_transcript_md", _sniff_timed_md, _parse_timed_md, version=2),
    ParserSpec("bilingual_transcript_md", _sniff_bilingual, _parse_bilingual, version=1),
    ParserSpec("youtube_meta_yaml", _sniff_meta_yaml, _parse_meta_yaml, version=1),
    ParserSpec("plain_transcript", _plain_transcript, _parse_plain, version=1),
]
