"""Partial dates as the profile and the catalog write them: "2025" (a year), "2025-02" (a month),
"2025-02-03" (a day), each an inclusive range of days. One parser for the whole project."""

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


def parse_period(value: Any) -> Period:
    """A Period from "YYYY", "YYYY-MM", "YYYY-MM-DD" or a date; ValueError names what is wrong."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return Period(value, value, value.isoformat())
    text = str(value).strip()
    m = _PERIOD_RE.match(text)
    if not m:
        raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            day = date(y, int(mo), int(d))
            return Period(day, day, text)
        if mo:
            month = int(mo)
            return Period(date(y, month, 1), date(y, month, calendar.monthrange(y, month)[1]), text)
        return Period(date(y, 1, 1), date(y, 12, 31), text)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a valid date: {e}") from e


def as_date(v: Any) -> date | None:
    """The UTC calendar day of a datetime (or the date itself); None for anything else."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v).date()
    return v if isinstance(v, date) else None
