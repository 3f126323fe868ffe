"""Every metric a claim can name, by module: size and dates of a scope (``size``), tracked phrases,
entities and patterns (``lexicon``), quotes (``quote``), and the profile's own figures (``profile``).

``METRICS`` maps each name to its spec; ``run_metric`` calls its function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.core.claims.metrics import lexicon, profile, quote, size  # noqa: F401 - they register
from pipelines.core.claims.metrics.base import REGISTRY
from pipelines.core.claims.spec import Measure, MetricSpec

if TYPE_CHECKING:
    from pipelines.core.claims.config import Claim
    from pipelines.core.claims.context import Context
    from pipelines.core.claims.scope import ScopeStats

METRICS: dict[str, MetricSpec] = {name: spec for name, (spec, _) in REGISTRY.items()}


def run_metric(name: str, ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    return REGISTRY[name][1](ctx, claim, st)  # type: ignore[arg-type]


def implemented_metrics() -> set[str]:
    return set(REGISTRY)
