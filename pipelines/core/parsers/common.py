"""Helpers the format parsers share: front matter, dates, ids from file names, HTML/Markdown to text,
JSON and YAML read from untrusted files.

Everything here is linear in its input, or capped with a stated limit (docs/reliability.md, "Linear
time"): HTML is read at most ``MAX_HTML_DEPTH`` elements deep, a date string is read when it is at
most ``MAX_DATE_CHARS`` long, a JSON integer of more than ``MAX_JSON_INT_DIGITS`` digits is kept as
its digits (a string), front matter is read as YAML when it is at most ``MAX_FRONT_MATTER_CHARS``.
Markdown is rendered by cmark-gfm (linear time by design, fuzzed upstream).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Any

import cmarkgfm
import yaml
from cmarkgfm.cmark import Options as _CmarkOptions
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.core.ids import is_youtube_id
from pipelines.core.records import ParseError, ParseIssue
from pipelines.core.textutil import clean_text

_YT_TAIL = re.compile(r"(?:^|_)([A-Za-z0-9_-]{11})$")
_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
MAX_HTML_DEPTH = 512  # elements nested deeper are read as text (their tags ignored): the HTML tree builder is O(depth) per tag
MAX_DATE_CHARS = 100  # a longer "date" is unreadable (None): no date format is that long
MAX_JSON_INT_DIGITS = 4000  # below Python's 4,300-digit limit for int(); a longer integer is kept as its digits
MAX_FRONT_MATTER_CHARS = 256 * 1024  # front matter longer than this is not read as YAML (body kept, warning)
MAX_LENIENT_FEED_TAGS = 60_000  # a feed that is not well-formed XML is read leniently (~30 µs a tag) up to this many tags


def basename(name: str) -> str:
    return PurePosixPath(name).name


def stem(name: str) -> str:
    """File name without any extension: 'a_b.whisper-large.vtt' -> 'a_b'."""
    return basename(name).split(".", 1)[0]


def suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def youtube_id_from_name(name: str) -> str | None:
    """'makemore2_TCH_1BHY58I.whisper-large.vtt' -> 'TCH_1BHY58I' (id after the last '_' that leaves 11
    chars, or the whole stem). Ids are only read from names that end in them, to avoid false hits."""
    s = stem(name)
    if is_youtube_id(s):
        return s
    m = _YT_TAIL.search(s)
    if m and len(s) > 11 and s[-12] == "_":
        return m.group(1)
    return None


def date_from_name(name: str) -> tuple[datetime | None, str | None]:
    """Jekyll-style '2015-05-21-rnn-effectiveness.markdown' -> (2015-05-21, 'rnn-effectiveness')."""
    m = _DATE_PREFIX.match(stem(name))
    if not m:
        return None, None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC), m[4]
    except ValueError:
        return None, None


def parse_date(value: Any) -> datetime | None:
    """Dates as dumps write them: ISO 8601, 'YYYY-MM-DD HH:MM:SS', Twitter's 'Sat Feb 18 12:33:11 +0000
    2023', RFC 822, epoch seconds; YAML date objects. Naive times are taken as UTC. None if unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int) and 19000101 <= value <= 21001231:
        value = str(value)  # YYYYMMDD written as a number (e.g. an unquoted YAML date)
    if isinstance(value, str) and re.fullmatch(r"(19|20)\d{6}", value.strip()):
        v8 = value.strip()
        try:
            return datetime(int(v8[:4]), int(v8[4:6]), int(v8[6:]), tzinfo=UTC)
        except ValueError:
            return None
    if isinstance(value, int | float):
        try:  # epoch seconds, or milliseconds past 1e11; NaN, infinities and huge numbers are no date
            v = float(value) / (1000 if value > 1e11 else 1)
            return datetime.fromtimestamp(v, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None  # a list, a mapping, bytes: no date
    s = value.strip()
    if not s or len(s) > MAX_DATE_CHARS or s.lower() in {"undated", "none", "null", "nan"}:
        return None
    for fmt in ("%a %b %d %H:%M:%S %z %Y",):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    iso = s.replace("Z", "+00:00")
    if re.match(r"^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}(:\d{2})?(\.\d+)?$", iso):
        iso = iso.replace(" ", "T")
    if re.match(r"^\d{4}-\d{2}-\d{2}T\d:", iso):
        iso = iso[:11] + "0" + iso[11:]
    # Jekyll allows "2019-04-25 9:00:00 -0700"
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{2}:?\d{2})?$", s)
    if m:
        tz = m[5] or "+00:00"
        if ":" not in tz:
            tz = tz[:3] + ":" + tz[3:]
        iso = f"{m[1]}T{int(m[2]):02d}:{m[3]}:{m[4] or '00'}{tz}"
    try:
        d = datetime.fromisoformat(iso)
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        pass
    try:
        d = parsedate_to_datetime(s)
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses YAML aliases (``*name``): a few lines of nested aliases (a "billion
    laughs") expand to gigabytes once anything walks or prints the result. Front matter never needs them.

    A value PyYAML cannot build costs that value, not the file: an impossible timestamp (``2015-13-45``,
    ``0000-00-00``, ``2020-01-01 25:00:00``) or an integer too long for ``int()`` stays the string the
    file wrote (a date string the date rule then calls unreadable)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted in corpus files", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_NoAliasLoader.add_constructor("tag:yaml.org,2002:timestamp", _NoAliasLoader.construct_yaml_timestamp)
_NoAliasLoader.add_constructor("tag:yaml.org,2002:int", _NoAliasLoader.construct_yaml_int)
# What else may go wrong building a value (a deeply nested list, a Python limit): the caller's warning.
YAML_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError)


