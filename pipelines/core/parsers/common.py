"""Helpers the format parsers share: front matter, dates, ids from file names, HTML/Markdown to text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Any

import yaml
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.core.records import ParseIssue
from pipelines.core.textutil import clean_text

_YT_TAIL = re.compile(r"(?:^|_)([A-Za-z0-9_-]{11})$")
_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
_MD = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


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
    if len(s) == 11 and re.fullmatch(r"[A-Za-z0-9_-]{11}", s):
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
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool) and 19000101 <= value <= 21001231:
        value = str(value)  # YYYYMMDD written as a number (e.g. an unquoted YAML date)
    if isinstance(value, str) and re.fullmatch(r"(19|20)\d{6}", value.strip()):
        v8 = value.strip()
        try:
            return datetime(int(v8[:4]), int(v8[4:6]), int(v8[6:]), tzinfo=UTC)
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = float(value) / (1000 if value > 1e11 else 1)
        try:
            return datetime.fromtimestamp(v, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    s = str(value).strip()
    if not s or s.lower() in {"undated", "none", "null", "nan"}:
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
    except ValueError:
        pass
    try:
        d = parsedate_to_datetime(s)
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        return None


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses YAML aliases (``*name``): a few lines of nested aliases (a "billion
    laughs") expand to gigabytes once anything walks or prints the result. Front matter never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted in corpus files", event.start_mark
            )
        return super().compose_node(parent, index)


def load_untrusted_yaml(text: str) -> Any:
    """``yaml.safe_load`` for text from raw/: plain data only, no tags that run code, no aliases."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str, ParseIssue | None]:
    """'---\\nyaml\\n---\\nbody' -> (mapping, body, issue). No front matter -> (None, text, None).
    Front matter that is not a YAML mapping -> (None, body, warning issue): the body is still kept."""
    if not text.startswith("---"):
        return None, text, None
    m = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)", text, re.S)
    if not m:
        return None, text, None
    body = text[m.end():]
    try:
        data = load_untrusted_yaml(m.group(1))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"front matter line {mark.line + 2}" if mark else "front matter"
        return None, body, ParseIssue(where, f"front matter is not valid YAML ({getattr(e, 'problem', e)}); body kept", "warning")
    if data is None:
        return {}, body, None
    if not isinstance(data, dict):
        return None, body, ParseIssue("front matter", f"front matter is a {type(data).__name__}, not a mapping; body kept", "warning")
    return {str(k): v for k, v in data.items()}, body, None


_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr", "section", "article", "ul", "ol", "table", "hr"}


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment or page, paragraphs kept as blank-line-separated blocks."""
    tree = HTMLParser(html)
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
    text = "".join(parts)
    text = re.sub(r"[ \t\r\f\v]*\n[ \t\r\f\v]*", "\n", text)
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    return clean_text(text)


def markdown_to_text(md: str) -> str:
    """Plain text of Markdown (links keep their words, images their alt text, code kept)."""
    return html_to_text(_MD.render(md))


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
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    s = str(value).strip().replace(",", ".")
    if re.fullmatch(r"-?\d+(\.\d+)?", s):
        return float(s)
    m = re.fullmatch(r"(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)", s)
    if m:
        return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    m = re.fullmatch(r"(\d+):(\d{1,2}(?:\.\d+)?)", s)  # m:ss, minutes may pass 59 ("211:15")
    if m:
        return int(m[1]) * 60 + float(m[2])
    return None
