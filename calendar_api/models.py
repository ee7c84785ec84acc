"""The calendar's tables (SQLAlchemy 2.x declarative) and how event fields become columns.

Times are naive UTC in the database and the zone is kept beside them, so every query
compares instants and every answer shows the event in its own zone. ``search_text`` holds
title, description and location case-folded in Python, so ``q`` matches the same way on
SQLite (whose LOWER knows only ASCII) and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .recurrence import Series, build_series

ID_PREFIX = "evt_"
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
