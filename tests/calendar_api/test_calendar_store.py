"""The store on its own, on SQLite and on PostgreSQL: schema, keyset order, search,
compare-and-swap, idempotency records and their expiry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text, update
from sqlalchemy import event as sqlalchemy_event

from calendar_api.errors import EventNotFound, IdempotencyKeyReused, PreconditionFailed
from calendar_api.models import Event, IdempotencyRecord, event_values, new_event_id, now_utc
from calendar_api.queries import Filters
from calendar_api.store import IdempotencyKey, Store

DAY = timedelta(days=1)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema(DAY)
    yield store
    store.engine.dispose()


def _event(owner: str = "usr_123", **fields: Any) -> Event:
    values = {
        "title": "Planning",
        "description": "",
        "location": "",
        "start": datetime(2026, 3, 23, 9, tzinfo=UTC),
        "end": datetime(2026, 3, 23, 10, tzinfo=UTC),
        "time_zone": "UTC",
        "recurrence": [],
        **fields,
    }
    now = now_utc()
    return Event(
        id=new_event_id(),
        owner=owner,
        version=1,
        created_utc=now,
        updated_utc=now,
        **event_values(values),
    )


def _page(store: Store, owner: str, filters: Filters, after: Any, limit: int) -> list[Event]:
    return store.page(owner, filters, after, limit)[0]


def _add(store: Store, event: Event) -> Event:
    store.add(event, None, {})
    return store.get(event.owner, event.id)


def test_schema_creation_is_repeatable_and_indexed(store: Store) -> None:
    store.create_schema(DAY)  # a second process starting: nothing to do, no error
    inspector = inspect(store.engine)
    tables = {"calendar_events", "calendar_idempotency_keys", "calendar_owners"}
    assert tables | {"calendar_tombstones", "alembic_version"} <= set(inspector.get_table_names())
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("calendar_events")}
    assert indexes["ix_calendar_events_owner_start"] == ["owner", "start_utc", "id"]
    assert indexes["ix_calendar_events_owner_class_start"] == [
        "owner",
        "span_class",
        "start_utc",
        "id",
    ]
    assert indexes["ix_calendar_events_owner_change"] == ["owner", "change_seq"]
    store.ping()


def test_events_round_trip_with_zone_recurrence_and_span(store: Store) -> None:
    stored = _add(
        store,
        _event(
            start=datetime(2026, 3, 16, 8, tzinfo=UTC),
            end=datetime(2026, 3, 16, 9, tzinfo=UTC),
            time_zone="Europe/Berlin",
            recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"],
            title="Ünïcode ☕",
        ),
    )
    assert stored.title == "Ünïcode ☕"
    assert stored.start.isoformat() == "2026-03-16T09:00:00+01:00"
    assert stored.recurrence == ["RRULE:FREQ=WEEKLY;COUNT=3"]
    # The third Monday is after the DST change: 09:00 CEST is 07:00 UTC.
    assert stored.span_end_utc == datetime(2026, 3, 30, 8)
    forever = _add(store, _event(recurrence=["RRULE:FREQ=DAILY"]))
    assert forever.span_end_utc is None


def test_reads_are_scoped_by_owner(store: Store) -> None:
    event = _add(store, _event())
    with pytest.raises(EventNotFound):
        store.get("usr_456", event.id)
    with pytest.raises(EventNotFound):
        store.update("usr_456", event.id, lambda current: {"title": "x"})
    with pytest.raises(EventNotFound):
        store.delete("usr_456", event.id, lambda current: None)
    assert _page(store, "usr_456", Filters(), None, 10) == []
    assert store.get("usr_123", event.id).title == "Planning"


def test_keyset_pages_break_ties_by_id(store: Store) -> None:
    events = [_add(store, _event()) for _ in range(7)]  # all at the same start
    seen: list[str] = []
    after = None
    while True:
        page = _page(store, "usr_123", Filters(), after, 3)
        if not page:
            break
        seen.extend(e.id for e in page)
        after = (page[-1].start_utc, page[-1].id)
    assert seen == sorted(e.id for e in events)


def test_search_folds_case_and_escapes_like_wildcards(store: Store) -> None:
    _add(store, _event(title="Große Runde"))
    _add(store, _event(title="50%_off"))
    _add(store, _event(title="500 offers"))

    def titles(text_filter: str) -> list[str]:
        return sorted(e.title for e in _page(store, "usr_123", Filters(text=text_filter), None, 10))

    assert titles("GROSSE") == ["Große Runde"]
    assert titles("%_") == ["50%_off"]
    assert titles("0_o") == []
    assert titles("o") == ["50%_off", "500 offers", "Große Runde"]


def test_update_is_compare_and_swap_on_version(store: Store) -> None:
    event = _add(store, _event())
    updated = store.update("usr_123", event.id, lambda current: {"title": "v2"})
    assert (updated.version, updated.title) == (2, "v2")
    assert updated.etag != event.etag
    assert updated.updated_utc >= event.updated_utc

    def refuse(current: Event) -> dict[str, Any]:
        raise PreconditionFailed(current.etag)

    with pytest.raises(PreconditionFailed):
        store.update("usr_123", event.id, refuse)
    assert store.get("usr_123", event.id).version == 2


@pytest.mark.postgres
def test_a_write_that_lands_between_read_and_swap_loses_the_race(postgres_url: str) -> None:
    """Deterministic lost update: another connection commits while ``change`` runs.

    PostgreSQL only: on SQLite, BEGIN IMMEDIATE serialises writers, so no write can land
    between this transaction's read and its swap (the HTTP race tests cover both).
    """
    store = Store(postgres_url)
    store.create_schema(DAY)
    event = _add(store, _event())
    rival = create_engine(postgres_url)
    seen: list[int] = []

    def change(current: Event) -> dict[str, Any]:
        seen.append(current.version)
        if len(seen) == 1:
            with rival.begin() as connection:
                connection.execute(
                    update(Event).where(Event.id == event.id).values(version=2, title="rival")
                )
        if current.version != 1:
            raise PreconditionFailed(current.etag)
        return {"title": "mine"}

    try:
        with pytest.raises(PreconditionFailed):
            store.update("usr_123", event.id, change)
        assert seen == [1, 2]  # the swap failed, the event was read again, the check refused
        assert store.get("usr_123", event.id).title == "rival"
    finally:
        rival.dispose()
        store.engine.dispose()


def test_delete_checks_then_removes(store: Store) -> None:
    event = _add(store, _event())

    def refuse(current: Event) -> None:
        raise PreconditionFailed(current.etag)

    with pytest.raises(PreconditionFailed):
        store.delete("usr_123", event.id, refuse)
    store.delete("usr_123", event.id, lambda current: None)
    with pytest.raises(EventNotFound):
        store.get("usr_123", event.id)


def test_idempotency_records_replay_refuse_and_expire(store: Store) -> None:
    key = IdempotencyKey("k-1", "a" * 64, DAY)
    first = _event()
    body, replayed = store.add(first, key, {"id": first.id})
    assert (body, replayed) == ({"id": first.id}, False)
    second = _event()
    body, replayed = store.add(second, key, {"id": second.id})
    assert (body, replayed) == ({"id": first.id}, True)
    with pytest.raises(IdempotencyKeyReused):
        store.add(_event(), IdempotencyKey("k-1", "b" * 64, DAY), {})
    assert [e.id for e in _page(store, "usr_123", Filters(), None, 10)] == [first.id]

    with store.engine.begin() as connection:  # age the record past its TTL
        connection.execute(update(IdempotencyRecord).values(created_utc=now_utc() - 2 * DAY))
    third = _event()
    body, replayed = store.add(third, IdempotencyKey("k-1", "b" * 64, DAY), {"id": third.id})
    assert (body, replayed) == ({"id": third.id}, False)
    assert len(_page(store, "usr_123", Filters(), None, 10)) == 2


def test_startup_purges_expired_idempotency_records(store: Store) -> None:
    store.add(_event(owner="usr_gone"), IdempotencyKey("old", "f" * 64, DAY), {})
    with store.engine.begin() as connection:
        connection.execute(update(IdempotencyRecord).values(created_utc=now_utc() - 3 * DAY))
    store.create_schema(DAY)
    with store.engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM calendar_idempotency_keys"))
        assert count.scalar() == 0


def test_concurrent_creates_with_one_key_make_one_event(store: Store) -> None:
    key = IdempotencyKey("same", "c" * 64, DAY)
    results: list[Any] = []
    barrier = threading.Barrier(5)

    def create() -> None:
        event = _event()
        barrier.wait()
        results.append(store.add(event, key, {"id": event.id}))

    threads = [threading.Thread(target=create) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len({body["id"] for body, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False, True, True, True, True]
    assert len(_page(store, "usr_123", Filters(), None, 10)) == 1


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path}/wal.sqlite3")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.engine.dispose()


def test_in_memory_sqlite_works_for_one_off_uses() -> None:
    """``make openapi`` builds the app on ``sqlite://``; one shared connection serves it."""
    store = Store("sqlite://")
    try:
        store.create_schema(DAY)
        event = _add(store, _event())
        found = threading.Thread(target=lambda: store.get("usr_123", event.id))
        found.start()
        found.join(10)
        assert store.get("usr_123", event.id).title == "Planning"
    finally:
        store.engine.dispose()


