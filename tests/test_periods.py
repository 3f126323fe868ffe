"""pipelines/core/periods.py: the one partial-date parser, its ranges and its messages."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pipelines.core.periods import coerce_partial_date, first_day, last_day, parse_period


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2024", date(2024, 1, 1), date(2024, 12, 31)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
    ("2024-05-07", date(2024, 5, 7), date(2024, 5, 7)),
])
def test_ranges_agree_across_the_entry_points(text: str, start: date, end: date) -> None:
    p = parse_period(text)
    assert (p.start, p.end, str(p)) == (start, end, text)
    assert (first_day(text), last_day(text)) == (start, end)
    assert coerce_partial_date(text) == text


def test_yaml_dates_and_none() -> None:
    assert coerce_partial_date(date(2023, 5, 1)) == "2023-05-01"
    assert coerce_partial_date(datetime(2023, 5, 1, 12, 30)) == "2023-05-01"
    assert coerce_partial_date(None) is None
    assert parse_period(date(2023, 5, 1)).end == date(2023, 5, 1)


@pytest.mark.parametrize(("bad", "message"), [
    ("2023-13", "'2023-13' is not a real date: month must be in 1..12"),
    ("2023-04-31", "'2023-04-31' is not a real date: day is out of range for month"),
    ("May 2023", "'May 2023' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"),
    ("2023/05", "'2023/05' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"),
])
def test_bad_dates_say_what_is_wrong(bad: str, message: str) -> None:
    for parse in (parse_period, coerce_partial_date, first_day, last_day):
        with pytest.raises(ValueError) as e:
            parse(bad)
        assert str(e.value) == message
