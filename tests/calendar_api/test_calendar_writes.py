"""Writes that tell the truth: 404 for an id you do not have comes before any precondition,
and what GET returns, PUT and PATCH accept back unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from calendar_helpers import EVENTS, CalendarClient, event_body

MISSING = "evt_AAAAAAAAAAAAAAAAAAAAAA"


def _body(method: str) -> dict[str, Any]:
    return {"PUT": {"json": event_body()}, "PATCH": {"json": {"title": "x"}}, "DELETE": {}}[method]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", [None, "*", '"stale"'])
def test_an_id_you_do_not_have_is_404_whatever_the_preconditions(
    api: CalendarClient, other_user: CalendarClient, method: str, if_match: str | None
) -> None:
    theirs = other_user.create(title="theirs")
    gone = api.create()
    api.delete(f"{EVENTS}/{gone['id']}", headers={"If-Match": gone["etag"]})
    body = _body(method)
    headers = {} if if_match is None else {"If-Match": if_match}
    for event_id in (MISSING, "not-an-id", theirs["id"], gone["id"]):
        response = api.request(method, f"{EVENTS}/{event_id}", headers=headers, **body)
        assert response.status_code == 404, (event_id, response.text)
        assert response.json()["message"] == "There is no event with this id in your calendar"
    assert other_user.get(f"{EVENTS}/{theirs['id']}").json()["title"] == "theirs"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_an_event_you_have_still_needs_if_match(api: CalendarClient, method: str) -> None:
    event = api.create()
    body = _body(method)
    assert api.request(method, f"{EVENTS}/{event['id']}", **body).status_code == 428
    assert api.get(f"{EVENTS}/{event['id']}").json()["etag"] == event["etag"]


def test_what_get_returns_put_accepts_unchanged(api: CalendarClient) -> None:
    event = api.create(
        description="notes",
        location="Room 1",
        time_zone="Europe/Berlin",
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
    )
    path = f"{EVENTS}/{event['id']}"
    read = api.get(path).json()
    assert {"id", "etag", "created", "updated", "status"} <= set(read)
    replaced = api.put(path, json=read, headers={"If-Match": read["etag"]})
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    unchanged = {k: v for k, v in read.items() if k not in ("etag", "updated")}
    assert {k: v for k, v in after.items() if k not in ("etag", "updated")} == unchanged
    assert after["etag"] != read["etag"]

    read["title"] = "renamed"
    patched = api.patch(path, json=read, headers={"If-Match": after["etag"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "renamed"


def test_read_only_fields_sent_back_do_not_change_anything(api: CalendarClient) -> None:
    event = api.create()
    path = f"{EVENTS}/{event['id']}"
    forged = {
        **event_body(title="new"),
        "id": event["id"],
        "etag": '"forged"',
        "created": "2000-01-01T00:00:00+00:00",
        "updated": "2000-01-01T00:00:00+00:00",
        "status": "cancelled",
    }
    after = api.put(path, json=forged, headers={"If-Match": event["etag"]}).json()
    assert after["title"] == "new"
    assert after["created"] == event["created"] and after["status"] == "confirmed"
    assert after["etag"] != '"forged"' and after["updated"] != forged["updated"]


def test_another_id_in_the_body_is_refused_and_nothing_is_written(api: CalendarClient) -> None:
    event, other = api.create(), api.create(title="other")
    path = f"{EVENTS}/{event['id']}"
    for method in ("PUT", "PATCH"):
        body = {**event_body(title="hijack"), "id": other["id"]}
        response = api.request(method, path, json=body, headers={"If-Match": "*"})
        assert response.status_code == 422, response.text
        assert "id" in response.json()["errors"]["json"]
        assert "Must be the id in the URL" in response.json()["message"]
    assert api.get(path).json()["title"] == "Planning"
    assert api.get(f"{EVENTS}/{other['id']}").json()["title"] == "other"


def test_a_create_still_refuses_read_only_fields(api: CalendarClient) -> None:
    response = api.post(EVENTS, json={**event_body(), "id": MISSING})
    assert response.status_code == 422
    assert "id" in response.json()["errors"]["json"]
    assert api.list_all() == []
