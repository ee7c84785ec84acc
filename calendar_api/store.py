"""The calendar's transactions, on SQLite by default or PostgreSQL by URL.

Rules every method keeps:

* Every query is scoped by ``owner`` (``queries``); another user's event is simply not found.
* Every write is one transaction: nothing is half-written when a request fails. It first
  locks the owner's row (``OwnerState``), takes the next change number from it and files the
  event's span class in it, so an owner's writes commit in change order.
* Updates and deletes are compare-and-swap on ``version`` (``UPDATE ... WHERE version = ?``):
  of two writers holding the same ETag exactly one wins, whatever the database.
* A delete leaves a tombstone for syncs; tombstones older than the retention are dropped
  by the owner's next delete, and the owner's ``purged_seq`` says how far.
* Reads that must agree with each other (a page and its sync token, events and tombstones)
  run in one snapshot (REPEATABLE READ on PostgreSQL; a SQLite read transaction is one).
* Idempotency keys past their TTL are ignored when met and swept now and then through an
  index, never by a scan on every request.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .database import make_engine, migrate
from .errors import IdempotencyKeyReused, PreconditionFailed
from .models import Event, IdempotencyRecord, OwnerState, Tombstone, now_utc
from .queries import Filters, classes_in, find_event, owner_events, same_version, zone_spans

_CAS_ATTEMPTS = 3
_STREAM = {"yield_per": 200}
_SWEEP_EVERY = 500
"""Keyed creates between two sweeps of expired idempotency keys (an indexed delete)."""


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A create's key, a hash of its body, and the age beyond which old keys are forgotten."""

    value: str
    fingerprint: str
    ttl: timedelta


@dataclass(frozen=True, slots=True)
class Counters:
    """An owner's change counter and how far its tombstones were forgotten."""

    last_seq: int = 0
    purged_seq: int = 0


Change = Event | Tombstone


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """A zone the owner's timed events use, and the UTC times they reach in it."""

    name: str
    first_start: datetime
    last_end: datetime | None
    last_open_start: datetime | None
    """The latest start of a series in this zone that never ends, if any."""


@dataclass(frozen=True, slots=True)
class Feed:
    last_seq: int
    zones: list[ZoneSpan]


