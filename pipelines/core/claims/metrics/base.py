"""The metric registry: each metric module declares its spec beside its function with ``@metric``.

A metric function takes the run's ``Context``, the ``Claim`` and the scope's ``ScopeStats`` and
returns a ``Measure``: the value, what was found (a sentence fragment), the hits behind it, or why
it cannot be measured (``unavailable``: the claim is then not_checkable, never measured as 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipelines.core.claims.spec import Hit, Measure, MetricSpec

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.scope import ScopeStats

MetricFn = Callable[["Context", "Claim", "ScopeStats"], Measure]
REGISTRY: dict[str, tuple[MetricSpec, MetricFn]] = {}


def metric(spec: MetricSpec) -> Callable[[MetricFn], MetricFn]:
    def deco(fn: MetricFn) -> MetricFn:
        if spec.name in REGISTRY:
            raise KeyError(f"metric {spec.name!r} is declared twice")
        REGISTRY[spec.name] = (spec, fn)
        return fn

    return deco


def hit(h: dict[str, Any]) -> Hit:
    return Hit(h["doc_id"], h["start_char"], h["end_char"], h["matched_text"])


def first_per_doc(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for h in hits:
        if h["doc_id"] not in seen:
            seen.add(h["doc_id"])
            out.append(h)
    return out


def said(hits: list[dict[str, Any]], fallback: str) -> str:
    """The words most often matched, as explanations quote them."""
    texts = Counter((h["matched_text"] or "").lower() for h in hits if h.get("matched_text"))
    return texts.most_common(1)[0][0] if texts else fallback


def in_own_turn(turns: list[tuple[int, int, bool]] | None, pos: int | None) -> bool:
    """Whether a character offset is the thinker's: no speaker turns known, or inside one of his."""
    if not turns or pos is None:
        return True
    return any(own and a <= pos < b for a, b, own in turns)
