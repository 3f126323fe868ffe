"""Index pages: a blog's list of posts (HTML or its Markdown conversion) with a date per post.

An index page carries no article text, but it says which items exist and when. The parser turns
it into ``ParseResult.listings`` (url, title, published_at per item); the warehouse keeps them in
``listings``, and the claims use them for counts and dates of existence and for coverage
denominators. Recognised shapes, each needing at least ``MIN_ITEMS`` dated items:

* HTML: ``<li>`` elements holding a ``<time>`` (or a date in their text) and one link, as Bear Blog,
  Jekyll and Hugo themes write post lists;
* Markdown: list lines ``- 30 Apr, 2026 [Title](/slug/)`` (date before or after the link).

Links may be relative (``/slug/``): they are kept as written and matched to the catalog by path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dateutil import parser as dateparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.core.parsers.common import parse_date, suffix
from pipelines.core.parsers.spec import ParserSpec
from pipelines.core.records import ParseError, ParseResult
from pipelines.core.textutil import decode_bytes

MIN_ITEMS = 3
_DATE_WORDS = (
    r"(?:\d{1,2}[ \t]+[A-Z][a-z]{2,8},?[ \t]+\d{4}|[A-Z][a-z]{2,8}[ \t]+\d{1,2},?[ \t]+\d{4}|\d{4}-\d{2}-\d{2})"
)
_MD_ITEM = re.compile(  # spaces, not \s: a \s* at a line start would run over every following line
    rf"^[ \t]*[-*][ \t]+(?:(?P<d1>{_DATE_WORDS})[ \t]*[-–—:]?[ \t]*)?\[(?P<title>[^\]\n]+)\]\((?P<url>[^)\s]+)\)"
    rf"(?:[ \t]*[-–—:]?[ \t]*(?P<d2>{_DATE_WORDS}))?[ \t]*$",
    re.M,
)


def _date(text: str | None) -> datetime | None:
    """ISO dates and timestamps, or "30 Apr, 2026" / "Apr 30, 2026" as index pages print them."""
    if not text:
        return None
    when = parse_date(text)
    if when is not None:
        return when
    try:
        d = dateparser.parse(text, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _md_items(text: str) -> list[dict]:
    items = []
    for m in _MD_ITEM.finditer(text):
        when = _date(m.group("d1") or m.group("d2"))
        if when is None:
            continue
        items.append({"url": m.group("url"), "title": m.group("title").strip(), "published_at": when})
    return items


def _sniff_md(name: str, head: bytes) -> bool:
    if suffix(name) not in {".md", ".markdown", ".txt"} or head.lstrip().startswith(b"---"):
        return False
    try:
        text = head.decode("utf-8", errors="replace")
    except Exception:
        return False
    return len(_md_items(text)) >= MIN_ITEMS


def _parse_md(data: bytes, name: str) -> ParseResult:
    items = _md_items(decode_bytes(data))
    if len(items) < MIN_ITEMS:
        raise ParseError(f"not an index page: {len(items)} dated list items (need {MIN_ITEMS})")
    return ParseResult(format="listing_md", listings=items)


def _html_items(html: str) -> list[dict]:
    tree = HTMLParser(html)
    items = []
    for li in tree.css("li"):
        links = li.css("a[href]")
        if len(links) != 1:
            continue
        t = li.css_first("time")
        when: datetime | None = None
        if t is not None:
            when = _date(t.attributes.get("datetime") or t.text(strip=True))
        if when is None:
            m = re.search(_DATE_WORDS, li.text(separator=" "))
            when = _date(m.group(0)) if m else None
        if when is None:
            continue
        a = links[0]
        title = a.text(strip=True)
        if not title:
            continue
        items.append({"url": a.attributes.get("href"), "title": title, "published_at": when})
    return items


def _sniff_html(name: str, head: bytes) -> bool:
    """List items and dates, counted (linear): the parse decides whether they pair up."""
    if suffix(name) not in {".html", ".htm"}:
        return False
    low = head.lower()
    return low.count(b"<li") >= MIN_ITEMS and low.count(b"<time") >= MIN_ITEMS


def _parse_html(data: bytes, name: str) -> ParseResult:
    items = _html_items(decode_bytes(data))
    if len(items) < MIN_ITEMS:
        raise ParseError(f"not an index page: {len(items)} dated list items with one link each (need {MIN_ITEMS})")
    return ParseResult(format="listing_html", listings=items)


PARSERS = [
    ParserSpec("listing_html", _sniff_html, _parse_html, version=1),
    ParserSpec("listing_md", _sniff_md, _parse_md, version=1),
]
