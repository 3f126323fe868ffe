"""The profile's dated eras and events: analysis/eras.yaml (pure, no Dagster).

An era is a closed range of days given at the precision the profile uses ("2022-11" .. "2023-03"
means 2022-11-01 .. 2023-03-31). Eras are ordered and do not overlap; a day outside every era has
no era. Events are the dated things the profile mentions, each with the era the profile lists it
under, so a reader can see where the profile's own dates and its eras disagree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipelines.core.config import Strict, load_yaml_model
from pipelines.core.ids import check_safe_id
from pipelines.core.periods import coerce_partial_date, first_day, last_day

__all__ = ["Era", "Eras", "Event", "as_day", "coerce_partial_date", "first_day", "last_day", "load_eras"]

Day = date  # for annotations inside models that have a field named "date"


def as_day(d: date | datetime) -> date:
    """A datetime's calendar day (aware datetimes in UTC, as the warehouse stores them)."""
    if isinstance(d, datetime):
        if d.tzinfo is not None:
            d = d.astimezone(UTC)
        return d.date()
    return d


class Era(Strict):
    id: str
    name: str
    start: str
    end: str
    description: str
    # False for the periods before the profile's "Evolution of Thinking" that we add so every
    # dated document can be placed (from the karpathy.ai bio, not from the profile).
    in_profile: bool = True
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_safe_id(v)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> str:
        out = coerce_partial_date(v)
        if out is None:
            raise ValueError("a date is required (YYYY, YYYY-MM or YYYY-MM-DD)")
        return out

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, v: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and last_day(v) < first_day(start):
            raise ValueError(f"the era ends ({v}) before it starts ({start})")
        return v

    @property
    def start_date(self) -> date:
        return first_day(self.start)

    @property
    def end_date(self) -> date:
        """The last day of the era, inclusive."""
        return last_day(self.end)

    def contains(self, d: date | datetime) -> bool:
        return self.start_date <= as_day(d) <= self.end_date


class Event(Strict):
    id: str
    title: str
    # The date as the profile gives it; None when the profile only places the event in an era.
    date: str | None = None
    # The era the profile's "Evolution of Thinking" lists the event under (None: not listed).
    listed_in_era: str | None = None
    # The profile's own words, when short.
    quote: str | None = None
    # Catalog source ids the event is about or the profile cites for it.
    sources: list[str] = Field(default_factory=list)
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_safe_id(v)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: Any) -> str | None:
        return coerce_partial_date(v)

    @field_validator("listed_in_era")
    @classmethod
    def _era_id(cls, v: str | None) -> str | None:
        return None if v is None else check_safe_id(v)

    @field_validator("sources")
    @classmethod
    def _source_ids(cls, v: list[str]) -> list[str]:
        return [check_safe_id(s) for s in v]

    @property
    def date_start(self) -> Day | None:
        return first_day(self.date) if self.date else None


class Eras(Strict):
    eras: list[Era]
    events: list[Event] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Eras:
        if not self.eras:
            raise ValueError("eras: at least one era is required")
        seen: dict[str, int] = {}
        for i, era in enumerate(self.eras):
            if era.id in seen:
                raise ValueError(f"eras[{i}] id {era.id!r} repeats eras[{seen[era.id]}]")
            seen[era.id] = i
        for i in range(1, len(self.eras)):
            prev, cur = self.eras[i - 1], self.eras[i]
            if cur.start_date <= prev.end_date:
                raise ValueError(
                    f"eras[{i}] {cur.id!r} starts {cur.start} but eras[{i - 1}] {prev.id!r} runs to "
                    f"{prev.end}: eras must be in date order and must not overlap"
                )
        seen_events: dict[str, int] = {}
        for i, ev in enumerate(self.events):
            if ev.id in seen_events:
                raise ValueError(f"events[{i}] id {ev.id!r} repeats events[{seen_events[ev.id]}]")
            seen_events[ev.id] = i
            if ev.listed_in_era is not None and ev.listed_in_era not in seen:
                raise ValueError(
                    f"events[{i}] {ev.id!r}: listed_in_era {ev.listed_in_era!r} is not an era id "
                    f"(known: {', '.join(seen)})"
                )
        return self

    def by_id(self) -> dict[str, Era]:
        return {e.id: e for e in self.eras}

    def era_of(self, d: date | datetime | None) -> Era | None:
        """The era a day falls in (both ends inclusive), or None before, after or between eras."""
        if d is None:
            return None
        day = as_day(d)
        for era in self.eras:
            if era.start_date <= day <= era.end_date:
                return era
        return None

    def misplaced_events(self) -> list[tuple[Event, Era | None]]:
        """Events whose own date falls outside the era the profile lists them under, with the
        era their date falls in (None if none)."""
        out = []
        for ev in self.events:
            if ev.listed_in_era is None or ev.date is None:
                continue
            listed = self.by_id()[ev.listed_in_era]
            # A partial date (a month, a year) is misplaced only if no day of it is in the era.
            lo, hi = first_day(ev.date), last_day(ev.date)
            if hi < listed.start_date or lo > listed.end_date:
                out.append((ev, self.era_of(lo)))
        return out


def load_eras(path: Path) -> Eras:
    """Load and validate analysis/eras.yaml; a bad entry raises ConfigError naming file, entry, field."""
    return load_yaml_model(path, Eras)
