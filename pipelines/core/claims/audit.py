"""The project's own hand-made audit of the real corpus, and where the pipeline differs from it.

``analysis/audit.yaml`` records, per audited claim, what a careful analyst concluded after reading
the passages: the verdict, the measured value (a number: a count under 1,000 agrees exactly, a
larger figure within 3%; a ``[lo, hi]`` range; or a date), the
quote class, the evidence documents and one line of why. It holds facts only (ids, numbers,
dates), never corpus text. ``differences`` compares one claim's row and evidence with its entry;
the claims table carries ``audit_verdict`` / ``audit_agrees``, ``corpus claims --audit`` prints
every difference, and a real-corpus test holds the pipeline to the audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines.core.claims.spec import QUOTE_CLASSES, VERDICTS
from pipelines.core.config import load_yaml_model

Verdict = Literal[VERDICTS]  # type: ignore[valid-type]
QuoteClass = Literal[QUOTE_CLASSES]  # type: ignore[valid-type]
NUMBER_TOLERANCE = 0.03  # a word count read by hand and by the pipeline may differ by tokenisation
EXACT_BELOW = 1000  # below this a number is a count: it must agree exactly


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    verdict: Verdict
    measured: float | str | list[float | str] | None = None
    evidence: list[str] = Field(default_factory=list)
    quote_class: QuoteClass | None = None
    at_seconds: float | None = None
    why: str = Field(min_length=3)

    @field_validator("measured", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> Any:
        return v.isoformat() if isinstance(v, date) else v


class Audit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    audited_on: date
    corpus: str
    notes: str | None = None
    claims: list[AuditEntry]

    def by_id(self) -> dict[str, AuditEntry]:
        return {e.id: e for e in self.claims}


def load_audit(path: Path) -> Audit | None:
    """The audit, or None when the project has none (ConfigError when it is malformed)."""
    if not path.exists():
        return None
    return load_yaml_model(path, Audit)


def _number_agrees(audit: float, measured: float) -> bool:
    """Counts agree exactly; large figures (word counts read by hand, by another tokeniser) within 3%."""
    if abs(audit) < EXACT_BELOW:
        return abs(measured - audit) <= 0.5 if float(audit).is_integer() else abs(measured - audit) <= 0.05 * abs(audit) + 1e-9
    return abs(measured - audit) <= NUMBER_TOLERANCE * abs(audit)


def differences(entry: AuditEntry, row: dict[str, Any], evidence_docs: Sequence[str]) -> list[str]:
    """What differs between the pipeline's row for a claim and its audit entry (empty: they agree)."""
    out: list[str] = []
    if row.get("verdict") != entry.verdict:
        out.append(f"verdict {row.get('verdict')} (audit: {entry.verdict})")
    if entry.quote_class is not None and row.get("quote_class") not in (None, entry.quote_class):
        out.append(f"quote class {row.get('quote_class')} (audit: {entry.quote_class})")
    got_num = row.get("measured_value")
    got_text = row.get("measured")
    m = entry.measured
    if isinstance(m, list) and len(m) == 2 and all(isinstance(x, int | float) for x in m):
        lo, hi = sorted(float(x) for x in m)
        if got_num is None or not (lo - 1e-9 <= float(got_num) <= hi + 1e-9):
            out.append(f"measured {got_text} (audit: {lo:g} to {hi:g})")
    elif isinstance(m, int | float):
        if got_num is None or not _number_agrees(float(m), float(got_num)):
            out.append(f"measured {got_text} (audit: {m:g})")
    elif isinstance(m, str) and m:
        if str(got_text or "") != m:
            out.append(f"measured {got_text} (audit: {m})")
    ids = [e for e in entry.evidence if "/" not in e]
    if ids and evidence_docs and not set(ids) & set(evidence_docs):
        out.append(f"evidence {', '.join(list(evidence_docs)[:3])} (audit: {', '.join(ids[:3])})")
    return out
