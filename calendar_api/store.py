"""Events and idempotency keys in SQL (SQLAlchemy 2.x): SQLite by default, PostgreSQL by URL.

Rules every method keeps:

* Every query is scoped by ``owner``; another user's event is simply not found.
* Every write is one transaction: nothing is half-written when a request fails.
* Updates and deletes are compare-and-swap on ``version`` (``UPDATE ... WHERE version = ?``):
  of two writers holding the same ETag exactly one wins, whatever the database.
* SQLite runs in WAL mode with a busy timeout, and write transactions start with
  ``BEGIN IMMEDIATE`` so concurrent writers queue up instead of failing with "database is
  locked" when a read lock cannot be upgraded.

The schema is created on start with ``create_all`` (inside a transaction, under an advisory
lock on PostgreSQL so several processes may start at once). Alembic would add a dependency
and a migration tree with nothing to migrate yet; the first change to an existing table is
the moment to add it, with a baseline revision equal to this metadata.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from .errors import EventNotFound, IdempotencyKeyReused, PreconditionFailed
from .recurrence import Series, build_series

ID_PREFIX = "evt_"
_ID = re.compile(r"evt_[A-Za-z0-9_-]{22}")
_SCHEMA_LOCK = 0x63616C31  # "cal1": serialises create_all across processes on PostgreSQL
_CAS_ATTEMPTS = 3


class Base(DeclarativeBase):
    pass


class Event(Base):
    """One event (or recurring series). Times are naive UTC in the database; the zone is kept."""

    __tablename__ = "calendar_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(500))
    time_zone: Mapped[str] = mapped_column(String(64))
    all_day: Mapped[bool] = mapped_column(Boolean)
    start_utc: Mapped[datetime] = mapped_column(DateTime)
    end_utc: Mapped[datetime] = mapped_column(DateTime)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    span_end_utc: Mapped[datetime | None] = mapped_column(DateTime)
    """When the last instance ends; NULL for a series that never ends."""
    recurrence: Mapped[list[str]] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text)
    """Title, description and location case-folded in Python, so ``q`` matches the same
    way on SQLite (whose LOWER knows only ASCII) and PostgreSQL."""
    created_utc: Mapped[datetime] = mapped_column(DateTime)
    updated_utc: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_calendar_events_owner_start", "owner", "start_utc", "id"),
        Index("ix_calendar_events_owner_span_end", "owner", "span_end_utc"),
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start(self) -> date | datetime:
        if self.start_date is not None:
            return self.start_date
        return self.start_utc.replace(tzinfo=UTC).astimezone(self.zone)

    @property
    def end(self) -> date | datetime:
        if self.end_date is not None:
            return self.end_date
        return self.end_utc.replace(tzinfo=UTC).astimezone(self.zone)

    @property
    def created(self) -> datetime:
        return self.created_utc.replace(tzinfo=UTC)

    @property
    def updated(self) -> datetime:
        return self.updated_utc.replace(tzinfo=UTC)

    @property
    def etag(self) -> str:
        """Strong ETag, quoted; derived from id and version, so it changes on every write."""
        digest = hashlib.sha256(f"{self.id}:{self.version}".encode()).digest()
        return '"' + base64.urlsafe_b64encode(digest[:12]).decode() + '"'

    def fields(self) -> dict[str, Any]:
        """The writable fields, as a create request would carry them."""
        return {
            "title": self.title,
            "description": self.description,
            "location": self.location,
            "start": self.start,
            "end": self.end,
            "time_zone": self.time_zone,
            "recurrence": list(self.recurrence),
        }

    def series(self) -> Series:
        return build_series(self.start, self.end, self.time_zone, self.recurrence)


class IdempotencyRecord(Base):
    """The first answer to a create sent with an ``Idempotency-Key``, kept for replays."""

    __tablename__ = "calendar_idempotency_keys"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(32))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_utc: Mapped[datetime] = mapped_column(DateTime, index=True)


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A create's key, a hash of its body, and the age beyond which old keys are forgotten."""

    value: str
    fingerprint: str
    ttl: timedelta


