"""GET /events.ics: an RFC 5545 file that the icalendar library reads back faithfully."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from calendar_helpers import EVENTS, CalendarClient
from icalendar import Calendar

FEED = f"{EVENTS}.ics"


def test_feed_holds_one_vevent_per_event_with_zones_dates_and_rules(api: CalendarClient) -> None:
    standup = api.create(
        title="Standup; daily, short",
        description="Line one\nLine two",
        location="Room 4",
        start="2026-03-16T09:00:00+01:00",
        end="2026-03-16T09:15:00+01:00",
        time_zone="Europe/Berlin",
        recurrence=[
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260501T000000Z",
            "EXDATE;TZID=Europe/Berlin:20260318T090000",
            "EXDATE:20260323T080000Z",
        ],
    )
    holiday = api.create(
        title="Holiday",
        start="2026-08-01",
        end="2026-08-15",
        recurrence=["RRULE:FREQ=YEARLY;COUNT=3", "EXDATE;VALUE=DATE:20270801"],
    )
    call = api.create(title="Call", start="2026-03-20T15:00:00Z", end="2026-03-20T15:30:00Z")

    response = api.get(FEED)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert "PRODID" in calendar
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {standup["id"], holiday["id"], call["id"]}

    weekly = events[standup["id"]]
    assert str(weekly["SUMMARY"]) == "Standup; daily, short"
    assert str(weekly["DESCRIPTION"]) == "Line one\nLine two"
    assert str(weekly["LOCATION"]) == "Room 4"
    assert weekly["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert weekly.decoded("DTSTART") == datetime(2026, 3, 16, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert weekly.decoded("DTEND") == datetime(2026, 3, 16, 9, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    rule = weekly["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE"]
    assert rule["UNTIL"] == [datetime(2026, 5, 1, tzinfo=UTC)]
    excluded = [d.dt for d in weekly["EXDATE"].dts]
    assert excluded == [
        datetime(2026, 3, 18, 9, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2026, 3, 23, 9, tzinfo=ZoneInfo("Europe/Berlin")),
    ]
    updated = datetime.fromisoformat(standup["updated"]).replace(microsecond=0)
    assert weekly.decoded("DTSTAMP") == updated  # iCalendar has whole seconds

    yearly = events[holiday["id"]]
    assert yearly.decoded("DTSTART") == date(2026, 8, 1)
    assert yearly["DTSTART"].params.get("VALUE") == "DATE"
    assert yearly.decoded("DTEND") == date(2026, 8, 15)
    assert yearly["RRULE"]["COUNT"] == [3]
    assert [d.dt for d in yearly["EXDATE"].dts] == [date(2027, 8, 1)]
    assert "DESCRIPTION" not in yearly and "LOCATION" not in yearly

    single = events[call["id"]]
    assert single.decoded("DTSTART") == datetime(2026, 3, 20, 15, tzinfo=UTC)
    assert "RRULE" not in single

    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert "Europe/Berlin" in zones
    assert calendar.get_missing_tzids() == set()


def test_feed_etag_is_stable_until_something_changes(api: CalendarClient) -> None:
    event = api.create()
    first = api.get(FEED)
    etag = first.headers["ETag"]
    assert api.get(FEED).content == first.content
    assert api.get(FEED, headers={"If-None-Match": etag}).status_code == 304
    api.patch(f"{EVENTS}/{event['id']}", json={"title": "new"}, headers={"If-Match": "*"})
    changed = api.get(FEED, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert b"SUMMARY:new" in changed.content


def test_empty_calendar_is_still_a_valid_file(api: CalendarClient) -> None:
    response = api.get(FEED)
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    assert list(calendar.walk("VEVENT")) == []


def test_feed_is_streamed_in_chunks_not_built_whole(api: CalendarClient, app: Any) -> None:
    """Events are written as the database yields them: no Content-Length, several chunks."""
    long_text = "x" * 2000
    for day in range(40):
        api.create(
            description=long_text,
            start=f"2026-04-{day % 28 + 1:02d}T09:00:00Z",
            end=f"2026-04-{day % 28 + 1:02d}T10:00:00Z",
        )
    response = requests.get(
        api.base_url + FEED,
        headers={"Authorization": f"Bearer {api.token}"},
        stream=True,
        timeout=30,
    )
    assert response.status_code == 200
    assert "Content-Length" not in response.headers
    assert response.headers["Transfer-Encoding"] == "chunked"
    chunks = list(response.raw.stream(None, decode_content=True))
    assert len(chunks) > 1
    calendar = Calendar.from_ical(b"".join(chunks))
    assert len(list(calendar.walk("VEVENT"))) == 40


def test_feed_of_a_window_holds_the_overlapping_events_and_their_zones(api: CalendarClient) -> None:
    berlin = api.create(
        start="2026-03-23T09:00:00+01:00",
        end="2026-03-23T10:00:00+01:00",
        time_zone="Europe/Berlin",
    )
    api.create(
        start="2026-06-01T09:00:00-04:00",
        end="2026-06-01T10:00:00-04:00",
        time_zone="America/New_York",
    )
    weekly = api.create(
        start="2026-01-05T09:00:00-05:00",
        end="2026-01-05T10:00:00-05:00",
        time_zone="America/Chicago",
        recurrence=["RRULE:FREQ=WEEKLY"],
    )
    window = {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    whole = api.get(FEED)
    part = api.get(FEED, params=window)
    assert part.status_code == 200
    calendar = Calendar.from_ical(part.content)
    assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == {berlin["id"], weekly["id"]}
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {
        "Europe/Berlin",
        "America/Chicago",
    }
    assert calendar.get_missing_tzids() == set()
    assert part.headers["ETag"] != whole.headers["ETag"]
    assert api.get(FEED, params={**window, "end": "2026-02-01T00:00:00Z"}).status_code == 422


def test_feed_etag_is_known_before_the_body_and_changes_with_any_write(api: CalendarClient) -> None:
    event = api.create()
    etag = api.get(FEED).headers["ETag"]
    assert etag.startswith('W/"')
    assert api.get(FEED, headers={"If-None-Match": etag}).status_code == 304
    api.delete(f"{EVENTS}/{event['id']}", headers={"If-Match": "*"})
    assert api.get(FEED, headers={"If-None-Match": etag}).status_code == 200