def test_window_filter_uses_overlap(store: Store) -> None:
    event = _add(store, _event())
    start, end = event.start_utc.replace(tzinfo=UTC), event.end_utc.replace(tzinfo=UTC)

    def found(window_start: datetime, window_end: datetime) -> bool:
        return bool(_page(store, "usr_123", Filters(window_start, window_end), None, 10))

    hour = timedelta(hours=1)
    assert found(start - hour, start + timedelta(minutes=1))
    assert not found(start - hour, start)
    assert not found(end, end + hour)
    assert found(end - timedelta(minutes=1), end + hour)


def test_keyed_creates_expire_old_keys_without_a_scan_per_request(store: Store) -> None:
    """A keyed create touches its own key row only; expired keys are swept through the
    created_utc index once every few hundred creates, never on each request."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sqlalchemy_event.listen(store.engine, "before_cursor_execute", record)
    try:
        for i in range(3):
            statements.clear()
            event = _event()
            store.add(event, IdempotencyKey(f"k-{i}", "d" * 64, DAY), {"id": event.id})
            deletes = [s for s in statements if s.lstrip().upper().startswith("DELETE")]
            assert deletes == [], deletes
        sweeps = 0
        for i in range(600):
            statements.clear()
            event = _event()
            store.add(event, IdempotencyKey(f"s-{i}", "d" * 64, DAY), {"id": event.id})
            sweeps += sum("DELETE FROM calendar_idempotency_keys" in s for s in statements)
        assert sweeps == 1
    finally:
        sqlalchemy_event.remove(store.engine, "before_cursor_execute", record)
