"""Incremental sync over HTTP, on SQLite and on PostgreSQL: a client that lists in full once,
then applies every sync page in order, holds exactly the server's calendar, and nothing of
anyone else's, even while other requests write in between."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from calendar_helpers import EVENTS, CalendarClient, event_body
from sqlalchemy import update

from calendar_api.models import Tombstone, now_utc

Replica = dict[str, dict[str, Any]]


@pytest.fixture
def live(
    make_app: Callable[..., Any], serve: Callable[[Any], str], tokens: Any, database_url: str
) -> Iterator[tuple[CalendarClient, Any]]:
    app = make_app(DATABASE_URL=database_url)
    yield CalendarClient(serve(app), tokens.mint()), app


def _pages(api: CalendarClient, **params: Any) -> Iterator[dict[str, Any]]:
    while True:
        response = api.get(EVENTS, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        yield body
        if body["next_cursor"] is None:
            return
        assert body["next_sync_token"] is None  # only the last page hands one out
        assert response.links["next"]["url"].endswith("cursor=" + body["next_cursor"])
        params = {**params, "cursor": body["next_cursor"]}


def full_listing(api: CalendarClient, limit: int = 3) -> tuple[Replica, str]:
    replica: Replica = {}
    for page in _pages(api, limit=limit):
        for item in page["items"]:
            assert item["status"] == "confirmed"
            replica[item["id"]] = item
    assert page["next_sync_token"]
    return replica, page["next_sync_token"]


def sync(api: CalendarClient, replica: Replica, token: str, limit: int = 3) -> tuple[int, str]:
    """Apply every change since ``token`` to ``replica``; returns (items seen, new token)."""
    seen = 0
    for page in _pages(api, sync_token=token, limit=limit):
        for item in page["items"]:
            seen += 1
            if item["status"] == "cancelled":
                assert set(item) == {"id", "status"}
                replica.pop(item["id"], None)
            else:
                assert item["status"] == "confirmed"
                replica[item["id"]] = item
    return seen, page["next_sync_token"]


def server_state(api: CalendarClient) -> Replica:
    return full_listing(api, limit=100)[0]


def test_a_full_listing_hands_out_a_token_and_a_sync_returns_exactly_the_changes(
    live: tuple[CalendarClient, Any],
) -> None:
    api, _ = live
    kept, changed, removed = (api.create(title=t) for t in ("kept", "changed", "removed"))
    replica, token = full_listing(api, limit=2)
    assert set(replica) == {kept["id"], changed["id"], removed["id"]}

    patched = api.patch(
        f"{EVENTS}/{changed['id']}", json={"title": "new"}, headers={"If-Match": changed["etag"]}
    ).json()
    api.delete(f"{EVENTS}/{removed['id']}", headers={"If-Match": removed["etag"]})
    added = api.create(title="added")

    body = api.get(EVENTS, params={"sync_token": token}).json()
    assert body["next_cursor"] is None
    by_id = {item["id"]: item for item in body["items"]}
    assert set(by_id) == {changed["id"], removed["id"], added["id"]}
    assert by_id[changed["id"]] == {**patched, "status": "confirmed"}
    assert by_id[changed["id"]]["etag"] == patched["etag"] != changed["etag"]
    assert by_id[removed["id"]] == {"id": removed["id"], "status": "cancelled"}
    assert by_id[added["id"]]["title"] == "added"

    again = api.get(EVENTS, params={"sync_token": body["next_sync_token"]}).json()
    assert again["items"] == [] and again["next_sync_token"] == body["next_sync_token"]
    seen, _ = sync(api, replica, token)
    assert seen == 3 and replica == server_state(api)


def test_only_the_full_listing_carries_a_sync_token(live: tuple[CalendarClient, Any]) -> None:
    api, _ = live
    api.create()
    window = {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    for params in (window, {"q": "plan"}, {**window, "expand": "true"}):
        body = api.get(EVENTS, params=params).json()
        assert len(body["items"]) == 1 and body["next_sync_token"] is None, params
    assert api.get(EVENTS).json()["next_sync_token"]


def test_an_empty_calendar_syncs_too(live: tuple[CalendarClient, Any]) -> None:
    api, _ = live
    replica, token = full_listing(api)
    assert replica == {}
    created = api.create()
    assert sync(api, replica, token)[0] == 1
    assert list(replica) == [created["id"]]


def test_sync_pages_follow_change_order_and_an_event_changed_between_pages_comes_again(
    live: tuple[CalendarClient, Any],
) -> None:
    api, _ = live
    _, token = full_listing(api)
    events = [api.create(title=f"e{i}") for i in range(5)]
    first = api.get(EVENTS, params={"sync_token": token, "limit": 2}).json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in events[:2]]
    api.patch(f"{EVENTS}/{events[0]['id']}", json={"title": "late"}, headers={"If-Match": "*"})
    rest = [*_pages(api, sync_token=token, limit=2, cursor=first["next_cursor"])]
    items = [item for page in rest for item in page["items"]]
    assert [e["id"] for e in items] == [e["id"] for e in events[2:]] + [events[0]["id"]]
    assert items[-1]["title"] == "late"


def test_writes_while_paging_are_never_lost(live: tuple[CalendarClient, Any]) -> None:
    """A writer creates, changes and deletes while the client lists and syncs in small pages;
    once it stops, one more sync leaves the client exactly in sync."""
    api, _ = live
    for i in range(12):
        api.create(
            title=f"seed {i}",
            start=f"2026-05-{i + 1:02d}T09:00:00Z",
            end=f"2026-05-{i + 1:02d}T10:00:00Z",
        )
    stop = threading.Event()
    writes: list[int] = []

    def writer() -> None:
        rng = random.Random(7)
        while not stop.is_set():
            current = list(server_state(api).values())
            choice = rng.random()
            if choice < 0.4 or not current:
                day = rng.randint(1, 28)
                api.create(
                    title="w",
                    start=f"2026-05-{day:02d}T08:00:00Z",
                    end=f"2026-05-{day:02d}T09:00:00Z",
                )
            elif choice < 0.7:
                target = rng.choice(current)
                day = rng.randint(1, 28)  # moves the event to another page position
                change = {
                    "start": f"2026-05-{day:02d}T07:00:00Z",
                    "end": f"2026-05-{day:02d}T08:00:00Z",
                }
                api.patch(f"{EVENTS}/{target['id']}", json=change, headers={"If-Match": "*"})
            else:
                api.delete(f"{EVENTS}/{rng.choice(current)['id']}", headers={"If-Match": "*"})
            writes.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while not writes:
            time.sleep(0.01)
        replica, token = full_listing(api, limit=2)
        deadline = time.monotonic() + 30
        while len(writes) < 30 and time.monotonic() < deadline:
            _, token = sync(api, replica, token, limit=2)
    finally:
        stop.set()
        thread.join(60)
    assert len(writes) >= 30
    _, token = sync(api, replica, token, limit=2)
    assert replica == server_state(api)
    assert sync(api, replica, token)[0] == 0


def test_nothing_of_another_user_appears(live: tuple[CalendarClient, Any], tokens: Any) -> None:
    api, _ = live
    other = api.as_user(tokens.mint(sub="usr_456"))
    mine = api.create(title="mine")
    theirs = other.create(title="theirs")
    replica, token = full_listing(api)
    assert list(replica) == [mine["id"]]
    other.patch(f"{EVENTS}/{theirs['id']}", json={"title": "x"}, headers={"If-Match": "*"})
    other.delete(f"{EVENTS}/{theirs['id']}", headers={"If-Match": "*"})
    other.create(title="theirs too")
    assert api.get(EVENTS, params={"sync_token": token}).json()["items"] == []
    response = other.get(EVENTS, params={"sync_token": token})
    assert response.status_code == 410
    assert "another user" in response.json()["message"]


@pytest.mark.parametrize(
    "param",
    [
        {"start": "2026-01-01T00:00:00Z"},
        {"end": "2026-01-01T00:00:00Z"},
        {"q": "x"},
        {"expand": "true"},
    ],
)
def test_sync_token_with_a_filter_is_a_400(
    live: tuple[CalendarClient, Any], param: dict[str, str]
) -> None:
    api, _ = live
    _, token = full_listing(api)
    response = api.get(EVENTS, params={"sync_token": token, **param})
    assert response.status_code == 400
    assert "sync_token cannot be combined" in response.json()["message"]


def _token(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_tokens_we_cannot_vouch_for_are_410_gone(live: tuple[CalendarClient, Any]) -> None:
    api, _ = live
    api.create()
    _, token = full_listing(api)
    owner = json.loads(base64.urlsafe_b64decode(token + "==="))["u"]
    for bad in (
        "not-a-token",
        "!!",
        "",
        _token([1]),
        _token({"u": owner, "s": -1}),
        _token({"u": owner, "s": True}),
        _token({"u": owner, "s": 1, "x": 2}),
        _token({"u": owner, "s": 10**6}),  # newer than any change: another database's
        "A" * 500,
    ):
        response = api.get(EVENTS, params={"sync_token": bad})
        assert response.status_code == 410, (bad, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert "list it in full" in response.json()["message"]
    assert api.get(EVENTS, params={"sync_token": token}).status_code == 200


def test_a_cursor_of_another_sync_is_refused(live: tuple[CalendarClient, Any]) -> None:
    api, _ = live
    _, first_token = full_listing(api)
    for _ in range(3):
        api.create()
    _, second_token = full_listing(api)
    page = api.get(EVENTS, params={"sync_token": first_token, "limit": 1}).json()
    response = api.get(EVENTS, params={"sync_token": second_token, "cursor": page["next_cursor"]})
    assert response.status_code == 400
    listing_cursor = api.get(EVENTS, params={"limit": 1}).json()["next_cursor"]
    response = api.get(EVENTS, params={"sync_token": first_token, "cursor": listing_cursor})
    assert response.status_code == 400


def test_tokens_older_than_the_remembered_deletions_are_410(
    live: tuple[CalendarClient, Any],
) -> None:
    """Tombstones older than CALENDAR_SYNC_RETENTION_SECONDS are forgotten by the next
    delete; a token from before them can no longer tell the client what went away."""
    api, app = live
    first, second = api.create(), api.create()
    _, old_token = full_listing(api)
    api.delete(f"{EVENTS}/{first['id']}", headers={"If-Match": "*"})
    _, recent_token = full_listing(api)
    store = app.extensions["calendar"].store
    with store.engine.begin() as connection:  # the first deletion is now 31 days old
        aged = now_utc() - timedelta(days=31)
        connection.execute(update(Tombstone).values(deleted_utc=aged))
    assert api.get(EVENTS, params={"sync_token": old_token}).status_code == 200  # not yet purged
    api.delete(f"{EVENTS}/{second['id']}", headers={"If-Match": "*"})  # purges the old one
    response = api.get(EVENTS, params={"sync_token": old_token})
    assert response.status_code == 410
    assert "older than the deletions" in response.json()["message"]
    body = api.get(EVENTS, params={"sync_token": recent_token}).json()
    assert body["items"] == [{"id": second["id"], "status": "cancelled"}]


def test_the_retention_is_a_setting(make_app: Callable[..., Any], tmp_path: Any) -> None:
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path}/r.sqlite3", CALENDAR_SYNC_RETENTION_SECONDS="7200"
    )
    assert app.extensions["calendar"].store.tombstone_retention == timedelta(hours=2)
    with pytest.raises(Exception, match="CALENDAR_SYNC_RETENTION_SECONDS"):
        make_app(
            DATABASE_URL=f"sqlite:///{tmp_path}/s.sqlite3", CALENDAR_SYNC_RETENTION_SECONDS="60"
        )


def test_random_histories_replay_exactly(live: tuple[CalendarClient, Any]) -> None:
    """Several rounds of random writes, each followed by a sync in pages of one."""
    api, _ = live
    rng = random.Random(11)
    replica, token = full_listing(api)
    for _ in range(6):
        for _ in range(rng.randint(0, 6)):
            current = list(server_state(api).values())
            if current and rng.random() < 0.5:
                target = rng.choice(current)
                if rng.random() < 0.5:
                    api.delete(f"{EVENTS}/{target['id']}", headers={"If-Match": target["etag"]})
                else:
                    body = event_body(title=f"t{rng.randint(0, 99)}")
                    api.put(
                        f"{EVENTS}/{target['id']}", json=body, headers={"If-Match": target["etag"]}
                    )
            else:
                api.create(title=f"n{rng.randint(0, 99)}")
        _, token = sync(api, replica, token, limit=1)
        assert replica == server_state(api)


def test_a_change_behind_the_listing_cursor_comes_with_the_next_sync(
    live: tuple[CalendarClient, Any],
) -> None:
    """The token is the change number the first page saw, not the last page's."""
    api, _ = live
    early, _late = (
        api.create(start="2026-01-01T09:00:00Z", end="2026-01-01T10:00:00Z"),
        api.create(),
    )
    first = api.get(EVENTS, params={"limit": 1}).json()
    assert [e["id"] for e in first["items"]] == [early["id"]]
    api.patch(f"{EVENTS}/{early['id']}", json={"title": "renamed"}, headers={"If-Match": "*"})
    last = api.get(EVENTS, params={"limit": 1, "cursor": first["next_cursor"]}).json()
    changes = api.get(EVENTS, params={"sync_token": last["next_sync_token"]}).json()["items"]
    assert [(e["id"], e["title"]) for e in changes] == [(early["id"], "renamed")]
