"""Exact instants: events across DST changes end where they were given, instances keep the
master's wall-clock start and exact elapsed duration (RFC 5545 3.8.5.3), and every
date-time the API writes is RFC 3339 that the API accepts back unchanged. On SQLite and
PostgreSQL, through GET, the listing, ``expand`` and the iCalendar file."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from calendar_helpers import EVENTS, CalendarClient
from icalendar import Calendar

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
SPRING = ("2026-03-28T22:00:00+01:00", "2026-03-29T06:00:00+02:00", timedelta(hours=7))
AUTUMN = ("2026-10-24T22:00:00+02:00", "2026-10-25T06:00:00+01:00", timedelta(hours=9))


@pytest.fixture
def live(
    make_app: Callable[..., Any], serve: Callable[[Any], str], tokens: Any, database_url: str
) -> CalendarClient:
    return CalendarClient(serve(make_app(DATABASE_URL=database_url)), tokens.mint())


def _elapsed(item: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(item["end"]) - datetime.fromisoformat(item["start"])


def _feed_events(api: CalendarClient) -> dict[str, Any]:
    calendar = Calendar.from_ical(api.get(f"{EVENTS}.ics").content)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def _ics_elapsed(vevent: Any) -> timedelta:
    return vevent.decoded("DTEND").astimezone(UTC) - vevent.decoded("DTSTART").astimezone(UTC)


@pytest.mark.parametrize("change", [SPRING, AUTUMN], ids=["spring-forward", "fall-back"])
def test_a_single_event_across_a_change_ends_where_it_was_given(
    live: CalendarClient, change: tuple[str, str, timedelta]
) -> None:
    start, end, elapsed = change
    created = live.create(start=start, end=end, time_zone="Europe/Berlin")
    window = {"start": "2026-03-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    seen = [
        created,
        live.get(f"{EVENTS}/{created['id']}").json(),
        live.list_all()[0],
        live.list_all(**window)[0],
        live.list_all(**window, expand="true")[0],
    ]
    for item in seen:
        assert (item["start"], item["end"]) == (start, end)
        assert _elapsed(item) == elapsed
    vevent = _feed_events(live)[created["id"]]
    assert vevent.decoded("DTEND") == datetime.fromisoformat(end)
    assert _ics_elapsed(vevent) == elapsed


@pytest.mark.parametrize(
    ("master", "instances"),
    [
        (  # spring: an instance across the change lasts 7 h like its master
            ("2026-03-21T22:00:00+01:00", "2026-03-22T05:00:00+01:00"),
            [
                ("2026-03-21T22:00:00+01:00", "2026-03-22T05:00:00+01:00"),
                ("2026-03-28T22:00:00+01:00", "2026-03-29T06:00:00+02:00"),
                ("2026-04-04T22:00:00+02:00", "2026-04-05T05:00:00+02:00"),
            ],
        ),
        (  # spring: a master across the change lasts 7 h, and so does every instance
            SPRING[:2],
            [
                SPRING[:2],
                ("2026-04-04T22:00:00+02:00", "2026-04-05T05:00:00+02:00"),
                ("2026-04-11T22:00:00+02:00", "2026-04-12T05:00:00+02:00"),
            ],
        ),
        (  # autumn: a 9 h master, 9 h instances
            AUTUMN[:2],
            [
                AUTUMN[:2],
                ("2026-10-31T22:00:00+01:00", "2026-11-01T07:00:00+01:00"),
                ("2026-11-07T22:00:00+01:00", "2026-11-08T07:00:00+01:00"),
            ],
        ),
    ],
    ids=["instance-crosses", "master-crosses-spring", "master-crosses-autumn"],
)
def test_instances_keep_the_wall_clock_start_and_the_exact_duration(
    live: CalendarClient, master: tuple[str, str], instances: list[tuple[str, str]]
) -> None:
    created = live.create(
        start=master[0],
        end=master[1],
        time_zone="Europe/Berlin",
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"],
    )
    stored = live.get(f"{EVENTS}/{created['id']}").json()
    assert (stored["start"], stored["end"]) == master == (created["start"], created["end"])
    assert (live.list_all()[0]["start"], live.list_all()[0]["end"]) == master
    window = {"start": "2026-03-01T00:00:00Z", "end": "2026-12-01T00:00:00Z", "expand": "true"}
    expanded = live.list_all(**window)
    assert [(i["start"], i["end"]) for i in expanded] == instances
    assert [i["recurrence_id"] for i in expanded] == [start for start, _ in instances]
    assert len({_elapsed(i) for i in expanded}) == 1
    vevent = _feed_events(live)[created["id"]]
    assert _ics_elapsed(vevent) == _elapsed(stored)  # DTEND carries the exact duration
    assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"


def test_a_window_at_the_end_of_a_long_event_across_a_change_still_finds_it(
    live: CalendarClient,
) -> None:
    created = live.create(start=SPRING[0], end=SPRING[1], time_zone="Europe/Berlin")
    last_hour = {"start": "2026-03-29T03:30:00Z", "end": "2026-03-29T05:00:00Z"}
    assert [e["id"] for e in live.list_all(**last_hour)] == [created["id"]]
    after = {"start": "2026-03-29T04:00:00Z", "end": "2026-03-29T05:00:00Z"}
    assert live.list_all(**after) == []


@pytest.mark.parametrize(
    ("zone", "start", "local_offset"),
    [
        ("Europe/Amsterdam", "1930-01-15T08:40:28Z", "+00:19:32"),
        ("Africa/Monrovia", "1960-06-01T09:44:30Z", "-00:44:30"),
    ],
)
def test_instants_in_zones_with_second_offsets_round_trip(
    live: CalendarClient, zone: str, start: str, local_offset: str
) -> None:
    begin = datetime.fromisoformat(start)
    created = live.create(
        start=start,
        end=(begin + timedelta(hours=1)).isoformat(),
        time_zone=zone,
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"],
    )
    path = f"{EVENTS}/{created['id']}"
    read = live.get(path).json()
    window = {
        "start": (begin - timedelta(days=1)).isoformat(),
        "end": (begin + timedelta(days=20)).isoformat(),
    }
    expanded = live.list_all(**window, expand="true")
    written = [read["start"], read["end"], *(i[k] for i in expanded for k in ("start", "end"))]
    written += [i["recurrence_id"] for i in expanded]
    for value in written:
        assert RFC3339.fullmatch(value), value
        assert local_offset not in value
    assert datetime.fromisoformat(read["start"]) == begin
    assert len(expanded) == 2
    assert datetime.fromisoformat(expanded[1]["start"]) == begin + timedelta(weeks=1)

    replaced = live.put(path, json=read, headers={"If-Match": read["etag"]})
    assert replaced.status_code == 200, replaced.text
    again = replaced.json()
    assert (again["start"], again["end"]) == (read["start"], read["end"])
    vevent = _feed_events(live)[created["id"]]
    assert vevent.decoded("DTSTART").astimezone(UTC) == begin
