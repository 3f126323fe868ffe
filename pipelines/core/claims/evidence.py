"""The passages behind a verdict: one ``claim_evidence`` row per hit, with a link that opens it.

A tweet's link is its status URL (from whichever copy carries the id). A transcript's link jumps
to the passage's own second (``&t=``) only when the document's timings are real, and never to a
default second 0; other links are the document's URL as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pipelines.core.links import evidence_link as _kwic_link

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.spec import Measure

SNIPPET_WIDTH = 90
_WS = re.compile(r"\s+")


def evidence_link(kind: str | None, url: str | None, start_s: float | None = None) -> str | None:
    """The URL of a passage; a YouTube URL at ``start_s`` when that second is known and at least 1."""
    if start_s is not None and start_s < 1:
        start_s = None  # the start of the recording is no passage's own second: open it plainly
    return _kwic_link(kind, url, start_s)


def snippet(text: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """Keyword in context: the hit with about ``width`` characters either side, cut at spaces."""
    if not text:
        return ""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    a, b = max(0, start - width), min(len(text), end + width)
    if a > 0:
        sp = text.find(" ", a, start)
        a = sp + 1 if sp != -1 else a
    if b < len(text):
        sp = text.rfind(" ", end, b)
        b = sp if sp != -1 else b
    out = _WS.sub(" ", text[a:b]).strip()
    return ("…" if a > 0 else "") + out + ("…" if b < len(text) else "")


def evidence_rows(ctx: Context, claim: Claim, m: Measure, max_evidence: int) -> list[dict[str, Any]]:
    hits = m.hits[:max_evidence]
    meta = ctx.meta([h.doc_id for h in hits])
    out = []
    for rank, h in enumerate(hits, start=1):
        d = meta.get(h.doc_id, {"kind": None, "title": None, "url": None, "published_at": None})
        text = ctx.text(h.doc_id)
        if h.start is not None and h.end is not None:
            snip = snippet(text, h.start, h.end)
            start_s = ctx.start_seconds(h.doc_id, h.start)
        else:
            snip = snippet(text, 0, 0, width=2 * SNIPPET_WIDTH)
            start_s = None
        out.append(
            {
                "claim_id": claim.id,
                "rank": rank,
                "doc_id": h.doc_id,
                "kind": d["kind"],
                "title": d["title"],
                "url": d["url"],
                "link": evidence_link(d["kind"], d["url"], start_s),
                "start_s": start_s if start_s is None or start_s >= 1 else None,
                "published_at": d["published_at"],
                "snippet": snip,
                "matched_text": h.matched_text,
                "score": h.score,
                "match_class": h.match_class,
                "difference": h.difference,
            }
        )
    return out
