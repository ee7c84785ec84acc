"""Who may do what: user isolation on every route, scopes, and machine tokens refused."""

from __future__ import annotations

from typing import Any

import pytest
from calendar_helpers import CAL_AUD, EVENTS, CalendarClient, event_body


@pytest.fixture
def owned(api: CalendarClient) -> dict[str, Any]:
    """An event of usr_123 (the ``api`` user)."""
    return api.create(title="Private", description="secret plans", location="home")


def _same_404(response: Any, missing: Any) -> None:
    assert response.status_code == 404
    assert response.json() == missing.json()
    assert response.headers.get("ETag") is None


def test_another_users_event_is_404_exactly_like_a_missing_one_on_every_method(
    api: CalendarClient, other_user: CalendarClient, owned: dict[str, Any]
) -> None:
    path = f"{EVENTS}/{owned['id']}"
    missing = other_user.get(f"{EVENTS}/evt_AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    etag = {"If-Match": owned["etag"]}
    attempts = [
        other_user.get(path),
        other_user.get(path, headers={"If-None-Match": owned["etag"]}),
        other_user.put(path, json=event_body(title="hijack"), headers=etag),
        other_user.put(path, json=event_body(title="hijack"), headers={"If-Match": '"stale"'}),
        other_user.patch(path, json={"title": "hijack"}, headers=etag),
        other_user.patch(path, json={"title": "hijack"}, headers={"If-Match": "*"}),
        other_user.patch(path, json={"title": "hijack"}, headers={"If-Match": '"stale"'}),
        other_user.delete(path, headers=etag),
        other_user.delete(path, headers={"If-Match": "*"}),
        other_user.delete(path, headers={"If-Match": '"stale"'}),
    ]
    for response in attempts:
        _same_404(response, missing)
    assert api.get(path).json() == owned  # untouched


def test_lists_search_expansion_and_feed_show_only_the_callers_events(
    api: CalendarClient, other_user: CalendarClient, owned: dict[str, Any]
) -> None:
    mine = other_user.create(title="Mine")
    window = {"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}
    assert [e["id"] for e in other_user.list_all()] == [mine["id"]]
    assert other_user.list_all(q="secret") == []
    assert [e["id"] for e in other_user.list_all(expand="true", **window)] == [mine["id"]]
    feed = other_user.get(f"{EVENTS}.ics").text
    assert mine["id"] in feed and owned["id"] not in feed and "secret" not in feed
    assert [e["id"] for e in api.list_all()] == [owned["id"]]


def test_idempotency_keys_belong_to_one_user(
    api: CalendarClient, other_user: CalendarClient
) -> None:
    headers = {"Idempotency-Key": "shared-key-1"}
    first = api.post(EVENTS, json=event_body(), headers=headers)
    second = other_user.post(EVENTS, json=event_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second.headers


def test_no_token_is_401_with_a_bare_challenge(api: CalendarClient) -> None:
    """No error code (RFC 6750 3.1); the scope the route needs tells the client what to get."""
    metadata = "http://127.0.0.1:8001/.well-known/oauth-protected-resource/calendar/v1/"
    for method, scope in (("GET", "read"), ("POST", "write")):
        response = api.request(method, EVENTS, token="", json=event_body())
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == (
            f'Bearer realm="calendar", scope="{scope}", resource_metadata="{metadata}", '
            f'DPoP realm="calendar", resource_metadata="{metadata}", '
            'algs="ES256 EdDSA RS256 PS256"'
        )
    assert api.get(f"{EVENTS}.ics", token="").status_code == 401
    assert api.get(f"{EVENTS}/evt_AAAAAAAAAAAAAAAAAAAAAA", token="").status_code == 401


def test_read_scope_cannot_write(api: CalendarClient, tokens: Any) -> None:
    event = api.create()
    reader = api.as_user(tokens.mint(scope="read"))
    path = f"{EVENTS}/{event['id']}"
    headers = {"If-Match": event["etag"]}
    for response in (
        reader.post(EVENTS, json=event_body()),
        reader.put(path, json=event_body(title="x"), headers=headers),
        reader.patch(path, json={"title": "x"}, headers=headers),
        reader.delete(path, headers=headers),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
        assert response.json()["scope"] == "write"
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
        assert 'scope="write"' in response.headers["WWW-Authenticate"]
    assert reader.get(path).status_code == 200
    assert reader.get(EVENTS).status_code == 200
    assert reader.get(f"{EVENTS}.ics").status_code == 200
    assert api.get(path).json() == event


def test_write_scope_alone_cannot_read(api: CalendarClient, tokens: Any) -> None:
    writer = api.as_user(tokens.mint(scope="write"))
    response = writer.get(EVENTS)
    assert response.status_code == 403
    assert response.json()["scope"] == "read"
    assert writer.post(EVENTS, json=event_body()).status_code == 201


def test_scope_check_runs_before_body_validation(api: CalendarClient, tokens: Any) -> None:
    reader = api.as_user(tokens.mint(scope="read"))
    response = reader.post(EVENTS, data="{not json", headers={"Content-Type": "text/plain"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "calendar-batch@clients", "azp": "calendar-batch", "gty": "client-credentials"},
        {"sub": "calendar-batch", "client_id": "calendar-batch"},  # RFC 9068 style
    ],
)
def test_client_credentials_tokens_are_refused_on_every_route(
    api: CalendarClient, tokens: Any, claims: dict[str, str]
) -> None:
    event = api.create()
    machine = api.as_user(tokens.mint(aud=CAL_AUD, scope="read write", **claims))
    path = f"{EVENTS}/{event['id']}"
    for response in (
        machine.get(EVENTS),
        machine.get(f"{EVENTS}.ics"),
        machine.get(path),
        machine.post(EVENTS, json=event_body()),
        machine.put(path, json=event_body(), headers={"If-Match": "*"}),
        machine.patch(path, json={"title": "x"}, headers={"If-Match": "*"}),
        machine.delete(path, headers={"If-Match": "*"}),
    ):
        assert response.status_code == 403
        body = response.json()
        assert body["error"] == "invalid_token"
        assert "needs a user's access token" in body["message"]
        assert "client-credentials" in body["message"]
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="calendar", error="invalid_token"')
        assert "needs a user" in challenge
    assert api.get(path).json() == event


def test_the_demo_batch_clients_read_token_hears_about_users_not_scopes(
    api: CalendarClient, tokens: Any
) -> None:
    """calendar-batch holds only ``read``: POST must still say "user token", not "write"."""
    batch = api.as_user(tokens.client_credentials("calendar-batch", aud=CAL_AUD, scope="read"))
    response = batch.post(EVENTS, json=event_body())
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_token"
    assert "user's access token" in response.json()["message"]


@pytest.mark.parametrize(
    ("claims", "phrase"),
    [
        ({"sub": "u" * 256}, "not a usable user id"),
        ({"sub": "usr\x00123"}, "not a usable user id"),
    ],
)
def test_tokens_without_a_usable_user_are_refused(
    api: CalendarClient, tokens: Any, claims: dict[str, Any], phrase: str
) -> None:
    response = api.get(EVENTS, token=tokens.mint(**claims))
    assert response.status_code == 403
    assert phrase in response.json()["message"]


def test_a_token_without_sub_is_401(api: CalendarClient, tokens: Any) -> None:
    """RFC 9068 2.2: sub is required; shared_auth refuses such a token before any rule here."""
    response = api.get(EVENTS, token=tokens.mint(sub=None))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "no sub claim" in response.json()["message"]


def test_tokens_for_another_api_are_401(api: CalendarClient, tokens: Any) -> None:
    response = api.get(EVENTS, token=tokens.mint(aud="https://api.example.com/geocoding/v1/"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
