"""Links a reader can click: a document's URL, at the second a passage starts when that is real.

``evidence_link`` turns a document URL and the second a passage starts at into a link: YouTube URLs
get ``&t=<seconds>s`` (``?t=`` for youtu.be links and URLs without a query; an earlier ``t=`` or
``start=`` is replaced); tweet and post URLs are returned unchanged. ``passage_link`` is the rule
for search results: the second is used only when the document's timings are real
(``documents.timed``) and it is at least 1 (the start of a recording is no passage's own second).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_SHORT_HOSTS = {"youtu.be", "www.youtu.be"}
_T_PARAM_RE = re.compile(r"([?&])(?:t|start)=[^&#]*&?")


def _is_youtube(url: str) -> tuple[bool, bool]:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False, False
    return host in _YOUTUBE_HOSTS, host in _SHORT_HOSTS


def evidence_link(kind: str | None, url: str | None, start_s: float | None) -> str | None:
    """The URL of a passage: YouTube links jump to ``start_s`` (whole seconds); others unchanged."""
    if not url:
        return None
    if start_s is None:
        return url
    try:
        seconds = int(float(start_s))
    except (TypeError, ValueError):
        return url
    if seconds < 0:
        return url
    is_yt, is_short = _is_youtube(url)
    if not (is_yt or is_short):
        return url
    base, hash_, fragment = url.partition("#")
    base = _T_PARAM_RE.sub(lambda m: m.group(1), base).rstrip("?&")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}t={seconds}s" + (f"#{fragment}" if hash_ and not fragment.startswith("t=") else "")


def passage_link(kind: str | None, url: str | None, start_s: float | None, timed: bool | None) -> str | None:
    """A search result's link: at the passage's second only when the timings are real and it is >= 1."""
    if not timed or start_s is None or start_s < 1:
        start_s = None
    return evidence_link(kind, url, start_s)
