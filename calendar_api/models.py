"""The calendar's tables (SQLAlchemy 2.x declarative) and how event fields become columns.

Times are naive UTC in the database and the zone is kept beside them, so every query
compares instants and every answer shows the event in its own zone. ``search_text`` holds
title, description and location case-folded in Python, so ``q`` matches the same way on
SQLite (whose LOWER knows only ASCII) and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .recurrence import Series, build_series

ID_PREFIX = "evt_"
OPEN_SPAN = 62
"""The span class of a series that never ends (bit 62: the highest a signed BIGINT holds)."""
EVENT_ID = re.compile(r"evt_[A-Za-z0-9_-]{22}")


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
    span_class: Mapped[int] = mapped_column(SmallInteger)
    """ceil(log2) of the seconds from the first start to the last end (``OPEN_SPAN`` for a
    series without end): a window query looks back only as far as each class can reach."""
    rule_last: Mapped[datetime | None] = mapped_column(DateTime)
    """A COUNT-limited rule's last start (wall clock), so no read counts from the start."""
    change_seq: Mapped[int] = mapped_column(BigInteger)
    """The owner's change counter at this event's last write: what a sync token compares."""

    __table_args__ = (
        Index("ix_calendar_events_owner_start", "owner", "start_utc", "id"),
        Index("ix_calendar_events_owner_class_start", "owner", "span_class", "start_utc", "id"),
        Index("ix_calendar_events_owner_change", "owner", "change_seq"),
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
    def status(self) -> str:
        """RFC 5545 STATUS as a sync shows it: a live event is confirmed (tombstones cancelled)."""
        return "confirmed"

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
        return build_series(self.start, self.end, self.time_zone, self.recurrence, self.rule_last)


class IdempotencyRecord(Base):
    """The first answer to a create sent with an ``Idempotency-Key``, kept for replays."""

    __tablename__ = "calendar_idempotency_keys"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(32))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_utc: Mapped[datetime] = mapped_column(DateTime, index=True)


class OwnerState(Base):
    """Per owner: the change counter, and which span classes the owner's events use.

    Every write locks this row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writes
    one at a time anyway), so an owner's changes commit in counter order and a sync token can
    never skip a change that commits late.
    """

    __tablename__ = "calendar_owners"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    span_classes: Mapped[int] = mapped_column(BigInteger, default=0)
    """A bit per span class in use; a class no longer used only costs an empty index probe."""
    purged_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """Tombstones up to this counter are forgotten: older sync tokens get 410."""


class Tombstone(Base):
    """A deleted event, kept for ``CALENDAR_SYNC_RETENTION_SECONDS`` so syncs learn of it."""

    __tablename__ = "calendar_tombstones"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    change_seq: Mapped[int] = mapped_column(BigInteger)
    deleted_utc: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_calendar_tombstones_owner_change", "owner", "change_seq"),
        Index("ix_calendar_tombstones_owner_deleted", "owner", "deleted_utc"),
    )

    @property
    def status(self) -> str:
        return "cancelled"


def span_class(seconds: float | None) -> int:
    """The smallest ``c`` with ``seconds <= 2**c`` (``OPEN_SPAN`` when there is no end)."""
    if seconds is None:
        return OPEN_SPAN
    return max(0, math.ceil(math.log2(max(seconds, 1.0))))


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
    first = series.first
    span_end, rule_last = series.bounds()
    span = None if span_end is None else (span_end - first.start_utc).total_seconds()
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
        "span_class": span_class(span),
        "rule_last": rule_last,
        "search_text": "\n".join(text_parts).casefold(),
    }
