"""Create, read, replace, patch and delete over HTTP, with ETags and preconditions."""

from __future__ import annotations

import re
from datetime import datetime

from calendar_helpers import EVENTS, CalendarClient, event_body


def test_create_answers_201_with_location_etag_and_the_stored_event(api: CalendarClient) -> None:
    response = api.post(
        EVENTS,
        json=event_body(
            title="Team sync",
            description="Weekly\nagenda",
            location="Room 1",
            start="2026-03-23T08:00:00Z",
            end="2026-03-23T09:00:00Z",
            time_zone="Europe/Berlin",
        ),
    )
    assert response.status_code == 201
    event = response.json()
    assert re.fullmatch(r"evt_[A-Za-z0-9_-]{22}", event["id"])
    assert response.headers["Location"] == f"{EVENTS}/{event['id']}"
    assert response.headers["ETag"] == event["etag"]
    assert event["etag"].startswith('"') and event["etag"].endswith('"')
    # Same instant, shown in the event's own zone.
    assert event["start"] == "2026-03-23T09:00:00+01:00"
    assert event["end"] == "2026-03-23T10:00:00+01:00"
    assert event["time_zone"] == "Europe/Berlin"
    assert event["recurrence"] == []
    assert event["description"] == "Weekly\nagenda"
    assert datetime.fromisoformat(event["created"]) == datetime.fromisoformat(event["updated"])
    assert "recurrence_id" not in event

    fetched = api.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.json() == event
    assert fetched.headers["ETag"] == event["etag"]


def test_defaults_and_all_day_events(api: CalendarClient) -> None:
    event = api.create(title="Holiday", start="2026-08-01", end="2026-08-15")
    assert event["start"] == "2026-08-01" and event["end"] == "2026-08-15"
    assert event["time_zone"] == "UTC"
    assert event["description"] == "" and event["location"] == ""


def test_ids_are_unguessable_and_unique(api: CalendarClient) -> None:
    ids = {api.create(title=f"e{i}")["id"] for i in range(5)}
    assert len(ids) == 5


def test_get_with_if_none_match_answers_304_until_the_event_changes(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    unchanged = api.get(path, headers={"If-None-Match": event["etag"]})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["ETag"] == event["etag"]
    assert (
        api.get(path, headers={"If-None-Match": f'"other", W/{event["etag"]}'}).status_code == 304
    )
    assert api.get(path, headers={"If-None-Match": '"other"'}).status_code == 200

    api.patch(path, json={"title": "Renamed"}, headers={"If-Match": event["etag"]})
    changed = api.get(path, headers={"If-None-Match": event["etag"]})
    assert changed.status_code == 200
    assert changed.json()["title"] == "Renamed"


def test_put_replaces_every_field_and_changes_the_etag(api: CalendarClient) -> None:
    event = api.create(description="old", location="old place")
    path = f"{EVENTS}/{event['id']}"
    replaced = api.put(
        path,
        json=event_body(title="New", start="2026-04-01", end="2026-04-02"),
        headers={"If-Match": event["etag"]},
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["title"] == "New"
    assert body["description"] == "" and body["location"] == ""  # full replace
    assert body["start"] == "2026-04-01"
    assert body["id"] == event["id"] and body["created"] == event["created"]
    assert body["etag"] != event["etag"]
    assert replaced.headers["ETag"] == body["etag"]
    assert api.get(path).json() == body


def test_patch_changes_only_the_given_fields_and_null_clears(api: CalendarClient) -> None:
    event = api.create(description="keep me", location="Room 2")
    path = f"{EVENTS}/{event['id']}"
    patched = api.patch(
        path, json={"title": "Moved", "location": None}, headers={"If-Match": event["etag"]}
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["title"] == "Moved"
    assert body["location"] == ""
    assert body["description"] == "keep me"
    assert body["start"] == event["start"]
    assert body["etag"] != event["etag"]


def test_every_write_changes_the_etag_even_when_nothing_changed(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    etags = {event["etag"]}
    current = event["etag"]
    for _ in range(3):
        response = api.patch(path, json={"title": "Planning"}, headers={"If-Match": current})
        assert response.status_code == 200
        current = response.headers["ETag"]
        etags.add(current)
    assert len(etags) == 4


def test_writes_without_if_match_are_refused_with_428(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    for method, body in (("PUT", event_body()), ("PATCH", {"title": "x"}), ("DELETE", None)):
        response = api.request(method, path, json=body)
        assert response.status_code == 428, method
        assert "If-Match" in response.json()["message"]
    assert api.get(path).json() == event


def test_stale_if_match_is_412_with_the_current_etag(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    fresh = api.patch(path, json={"title": "v2"}, headers={"If-Match": event["etag"]}).json()
    for method, body in (("PUT", event_body()), ("PATCH", {"title": "x"}), ("DELETE", None)):
        response = api.request(method, path, json=body, headers={"If-Match": event["etag"]})
        assert response.status_code == 412, method
        assert response.headers["ETag"] == fresh["etag"]
        assert "changed" in response.json()["message"]
    weak = api.patch(path, json={"title": "x"}, headers={"If-Match": f"W/{fresh['etag']}"})
    assert weak.status_code == 412  # If-Match compares strongly
    assert api.get(path).json() == fresh


def test_if_match_star_and_lists(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    star = api.patch(path, json={"title": "any"}, headers={"If-Match": "*"})
    assert star.status_code == 200
    listed = api.patch(
        path, json={"title": "listed"}, headers={"If-Match": f'"nope", {star.headers["ETag"]}'}
    )
    assert listed.status_code == 200


def test_delete_answers_204_then_the_event_is_gone(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    deleted = api.delete(path, headers={"If-Match": event["etag"]})
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(path).status_code == 404
    assert api.delete(path, headers={"If-Match": "*"}).status_code == 404
    assert api.get(EVENTS).json()["items"] == []


def test_failed_write_changes_nothing(api: CalendarClient) -> None:
    event = api.create(title="Original")
    path = f"{EVENTS}/{event['id']}"
    bad = api.patch(
        path, json={"end": "2026-03-23T08:00:00+01:00"}, headers={"If-Match": event["etag"]}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"]["json"]["end"] == ["Must be after start."]
    assert api.get(path).json() == event


def test_patch_checks_the_merged_event(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    mixed = api.patch(path, json={"start": "2026-03-23"}, headers={"If-Match": event["etag"]})
    assert mixed.status_code == 422
    assert "both be dates" in mixed.json()["errors"]["json"]["end"][0]
    whole_day = api.patch(
        path, json={"start": "2026-03-23", "end": "2026-03-24"}, headers={"If-Match": event["etag"]}
    )
    assert whole_day.status_code == 200
    assert whole_day.json()["start"] == "2026-03-23"


def test_patch_with_no_fields_is_422(api: CalendarClient) -> None:
    event = api.create()
    response = api.patch(f"{EVENTS}/{event['id']}", json={}, headers={"If-Match": "*"})
    assert response.status_code == 422
    assert response.json()["errors"]["json"]["_schema"] == ["Send at least one field to change."]


def test_missing_and_malformed_ids_are_the_same_404(api: CalendarClient) -> None:
    missing = api.get(f"{EVENTS}/evt_AAAAAAAAAAAAAAAAAAAAAA")
    malformed = api.get(f"{EVENTS}/not-an-id")
    very_long = api.get(f"{EVENTS}/{'x' * 3000}")
    assert missing.status_code == malformed.status_code == very_long.status_code == 404
    assert missing.json() == malformed.json() == very_long.json()
    assert missing.json()["message"] == "There is no event with this id in your calendar"
