"""Expansion at a cost set by the window, not the series' age, and the same instances as a
walk from DTSTART would give.

The work bound is measured, not timed: a tracer counts the lines dateutil's rrule runs, for
a series that began in 1900 and for the same rule begun a year before the window. A walk
from DTSTART would run hundreds of times more lines, so these tests fail if expansion ever
starts from DTSTART again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateutil.rrule
import pytest
from calendar_helpers import EVENTS, CalendarClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calendar_api.recurrence import HORIZON, Series, build_series, occurrences
from calendar_api.rrule import RecurrenceError

BERLIN = ZoneInfo("Europe/Berlin")
RULES = {
    "daily": "RRULE:FREQ=DAILY",
    "weekly": "RRULE:FREQ=WEEKLY;BYDAY=MO,TH",
    "monthly": "RRULE:FREQ=MONTHLY;BYMONTHDAY=5,20",
    "yearly": "RRULE:FREQ=YEARLY;BYMONTH=3,9",
    "friday the 13th": "RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
    "29 february": "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "last friday": "RRULE:FREQ=MONTHLY;BYDAY=-1FR",
    "every 3rd day": "RRULE:FREQ=DAILY;INTERVAL=3",
    "until 2199": "RRULE:FREQ=WEEKLY;UNTIL=21991231T000000Z",
    "last weekday": "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
}
WINDOW = (datetime(2199, 3, 1, tzinfo=UTC), datetime(2199, 3, 8, tzinfo=UTC))


def dateutil_lines(run: Callable[[], Any]) -> int:
    """Lines of ``dateutil.rrule`` executed by ``run()``."""
    target, count = dateutil.rrule.__file__, 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == target else None

    sys.settrace(calls)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def _series(rule: str, start: datetime) -> Series:
    series = build_series(start, start + timedelta(hours=1), "Europe/Berlin", [rule])
    _, rule_last = series.bounds()  # what the store keeps, as written
    return build_series(start, start + timedelta(hours=1), "Europe/Berlin", [rule], rule_last)


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_window_costs_the_same_for_a_series_from_1900(name: str) -> None:
    old = _series(RULES[name], datetime(1900, 1, 1, 9, tzinfo=BERLIN))
    young = _series(RULES[name], datetime(2198, 1, 1, 9, tzinfo=BERLIN))
    old_lines = dateutil_lines(lambda: list(old.instances(*WINDOW)))
    young_lines = dateutil_lines(lambda: list(young.instances(*WINDOW)))
    assert old_lines <= 2 * young_lines + 500, (old_lines, young_lines)


def test_the_tracer_would_see_a_walk_from_dtstart() -> None:
    """The bound above can fail: walking the same rule from 1900 runs far more lines."""
    start = datetime(1900, 1, 1, 9)
    rule = build_series(
        start.replace(tzinfo=BERLIN),
        start.replace(tzinfo=BERLIN, hour=10),
        "Europe/Berlin",
        [RULES["daily"]],
    ).recurrence.rule
    assert rule is not None
    series = _series(RULES["daily"], start.replace(tzinfo=BERLIN))
    windowed = dateutil_lines(lambda: list(series.instances(*WINDOW)))
    full = dateutil_lines(
        lambda: [s for s in occurrences(rule, start) if s.year == 2199 and s.month == 3]
    )
    assert full > 100 * windowed


def test_count_rules_are_read_without_counting_from_the_start() -> None:
    start = datetime(1900, 1, 1, 9, tzinfo=BERLIN)
    series = _series("RRULE:FREQ=DAILY;COUNT=5000", start)
    assert series.rule_last == datetime(1900, 1, 1, 9) + timedelta(days=4999)
    window = (datetime(1913, 9, 1, tzinfo=UTC), datetime(1913, 9, 15, tzinfo=UTC))
    fresh = _series("RRULE:FREQ=DAILY;COUNT=30", datetime(1913, 8, 20, 9, tzinfo=BERLIN))
    lines = dateutil_lines(lambda: list(series.instances(*window)))
    assert lines <= 2 * dateutil_lines(lambda: list(fresh.instances(*window))) + 500
    assert [i.start.day for i in series.instances(*window)] == list(range(1, 10))


def test_writing_a_long_bounded_series_does_not_walk_it_whole() -> None:
    """The last start of an UNTIL rule is found backwards from UNTIL."""
    start = datetime(1900, 1, 1, 9, tzinfo=BERLIN)
    rule = "RRULE:FREQ=DAILY;UNTIL=21991231T000000Z"
    series = build_series(start, start + timedelta(hours=1), "Europe/Berlin", [rule])
    lines = dateutil_lines(series.bounds)
    short = build_series(
        datetime(2199, 1, 1, 9, tzinfo=BERLIN),
        datetime(2199, 1, 1, 10, tzinfo=BERLIN),
        "Europe/Berlin",
        [rule],
    )
    assert lines <= 2 * dateutil_lines(short.bounds) + 500
    assert series.bounds()[0] == datetime(2199, 12, 30, 9, tzinfo=UTC)


# Equivalence: windowed expansion gives exactly the instances of a walk from DTSTART.

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _sometimes(draw: st.DrawFn) -> bool:
    """A rule part one time in three: plain rules, the ones DTSTART fills in, stay common."""
    return draw(st.integers(0, 2)) == 0


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if _sometimes(draw):
        parts.append(f"INTERVAL={draw(st.integers(1, 5))}")
    if _sometimes(draw):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        if freq in ("MONTHLY", "YEARLY") and _sometimes(draw):
            days = [f"{draw(st.sampled_from([1, 2, -1, -2]))}{day}" for day in days]
        parts.append("BYDAY=" + ",".join(days))
    if freq != "WEEKLY" and _sometimes(draw):
        values = draw(
            st.lists(st.sampled_from([1, 13, 15, 29, 31, -1]), min_size=1, max_size=2, unique=True)
        )
        parts.append("BYMONTHDAY=" + ",".join(map(str, values)))
    if _sometimes(draw):
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    if any(p.startswith("BYDAY") for p in parts) and _sometimes(draw):
        parts.append(f"BYSETPOS={draw(st.sampled_from([1, -1, 2]))}")
    if freq == "WEEKLY" and _sometimes(draw):
        parts.append(f"WKST={draw(st.sampled_from(DAYS))}")
    end = draw(st.sampled_from(["none", "count", "until"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    elif end == "until":
        parts.append(f"UNTIL={draw(st.integers(1950, 2199))}0101T000000Z")
    return "RRULE:" + ";".join(parts)


def reference(series: Series, window_start: datetime, window_end: datetime) -> list[Any]:
    """Every instance from DTSTART on, filtered to the window: the slow, obvious way."""
    recurrence, dtstart = series.recurrence, series._dtstart
    starts = {dtstart, *recurrence.rdates}
    if recurrence.rule is not None:
        for start in occurrences(recurrence.rule, dtstart):
            if start >= window_end.replace(tzinfo=None) + timedelta(days=2):
                break
            starts.add(start)
    found = []
    for start in sorted(starts - recurrence.exdates):
        if start >= HORIZON:
            break
        instance = series._instance(start)
        if instance.start_utc < window_end and instance.end_utc > window_start:
            found.append(instance)
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    rule=rules(),
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(1900, 1, 1), datetime(2150, 1, 1)),
    all_day=st.booleans(),
    hours=st.integers(1, 60),
    years_later=st.integers(0, 40),
    day_of_year=st.integers(0, 365),
    window_days=st.integers(1, 60),
    exdate_offset=st.none() | st.integers(0, 400),
)
def test_windowed_expansion_equals_a_walk_from_dtstart(
    rule: str,
    zone: str,
    start: datetime,
    all_day: bool,
    hours: int,
    years_later: int,
    day_of_year: int,
    window_days: int,
    exdate_offset: int | None,
) -> None:
    start = start.replace(second=0, microsecond=0)
    if all_day:
        first: date | datetime = start.date()
        last: date | datetime = first + timedelta(days=1 + hours // 24)
    else:
        first = start.replace(tzinfo=ZoneInfo(zone))
        last = first + timedelta(minutes=15 * hours)
    lines = [rule]
    if exdate_offset is not None and not all_day:
        lines.append(f"EXDATE;TZID={zone}:{(start + timedelta(days=exdate_offset)):%Y%m%dT%H%M%S}")
    try:
        series = build_series(first, last, zone, lines)
    except RecurrenceError:
        assume(False)
    _, rule_last = series.bounds()
    series = build_series(first, last, zone, lines, rule_last)
    window_start = datetime(start.year + years_later, 1, 1, tzinfo=UTC) + timedelta(
        days=day_of_year
    )
    window_end = window_start + timedelta(days=window_days)
    assume(window_end < datetime(2199, 12, 1, tzinfo=UTC))
    assert list(series.instances(window_start, window_end)) == reference(
        series, window_start, window_end
    )


# Over HTTP: old series expand fast and right; too much work is a 400 saying what to narrow.


def test_twenty_series_from_1900_expand_a_week_in_2199(api: CalendarClient) -> None:
    names = sorted(RULES)
    for i in range(20):
        api.create(
            title=names[i % len(names)],
            start=f"1900-01-{i % 28 + 1:02d}T09:00:00+01:00",
            end=f"1900-01-{i % 28 + 1:02d}T10:00:00+01:00",
            time_zone="Europe/Berlin",
            recurrence=[RULES[names[i % len(names)]]],
        )
    params = {"start": "2199-03-01T00:00:00Z", "end": "2199-03-08T00:00:00Z", "expand": "true"}
    items = api.list_all(**params, limit=100)
    daily = [i for i in items if i["title"] == "daily"]
    assert sorted(i["start"][:10] for i in daily) == sorted(
        2 * [f"2199-03-0{d}" for d in range(1, 8)]
    )
    assert {i["start"][11:] for i in items} == {"09:00:00+01:00"}
    assert all(WINDOW[0] <= datetime.fromisoformat(i["start"]) < WINDOW[1] for i in items)


def test_expansion_beyond_the_work_budget_is_a_400(
    make_app: Callable[..., Any], serve: Callable[[Any], str], tokens: Any, tmp_path: Any
) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/w.sqlite3", CALENDAR_EXPAND_MAX_WORK="1000")
    api = CalendarClient(serve(app), tokens.mint())
    for _ in range(4):
        api.create(
            recurrence=["RRULE:FREQ=DAILY"],
            start="1900-01-01T09:00:00Z",
            end="1900-01-01T10:00:00Z",
        )
    week = {"start": "2199-03-01T00:00:00Z", "end": "2199-03-08T00:00:00Z", "expand": "true"}
    assert api.get(EVENTS, params=week).status_code == 200
    year = {**week, "end": "2199-12-01T00:00:00Z"}
    response = api.get(EVENTS, params=year)
    assert response.status_code == 400
    assert "narrow start and end" in response.json()["message"]
    assert api.get(EVENTS, params={**year, "expand": "false"}).status_code == 200
