"""No lost updates and no duplicate creates, with real threads against the real threaded
server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg
import pytest
import requests
from calendar_helpers import EVENTS, CalendarClient, event_body, postgres_dsn


@pytest.fixture
def live(
    make_app: Callable[..., Any], serve: Callable[[Any], str], tokens: Any, database_url: str
) -> CalendarClient:
    return CalendarClient(serve(make_app(DATABASE_URL=database_url)), tokens.mint())


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_writers_with_the_same_etag_exactly_one_wins(live: CalendarClient) -> None:
    for round_number in range(6):
        event = live.create(title="original")
        path = f"{EVENTS}/{event['id']}"
        stale = {"If-Match": event["etag"]}
        first, second = _at_once(
            partial(live.patch, path, json={"title": "first"}, headers=stale),
            partial(live.put, path, json=event_body(title="second"), headers=stale),
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 412], (round_number, first.text, second.text)
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        assert loser.headers["ETag"] == winner.headers["ETag"]
        stored = live.get(path).json()
        assert stored["title"] == winner.json()["title"]
        assert stored["etag"] == winner.headers["ETag"]


def test_delete_racing_an_update_leaves_one_outcome(live: CalendarClient) -> None:
    for _ in range(4):
        event = live.create()
        path = f"{EVENTS}/{event['id']}"
        stale = {"If-Match": event["etag"]}
        update, removal = _at_once(
            partial(live.patch, path, json={"title": "changed"}, headers=stale),
            partial(live.delete, path, headers=stale),
        )
        outcome = (update.status_code, removal.status_code)
        assert outcome in {(200, 412), (404, 204)}, outcome
        assert live.get(path).status_code == (200 if outcome == (200, 412) else 404)


def test_star_writers_all_succeed_in_turn(live: CalendarClient) -> None:
    event = live.create()
    path = f"{EVENTS}/{event['id']}"
    star = {"If-Match": "*"}
    results = _at_once(
        *[partial(live.patch, path, json={"title": f"t{i}"}, headers=star) for i in range(4)]
    )
    assert [r.status_code for r in results] == [200] * 4
    assert len({r.headers["ETag"] for r in results}) == 4


def test_concurrent_retries_with_one_idempotency_key_create_one_event(
    live: CalendarClient,
) -> None:
    body = event_body(title="Booked once")
    headers = {"Idempotency-Key": "retry-7f3a"}
    results = _at_once(*[partial(live.post, EVENTS, json=body, headers=headers)] * 6)
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.json()["id"] for r in results}) == 1
    assert len({r.text for r in results}) == 1  # the very same first answer, replayed
    replayed = Counter(r.headers.get("Idempotent-Replayed") for r in results)
    assert replayed == {None: 1, "true": 5}
    assert all(r.headers["Location"] == results[0].headers["Location"] for r in results)
    assert [e["title"] for e in live.list_all()] == ["Booked once"]


def test_an_idempotency_key_reused_with_another_body_is_422(live: CalendarClient) -> None:
    headers = {"Idempotency-Key": '"b1a2"'}  # the IETF draft's quoted form
    first = live.post(EVENTS, json=event_body(title="A"), headers=headers)
    assert first.status_code == 201
    again = live.post(EVENTS, json=event_body(title="A"), headers={"Idempotency-Key": "b1a2"})
    assert again.status_code == 201 and again.json() == first.json()
    different = live.post(EVENTS, json=event_body(title="B"), headers=headers)
    assert different.status_code == 422
    assert "different request body" in different.json()["message"]
    assert len(live.list_all()) == 1


def test_a_replay_returns_the_first_answer_even_after_changes(live: CalendarClient) -> None:
    headers = {"Idempotency-Key": "first-answer"}
    first = live.post(EVENTS, json=event_body(), headers=headers)
    path = first.headers["Location"]
    live.delete(path, headers={"If-Match": first.headers["ETag"]})
    replay = live.post(EVENTS, json=event_body(), headers=headers)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert live.list_all() == []


@pytest.mark.postgres
def test_a_locked_database_is_503_with_retry_after(
    make_app: Callable[..., Any], serve: Callable[[Any], str], tokens: Any, postgres_url: str
) -> None:
    schema = postgres_url.rsplit("%3D", 1)[1]
    app = make_app(DATABASE_URL=postgres_url + "%20-clock_timeout%3D300")
    api = CalendarClient(serve(app), tokens.mint())
    api.create()
    with psycopg.connect(postgres_dsn()) as locker:
        locker.execute(f'LOCK TABLE "{schema}".calendar_events IN ACCESS EXCLUSIVE MODE')
        response = requests.get(  # not api.get: that helper treats any 5xx as a failure
            api.base_url + EVENTS, headers={"Authorization": f"Bearer {api.token}"}, timeout=10
        )
        locker.rollback()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "database is unavailable" in response.json()["message"]
    assert api.get(EVENTS).status_code == 200
