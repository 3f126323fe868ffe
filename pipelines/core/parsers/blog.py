"""Blog posts: RSS/Atom feed files (feedparser), Markdown with YAML front matter (Jekyll posts, scrapes,
drafts), and saved HTML pages (article text, title, date, canonical URL).

Date rule: the front matter's date wins over a Jekyll file name's date; the file name's date is used
when the front matter has none.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.core.parsers.common import (
    basename,
    date_from_name,
    html_to_text,
    markdown_to_text,
    parse_date,
    parse_html,
    read_feed,
    record_failure,
    split_front_matter,
    stem,
    suffix,
)
from pipelines.core.parsers.spec import ParserSpec
from pipelines.core.records import ParsedDocument, ParseError, ParseIssue, ParseResult, Segment
from pipelines.core.textutil import decode_bytes

ORIGINAL, SCRAPE, SUMMARY = 30, 15, 5
_URL_KEYS = ("permalink", "url", "source_url", "source", "originalURL", "original_url", "canonical_url", "link")
_DATE_KEYS = ("date", "published", "published_at", "pubDate", "created")


def _paragraph_segments(text: str) -> list[Segment]:
    return [Segment(seq=i, text=p.strip()) for i, p in enumerate(re.split(r"\n\s*\n", text)) if p.strip()]


_SITE_SUFFIX = re.compile(r"\s+[–—|-]\s+[^–—|-]{1,40}$")


def _page_title(title: str | None) -> str | None:
    """'Post title – Site' -> 'Post title'. The suffix is looked for in the last 200 characters: the
    pattern starts with \\s+, which a search makes quadratic on a long run of spaces."""
    if not title:
        return None
    t = title.strip()
    cut = max(0, len(t) - 200)
    m = _SITE_SUFFIX.search(t, cut)
    return (t[: m.start()].rstrip() if m else t) or t


# -- feeds ------------------------------------------------------------------------------------------------


def _sniff_feed(name: str, head: bytes) -> bool:
    h = head[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if not (h.startswith(b"<?xml") or h.startswith(b"<rss") or h.startswith(b"<feed") or h.startswith(b"<!DOCTYPE")):
        return False
    return b"<rss" in head or (b"<feed" in head and b"Atom" in head) or b"<rdf:RDF" in head


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            try:
                return datetime(t[0], t[1], t[2], t[3], t[4], t[5], tzinfo=UTC)
            except (ValueError, OverflowError, TypeError, IndexError):
                break  # feedparser's reading of an impossible date: try the text as written
    return parse_date(entry.get("published") or entry.get("updated"))


def _parse_feed(data: bytes, name: str) -> ParseResult:
    if re.search(rb"<!ENTITY", data[:65536], re.I):
        raise ParseError("feed declares XML entities (<!ENTITY>): refused, entity expansion and external entities are unsafe")
    parsed = read_feed(data)
    issues: list[ParseIssue] = []
    if parsed.bozo:
        issues.append(ParseIssue("file", f"feed is not well-formed ({parsed.bozo_exception}); entries read where possible", "warning"))
    docs: list[ParsedDocument] = []
    for i, entry in enumerate(parsed.entries, 1):
        try:
            doc = _feed_entry(entry, parsed, issues)
        except Exception as e:  # an entry no rule foresaw costs that entry
            issues.append(ParseIssue(f"entry {i}", record_failure(e)))
            continue
        if doc is None:
            issues.append(ParseIssue(f"entry {i}", "entry has no text (no content or summary)"))
            continue
        docs.append(doc)
    if not docs and parsed.bozo:
        raise ParseError(f"not a readable feed: {parsed.bozo_exception}")
    return ParseResult(format="rss_atom_feed", documents=docs, issues=issues)


def _feed_entry(entry: Any, parsed: Any, issues: list[ParseIssue]) -> ParsedDocument | None:
    content = ""
    if entry.get("content"):
        content = max((c.get("value") or "" for c in entry.content), key=len)
    summary = entry.get("summary") or ""
    html = content if len(content) >= len(summary) else summary
    text = html_to_text(html, issues)
    if not text:
        return None
    only_summary = not content or len(text) < 1500
    return ParsedDocument(
        kind="blog_post",
        text=text,
        title=entry.get("title"),
        url=entry.get("link"),
        published_at=_entry_time(entry),
        external_id=entry.get("link") or entry.get("id"),
        segments=_paragraph_segments(text),
        quality=SUMMARY if only_summary else ORIGINAL - 2,
        meta={"summary_only": only_summary, "feed_title": parsed.feed.get("title"),
              **({"author": str(entry.get("author"))} if entry.get("author") else {})},
    )


# -- HTML pages -------------------------------------------------------------------------------------------


def _meta(tree: HTMLParser, *selectors: str) -> str | None:
    for sel in selectors:
        node = tree.css_first(sel)
        if node is not None:
            val = node.attributes.get("content") or node.attributes.get("href") or node.attributes.get("datetime") or node.text(strip=True)
            if val:
                return val
    return None


def html_page(html: str, name: str, issues: list[ParseIssue] | None = None) -> tuple[ParsedDocument | None, str | None]:
    """Article text, title, date and canonical URL of a saved page. (None, reason) for index pages."""
    tree = parse_html(html, issues)
    title_node = tree.css_first("title")
    title = _page_title(_meta(tree, 'meta[property="og:title"]', 'meta[name="title"]') or (title_node.text(strip=True) if title_node is not None else None))
    url = _meta(tree, 'link[rel="canonical"]', 'meta[property="og:url"]')
    published = parse_date(_meta(tree, 'meta[property="article:published_time"]', "time[datetime]", "time"))
    for sel in ("nav", "header", "footer", "script", "style", "form", ".upvote-button", "aside"):
        for node in tree.css(sel):
            node.decompose()
    main = tree.css_first("article") or tree.css_first("main") or tree.body
    if main is None:
        return None, "HTML page without a body"
    links_text = sum(len(a.text(strip=True)) for a in main.css("a"))
    text = html_to_text(main.html or "")
    if not text:
        return None, "HTML page has no visible text"
    if len(text) < 3000 and links_text > 0.5 * len(text):
        return None, "index page: mostly links, no article text"
    if title and text.startswith(title):
        text = text[len(title):].lstrip()
    kind = "blog_post" if (published or (url and re.search(r"blog|/\d{4}/\d{2}/", url))) else None
    return (
        ParsedDocument(kind=kind, text=text, title=title, url=url, published_at=published, segments=_paragraph_segments(text), quality=ORIGINAL - 1),
        None,
    )


def _sniff_html(name: str, head: bytes) -> bool:
    if suffix(name) not in {".html", ".htm", ".xhtml"}:
        return False
    h = head[:2048].lower()
    return b"<html" in h or b"<!doctype html" in h or b"<body" in head.lower() or b"<p>" in h


def _parse_html(data: bytes, name: str) -> ParseResult:
    text = decode_bytes(data)
    if b"ytInitialData" in data[:2_000_000] and b"youtube.com" in data[:4096].lower():
        return ParseResult(format="html_page", skipped_reason="YouTube page: player and listing markup, no transcript text")
    issues: list[ParseIssue] = []
    doc, reason = html_page(text, name, issues)
    if doc is None:
        return ParseResult(format="html_page", skipped_reason=reason, issues=issues)
    return ParseResult(format="html_page", documents=[doc], issues=issues)


# -- Markdown with front matter ----------------------------------------------------------------------


def _sniff_front_matter_md(name: str, head: bytes) -> bool:
    if suffix(name) not in {".md", ".markdown", ".mdown", ".mkd", ".txt"}:
        return False
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"---")


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if meta.get(k) not in (None, ""):
            return meta[k]
    return None


# What a blog post's URL looks like on any blog (not one thinker's): a dated path ("/2024/03/05/",
# "/2024/Mar/5/", "/2024-03-05-slug"), a post folder ("/blog/", "/posts/", "/p/", "/@user/slug"),
# or a blogging platform's host. A post whose URL says none of this still lands as a blog post when
# its blog's feed is in the catalog (pipelines.core.assemble: the feed's site holds its URL).
_MONTH = r"(?:0?[1-9]|1[0-2]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_POST_URL = re.compile(
    r"^https?://[^/?#]+(?:"
    rf"(?:/[^/?#]+)*?/\d{{4}}/{_MONTH}(?:/\d{{1,2}})?/[^/?#]+"  # /2024/03/slug, /weblog/2024/Mar/5/slug
    r"|(?:/[^/?#]+)*?/\d{4}-\d{2}-\d{2}[-_][^/?#]+"  # /2024-03-05-slug
    r"|(?:/[a-z]{2}(?:-[a-z]{2})?)?/(?:blog|blogs|weblog|posts?|articles?|entries|entry|archives?|notes|essays|writing|p)/[^/?#]+"  # /blog/slug, /en/blog/slug
    r"|/@[^/?#]+/[^/?#]+"  # /@user/slug
    r")",
    re.I,
)
_BLOG_HOSTS = re.compile(
    r"^https?://(?:[^/?#]+\.)?(?:substack\.com|medium\.com|bearblog\.dev|github\.io|wordpress\.com|blogspot\.com"
    r"|ghost\.io|hashnode\.dev|dev\.to|tumblr\.com|mataroa\.blog|write\.as|svbtle\.com|micro\.blog)(?:[/?#]|$)",
    re.I,
)


def _md_kind(meta: dict[str, Any], name: str, url: str | None) -> str | None:
    layout = str(meta.get("layout", "")).lower()
    if layout == "publication" or meta.get("authors") and meta.get("year"):
        return "paper"
    if layout == "post" or date_from_name(name)[0] or re.search(r"/_?posts?/", name):
        return "blog_post"
    if url and (_POST_URL.match(url) or _BLOG_HOSTS.match(url)):
        return "blog_post"
    return None


# A Medium page saved as Markdown (a scrape) carries the site around the post: the navigation and
# the byline ("Follow", "9 min read", "Listen", "Share") before it; its tags, the author box, readers'
# responses and other writers' recommended posts after it; a subscribe box and "Zoom image" captions
# inside it. Only the post is the author's text.
_MEDIUM_HOST = re.compile(r"^https?://(?:[^/?#]+\.)?medium\.com(?:[/?#]|$)", re.I)
_MEDIUM_END = re.compile(
    r"^(?:\[[^\]\n]*\]\(https?://(?:[^/?#)\s]+\.)?medium\.com/tag/"  # the first tag link
    r"|#{1,3} (?:Responses \(\d|More from |Recommended from Medium|Written by ))",
    re.M,
)
_MEDIUM_BOX = re.compile(r"^#{1,3} Get [^\n]{1,120}?stories\sin\syour\sinbox[ \t]*\n(?:[ \t]*\n|Join Medium[^\n]*\n|Subscribe[ \t]*\n)*", re.M)
_MEDIUM_ZOOM = re.compile(r"^Zoom image will be displayed[ \t]*$", re.M)
_MEDIUM_BYLINE_LINES = 80  # the byline's "Share" is looked for in the page's first lines


def _medium_post(body: str) -> str:
    """The post of a Medium page's Markdown, without the site around it (see above)."""
    end = _MEDIUM_END.search(body)
    if end:
        body = body[: end.start()]
    lines = body.split("\n")
    share = next((i for i, line in enumerate(lines[:_MEDIUM_BYLINE_LINES]) if line.strip() == "Share"), None)
    if share is not None:
        body = "\n".join(lines[share + 1 :])
    return _MEDIUM_ZOOM.sub("", _MEDIUM_BOX.sub("", body))


