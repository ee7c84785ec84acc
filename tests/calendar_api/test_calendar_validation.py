"""Bad input gets a 4xx naming the problem, in flask-smorest's format; never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from calendar_helpers import EVENTS, CalendarClient, event_body


def _field_error(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    assert body["message"]
    messages = body["errors"]["json"][field]
    return " ".join(str(m) for m in (messages.values() if isinstance(messages, dict) else messages))


@pytest.mark.parametrize(
    ("fields", "field", "phrase"),
    [
        ({"title": ...}, "title", "Missing data"),
        ({"title": ""}, "title", "between 1 and 200"),
        ({"title": "   "}, "title", "blank"),
        ({"title": "x" * 201}, "title", "between 1 and 200"),
        ({"title": "tab\there"}, "title", "control characters"),
        ({"title": 42}, "title", "Not a valid string"),
        ({"title": None}, "title", "Field may not be null"),
        ({"description": "d" * 5001}, "description", "Longer than maximum length 5000"),
        ({"description": "nul\x00byte"}, "description", "control characters"),
        ({"location": "l" * 501}, "location", "Longer than maximum length 500"),
        ({"start": ...}, "start", "Missing data"),
        ({"start": "2026-03-23T09:00:00"}, "start", "RFC 3339 date-time with offset"),
        ({"start": "2026-03-23 09:00:00+01:00"}, "start", "RFC 3339"),
        ({"start": "23.03.2026"}, "start", "RFC 3339"),
        ({"start": "2026-02-30"}, "start", "RFC 3339"),
        ({"start": "2026-03-23T25:00:00Z"}, "start", "RFC 3339"),
        ({"start": "1800-01-01T00:00:00Z"}, "start", "years 1900 to 2199"),
        ({"end": "2026-03-23T08:00:00+01:00"}, "end", "after start"),
        ({"end": "2026-03-23T09:00:00+01:00"}, "end", "after start"),
        ({"end": "2026-03-24"}, "end", "both be dates"),
        ({"start": "2026-03-24", "end": "2026-03-24"}, "end", "after start"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not an IANA time zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "not an IANA time zone"),
        ({"time_zone": "localtime"}, "time_zone", "not an IANA time zone"),
        ({"recurrence": "RRULE:FREQ=DAILY"}, "recurrence", "Not a valid list"),
        ({"recurrence": ["RRULE:FREQ=HOURLY"]}, "recurrence", "FREQ=HOURLY is not supported"),
        ({"recurrence": ["RRULE:FREQ=DAILY;COUNT=0"]}, "recurrence", "COUNT must be"),
        ({"recurrence": ["RRULE:FREQ=DAILY;COUNT=999999"]}, "recurrence", "COUNT must be"),
        ({"recurrence": ["RRULE:INTERVAL=2"]}, "recurrence", "FREQ is required"),
        ({"recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=XX"]}, "recurrence", "BYDAY value"),
        ({"recurrence": ["RRULE:FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2"]}, "recurrence", "no date"),
        ({"recurrence": ["RRULE:FREQ=DAILY;UNTIL=20260101T000000Z"]}, "recurrence", "before"),
        ({"recurrence": ["RRULE:FREQ=DAILY", "RRULE:FREQ=WEEKLY"]}, "recurrence", "only one"),
        ({"recurrence": ["EXDATE:tomorrow"]}, "recurrence", "line 1"),
        ({"recurrence": ["VEVENT:whatever"]}, "recurrence", "only RRULE, EXDATE and RDATE"),
        ({"recurrence": ["RRULE:FREQ=DAILY"] * 21}, "recurrence", "Longer than maximum"),
        ({"recurrence": [""]}, "recurrence", "between 1 and 1000"),
    ],
)
def test_each_field_is_validated(
    api: CalendarClient, fields: dict[str, Any], field: str, phrase: str
) -> None:
    response = api.post(EVENTS, json=event_body(**fields))
    assert phrase in _field_error(response, field)
    assert api.get(EVENTS).json()["items"] == []


def test_unknown_and_server_owned_fields_are_rejected(api: CalendarClient) -> None:
    for extra in ({"titel": "typo"}, {"id": "evt_mine"}, {"etag": '"x"'}, {"created": "now"}):
        response = api.post(EVENTS, json={**event_body(), **extra})
        assert "Unknown field" in _field_error(response, next(iter(extra)))


def test_a_lone_surrogate_is_400_not_a_database_error(api: CalendarClient) -> None:
    raw = b'{"title": "\\ud800", "start": "2026-03-23", "end": "2026-03-24"}'
    response = api.post(EVENTS, data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"title": "x",}', 400, "not valid JSON"),
        (b"\xff\xfe{}", 400, "not valid JSON"),
        (b"[" * 20000 + b"]" * 20000, 400, "nested more than 32 levels deep"),
        (b"[" * 33 + b"]" * 33, 400, "nested more than 32 levels deep"),
        (b'{"title": ' + b"9" * 5000 + b"}", 400, "has more than 100 digits"),
        (b'{"title": 1e999}', 400, "too large"),
        (b'{"title": NaN}', 400, "NaN is not a JSON value"),
        (b"", 422, "Missing data"),
        (b"[]", 422, "Invalid input type"),
        (b'"a string"', 422, "Invalid input type"),
    ],
)
def test_malformed_bodies(api: CalendarClient, body: bytes, status: int, phrase: str) -> None:
    response = api.post(EVENTS, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert phrase in response.text
    assert response.json()["code"] == status


def test_a_body_that_is_not_json_is_415(api: CalendarClient) -> None:
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/xml"}, {}):
        response = api.post(EVENTS, data="title=x", headers=headers)
        assert response.status_code == 415
        assert "application/json" in response.json()["message"]


def test_json_media_type_variants_are_accepted(api: CalendarClient) -> None:
    import json

    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = api.post(
            EVENTS, data=json.dumps(event_body()), headers={"Content-Type": content_type}
        )
        assert response.status_code == 201, content_type


def test_bodies_over_the_cap_are_413_json(
    make_app: Any, serve: Any, tokens: Any, tmp_path: Any
) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/cap.sqlite3", CALENDAR_MAX_BODY_BYTES="4096")
    client = CalendarClient(serve(app), tokens.mint())
    response = client.post(EVENTS, json=event_body(description="x" * 5000))
    assert response.status_code == 413
    assert response.json() == {
        "code": 413,
        "status": "Request Entity Too Large",
        "message": "The request body is larger than 4096 bytes",
    }
    assert client.post(EVENTS, json=event_body(description="x" * 3000)).status_code == 201


def test_the_default_cap_also_answers_413(app: Any, tokens: Any) -> None:
    """Flask test client: the 64 KiB default, without pushing 64 KiB through a socket."""
    response = app.test_client().post(
        EVENTS,
        data=b"{" + b" " * (64 * 1024) + b"}",
        headers={"Authorization": f"Bearer {tokens.mint()}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "65536 bytes" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("params", "field", "phrase"),
    [
        ({"limit": "0"}, "limit", "greater than or equal to 1"),
        ({"limit": "101"}, "limit", "at most 100"),
        ({"start": "yesterday"}, "start", "RFC 3339"),
        ({"start": "2026-03-23"}, "start", "date-time with offset, e.g."),
        ({"end": "2026-03-23T10:00:00"}, "end", "RFC 3339"),
        ({"start": "2026-03-24T00:00:00Z", "end": "2026-03-23T00:00:00Z"}, "end", "after start"),
        ({"q": "x" * 201}, "q", "between 1 and 200"),
        ({"q": "a\x00b"}, "q", "control characters"),
        ({"expand": "maybe"}, "expand", "Not a valid boolean"),
    ],
)
def test_query_parameters_are_validated(
    api: CalendarClient, params: dict[str, str], field: str, phrase: str
) -> None:
    response = api.get(EVENTS, params=params)
    assert response.status_code == 422, response.text
    messages = response.json()["errors"]["query"][field]
    assert any(phrase in m for m in messages), messages


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "ten"},
        {"limit": "1_0"},
        {"limit": "\u0661\u0660"},  # Arabic-Indic digits, which int() accepts
        {"limit": "\uff11\uff10"},  # fullwidth digits
        {"limit": "+"},
    ],
)
def test_malformed_query_numbers_are_400(api: CalendarClient, params: dict[str, str]) -> None:
    response = api.get(EVENTS, params=params)
    assert response.status_code == 400, response.text
    assert "limit must be a whole number in plain ASCII digits" in response.json()["message"]


def test_a_single_valued_parameter_given_twice_is_400(api: CalendarClient) -> None:
    response = api.get(f"{EVENTS}?limit=5&limit=7")
    assert response.status_code == 400
    assert response.json()["message"] == "limit must be given once; it appears 2 times"


def test_unknown_query_parameters_are_ignored(api: CalendarClient) -> None:
    assert api.get(EVENTS, params={"_": "cache-buster"}).status_code == 200


def test_bad_idempotency_keys_are_400(api: CalendarClient) -> None:
    for key in ("", "has space", "x" * 256, "ключ".encode()):
        response = api.post(EVENTS, json=event_body(), headers={"Idempotency-Key": key})
        assert response.status_code == 400, key
        assert "Idempotency-Key must be" in response.json()["message"]
    assert api.get(EVENTS).json()["items"] == []


def test_unknown_routes_and_methods_are_json(api: CalendarClient) -> None:
    missing = api.get("/calendar/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["message"] == "There is nothing at this URL"
    wrong = api.request("DELETE", EVENTS)
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert wrong.json()["code"] == 405 and wrong.json()["message"]
