"""Recurrence: expand=true over HTTP (DST in Europe/Berlin included), and the rule parser."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from calendar_helpers import EVENTS, CalendarClient

from calendar_api.recurrence import build_series
from calendar_api.rrule import RecurrenceError, parse_recurrence

BERLIN = ZoneInfo("Europe/Berlin")
MARCH_WINDOW = {"start": "2026-03-01T00:00:00Z", "end": "2026-05-01T00:00:00Z"}


def _expand(api: CalendarClient, **params: str) -> list[dict[str, Any]]:
    return api.list_all(expand="true", **params)


def test_weekly_0900_berlin_stays_0900_across_the_march_dst_change(api: CalendarClient) -> None:
    series = api.create(
        title="Standup",
        start="2026-03-16T09:00:00+01:00",
        end="2026-03-16T09:15:00+01:00",
        time_zone="Europe/Berlin",
        recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"],
    )
    instances = _expand(api, **MARCH_WINDOW)
    assert [i["start"] for i in instances] == [
        "2026-03-16T09:00:00+01:00",
        "2026-03-23T09:00:00+01:00",
        "2026-03-30T09:00:00+02:00",  # Berlin switched to CEST on 29 March
        "2026-04-06T09:00:00+02:00",
    ]
    assert [i["end"][11:19] for i in instances] == ["09:15:00"] * 4
    utc_hours = [datetime.fromisoformat(i["start"]).astimezone(UTC).hour for i in instances]
    assert utc_hours == [8, 8, 7, 7]
    for instance in instances:
        assert instance["id"] == series["id"]
        assert instance["recurrence_id"] == instance["start"]
        assert instance["etag"] == series["etag"]
        assert instance["recurrence"] == series["recurrence"]


def test_exdate_and_rdate_shape_the_instances(api: CalendarClient) -> None:
    api.create(
        title="Gym",
        start="2026-03-24T18:00:00+01:00",
        end="2026-03-24T19:00:00+01:00",
        time_zone="Europe/Berlin",
        recurrence=[
            "RRULE:FREQ=DAILY;COUNT=4",
            "EXDATE;TZID=Europe/Berlin:20260325T180000",
            "EXDATE:20260326T170000Z",  # the same wall-clock time, given in UTC
            "RDATE;TZID=Europe/Berlin:20260401T070000",
        ],
    )
    starts = [i["start"] for i in _expand(api, **MARCH_WINDOW)]
    assert starts == [
        "2026-03-24T18:00:00+01:00",
        "2026-03-27T18:00:00+01:00",
        "2026-04-01T07:00:00+02:00",
    ]


def test_all_day_recurrence_and_non_recurring_events_mix_in_start_order(
    api: CalendarClient,
) -> None:
    birthday = api.create(
        title="Birthday",
        start="2024-03-28",
        end="2024-03-29",
        time_zone="Europe/Berlin",
        recurrence=["RRULE:FREQ=YEARLY"],
    )
    single = api.create(title="Dentist", start="2026-03-28T10:00:00Z", end="2026-03-28T11:00:00Z")
    items = _expand(api, **MARCH_WINDOW)
    assert [(i["id"], i["start"]) for i in items] == [
        (birthday["id"], "2026-03-28"),
        (single["id"], single["start"]),
    ]
    assert items[0]["end"] == "2026-03-29"
    assert "recurrence_id" not in items[1]


def test_instances_overlapping_the_window_edges_are_included(api: CalendarClient) -> None:
    api.create(
        title="Night shift",
        start="2026-06-01T22:00:00Z",
        end="2026-06-02T06:00:00Z",
        recurrence=["RRULE:FREQ=DAILY"],
    )
    items = _expand(api, start="2026-06-03T05:00:00Z", end="2026-06-03T23:00:00Z")
    assert [i["start"] for i in items] == ["2026-06-02T22:00:00+00:00", "2026-06-03T22:00:00+00:00"]


def test_expanded_instances_page_without_duplicates_or_gaps(api: CalendarClient) -> None:
    api.create(
        title="Daily",
        start="2026-01-01T09:00:00+01:00",
        end="2026-01-01T09:30:00+01:00",
        time_zone="Europe/Berlin",
        recurrence=["RRULE:FREQ=DAILY"],
    )
    api.create(
        title="Also daily", start="2026-01-01", end="2026-01-02", recurrence=["RRULE:FREQ=DAILY"]
    )
    window = {"start": "2026-03-20T00:00:00Z", "end": "2026-04-03T00:00:00Z"}
    paged = _expand(api, limit="4", **window)
    assert len(paged) == 28
    keys = [
        (
            datetime.fromisoformat(i["start"] + ("" if "T" in i["start"] else "T00:00:00+00:00")),
            i["id"],
        )
        for i in paged
    ]
    assert len(set(keys)) == 28
    assert keys == sorted(keys)
    assert paged == _expand(api, limit="100", **window)


def test_expand_limits_are_clear_400s(
    make_app: Any, serve: Any, tokens: Any, tmp_path: Any
) -> None:
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path}/small.sqlite3", CALENDAR_EXPAND_MAX_INSTANCES="10"
    )
    api = CalendarClient(serve(app), tokens.mint())
    api.create(title="Daily", start="2026-01-01", end="2026-01-02", recurrence=["RRULE:FREQ=DAILY"])

    def refusal(**params: str) -> str:
        response = api.get(EVENTS, params={"expand": "true", **params})
        assert response.status_code == 400, response.text
        return response.json()["message"]

    assert "needs both start and end" in refusal()
    assert "needs both start and end" in refusal(start="2026-01-01T00:00:00Z")
    assert "at most 366 days" in refusal(start="2026-01-01T00:00:00Z", end="2027-01-03T00:00:00Z")
    assert "more than 10 instances" in refusal(
        start="2026-01-01T00:00:00Z", end="2026-01-12T00:00:00Z"
    )
    fine = api.get(
        EVENTS,
        params={"expand": "true", "start": "2026-01-01T00:00:00Z", "end": "2026-01-11T00:00:00Z"},
    )
    assert fine.status_code == 200 and len(fine.json()["items"]) == 10


def test_rule_errors_name_the_line(api: CalendarClient) -> None:
    response = api.post(
        EVENTS,
        json={
            "title": "x",
            "start": "2026-03-23T09:00:00+01:00",
            "end": "2026-03-23T10:00:00+01:00",
            "recurrence": ["RRULE:FREQ=WEEKLY", "EXDATE;VALUE=DATE:20260330"],
        },
    )
    assert response.status_code == 422
    (message,) = response.json()["errors"]["json"]["recurrence"]
    assert message.startswith("line 2 (EXDATE;VALUE=DATE:20260330): ")
    assert "date-times because the event is timed" in message


# The parser and expander directly: cases that are awkward to reach through HTTP.


def _series(lines: list[str], start: Any, end: Any, zone: str = "Europe/Berlin") -> Any:
    return build_series(start, end, zone, lines)


def test_a_time_in_the_spring_forward_gap_takes_the_offset_before_it() -> None:
    start = datetime(2026, 3, 28, 2, 30, tzinfo=BERLIN)
    series = _series(["RRULE:FREQ=DAILY;COUNT=3"], start, start.replace(hour=3))
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    utc = [i.start_utc.strftime("%d %H:%M") for i in series.instances(*window)]
    assert utc == ["28 01:30", "29 01:30", "30 00:30"]  # 29 March 02:30 does not exist in Berlin


def test_dtstart_counts_as_the_first_occurrence_even_off_rule() -> None:
    start = datetime(2026, 3, 24, 9, tzinfo=BERLIN)  # a Tuesday
    series = _series(["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"], start, start.replace(hour=10))
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [i.start.day for i in series.instances(*window)] == [24, 30, 6]


def test_series_span_ends_with_the_last_instance() -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=BERLIN)
    until = _series(["RRULE:FREQ=WEEKLY;UNTIL=20260801T000000Z"], start, start.replace(hour=10))
    assert until.bounds()[0] == datetime(2026, 7, 27, 8, tzinfo=UTC)
    forever = _series(["RRULE:FREQ=MONTHLY"], start, start.replace(hour=10))
    assert forever.bounds()[0] is None
    single = _series([], start, start.replace(hour=10))
    assert single.bounds()[0] == datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_all_day_rules_need_dates_and_timed_rules_need_utc_until() -> None:
    day = date(2026, 3, 23)
    assert _series(["RRULE:FREQ=DAILY;UNTIL=20260330"], day, date(2026, 3, 24)).bounds()[0]
    with pytest.raises(RecurrenceError, match="UNTIL must be a date"):
        _series(["RRULE:FREQ=DAILY;UNTIL=20260330T000000Z"], day, date(2026, 3, 24))
    with pytest.raises(RecurrenceError, match="not a date like"):
        _series(["EXDATE:20260324T000000Z"], day, date(2026, 3, 24))
    start = datetime(2026, 3, 23, 9, tzinfo=BERLIN)
    with pytest.raises(RecurrenceError, match="UTC date-time"):
        _series(["RRULE:FREQ=DAILY;UNTIL=20260330"], start, start.replace(hour=10))


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        ("RRULE:FREQ=DAILY;BYHOUR=9,17", "BYHOUR is not supported"),
        ("RRULE:FREQ=DAILY;INTERVAL=0", "INTERVAL must be"),
        ("RRULE:FREQ=DAILY;INTERVAL=1_0", "INTERVAL must be"),
        ("RRULE:FREQ=WEEKLY;BYMONTHDAY=1", "cannot be used with FREQ=WEEKLY"),
        ("RRULE:FREQ=MONTHLY;BYWEEKNO=3", "cannot be used with FREQ=MONTHLY"),
        ("RRULE:FREQ=MONTHLY;BYDAY=0MO", "ordinal outside"),
        ("RRULE:FREQ=YEARLY;BYMONTH=-1", "BYMONTH values must be"),
        ("RRULE:FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another"),
        ("RRULE:FREQ=DAILY;WKST=XX", "WKST=XX"),
        ("RRULE:FREQ=DAILY;COLOR=red", "unknown rule part COLOR"),
        ("RRULE:FREQ", "is not NAME=VALUE"),
        ("RRULE;X-FOO=1:FREQ=DAILY", "RRULE takes no parameters"),
        ("EXRULE:FREQ=DAILY", "EXRULE is deprecated"),
        ("DTSTART:20260101T000000Z", "use start"),
        ("EXDATE;TZID=Nowhere/City:20260324T090000", "not an IANA time zone"),
        ("EXDATE:20260324T090000Z;TZID=x", "is not a date-time"),
        ("EXDATE;TZID=Europe/Paris:20260324T080000Z", "must not also have a TZID"),
        ("RDATE;VALUE=PERIOD:20260324T090000Z/PT1H", "VALUE=PERIOD"),
        ("RDATE:20260301T090000Z", "must not be before the event's start"),
        ("EXDATE:21000230T000000Z", "not a real date-time"),
        ("EXDATE:23000101T000000Z", "outside the years"),
        ("RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=TU", "matches no date"),
    ],
)
def test_rule_parser_refusals(line: str, phrase: str) -> None:
    start = datetime(2026, 3, 23, 9, tzinfo=BERLIN)  # a Monday
    with pytest.raises(RecurrenceError, match=phrase.replace("(", r"\(")) as caught:
        parse_recurrence([line], start=start, zone=BERLIN)
    assert str(caught.value).startswith("line 1 (")


def test_a_rule_that_never_matches_is_refused_quickly() -> None:
    """dateutil alone would walk such a rule to the year 9999 (seconds of CPU)."""
    start = datetime(2026, 3, 23, 9, tzinfo=BERLIN)
    began = time.monotonic()
    with pytest.raises(RecurrenceError, match="matches no date"):
        parse_recurrence(["RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"], start=start, zone=BERLIN)
    assert time.monotonic() - began < 2.0


def test_open_ended_series_stop_at_the_horizon() -> None:
    start = datetime(2026, 3, 23, 9, tzinfo=BERLIN)
    series = _series(["RRULE:FREQ=YEARLY"], start, start.replace(hour=10))
    window = (datetime(2199, 1, 1, tzinfo=UTC), datetime(2200, 6, 1, tzinfo=UTC))
    assert [i.start.year for i in series.instances(*window)] == [2199]
