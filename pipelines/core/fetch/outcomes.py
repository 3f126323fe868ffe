"""What a fetcher returns: the manifest statuses, ``SourceOutcome`` (one catalog source in one run)
and ``FetchReport`` (all of them, with the summary ``corpus fetch`` prints)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipelines.core.rawstore import now_utc

OK, NOT_MODIFIED, FAILED, NOT_COLLECTABLE, SKIPPED, BLOCKED = (
    "ok",
    "not_modified",
    "failed",
    "not_collectable",
    "skipped",
    "blocked",
)


@dataclass
class SourceOutcome:
    """What happened to one catalog source in one run."""

    source_id: str
    fetcher: str
    origin: str
    outcome: str  # ok | not_modified | failed | not_collectable | blocked | skipped
    error: str | None = None
    http_status: int | None = None
    bytes_landed: int = 0
    attempts: int = 0
    paths: list[str] = field(default_factory=list)  # raw/ paths landed this run
    warnings: list[str] = field(default_factory=list)  # partial problems (a page, a README)
    retryable: bool = False  # the failure was transient (timeouts, 5xx, 429): a later attempt may succeed

    @property
    def reached(self) -> bool:
        return self.outcome in (OK, NOT_MODIFIED, SKIPPED)


@dataclass
class FetchReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)  # service/host -> why it was given up
    started_at: str = field(default_factory=lambda: now_utc().isoformat())
    elapsed_seconds: float = 0.0

    def add(self, outcome: SourceOutcome) -> SourceOutcome:
        self.outcomes.append(outcome)
        return outcome

    def extend(self, other: FetchReport) -> None:
        self.outcomes.extend(other.outcomes)
        self.stopped.update(other.stopped)

    def by_outcome(self, outcome: str, fetcher: str | None = None) -> list[SourceOutcome]:
        return [
            o for o in self.outcomes if o.outcome == outcome and (fetcher is None or o.fetcher == fetcher)
        ]

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.outcome in (FAILED, BLOCKED)]

    @property
    def bytes_landed(self) -> int:
        return sum(o.bytes_landed for o in self.outcomes)

    def summary_lines(self) -> list[str]:
        """One line per fetcher: counts per outcome, and the ids that could not be reached."""
        lines = []
        for fetcher in sorted({o.fetcher for o in self.outcomes}):
            mine = [o for o in self.outcomes if o.fetcher == fetcher]
            counts = Counter(o.outcome for o in mine)
            parts = [f"{n} {k}" for k, n in sorted(counts.items())]
            bad = [o.source_id for o in mine if o.outcome in (FAILED, BLOCKED, NOT_COLLECTABLE)]
            line = f"{fetcher}: " + ", ".join(parts)
            if bad:
                shown = ", ".join(bad[:8]) + (f" (+{len(bad) - 8} more)" if len(bad) > 8 else "")
                line += f"; not reached: {shown}"
            lines.append(line)
        for key, why in sorted(self.stopped.items()):
            lines.append(f"stopped {key}: {why}")
        return lines