def load_untrusted_yaml(text: str) -> Any:
    """``yaml.safe_load`` for text from raw/: plain data only, no tags that run code, no aliases.
    Raises one of ``YAML_ERRORS``."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def _json_int(digits: str) -> int | str:
    return int(digits) if len(digits) <= MAX_JSON_INT_DIGITS else digits


def loads_json(text: str) -> Any:
    """``json.loads`` for text from raw/: an integer of more than MAX_JSON_INT_DIGITS digits (past
    Python's limit for ``int()``) is kept as its digits, so one absurd number costs its field, not the
    file. ``NaN``/``Infinity`` stay floats (the vetting pass drops them where a number lands).
    Raises json.JSONDecodeError; RecursionError when nested too deeply."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return json.loads(text, parse_int=_json_int)


def record_failure(e: BaseException) -> str:
    """The issue message for a record (a tweet, a cue, an entry) that failed in a way no rule foresaw:
    the record is dropped, the rest of the file is read."""
    if isinstance(e, RecursionError):
        return "nested too deeply to read: record dropped"
    return f"unexpected {type(e).__name__}: {str(e)[:200]}: record dropped"


def as_number(value: Any) -> float | None:
    """A JSON/YAML number as a float; None for anything else (a bool, a string, an integer too big for a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... where every step is a mapping, else None (shapes in scraped JSON vary)."""
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def json_decoder() -> json.JSONDecoder:
    """A decoder with the same integer rule as ``loads_json``, for ``raw_decode`` of one record at a time."""
    return json.JSONDecoder(parse_int=_json_int)


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str, ParseIssue | None]:
    """'---\\nyaml\\n---\\nbody' -> (mapping, body, issue). No front matter -> (None, text, None).
    Front matter that is not a YAML mapping -> (None, body, warning issue): the body is still kept."""
    if not text.startswith("---"):
        return None, text, None
    m = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)", text, re.S)
    if not m:
        return None, text, None
    body = text[m.end():]
    if len(m.group(1)) > MAX_FRONT_MATTER_CHARS:
        return None, body, ParseIssue(
            "front matter", f"front matter is {len(m.group(1)):,} characters, over the {MAX_FRONT_MATTER_CHARS:,} read as YAML; body kept", "warning"
        )
    try:
        data = load_untrusted_yaml(m.group(1))
    except YAML_ERRORS as e:
        mark = getattr(e, "problem_mark", None)
        where = f"front matter line {mark.line + 2}" if mark else "front matter"
        what = getattr(e, "problem", None) or (f"{type(e).__name__}: {e}" if not isinstance(e, RecursionError) else "nested too deeply")
        return None, body, ParseIssue(where, f"front matter is not valid YAML ({what}); body kept", "warning")
    if data is None:
        return {}, body, None
    if not isinstance(data, dict):
        return None, body, ParseIssue("front matter", f"front matter is a {type(data).__name__}, not a mapping; body kept", "warning")
    return {str(k): v for k, v in data.items()}, body, None