def _parse_front_matter_md(data: bytes, name: str) -> ParseResult:
    raw = decode_bytes(data)
    meta, body, fm_issue = split_front_matter(raw.lstrip("\ufeff"))
    issues = [fm_issue] if fm_issue else []
    meta = meta or {}
    url = _first(meta, _URL_KEYS)
    url = str(url) if url else None
    if url and not url.startswith(("http://", "https://")):
        url = None  # a site-relative permalink says nothing about the host
    if body.lstrip().lower().startswith(("<!doctype html", "<html")):
        doc, reason = html_page(body, name, issues)
        if doc is None:
            return ParseResult(format="markdown_post", skipped_reason=reason, issues=issues)
        doc.url = doc.url or url
        doc.quality = ORIGINAL - 1
    else:
        if url and _MEDIUM_HOST.match(url):
            body = _medium_post(body)
        text = markdown_to_text(body, issues)
        if not text.strip():
            raise ParseError("no text after the front matter")
        scraped = bool(meta.get("scrape_method") or meta.get("date_scraped"))
        title = _text_field(meta.get("title"), "title", issues)
        if not title:  # the first level-1 heading outside fenced code
            h1 = re.search(r"^#\s+(.+)$", re.sub(r"^(```|~~~).*?^\1", "", body, flags=re.M | re.S), re.M)
            title = h1.group(1).strip() if h1 else None
        if title and text.startswith(str(title)):
            text = text[len(str(title)):].lstrip()
        doc = ParsedDocument(
            kind=None,
            text=text,
            title=str(title).strip() if title else None,
            url=url,
            segments=_paragraph_segments(text),
            quality=SCRAPE if scraped else ORIGINAL,
        )
    fm_date_raw = _first(meta, _DATE_KEYS)
    fm_date = parse_date(fm_date_raw)
    name_date, slug = date_from_name(name)
    if fm_date_raw not in (None, "") and fm_date is None:
        issues.append(ParseIssue("front matter 'date'", f"unreadable date {str(fm_date_raw)[:40]!r}; file name date used if any", "warning"))
    doc.published_at = fm_date or doc.published_at or name_date
    doc.kind = doc.kind or _md_kind(meta, name, doc.url)
    if doc.kind == "paper":
        links = meta.get("additional_links")
        if links is not None and not isinstance(links, list):
            issues.append(ParseIssue("front matter 'additional_links'", f"is a {type(links).__name__}, not a list: ignored", "warning"))
        for link in links if isinstance(links, list) else []:
            if isinstance(link, dict) and "arxiv" in str(link.get("url", "")).lower():
                doc.url = doc.url or str(link["url"])
        year = meta.get("year")
        if isinstance(year, int) and not isinstance(year, bool) and not doc.published_at:
            if 1 <= year <= 9999:
                doc.published_at = datetime(year, 1, 1, tzinfo=UTC)
                doc.meta["date_precision"] = "year"
            else:
                issues.append(ParseIssue("front matter 'year'", f"year {year} is not a calendar year: ignored", "warning"))
    doc.meta["slug"] = slug or stem(basename(name))
    author = _text_field(meta.get("author"), "author", issues)
    if author:
        doc.meta["author"] = author
    return ParseResult(format="markdown_post", documents=[doc], issues=issues)


def _text_field(value: Any, key: str, issues: list[ParseIssue]) -> str | None:
    """A front-matter value that should be text: a string, or a number or date YAML read from bare text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | date) and not isinstance(value, bool):
        return str(value)
    issues.append(ParseIssue(f"front matter '{key}'", f"is a {type(value).__name__}, not text: ignored", "warning"))
    return None


PARSERS = [
    ParserSpec("rss_atom_feed", _sniff_feed, _parse_feed, version=2),
    ParserSpec("markdown_post", _sniff_front_matter_md, _parse_front_matter_md, version=4),
    ParserSpec("html_page", _sniff_html, _parse_html, version=1),
]
