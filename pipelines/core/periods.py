"""Partial dates as the profile and the catalog write them: "2025" (a year), "2025-02" (a month),
"2025-02-03" (a day), each an inclusive range of days. One parser for the whole project:
``parse_period`` (a Period), ``coerce_partial_date`` (the checked string a config model keeps),
``first_day`` / ``last_day`` (the range's ends)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_PERIOD_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Period:
    """An inclusive day range: "2025" is the year, "2025-02" the month, "2025-02-03" one day."""

    start: date
    end: date
    text: str

    def __str__(self) -> str:
        return self.text


def _bounds(text: str) -> tuple[date, date] | None:
    """The first and last day of a partial date; None when it is not YYYY[-MM[-DD]]; ValueError
    (from ``date``) when it has that shape but is no real day (month 13, 31 April)."""
    m = _PERIOD_RE.match(text)
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    if d:
        day = date(y, int(mo), int(d))
        return day, day
    if mo:
        month = int(mo)
        return date(y, month, 1), date(y, month, calendar.monthrange(y, month)[1])
    return date(y, 1, 1), date(y, 12, 31)


def parse_period(value: Any) -> Period:
    """A Period from "YYYY", "YYYY-MM", "YYYY-MM-DD" or a date; ValueError names what is wrong."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return Period(value, value, value.isoformat())
    text = str(value).strip()
    start, end = _checked_bounds(text, value)
    return Period(start, end, text)


def coerce_partial_date(v: Any) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD as a string; YAML date/datetime objects become YYYY-MM-DD. For
    pydantic validators: ValueError says what is wrong."""
    if v is None:
        return None
    if isinstance(v, date):  # an unquoted YAML 2023-05-01 arrives as a date (or datetime)
        v = v.isoformat()[:10]
    v = str(v)
    _checked_bounds(v)  # the shape, and month 13, day 31 of April, ... are not dates
    return v


def _checked_bounds(text: str, value: Any = None) -> tuple[date, date]:
    """``_bounds`` of ``text``; ValueError naming ``value`` (default: ``text``) when it has not the
    shape of a partial date or is no real day."""
    shown = text if value is None else value
    try:
        bounds = _bounds(text)
    except ValueError as e:
        raise ValueError(f"{shown!r} is not a real date: {e}") from e
    if bounds is None:
        raise ValueError(f"{shown!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    return bounds


def first_day(v: str) -> date:
    """The first day a partial date can mean: "2023" -> 2023-01-01, "2023-05" -> 2023-05-01."""
    return _checked_bounds(v)[0]


def last_day(v: str) -> date:
    """The last day a partial date can mean: "2023" -> 2023-12-31, "2023-02" -> 2023-02-28."""
    return _checked_bounds(v)[1]


def as_date(v: Any) -> date | None:
    """The UTC calendar day of a datetime (or the date itself); None for anything else."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v).date()
    return v if isinstance(v, date) else None
