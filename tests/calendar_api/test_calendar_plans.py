"""Every window query is a bounded range of an index, on SQLite and on PostgreSQL: the
plans show ``start_utc`` bounded on both sides for each span class (only the class of
never-ending series reads from the owner's first event), and no scan of the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from calendar_api.models import Event, event_values, new_event_id, now_utc
from calendar_api.queries import Filters
from calendar_api.store import Store

BASE = datetime(2020, 1, 1, tzinfo=UTC)
WINDOW = Filters(datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 1, 8, tzinfo=UTC))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema(timedelta(days=1))
    if store.is_postgresql:  # tiny tables: make the planner show what the query allows

        @event.listens_for(store.engine, "begin")
        def _no_seqscan(connection: object) -> None:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # type: ignore[attr-defined]

    for owner in ("usr_1", "usr_2"):
        for i in range(60):
            _add(store, owner, BASE + timedelta(days=i * 7), timedelta(hours=1))
        _add(store, owner, BASE, timedelta(days=30))
        _add(store, owner, BASE, timedelta(hours=1), ("RRULE:FREQ=DAILY",))
    yield store
    store.engine.dispose()


def _add(
    store: Store, owner: str, start: datetime, length: timedelta, rule: tuple[str, ...] = ()
) -> None:
    fields = {
        "title": "t",
        "description": "",
        "location": "",
        "start": start,
        "end": start + length,
        "time_zone": "UTC",
        "recurrence": list(rule),
    }
    now = now_utc()
    values = event_values(fields)
    store.add(
        Event(
            id=new_event_id(), owner=owner, version=1, created_utc=now, updated_utc=now, **values
        ),
        None,
        {},
    )


def test_each_span_class_is_an_index_range_bounded_on_both_sides(store: Store) -> None:
    plan = store.plan("usr_1", WINDOW, 51)
    text = "\n".join(plan)
    if store.is_postgresql:
        assert "Seq Scan" not in text, text
        conditions = [line for line in plan if "Index Cond" in line or "Recheck Cond" in line]
        bounded = [c for c in conditions if "start_utc >=" in c and "start_utc <" in c]
        open_ended = [c for c in conditions if "span_class = 62" in c]
    else:
        assert not any(line.startswith("SCAN calendar_events") for line in plan), text
        conditions = [line for line in plan if line.startswith("SEARCH calendar_events")]
        bounded = [c for c in conditions if "start_utc>? AND start_utc<?" in c]
        open_ended = [c for c in conditions if c not in bounded]
    assert len(bounded) == 2, text  # the one-hour class and the thirty-day class
    assert len(open_ended) == 1, text  # the daily series that never ends
    assert all("owner" in c for c in conditions)


def test_the_plan_lists_what_the_page_returns(store: Store) -> None:
    events, _ = store.page("usr_1", WINDOW, None, 51)
    assert {e.owner for e in events} == {"usr_1"}
    # The week's weekly event (6 January) and the daily series; the 30-day event has ended.
    assert [e.start_utc.date().isoformat() for e in events] == ["2020-01-01", "2021-01-06"]
