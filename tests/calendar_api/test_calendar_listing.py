"""GET /events: order, keyset pages with cursors and Link headers, window overlap, text search."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from calendar_helpers import EVENTS, CalendarClient


def _at(day: int, hour: int = 9) -> str:
    return (datetime(2026, 5, 1, hour) + timedelta(days=day)).isoformat() + "+00:00"


def test_pages_cover_every_event_once_in_start_order(api: CalendarClient) -> None:
    created = []
    for i in range(25):  # created out of order, with some start times shared
        day = (i * 7) % 25 // 2
        created.append(api.create(title=f"event {i}", start=_at(day), end=_at(day, 10)))
    seen: list[dict] = []
    params: dict[str, str] = {"limit": "7"}
    pages = 0
    while True:
        response = api.get(EVENTS, params=params)
        assert response.status_code == 200
        body = response.json()
        pages += 1
        assert len(body["items"]) == (7 if pages < 4 else 4)
        seen.extend(body["items"])
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        link = response.links["next"]["url"]
        assert urlsplit(link).path == EVENTS
        query = parse_qs(urlsplit(link).query)
        assert query == {"limit": ["7"], "cursor": [body["next_cursor"]]}
        params = {"limit": "7", "cursor": body["next_cursor"]}
    assert pages == 4
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == 25
    assert set(ids) == {e["id"] for e in created}
    keys = [(datetime.fromisoformat(e["start"]), e["id"]) for e in seen]
    assert keys == sorted(keys)


def test_pages_stay_consistent_while_events_are_added_and_removed(api: CalendarClient) -> None:
    events = [api.create(title=f"e{i}", start=_at(i), end=_at(i, 10)) for i in range(6)]
    first = api.get(EVENTS, params={"limit": "3"}).json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in events[:3]]
    api.delete(f"{EVENTS}/{events[1]['id']}", headers={"If-Match": events[1]["etag"]})
    early = api.create(title="early", start=_at(0, 8), end=_at(0, 9))  # before the cursor
    rest = api.get(EVENTS, params={"limit": "3", "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in rest["items"]] == [e["id"] for e in events[3:]]
    assert early["id"] not in {e["id"] for e in rest["items"]}


def test_default_and_maximum_limits(api: CalendarClient) -> None:
    for i in range(3):
        api.create(title=f"e{i}")
    assert len(api.get(EVENTS).json()["items"]) == 3
    assert api.get(EVENTS, params={"limit": "100"}).status_code == 200


def test_tampered_cursors_are_400_with_a_clear_message(api: CalendarClient) -> None:
    for i in range(3):
        api.create(title=f"e{i}", start=_at(i), end=_at(i, 10))
    cursor = api.get(EVENTS, params={"limit": "1"}).json()["next_cursor"]
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = dict(decoded, s="not a date")
    bad = [
        "garbage!",
        cursor[:-3],
        cursor + "A",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("="),
        "A" * 1000,
    ]
    for value in bad:
        response = api.get(EVENTS, params={"limit": "1", "cursor": value})
        assert response.status_code == 400, value
        assert "cursor is not valid" in response.json()["message"]


def test_a_cursor_from_another_query_is_refused(api: CalendarClient) -> None:
    for i in range(3):
        api.create(title=f"e{i}", start=_at(i), end=_at(i, 10))
    cursor = api.get(EVENTS, params={"limit": "1"}).json()["next_cursor"]
    response = api.get(EVENTS, params={"limit": "1", "cursor": cursor, "q": "e"})
    assert response.status_code == 400
    assert "different query" in response.json()["message"]
    same_filters = api.get(EVENTS, params={"limit": "2", "cursor": cursor})
    assert same_filters.status_code == 200  # the page size may change between pages


def test_window_returns_events_that_overlap_it(api: CalendarClient) -> None:
    def event(title: str, start: str, end: str) -> str:
        return api.create(title=title, start=start, end=end)["id"]

    window = {"start": "2026-05-10T10:00:00Z", "end": "2026-05-10T12:00:00Z"}
    inside = event("inside", "2026-05-10T10:30:00Z", "2026-05-10T11:00:00Z")
    spanning = event("spanning", "2026-05-09T00:00:00Z", "2026-05-11T00:00:00Z")
    tail = event("tail", "2026-05-10T09:00:00Z", "2026-05-10T10:30:00Z")
    head = event("head", "2026-05-10T11:30:00Z", "2026-05-10T13:00:00Z")
    event("ends at start", "2026-05-10T09:00:00Z", "2026-05-10T10:00:00Z")
    event("starts at end", "2026-05-10T12:00:00Z", "2026-05-10T13:00:00Z")
    event("long before", "2026-04-01T09:00:00Z", "2026-04-01T10:00:00Z")
    all_day = event("all day, UTC", "2026-05-10", "2026-05-11")
    tokyo = api.create(
        title="all day in Tokyo", start="2026-05-10", end="2026-05-11", time_zone="Asia/Tokyo"
    )["id"]  # 2026-05-09T15:00Z to 2026-05-10T15:00Z
    found = [e["id"] for e in api.list_all(**window)]
    assert found == [spanning, tokyo, all_day, tail, inside, head]
    only_start = {e["id"] for e in api.list_all(start="2026-05-10T12:30:00Z")}
    assert head in only_start and inside not in only_start
    only_end = {e["id"] for e in api.list_all(end="2026-05-01T00:00:00Z")}
    assert len(only_end) == 1


def test_window_considers_a_recurring_events_whole_series(api: CalendarClient) -> None:
    weekly = api.create(
        title="weekly until June",
        start="2026-05-04T09:00:00+02:00",
        end="2026-05-04T10:00:00+02:00",
        time_zone="Europe/Berlin",
        recurrence=["RRULE:FREQ=WEEKLY;UNTIL=20260601T000000Z"],
    )
    forever = api.create(
        title="forever", start="2020-01-06", end="2020-01-07", recurrence=["RRULE:FREQ=YEARLY"]
    )
    counted = api.create(
        title="three days",
        start="2026-05-01",
        end="2026-05-02",
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
    )

    def ids(start: str, end: str) -> set[str]:
        return {e["id"] for e in api.list_all(start=start, end=end)}

    assert ids("2026-05-25T00:00:00Z", "2026-05-26T00:00:00Z") == {weekly["id"], forever["id"]}
    assert ids("2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z") == {forever["id"]}
    assert ids("2026-05-03T12:00:00Z", "2026-05-03T13:00:00Z") == {counted["id"], forever["id"]}
    assert ids("2026-05-04T00:00:00Z", "2026-05-04T01:00:00Z") == {forever["id"]}
    assert ids("2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z") == {forever["id"]}


def test_text_search_is_case_insensitive_in_every_text_field(api: CalendarClient) -> None:
    title = api.create(title="Quarterly REVIEW")["id"]
    description = api.create(title="x", description="prepare the review deck")["id"]
    location = api.create(title="y", location="Review room, Straße 5")["id"]
    api.create(title="unrelated")

    def search(text: str) -> set[str]:
        return {e["id"] for e in api.list_all(q=text)}

    assert search("review") == {title, description, location}
    assert search("ReViEw") == {title, description, location}
    assert search("STRASSE") == {location}  # Unicode case folding, on every database
    assert search("nothing like it") == set()


def test_like_wildcards_in_the_search_are_literal(api: CalendarClient) -> None:
    percent = api.create(title="100% done")["id"]
    underscore = api.create(title="snake_case")["id"]
    backslash = api.create(title="path\\to")["id"]
    api.create(title="100 percent")
    api.create(title="snakeXcase")

    def search(text: str) -> set[str]:
        return {e["id"] for e in api.list_all(q=text)}

    assert search("%") == {percent}
    assert search("0%") == {percent}
    assert search("_") == {underscore}
    assert search("e_c") == {underscore}
    assert search("\\") == {backslash}
