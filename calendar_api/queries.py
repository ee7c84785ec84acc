"""The queries every read and write is built from; each one is scoped by ``owner``.

Another user's event is simply not found: no query here can reach a row without naming its
owner, so a missing id and someone else's id look exactly alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .errors import EventNotFound
from .models import EVENT_ID, Event, naive_utc


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
            pattern = "%" + escape_like(self.text.casefold()) + "%"
            found.append(Event.search_text.like(pattern, escape="\\"))
        return found


def owner_events(owner: str, filters: Filters) -> Any:
    """The owner's events matching ``filters`` in (start, id) order."""
    return (
        select(Event)
        .where(Event.owner == owner, *filters.clauses())
        .order_by(Event.start_utc, Event.id)
    )


def find_event(session: Session, owner: str, event_id: str) -> Event:
    """The owner's event, freshly read; anything else (bad id, other owner) is not found."""
    if not EVENT_ID.fullmatch(event_id):
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


def same_version(current: Event) -> Any:
    return (
        (Event.id == current.id)
        & (Event.owner == current.owner)
        & (Event.version == current.version)
    )


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
