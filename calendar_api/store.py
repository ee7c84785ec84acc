"""The calendar's database (SQLite by default, PostgreSQL by URL) and its transactions.

Rules every method keeps:

* Every query is scoped by ``owner`` (``queries``); another user's event is simply not found.
* Every write is one transaction: nothing is half-written when a request fails.
* Updates and deletes are compare-and-swap on ``version`` (``UPDATE ... WHERE version = ?``):
  of two writers holding the same ETag exactly one wins, whatever the database.
* SQLite runs in WAL mode with a busy timeout, and write transactions start with
  ``BEGIN IMMEDIATE`` so concurrent writers queue up instead of failing with "database is
  locked" when a read lock cannot be upgraded.

The schema is created on start with ``create_all`` (inside a transaction, under an advisory
lock on PostgreSQL so several processes may start at once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, text, tuple_, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from service_kit.files import create_private

from .errors import IdempotencyKeyReused, PreconditionFailed
from .models import Base, Event, IdempotencyRecord, now_utc
from .queries import Filters, find_event, owner_events, same_version

_SCHEMA_LOCK = 0x63616C31  # "cal1": serialises create_all across processes on PostgreSQL
_CAS_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A create's key, a hash of its body, and the age beyond which old keys are forgotten."""

    value: str
    fingerprint: str
    ttl: timedelta


class Store:
    """The calendar's database; one per process, safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.engine = _engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(writer, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def create_schema(self, idempotency_ttl: timedelta) -> None:
        """Create missing tables and indexes, then drop idempotency keys past their TTL."""
        with self._write.begin() as session:
            if self.is_postgresql:
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
            Base.metadata.create_all(session.connection())
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.created_utc < now_utc() - idempotency_ttl
                )
            )

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def get(self, owner: str, event_id: str) -> Event:
        with self._read.begin() as session:
            return find_event(session, owner, event_id)

    def page(
        self, owner: str, filters: Filters, after: tuple[datetime, str] | None, limit: int
    ) -> list[Event]:
        """Up to ``limit`` events after the keyset position ``after``, ordered by (start, id)."""
        query = owner_events(owner, filters).limit(limit)
        if after is not None:
            query = query.where(tuple_(Event.start_utc, Event.id) > tuple_(*after))
        with self._read.begin() as session:
            return list(session.scalars(query))

    def scan(self, owner: str, filters: Filters) -> Iterator[Event]:
        """Every matching event in (start, id) order: for expansion and the iCalendar feed."""
        with self._read.begin() as session:
            yield from session.scalars(
                owner_events(owner, filters).execution_options(yield_per=200)
            )

    def add(
        self,
        event: Event,
        key: IdempotencyKey | None,
        response: Mapping[str, Any],
    ) -> tuple[Mapping[str, Any], bool]:
        """Insert ``event``; with a key, first claim it. Returns (response body, replayed).

        The key row is inserted and flushed before the event, in the same transaction: a
        concurrent retry with the same key blocks on (PostgreSQL) or queues behind
        (SQLite) the first, then finds its row and replays its answer instead of creating
        a second event.
        """
        if key is None:
            with self._write.begin() as session:
                session.add(event)
            return response, False
        try:
            with self._write.begin() as session:
                now = now_utc()
                session.execute(
                    delete(IdempotencyRecord).where(
                        IdempotencyRecord.owner == event.owner,
                        IdempotencyRecord.created_utc < now - key.ttl,
                    )
                )
                existing = session.get(IdempotencyRecord, (event.owner, key.value))
                if existing is not None:
                    return _replay(existing, key), True
                session.add(
                    IdempotencyRecord(
                        owner=event.owner,
                        key=key.value,
                        fingerprint=key.fingerprint,
                        event_id=event.id,
                        response=dict(response),
                        created_utc=now,
                    )
                )
                session.flush()
                session.add(event)
        except IntegrityError:
            with self._read.begin() as session:
                existing = session.get(IdempotencyRecord, (event.owner, key.value))
            if existing is None:
                raise
            return _replay(existing, key), True
        return response, False

    def update(
        self, owner: str, event_id: str, change: Callable[[Event], Mapping[str, Any]]
    ) -> Event:
        """Write ``change(current)`` if nobody wrote in between; ``change`` may refuse (raise).

        A lost compare-and-swap re-reads and asks ``change`` again, so ``If-Match: *``
        succeeds while a specific, now stale, ETag gets its 412.
        """
        with self._write.begin() as session:
            for _ in range(_CAS_ATTEMPTS):
                current = find_event(session, owner, event_id)
                values = {**change(current), "version": current.version + 1}
                values["updated_utc"] = max(now_utc(), current.updated_utc)
                swapped = session.execute(
                    update(Event)
                    .where(same_version(current))
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if swapped.rowcount == 1:
                    return find_event(session, owner, event_id)
            raise PreconditionFailed(find_event(session, owner, event_id).etag)

    def delete(self, owner: str, event_id: str, check: Callable[[Event], None]) -> None:
        """Delete after ``check(current)`` passes, with the same compare-and-swap as ``update``."""
        with self._write.begin() as session:
            for _ in range(_CAS_ATTEMPTS):
                current = find_event(session, owner, event_id)
                check(current)
                removed = session.execute(
                    delete(Event)
                    .where(same_version(current))
                    .execution_options(synchronize_session=False)
                )
                if removed.rowcount == 1:
                    return
            raise PreconditionFailed(find_event(session, owner, event_id).etag)


def _replay(record: IdempotencyRecord, key: IdempotencyKey) -> Mapping[str, Any]:
    if record.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused()
    return record.response


def _engine(url: str) -> Engine:
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
