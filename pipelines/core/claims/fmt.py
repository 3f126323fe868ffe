"""How explanations write numbers, counts, documents and sentences."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.core.periods import as_date


def num(x: float | int) -> str:
    """12345.0 -> '12,345'; 0.8 -> '0.8'; 3.456 -> '3.46'."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.3g}" if abs(x) < 100 else f"{x:,.1f}"


def singular(noun: str) -> str:
    return noun[:-1] if noun.endswith("s") else noun


def n_of(n: int | None, noun: str) -> str:
    """'1 video', '3 videos', '1,204 tweets'."""
    n = n or 0
    return f"{n:,} {singular(noun) if n == 1 else noun}"


def sentence(s: str) -> str:
    s = s.strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s.endswith((".", "!", "?")) else s + "."


def doc_ref(meta: dict[str, Any], doc_id: str, *, with_date: bool = False) -> str:
    """A document as explanations name it: "'Title' (video, 2025-02-05)", or "a tweet of 2025-02-02
    (tweet-123)" when it has no title of its own."""
    kind = meta.get("kind") or "document"
    when = as_date(meta.get("published_at")) if with_date else None
    title = meta.get("title")
    if title and title != doc_id:
        return f"{title!r} ({kind}{', ' + str(when) if when else ''})"
    return f"a {kind.replace('_', ' ')}{' of ' + str(when) if when else ''} ({doc_id})"


def display(value: float | date | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, date):
        return str(value)
    return num(value)
