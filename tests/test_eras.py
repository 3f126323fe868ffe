"""analysis/eras.yaml: the profile's "Evolution of Thinking" eras in order, era_of on the
boundary days, the events the profile dates, and bad YAML failing with file, entry and field."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.core.config import ConfigError, load_catalog
from pipelines.core.eras import Eras, last_day, load_eras

REPO = Path(__file__).resolve().parents[1]
ERAS = REPO / "analysis" / "eras.yaml"
CATALOG = REPO / "analysis" / "catalog.yaml"

# The profile's six eras, as it gives them.
PROFILE_ERAS = [
    ("the-return", "The Return", "2022-11", "2023-03"),
    ("the-builder", "The Builder", "2023-04", "2023-12"),
    ("post-openai-independence", "Post-OpenAI Independence", "2024-01", "2024-07"),
    ("scaling-down", "Scaling Down", "2024-08", "2025-01"),
    ("framework-era", "The Framework Era", "2025-02", "2025-10"),
    ("automation-era", "The Automation Era", "2025-11", "2026-03"),
]


@pytest.fixture(scope="module")
def eras() -> Eras:
    return load_eras(ERAS)


def era_id(eras: Eras, d: date | datetime | None) -> str | None:
    era = eras.era_of(d)
    return era.id if era else None


# ------------------------------------------------------------------ the shipped file


def test_profile_eras_as_the_profile_gives_them(eras: Eras) -> None:
    ours = [(e.id, e.name, e.start, e.end) for e in eras.eras if e.in_profile]
    assert ours == PROFILE_ERAS
    assert all(e.description and "\n" not in e.description for e in eras.eras)


def test_eras_are_ordered_and_do_not_overlap(eras: Eras) -> None:
    for prev, cur in zip(eras.eras, eras.eras[1:], strict=False):
        assert prev.end_date < cur.start_date, (prev.id, cur.id)
    # The profile's eras follow one another with no gap from Nov 2022 to Mar 2026.
    profile = [e for e in eras.eras if e.in_profile]
    for prev, cur in zip(profile, profile[1:], strict=False):
        assert prev.end_date + timedelta(days=1) == cur.start_date
    # Our earlier periods all come before them.
    earlier = [e for e in eras.eras if not e.in_profile]
    assert earlier and max(e.end_date for e in earlier) < profile[0].start_date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2022, 10, 31), "interlude-2022"),
        (date(2022, 11, 1), "the-return"),
        (date(2023, 3, 31), "the-return"),
        (date(2023, 4, 1), "the-builder"),
        (date(2024, 2, 29), "post-openai-independence"),
        (date(2024, 7, 31), "post-openai-independence"),
        (date(2024, 8, 1), "scaling-down"),
        (date(2025, 1, 31), "scaling-down"),
        (date(2025, 2, 1), "framework-era"),
        (date(2025, 10, 31), "framework-era"),
        (date(2025, 11, 1), "automation-era"),
        (date(2026, 3, 31), "automation-era"),
        (date(2026, 4, 1), None),
        (date(2011, 1, 1), "stanford-phd"),
        (date(2010, 12, 31), None),
        (None, None),
    ],
)
def test_era_of_on_boundaries(eras: Eras, day: date | None, expected: str | None) -> None:
    assert era_id(eras, day) == expected


def test_era_of_takes_datetimes_in_utc(eras: Eras) -> None:
    assert era_id(eras, datetime(2023, 3, 31, 23, 59, 59)) == "the-return"
    # 02:00 on Apr 1 at UTC+5 is still Mar 31 in UTC.
    assert era_id(eras, datetime(2023, 4, 1, 2, 0, tzinfo=timezone(timedelta(hours=5)))) == "the-return"
    assert era_id(eras, datetime(2023, 4, 1, 0, 0, tzinfo=UTC)) == "the-builder"


def test_events_the_profile_dates(eras: Eras) -> None:
    ev = {e.id: e for e in eras.events}
    assert ev["left-openai"].date == "2024-02"
    assert ev["vibe-coding-coined"].date == "2025-02"
    assert ev["verifiability-essay"].date == "2025-11"
    assert ev["autoresearch"].date == "2026-03"
    assert ev["licklider-thread"].date == "2023-12"
    # nanochat: the profile gives no date, only the era it lists it under.
    assert ev["nanochat"].date is None and ev["nanochat"].listed_in_era == "scaling-down"
    assert era_id(eras, ev["left-openai"].date_start) == "post-openai-independence"
    assert era_id(eras, ev["autoresearch"].date_start) == "automation-era"


def test_the_profiles_own_dates_disagree_with_its_eras_three_times(eras: Eras) -> None:
    misplaced = {ev.id: (ev.listed_in_era, era.id if era else None) for ev, era in eras.misplaced_events()}
    assert misplaced == {
        "vibe-coding-coined": ("scaling-down", "framework-era"),
        "verifiability-essay": ("framework-era", "automation-era"),
        "space-of-minds-essay": ("framework-era", "automation-era"),
    }


def test_event_sources_are_catalog_entries(eras: Eras) -> None:
    catalog = load_catalog(CATALOG).by_id()
    for ev in eras.events:
        for sid in ev.sources:
            assert sid in catalog, (ev.id, sid)


def test_quotes_are_the_profiles_words(eras: Eras) -> None:
    profile_path = (REPO / (load_catalog(CATALOG).profile or "")).resolve()
    if not profile_path.is_file():
        pytest.skip(f"profile not available at {profile_path}")
    profile = re.sub(r"\s+", " ", profile_path.read_text(encoding="utf-8"))
    quoted = [e for e in eras.events if e.quote]
    assert len(quoted) > 30
    for ev in quoted:
        assert re.sub(r"\s+", " ", ev.quote or "") in profile, ev.id


def test_last_day_of_partial_dates() -> None:
    assert last_day("2024-02") == date(2024, 2, 29)
    assert last_day("2023-02") == date(2023, 2, 28)
    assert last_day("2015") == date(2015, 12, 31)
    assert last_day("2015-11-14") == date(2015, 11, 14)


# ------------------------------------------------------------------ bad YAML


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "eras.yaml"
    p.write_text(text, encoding="utf-8")
    return p


ONE = '  - {id: one, name: One, start: "2022-11", end: "2023-03", description: d}\n'


def test_unquoted_yaml_dates_are_coerced(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "eras:\n  - {id: one, name: One, start: 2022-11-01, end: 2023-03-31, description: d}\n"
        "events:\n  - {id: e, title: E, date: 2023-01-24 10:00:00, listed_in_era: one}\n",
    )
    e = load_eras(p)
    assert (e.eras[0].start, e.eras[0].end, e.events[0].date) == ("2022-11-01", "2023-03-31", "2023-01-24")
    assert era_id(e, e.events[0].date_start) == "one"


def test_overlapping_eras_are_refused(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "eras:\n" + ONE + '  - {id: two, name: Two, start: "2023-03", end: "2023-12", description: d}\n',
    )
    with pytest.raises(ConfigError) as e:
        load_eras(p)
    msg = str(e.value)
    assert str(p) in msg and "eras[1] 'two' starts 2023-03" in msg and "'one' runs to 2023-03" in msg


def test_eras_out_of_order_are_refused(tmp_path: Path) -> None:
    p = write(
        tmp_path, 'eras:\n  - {id: two, name: Two, start: "2023-04", end: "2023-12", description: d}\n' + ONE
    )
    with pytest.raises(ConfigError, match="must be in date order"):
        load_eras(p)


def test_era_ending_before_it_starts_names_entry_and_field(tmp_path: Path) -> None:
    p = write(tmp_path, 'eras:\n  - {id: one, name: One, start: "2023-05", end: "2023-04", description: d}\n')
    with pytest.raises(ConfigError) as e:
        load_eras(p)
    msg = str(e.value)
    assert str(p) in msg and "entry 'one' (eras[0]), field 'end'" in msg and "before it starts" in msg


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        (
            '{id: "../x", name: X, start: "2023", end: "2023", description: d}',
            "entry '../x' (eras[0]), field 'id'",
        ),
        (
            '{id: x, name: X, start: "2023-13", end: "2024", description: d}',
            "entry 'x' (eras[0]), field 'start'",
        ),
        (
            '{id: x, name: X, start: "2023-02-30", end: "2024", description: d}',
            "entry 'x' (eras[0]), field 'start'",
        ),
        ('{id: x, name: X, start: "2023", description: d}', "entry 'x' (eras[0]), field 'end'"),
        (
            '{id: x, name: X, start: "2023", end: "2024", description: d, colour: red}',
            "entry 'x' (eras[0]), field 'colour'",
        ),
    ],
)
def test_bad_era_names_file_entry_and_field(tmp_path: Path, entry: str, where: str) -> None:
    p = write(tmp_path, f"eras:\n  - {entry}\n")
    with pytest.raises(ConfigError) as e:
        load_eras(p)
    assert str(p) in str(e.value) and where in str(e.value)


def test_bad_event_names_file_entry_and_field(tmp_path: Path) -> None:
    p = write(tmp_path, "eras:\n" + ONE + 'events:\n  - {id: ev, title: E, date: "Feb 2025"}\n')
    with pytest.raises(ConfigError) as e:
        load_eras(p)
    assert "entry 'ev' (events[0]), field 'date'" in str(e.value)


def test_event_in_an_unknown_era_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "eras:\n" + ONE + "events:\n  - {id: ev, title: E, listed_in_era: nowhere}\n")
    with pytest.raises(ConfigError, match="events\\[0\\] 'ev': listed_in_era 'nowhere' is not an era id"):
        load_eras(p)


def test_repeated_ids_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "eras:\n" + ONE + "events:\n  - {id: ev, title: E}\n  - {id: ev, title: F}\n")
    with pytest.raises(ConfigError, match="events\\[1\\] id 'ev' repeats events\\[0\\]"):
        load_eras(p)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    p = write(tmp_path, "eras: [\n  - {id: one\n")
    with pytest.raises(ConfigError, match=r"eras\.yaml: line \d+, column \d+ is not valid YAML"):
        load_eras(p)
    with pytest.raises(ConfigError, match="file not found"):
        load_eras(tmp_path / "missing.yaml")
