"""Matching a parsed document to the catalog, and the identity that tells copies of one item apart.

``CatalogIndex.match`` tries, in order: YouTube id; canonical URL (the source's url or a URL
alias); GitHub owner/name; exact normalised title or title alias (docs/warehouse.md has the
rules). ``identity_key`` is what two files of the same item share when no catalog source does:
the tweet id, YouTube id, canonical URL, GitHub repo, or the text's hash. Used by
``pipelines.core.assemble``.
"""


from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.core.config import Catalog, Source
from pipelines.core.ids import is_youtube_id
from pipelines.core.records import ParsedDocument

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def canonical_url(url: str) -> str:
    """Comparable form of a URL: https, no www., no query/fragment (YouTube keeps v=), no trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host in {"youtube.com", "m.youtube.com", "youtu.be"}:
        vid = youtube_id_of(url)
        return f"https://youtube.com/watch?v={vid}" if vid else f"https://{host}{parts.path}"
    if host in {"twitter.com", "mobile.twitter.com", "x.com"}:
        host = "x.com"
    path = parts.path.rstrip("/")
    return f"https://{host}{path}"


def youtube_id_of(url: str) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.endswith("youtu.be"):
        vid = parts.path.strip("/").split("/")[0]
    elif "youtube.com" in host:
        vid = (parse_qs(parts.query).get("v") or [""])[0]
    else:
        return None
    return vid if is_youtube_id(vid) else None


def norm_title(title: str) -> str:
    return _NON_ALNUM.sub(" ", title.lower()).strip()


def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


@dataclass
class CatalogIndex:
    by_youtube: dict[str, Source] = field(default_factory=dict)
    by_url: dict[str, Source] = field(default_factory=dict)
    by_github: dict[str, Source] = field(default_factory=dict)
    by_arxiv: dict[str, Source] = field(default_factory=dict)
    by_id: dict[str, Source] = field(default_factory=dict)
    by_title: dict[str, Source] = field(default_factory=dict)
    by_path: dict[str, Source] = field(default_factory=dict)
    title_suffixes: tuple[str, ...] = ()
    tweet_archive: Source | None = None
    feeds: dict[str, Source] = field(default_factory=dict)  # feed id -> feed
    feed_prefixes: list[tuple[str, str, Source]] = field(default_factory=list)  # (host, path prefix, feed), longest first

    @classmethod
    def build(cls, catalog: Catalog) -> CatalogIndex:
        idx = cls()
        # "Title – Ada Example" page titles: the thinker's names and handles, as norm_title writes them
        idx.title_suffixes = tuple(
            sorted({" " + norm_title(n) for n in catalog.thinker.names() if norm_title(n)}, key=len, reverse=True)
        )
        paths: dict[str, list[Source]] = defaultdict(list)
        ambiguous: set[str] = set()
        for s in catalog.sources:
            if s.kind == "blog_feed":
                idx._add_feed(s)
                continue  # a feed is not a document: its entries match blog_post sources, else belong to it
            if s.youtube_id:
                idx.by_youtube[s.youtube_id] = s
            for u in [s.url, *[a for a in s.aliases if _is_url(a)]]:
                if u:
                    idx.by_url.setdefault(canonical_url(u), s)
                    path = urlsplit(canonical_url(u)).path
                    if path.count("/") >= 1 and len(path) > 1:
                        paths[path].append(s)
            if s.github_repo:
                idx.by_github[s.github_repo.lower()] = s
            if s.arxiv_id:
                idx.by_arxiv[s.arxiv_id.lower()] = s
            idx.by_id[s.id] = s
            for t in [s.title, *[a for a in s.aliases if not _is_url(a)]]:
                key = norm_title(t)
                if not key:
                    continue
                if key in idx.by_title and idx.by_title[key].id != s.id:
                    ambiguous.add(key)
                idx.by_title.setdefault(key, s)
            if s.kind == "tweet_archive" and not s.known_gap and idx.tweet_archive is None:
                idx.tweet_archive = s
        for key in ambiguous:
            idx.by_title.pop(key, None)  # a title two sources share identifies neither
        idx.by_path = {p: ss[0] for p, ss in paths.items() if len({x.id for x in ss}) == 1}
        idx.feed_prefixes.sort(key=lambda t: (-len(t[0]) - len(t[1]), t[2].id))
        return idx

    def _add_feed(self, feed: Source) -> None:
        if feed.known_gap:
            return
        self.feeds[feed.id] = feed
        places = [u for u in [feed.url, *feed.aliases] if u and _is_url(u)]
        if not places and feed.feed_url:
            places = [f"https://{urlsplit(feed.feed_url).hostname or ''}/"]  # no site URL: the feed's host
        for u in places:
            parts = urlsplit(canonical_url(u))
            if parts.hostname:
                self.feed_prefixes.append((parts.hostname, parts.path.rstrip("/"), feed))

    def feed_of(self, doc: ParsedDocument, fetched_for: str | None) -> Source | None:
        """The blog feed an uncatalogued post belongs to: the feed its file was fetched for, or the
        one whose site holds its URL. Only posts, and pages no parser could place (kind unknown)."""
        if doc.kind not in (None, "blog_post"):
            return None
        if fetched_for in self.feeds:
            return self.feeds[fetched_for]
        if not doc.url or not _is_url(doc.url):
            return None
        parts = urlsplit(canonical_url(doc.url))
        for host, prefix, feed in self.feed_prefixes:
            if parts.hostname == host and (parts.path == prefix or parts.path.startswith(prefix + "/")):
                return feed
        return None

    def match_listed(self, item: dict[str, Any]) -> Source | None:
        """The catalog source an index page's item names: YouTube id, URL, URL path ("/slug/"), title."""
        vid = item.get("youtube_id")
        if isinstance(vid, str) and vid in self.by_youtube:
            return self.by_youtube[vid]
        url = item.get("url")
        if isinstance(url, str) and url:
            if _is_url(url):
                found = self.by_url.get(canonical_url(url))
                if found is not None:
                    return found
                url = urlsplit(url).path
            path = "/" + url.strip("/")
            if path in self.by_path:
                return self.by_path[path]
        title = item.get("title")
        return self.by_title.get(norm_title(title)) if isinstance(title, str) else None

    def match(self, doc: ParsedDocument, key: tuple[str, str]) -> Source | None:
        kind, value = key
        if doc.kind == "tweet":
            return self.tweet_archive
        if kind == "youtube":
            # by id, else by a catalog URL alias of the video (ids the profile does not confirm)
            return self.by_youtube.get(value) or self.by_url.get(canonical_url(f"https://youtube.com/watch?v={value}"))
        if kind == "github":
            return self.by_github.get(value)
        if kind == "ext" and value.startswith("arxiv:"):
            return self.by_arxiv.get(value.removeprefix("arxiv:").lower())
        if kind == "url" and value in self.by_url:
            return self.by_url[value]
        if doc.url and canonical_url(doc.url) in self.by_url:
            return self.by_url[canonical_url(doc.url)]
        if doc.url and (vid := youtube_id_of(doc.url)):
            return self.by_youtube.get(vid)
        if doc.title:
            t = norm_title(doc.title)
            for suffix in self.title_suffixes:  # "Title – <the thinker>" page titles
                if t.endswith(suffix):
                    t = t.removesuffix(suffix)
                    break
            return self.by_title.get(t)
        return None


def identity_key(doc: ParsedDocument, stripped_sha256: str | None = None) -> tuple[str, str]:
    """What makes two parsed documents copies of one item: an id or URL, else the hash of the
    stripped text (``stripped_sha256`` when the text was dropped, see parsecache.TextFacts)."""
    ext = (doc.external_id or "").strip()
    if doc.kind == "tweet" and ext:
        return ("tweet", ext)
    if ext and is_youtube_id(ext) and doc.kind in (None, "video", "podcast"):
        return ("youtube", ext)
    if ext.startswith("github:"):
        return ("github", ext.removeprefix("github:").lower())
    if _is_url(ext):
        vid = youtube_id_of(ext)
        return ("youtube", vid) if vid else ("url", canonical_url(ext))
    if ext:
        return ("ext", ext)
    if doc.url and _is_url(doc.url):
        vid = youtube_id_of(doc.url)
        return ("youtube", vid) if vid else ("url", canonical_url(doc.url))
    return ("sha", stripped_sha256 or hashlib.sha256(doc.text.strip().encode()).hexdigest())
