"""The database engine (SQLite by default, PostgreSQL by URL) and its schema, migrated.

SQLite runs in WAL mode with a busy timeout, and write transactions start with ``BEGIN
IMMEDIATE`` so concurrent writers queue up instead of failing with "database is locked" when
a read lock cannot be upgraded. Its file is created owner-only (0600, and so its WAL).

The schema is Alembic's (``migrations/``), brought to the newest revision at start, under an
advisory lock on PostgreSQL (the write lock on SQLite) so several workers may start at once.
A database from before Alembic (the first release created its tables with ``create_all``) is
recognised and stamped with the revision that describes it, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from service_kit.files import create_private

MIGRATIONS = Path(__file__).with_name("migrations")
FIRST_RELEASE = "0001"
"""The revision that describes the tables the first release created without Alembic."""
_SCHEMA_LOCK = 0x63616C31  # "cal1": serialises migrations across processes on PostgreSQL


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creating it in an empty database)."""
    # SQLite: BEGIN IMMEDIATE takes the write lock first, so a second process starting at the
    # same time waits (busy timeout), then finds the schema current.
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        current = MigrationContext.configure(connection).get_current_revision()
        if current is None and inspect(connection).has_table("calendar_events"):
            command.stamp(config, FIRST_RELEASE)
        command.upgrade(config, "head")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    if parsed.database in (None, "", ":memory:"):
        # One shared connection, so every thread sees the same in-memory database: fine for
        # one-off uses (generating the OpenAPI document), not for serving concurrent requests.
        engine = create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        create_private(Path(parsed.database))  # owner-only, and so are its -wal and -shm
        engine = create_engine(parsed, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin hook below emits BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
