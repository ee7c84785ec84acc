"""Upgrading a database of the first release (tables made by ``create_all``, no Alembic) in
place, on SQLite and PostgreSQL: its events keep working in windows, expansion and sync."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from alembic import command
from alembic.config import Config
from calendar_helpers import EVENTS, CalendarClient
from sqlalchemy import create_engine, inspect, text

from calendar_api.database import MIGRATIONS
from calendar_api.queries import Filters

OLD_ROWS = [
    # id, owner, start, end, span end, recurrence, updated
    (
        "evt_old0000000000000000001",
        "usr_123",
        "2026-03-02 08:00:00",
        "2026-03-02 09:00:00",
        "2026-03-02 09:00:00",
        "[]",
        "2026-01-01 00:00:00",
    ),
    (
        "evt_old0000000000000000002",
        "usr_123",
        "2020-01-06 08:00:00",
        "2020-01-06 09:00:00",
        "2020-01-27 09:00:00",
        '["RRULE:FREQ=WEEKLY;COUNT=4"]',
        "2026-01-02 00:00:00",
    ),
    (
        "evt_old0000000000000000003",
        "usr_123",
        "2000-01-03 08:00:00",
        "2000-01-03 09:00:00",
        None,
        '["RRULE:FREQ=DAILY"]',
        "2026-01-03 00:00:00",
    ),
    (
        "evt_old0000000000000000004",
        "usr_456",
        "2026-03-03 08:00:00",
        "2026-03-03 09:00:00",
        "2026-03-03 09:00:00",
        "[]",
        "2026-01-04 00:00:00",
    ),
]


def _first_release_database(url: str) -> None:
    """The schema as release one left it, with its rows, and no alembic_version table."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.execute(text("DROP TABLE alembic_version"))
            for row in OLD_ROWS:
                connection.execute(
                    text(
                        "INSERT INTO calendar_events (id, owner, version, title, description, "
                        "location, time_zone, all_day, start_utc, end_utc, span_end_utc, "
                        "recurrence, search_text, created_utc, updated_utc) VALUES (:id, "
                        ":owner, 1, 'Old', '', '', 'UTC', false, :start, :end, :span, :rec, "
                        "'old', :updated, :updated)"
                    ),
                    dict(
                        zip(
                            ("id", "owner", "start", "end", "span", "rec", "updated"),
                            row,
                            strict=True,
                        )
                    ),
                )
    finally:
        engine.dispose()


def test_a_first_release_database_is_upgraded_and_keeps_working(
    make_app: Callable[..., Any], serve: Callable[[Any], str], tokens: Any, database_url: str
) -> None:
    _first_release_database(database_url)
    app = make_app(DATABASE_URL=database_url)
    api = CalendarClient(serve(app), tokens.mint())
    engine = app.extensions["calendar"].store.engine
    inspector = inspect(engine)
    assert {"calendar_owners", "calendar_tombstones"} <= set(inspector.get_table_names())
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
        )

    listed = api.list_all()
    assert [e["id"][-1] for e in listed] == ["3", "2", "1"]
    march = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-09T00:00:00Z"}
    assert {e["id"][-1] for e in api.list_all(**march)} == {"1", "3"}  # via span classes
    expanded = api.list_all(**march, expand="true")
    assert len(expanded) == 8  # the single event and seven daily instances
    in_2020 = {"start": "2020-01-20T00:00:00Z", "end": "2020-02-20T00:00:00Z", "expand": "true"}
    assert [i["start"][:10] for i in api.list_all(**in_2020) if i["id"][-1] == "2"] == [
        "2020-01-20",
        "2020-01-27",
    ]

    token = api.get(EVENTS).json()["next_sync_token"]
    assert api.get(EVENTS, params={"sync_token": token}).json()["items"] == []
    api.delete(f"{EVENTS}/{listed[0]['id']}", headers={"If-Match": "*"})
    created = api.create()
    changes = api.get(EVENTS, params={"sync_token": token}).json()["items"]
    assert [c["id"] for c in changes] == [listed[0]["id"], created["id"]]

    other = api.as_user(tokens.mint(sub="usr_456")).list_all()
    assert [e["id"][-1] for e in other] == ["4"]


def test_migrating_twice_or_from_several_processes_is_harmless(
    make_app: Callable[..., Any], database_url: str
) -> None:
    _first_release_database(database_url)
    first, second = make_app(DATABASE_URL=database_url), make_app(DATABASE_URL=database_url)
    for app in (first, second):
        events, _ = app.extensions["calendar"].store.page("usr_123", Filters(), None, 10)
        assert len(events) == 3
        assert all(e.change_seq > 0 for e in events)
        assert events[0].start_utc == datetime(2000, 1, 3, 8)


def test_workers_starting_at_once_migrate_an_empty_database_once(database_url: str) -> None:
    """gunicorn starts its workers together: each runs the migration, one does the work."""
    script = (
        "import sys, time, datetime; from calendar_api.store import Store; "
        "s = Store(sys.argv[1]); time.sleep(max(0, float(sys.argv[2]) - time.time())); "
        "s.create_schema(datetime.timedelta(days=1)); s.engine.dispose()"
    )
    at = str(time.time() + 4)  # past every worker's imports: they migrate at the same moment
    workers = [
        subprocess.Popen([sys.executable, "-c", script, database_url, at], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=60)
        assert worker.returncode == 0, errors.decode()[-2000:]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v for (v,) in versions] == ["0002"]
    finally:
        engine.dispose()