@dataclass(frozen=True, slots=True)
class Filters:
    """``GET /events`` filters: overlap with ``[start, end)`` and a text search."""

    start: datetime | None = None
    end: datetime | None = None
    text: str | None = None

    def clauses(self) -> list[Any]:
        found: list[Any] = []
        if self.start is not None:
            start = naive_utc(self.start)
            found.append(or_(Event.span_end_utc.is_(None), Event.span_end_utc > start))
        if self.end is not None:
            found.append(Event.start_utc < naive_utc(self.end))
        if self.text:
            pattern = "%" + _escape_like(self.text.casefold()) + "%"
            found.append(Event.search_text.like(pattern, escape="\\"))
        return found


def new_event_id() -> str:
    """128 random bits: ids are not guessable and never reused."""
    return ID_PREFIX + secrets.token_urlsafe(16)


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def event_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for validated event fields: UTC times, the series span, search text."""
    series = build_series(fields["start"], fields["end"], fields["time_zone"], fields["recurrence"])
    first, span_end = series.first, series.span_end_utc()
    text_parts = (fields["title"], fields["description"], fields["location"])
    return {
        "title": fields["title"],
        "description": fields["description"],
        "location": fields["location"],
        "time_zone": fields["time_zone"],
        "recurrence": list(fields["recurrence"]),
        "all_day": series.all_day,
        "start_utc": naive_utc(first.start_utc),
        "end_utc": naive_utc(first.end_utc),
        "start_date": series.start if series.all_day else None,
        "end_date": series.end if series.all_day else None,
        "span_end_utc": None if span_end is None else naive_utc(span_end),
        "search_text": "\n".join(text_parts).casefold(),
    }


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
            return _find(session, owner, event_id)

    def page(
        self, owner: str, filters: Filters, after: tuple[datetime, str] | None, limit: int
    ) -> list[Event]:
        """Up to ``limit`` events after the keyset position ``after``, ordered by (start, id)."""
        query = self._query(owner, filters).limit(limit)
        if after is not None:
            query = query.where(tuple_(Event.start_utc, Event.id) > tuple_(*after))
        with self._read.begin() as session:
            return list(session.scalars(query))

    def scan(self, owner: str, filters: Filters) -> Iterator[Event]:
        """Every matching event in (start, id) order: for expansion and the iCalendar feed."""
        with self._read.begin() as session:
            yield from session.scalars(self._query(owner, filters).execution_options(yield_per=200))

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
                current = _find(session, owner, event_id)
                values = {**change(current), "version": current.version + 1}
                values["updated_utc"] = max(now_utc(), current.updated_utc)
                swapped = session.execute(
                    update(Event)
                    .where(_same_version(current))
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if swapped.rowcount == 1:
                    return _find(session, owner, event_id)
            raise PreconditionFailed(_find(session, owner, event_id).etag)

    def delete(self, owner: str, event_id: str, check: Callable[[Event], None]) -> None:
        """Delete after ``check(current)`` passes, with the same compare-and-swap as ``update``."""
        with self._write.begin() as session:
            for _ in range(_CAS_ATTEMPTS):
                current = _find(session, owner, event_id)
                check(current)
                removed = session.execute(
                    delete(Event)
                    .where(_same_version(current))
                    .execution_options(synchronize_session=False)
                )
                if removed.rowcount == 1:
                    return
            raise PreconditionFailed(_find(session, owner, event_id).etag)

    def _query(self, owner: str, filters: Filters) -> Any:
        return (
            select(Event)
            .where(Event.owner == owner, *filters.clauses())
            .order_by(Event.start_utc, Event.id)
        )


def _find(session: Session, owner: str, event_id: str) -> Event:
    """The owner's event, freshly read; anything else (bad id, other owner) is not found."""
    if not _ID.fullmatch(event_id):
        raise EventNotFound()
    query = (
        select(Event)
        .where(Event.id == event_id, Event.owner == owner)
        .execution_options(populate_existing=True)
    )
    found = session.scalars(query).one_or_none()
    if found is None:
        raise EventNotFound()
    return found


def _same_version(current: Event) -> Any:
    return (
        (Event.id == current.id)
        & (Event.owner == current.owner)
        & (Event.version == current.version)
    )


def _replay(record: IdempotencyRecord, key: IdempotencyKey) -> Mapping[str, Any]:
    if record.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused()
    return record.response


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