class Store:
    """The calendar's database; one per process, safe to share between threads."""

    def __init__(self, url: str, *, tombstone_retention: timedelta = timedelta(days=30)) -> None:
        self.engine = make_engine(url)
        self.tombstone_retention = tombstone_retention
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        snapshot = self.engine
        if self.is_postgresql:
            snapshot = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._snapshot = sessionmaker(snapshot, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(writer, expire_on_commit=False)
        self._keyed_creates = itertools.count(1)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def create_schema(self, idempotency_ttl: timedelta) -> None:
        """Bring the schema to the current revision, then drop keys past their TTL."""
        migrate(self.engine)
        self._sweep_keys(idempotency_ttl)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def get(self, owner: str, event_id: str) -> Event:
        with self._read.begin() as session:
            return find_event(session, owner, event_id)

    def page(
        self, owner: str, filters: Filters, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[Event], int]:
        """Up to ``limit`` events after ``after`` in (start, id) order, and the owner's change
        counter read first in the same snapshot (a sync from it misses nothing the page
        lacks)."""
        with self._snapshot.begin() as session:
            counters, classes = _counters(session, owner)
            query = owner_events(owner, filters, classes, after, limit)
            return list(session.scalars(query.statement, query.params)), counters.last_seq

    def scan(self, owner: str, filters: Filters) -> Iterator[Event]:
        """Every matching event in (start, id) order, streamed: for expansion and the feed."""
        with self._read.begin() as session:
            _, classes = _counters(session, owner)
            query = owner_events(owner, filters, classes)
            yield from session.scalars(query.statement, query.params, execution_options=_STREAM)

    def export(self, owner: str, filters: Filters) -> Iterator[Feed | Event]:
        """A ``Feed`` (the owner's change number and zones in use), then every matching event
        in (start, id) order, streamed, all from one snapshot: the file's VTIMEZONEs come
        before its events and match them, however many there are."""
        with self._snapshot.begin() as session:
            counters, classes = _counters(session, owner)
            zones = zone_spans(owner, filters, classes)
            rows = session.execute(zones.statement, zones.params)
            yield Feed(counters.last_seq, [ZoneSpan(*row) for row in rows])
            query = owner_events(owner, filters, classes)
            yield from session.scalars(query.statement, query.params, execution_options=_STREAM)

    def plan(self, owner: str, filters: Filters, limit: int) -> list[str]:
        """The database's plan for one listing page (EXPLAIN): for benchmarks and tests that
        show each range is bounded by an index, on SQLite and PostgreSQL alike."""
        with self._read.begin() as session:
            _, classes = _counters(session, owner)
            query = owner_events(owner, filters, classes, None, limit)
            statement = query.statement.params(query.params)
            sql = str(statement.compile(self.engine, compile_kwargs={"literal_binds": True}))
            explain = "EXPLAIN " if self.is_postgresql else "EXPLAIN QUERY PLAN "
            return [str(row[-1]) for row in session.execute(text(explain + sql))]

    def changes(self, owner: str, after_seq: int, limit: int) -> tuple[list[Change], Counters]:
        """Events written and events deleted after ``after_seq``, in change order."""
        with self._snapshot.begin() as session:
            counters, _ = _counters(session, owner)
            queries = [
                select(kind)
                .where(kind.owner == owner, kind.change_seq > after_seq)
                .order_by(kind.change_seq)
                .limit(limit)
                for kind in (Event, Tombstone)
            ]
            found = [list(session.scalars(query)) for query in queries]
        merged = heapq.merge(*found, key=lambda change: change.change_seq)
        return list(itertools.islice(merged, limit)), counters

    def add(
        self, event: Event, key: IdempotencyKey | None, response: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], bool]:
        """Insert ``event``; with a key, first claim it. Returns (response body, replayed).

        The key row is inserted and flushed before the event, in the same transaction: a
        concurrent retry with the same key blocks on (PostgreSQL) or queues behind (SQLite)
        the first, then finds its row and replays its answer instead of creating a second
        event.
        """
        try:
            with self._write.begin() as session:
                state = _lock_owner(session, event.owner)
                if key is not None:
                    existing = self._claim(session, event, key, response)
                    if existing is not None:
                        return _replay(existing, key), True
                event.change_seq = _count_change(state, event.span_class)
                session.add(event)
        except IntegrityError:
            if key is None:
                raise
            with self._read.begin() as session:
                existing = session.get(IdempotencyRecord, (event.owner, key.value))
            if existing is None:
                raise
            return _replay(existing, key), True
        if key is not None and next(self._keyed_creates) % _SWEEP_EVERY == 0:
            self._sweep_keys(key.ttl)
        return response, False

    def update(
        self, owner: str, event_id: str, change: Callable[[Event], Mapping[str, Any]]
    ) -> Event:
        """Write ``change(current)`` if nobody wrote in between; ``change`` may refuse (raise).

        A lost compare-and-swap re-reads and asks ``change`` again, so ``If-Match: *``
        succeeds while a specific, now stale, ETag gets its 412.
        """
        with self._write.begin() as session:
            find_event(session, owner, event_id)  # 404 before anything is locked or judged
            state = _lock_owner(session, owner)
            for _ in range(_CAS_ATTEMPTS):
                current = find_event(session, owner, event_id)
                values = {**change(current), "version": current.version + 1}
                values["updated_utc"] = max(now_utc(), current.updated_utc)
                values["change_seq"] = _count_change(
                    state, values.get("span_class", current.span_class)
                )
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
        """Delete after ``check(current)`` passes (compare-and-swap as ``update``), leaving a
        tombstone."""
        with self._write.begin() as session:
            find_event(session, owner, event_id)  # 404 before anything is locked or judged
            state = _lock_owner(session, owner)
            for _ in range(_CAS_ATTEMPTS):
                current = find_event(session, owner, event_id)
                check(current)
                removed = session.execute(
                    delete(Event)
                    .where(same_version(current))
                    .execution_options(synchronize_session=False)
                )
                if removed.rowcount == 1:
                    seq = _count_change(state, None)
                    now = now_utc()
                    stone = Tombstone(owner=owner, id=event_id, change_seq=seq, deleted_utc=now)
                    session.add(stone)
                    self._forget_tombstones(session, state, now - self.tombstone_retention)
                    return
            raise PreconditionFailed(find_event(session, owner, event_id).etag)

    def _claim(
        self, session: Session, event: Event, key: IdempotencyKey, response: Mapping[str, Any]
    ) -> IdempotencyRecord | None:
        """The key's live record, or None after claiming it (an expired record is replaced)."""
        now = now_utc()
        existing = session.get(IdempotencyRecord, (event.owner, key.value))
        if existing is not None and existing.created_utc >= now - key.ttl:
            return existing
        if existing is not None:
            session.delete(existing)
            session.flush()
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
        return None

    def _sweep_keys(self, ttl: timedelta) -> None:
        with self._write.begin() as session:
            cutoff = now_utc() - ttl
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_utc < cutoff))

    @staticmethod
    def _forget_tombstones(session: Session, state: OwnerState, cutoff: datetime) -> None:
        expired = (Tombstone.owner == state.owner) & (Tombstone.deleted_utc < cutoff)
        highest = session.scalar(select(func.max(Tombstone.change_seq)).where(expired))
        if highest is not None:
            session.execute(delete(Tombstone).where(expired))
            state.purged_seq = max(state.purged_seq, highest)


def _counters(session: Session, owner: str) -> tuple[Counters, list[int]]:
    state = session.get(OwnerState, owner)
    if state is None:
        return Counters(), []
    return Counters(state.last_seq, state.purged_seq), classes_in(state.span_classes)


def _lock_owner(session: Session, owner: str) -> OwnerState:
    """The owner's row, created if needed and locked until the transaction ends: every write
    takes it first, so writes of one owner never interleave (and never deadlock)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(OwnerState)
        .values(owner=owner, last_seq=0, span_classes=0, purged_seq=0)
        .on_conflict_do_nothing(index_elements=["owner"])
    )
    return session.scalars(
        select(OwnerState)
        .where(OwnerState.owner == owner)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _count_change(state: OwnerState, span_class: int | None) -> int:
    """The owner's next change number; ``span_class`` is filed for window queries."""
    state.last_seq += 1
    if span_class is not None:
        state.span_classes |= 1 << span_class
    return state.last_seq


def _replay(record: IdempotencyRecord, key: IdempotencyKey) -> Mapping[str, Any]:
    if record.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused()
    return record.response
