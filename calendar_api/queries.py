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
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from .errors import EventNotFound
from .models import EVENT_ID, OPEN_SPAN, Event, naive_utc


@dataclass(frozen=True, slots=True)
class Filters:
    """``GET /events`` filters: overlap with ``[start, end)`` and a text search."""

    start: datetime | None = None
    end: datetime | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Bound:
    """A cached statement and the values for its parameters: building a statement of a dozen
    unions costs SQLAlchemy milliseconds, more than running it, so each shape is built once."""

    statement: Any
    params: dict[str, Any]


def classes_in(mask: int) -> list[int]:
    """The span classes an owner's bit mask names."""
    return [c for c in range(OPEN_SPAN + 1) if mask >> c & 1]


def owner_events(
    owner: str,
    filters: Filters,
    classes: Sequence[int] = (),
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> Bound:
    """The owner's events matching ``filters`` in (start, id) order, after ``after``.

    Without a window start, one range of the (owner, start, id) index; with one, a range per
    span class in ``classes`` (see the module docstring).
    """
    by_class = tuple(classes) if filters.start is not None else ()
    shape = _Shape(by_class, filters.start is not None, filters.end is not None, bool(filters.text))
    params: dict[str, Any] = {"owner": owner}
    if filters.start is not None:
        start = naive_utc(filters.start)
        params["start"] = start
        params.update({f"reach_{c}": _reach(start, c) for c in by_class if c != OPEN_SPAN})
    if filters.end is not None:
        params["end"] = naive_utc(filters.end)
    if filters.text:
        params["pattern"] = "%" + escape_like(filters.text.casefold()) + "%"
    if after is not None:
        params["after_start"], params["after_id"] = after
    if limit is not None:
        params["limit"] = limit
    return Bound(_events(shape, after is not None, limit is not None), params)


def zone_spans(owner: str, filters: Filters, classes: Sequence[int]) -> Bound:
    """Per zone of the owner's matching timed events: first start, last end, and the last
    start of a never-ending series (which VTIMEZONE data must cover). Read through
    ``owner_events``, so it is index-bound like the listing it describes."""
    rows = owner_events(owner, filters, classes)
    return Bound(_zone_spans(rows.statement), rows.params)


@dataclass(frozen=True, slots=True)
class _Shape:
    classes: tuple[int, ...]
    start: bool
    end: bool
    text: bool


@lru_cache(maxsize=1024)
def _events(shape: _Shape, after: bool, limited: bool) -> Any:
    if not shape.classes:
        return _ordered(select(Event).where(*_base(shape, after)), limited)
    members = []
    for span in shape.classes:
        query = select(Event).where(*_base(shape, after), Event.span_class == span)
        if span != OPEN_SPAN:
            query = query.where(Event.start_utc >= bindparam(f"reach_{span}", type_=DateTime))
        members.append(_ordered(query, limited))
    if len(members) == 1:
        return members[0]
    merged = union_all(*(select(member.subquery()) for member in members)).subquery()
    event = aliased(Event, merged)
    return _ordered(select(event), limited, event)


@lru_cache(maxsize=1024)
def _zone_spans(events: Any) -> Any:
    event = aliased(Event, events.subquery())
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


def _base(shape: _Shape, after: bool) -> list[Any]:
    clauses = [Event.owner == bindparam("owner", type_=String)]
    if shape.start:
        start = bindparam("start", type_=DateTime)
        clauses.append(or_(Event.span_end_utc.is_(None), Event.span_end_utc > start))
    if shape.end:
        clauses.append(Event.start_utc < bindparam("end", type_=DateTime))
    if shape.text:
        clauses.append(Event.search_text.like(bindparam("pattern", type_=Text), escape="\\"))
    if after:
        position = tuple_(
            bindparam("after_start", type_=DateTime), bindparam("after_id", type_=String)
        )
        clauses.append(tuple_(Event.start_utc, Event.id) > position)
    return clauses


def _ordered(query: Any, limited: bool, entity: Any = Event) -> Any:
    query = query.order_by(entity.start_utc, entity.id)
    return query.limit(bindparam("limit", type_=Integer)) if limited else query


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
