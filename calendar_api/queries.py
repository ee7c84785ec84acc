"""The queries every read and write is built from; each one is scoped by ``owner``.

Another user's event is simply not found: no query here can reach a row without naming its
owner, so a missing id and someone else's id look exactly alike.

Windows cost the same whatever the owner's history. "Ends after ``start``" cannot bound an
index scan on the start time by itself: the query would walk every older event to filter out
the ones that ended long ago. So each event is filed under its span class ``c`` (it lasts at
most ``2**c`` seconds, first start to last end), and a window query is one index range per
class the owner uses, ``start_utc >= start - 2**c AND start_utc < end``: nothing that started
longer ago than the class's longest span can reach the window. The ranges are merged by
(start, id), each cut at the page size, so a page reads at most a page per class plus the
events that overlap the window's start. Series that never end have their own class, read
whole: they overlap every window after their start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from .errors import EventNotFound
from .models import EVENT_ID, OPEN_SPAN, Event, naive_utc


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


def classes_in(mask: int) -> list[int]:
    """The span classes an owner's bit mask names."""
    return [c for c in range(OPEN_SPAN + 1) if mask >> c & 1]


def owner_events(
    owner: str,
    filters: Filters,
    classes: Sequence[int] = (),
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> Any:
    """The owner's events matching ``filters`` in (start, id) order, after ``after``.

    Without a window start, one range of the (owner, start, id) index; with one, a range per
    span class in ``classes`` (see the module docstring).
    """
    if filters.start is None or not classes:
        return _ordered(select(Event).where(_base(owner, filters, after)), limit)
    start = naive_utc(filters.start)
    members = []
    for span in classes:
        query = select(Event).where(_base(owner, filters, after), Event.span_class == span)
        if span != OPEN_SPAN:
            query = query.where(Event.start_utc >= _reach(start, span))
        members.append(_ordered(query, limit))
    if len(members) == 1:
        return members[0]
    merged = union_all(*(select(member.subquery()) for member in members)).subquery()
    event = aliased(Event, merged)
    query = select(event).order_by(event.start_utc, event.id)
    return query if limit is None else query.limit(limit)


def zone_spans(owner: str, filters: Filters, classes: Sequence[int]) -> Any:
    """Per zone of the owner's matching timed events: first start, last end, and the last
    start of a never-ending series (which VTIMEZONE data must cover). Read through
    ``owner_events``, so it is index-bound like the listing it describes."""
    rows = owner_events(owner, filters, classes).subquery()
    event = aliased(Event, rows)
    open_start = case((event.span_end_utc.is_(None), event.start_utc))
    return (
        select(
            event.time_zone,
            func.min(event.start_utc),
            func.max(event.span_end_utc),
            func.max(open_start),
        )
        .where(event.all_day.is_(False))
        .group_by(event.time_zone)
        .order_by(event.time_zone)
    )


def _base(owner: str, filters: Filters, after: tuple[datetime, str] | None) -> Any:
    clauses = [Event.owner == owner, *filters.clauses()]
    if after is not None:
        clauses.append(tuple_(Event.start_utc, Event.id) > tuple_(*after))
    return and_(*clauses)


def _ordered(query: Any, limit: int | None) -> Any:
    query = query.order_by(Event.start_utc, Event.id)
    return query if limit is None else query.limit(limit)


def _reach(start: datetime, span: int) -> datetime:
    """The earliest start an event of span class ``span`` may have to overlap ``start``."""
    try:
        return start - timedelta(seconds=2**span)
    except OverflowError:
        return datetime.min


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