_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr", "section", "article", "ul", "ol", "table", "hr"}
# For the depth estimate: elements that never nest (void), that close themselves when a sibling opens, and
# whose content is text, not tags.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "keygen"}
_SELF_CLOSING = {"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rb", "rt", "rp", "caption", "colgroup"}
_RAW_TEXT = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"}
_TAG = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9:-]{0,40})[^>]*>")
_WS_AROUND_NL = " \t\r\f\v"


def cap_html_depth(html: str, limit: int = MAX_HTML_DEPTH) -> tuple[str, int]:
    """HTML with every start tag that would open deeper than ``limit`` elements (and its end tag)
    replaced by a space, and how many were. The HTML tree builder scans its stack of open elements at
    every block tag, so 200k nested ``<div>`` take minutes; capped, time is linear. The depth is
    estimated in one pass (void, self-closing and raw-text elements do not nest; an end tag closes
    up to its element); real pages stay far below the limit and are returned unchanged."""
    if html.count("<") <= limit:
        return html, 0
    # Tags are only looked for up to the last '>': there, '[^>]*>' always finds its '>' (linear).
    endpos = html.rfind(">") + 1
    stack: list[str] = []
    open_count: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    out: list[str] = []
    last = 0
    n_dropped = 0
    search = _TAG.search
    m = search(html, 0, endpos)
    while m is not None:
        name = m[2]
        if name is None:  # a comment: skip to its end
            j = html.find("-->", m.end())
            if j < 0:
                break
            m = search(html, j + 3, endpos)
            continue
        name = name.lower()
        if m[1]:  # an end tag
            if dropped[name]:
                dropped[name] -= 1
                out.append(html[last:m.start()])
                out.append(" ")
                last = m.end()
            elif open_count[name]:
                while stack:
                    top = stack.pop()
                    open_count[top] -= 1
                    if top == name:
                        break
        elif name in _RAW_TEXT:
            close = re.compile(r"</" + re.escape(name), re.I).search(html, m.end())
            if close is None:
                break
            m = search(html, close.start() + 2, endpos)
            continue
        elif name not in _VOID and name not in _SELF_CLOSING:
            if len(stack) >= limit:
                dropped[name] += 1
                n_dropped += 1
                out.append(html[last:m.start()])
                out.append(" ")
                last = m.end()
            else:
                stack.append(name)
                open_count[name] += 1
        m = search(html, m.end(), endpos)
    if not n_dropped:
        return html, 0
    out.append(html[last:])
    return "".join(out), n_dropped


def parse_html(html: str, issues: list[ParseIssue] | None = None) -> HTMLParser:
    """The HTML tree, nested at most MAX_HTML_DEPTH deep (a warning in ``issues`` when capped)."""
    html, dropped = cap_html_depth(html)
    if dropped and issues is not None:
        issues.append(
            ParseIssue("file", f"HTML nested deeper than {MAX_HTML_DEPTH} elements: {dropped:,} tags below that depth ignored, their text kept", "warning")
        )
    return HTMLParser(html)


def html_to_text(html: str, issues: list[ParseIssue] | None = None) -> str:
    """Visible text of an HTML fragment or page, paragraphs kept as blank-line-separated blocks."""
    tree = parse_html(html, issues)
    for tag in _DROP_TAGS:
        for node in tree.css(tag):
            node.decompose()
    root = tree.body or tree.root
    if root is None:
        return ""
    parts: list[str] = []
    for node in root.traverse(include_text=True):
        if node.tag == "-text":
            parts.append(node.text_content or "")
        elif node.tag in _BLOCK_TAGS:
            parts.append("\n\n")
    # spaces around each line break dropped (per line: a regex over a long run of spaces is quadratic),
    # then a single line break is a space and a blank line a paragraph break
    text = "\n".join(line.strip(_WS_AROUND_NL) for line in "".join(parts).split("\n"))
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    return clean_text(text)


_CMARK_OPTIONS = _CmarkOptions.CMARK_OPT_UNSAFE  # raw HTML kept (html_to_text drops scripts and styles)


def markdown_to_text(md: str, issues: list[ParseIssue] | None = None) -> str:
    """Plain text of Markdown (links keep their words, images their alt text, code kept). CommonMark with
    GitHub tables and strikethrough, rendered by cmark-gfm: linear time on any input."""
    try:
        md.encode("utf-8")
    except UnicodeEncodeError:
        md = md.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot reach C
    html = cmarkgfm.markdown_to_html_with_extensions(md, options=_CMARK_OPTIONS, extensions=["table", "strikethrough"])
    return html_to_text(html, issues)


def _xml_problem(data: bytes) -> str | None:
    """Why ``data`` is not well-formed XML (entity declarations count as a problem), or None."""
    import xml.sax

    import defusedxml.sax

    try:
        defusedxml.sax.parseString(data, xml.sax.ContentHandler())
    except Exception as e:  # SAXParseException, EntitiesForbidden, ...
        return f"{type(e).__name__}: {e}"[:200]
    return None


def read_feed(data: bytes) -> Any:
    """feedparser's reading of an RSS/Atom document, in linear time. A feed that is not well-formed XML
    goes to feedparser's lenient parser, which takes ~30 µs per tag (1 MB of ``<p>`` takes 11 s): such
    a feed is read only up to MAX_LENIENT_FEED_TAGS tags, a bigger one is refused (ParseError).
    A feed whose bytes feedparser cannot decode is refused too."""
    import feedparser

    tags = data.count(b"<")
    if tags > MAX_LENIENT_FEED_TAGS:
        problem = _xml_problem(data)
        if problem:
            raise ParseError(
                f"feed is not well-formed XML ({problem}) and has {tags:,} tags: a feed over "
                f"{MAX_LENIENT_FEED_TAGS:,} tags is read only when well-formed (the lenient reading is slow)"
            )
    try:
        return feedparser.parse(data)
    except (UnicodeError, LookupError) as e:  # bytes that are not in the encoding the feed declares
        raise ParseError(f"not a readable feed: {type(e).__name__}: {e}"[:300]) from e


def cjk_ratio(text: str) -> float:
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def punctuation_per_word(text: str) -> float:
    words = max(1, len(text.split()))
    return sum(text.count(c) for c in ".?!") / words


def looks_unpunctuated(text: str) -> bool:
    """Auto-generated captions: almost no sentence-final punctuation (< 1 per 60 words)."""
    return len(text.split()) > 60 and punctuation_per_word(text) < 1 / 60


def hms_to_seconds(value: Any) -> float | None:
    """'01:02:03.5', '1:02:03,500', '2:03', 3723 -> seconds."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer past the float range: no time
            return None
    if not isinstance(value, str) or len(value) > 64:
        return None
    s = value.strip().replace(",", ".")
    if re.fullmatch(r"-?\d+(\.\d+)?", s):
        return float(s)
    m = re.fullmatch(r"(\d{1,9}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)", s)
    if m:
        return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    m = re.fullmatch(r"(\d{1,9}):(\d{1,2}(?:\.\d+)?)", s)  # m:ss, minutes may pass 59 ("211:15")
    if m:
        return int(m[1]) * 60 + float(m[2])
    return None
