"""The calendar's use cases, between the HTTP routes and the store.

Routes stay a few lines each because everything with a rule in it lives here: paging and
expansion limits, idempotent creates, preconditions checked inside the write transaction,
and the merge-then-validate of a PATCH.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from werkzeug.datastructures import ETags

from .config import CalendarSettings
from .errors import BadRequest, FieldErrors
from .ics import calendar_ics
from .models import Event, event_values, naive_utc, new_event_id, now_utc
from .paging import Cursor, decode_cursor, encode_cursor, filters_hash
from .preconditions import check_if_match
from .queries import Filters
from .recurrence import Series
from .schemas import EventSchema, event_errors
from .store import Feed, IdempotencyKey, Store
from .sync import check_sync_position, decode_sync_token, encode_sync_token

EVENTS_PATH = "/calendar/v1/events"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One instance of a recurring event, shaped like an event for ``EventSchema``."""

    id: str
    title: str
    description: str
    location: str
    start: date | datetime
    end: date | datetime
    time_zone: str
    recurrence: list[str]
    created: datetime
    updated: datetime
    etag: str
    recurrence_id: date | datetime
    start_utc: datetime
    status: str = "confirmed"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None = None
    next_sync_token: str | None = None
    """Only on the last page of a full listing or of a sync."""


@dataclass(frozen=True, slots=True)
class Export:
    """An iCalendar file being streamed: its (weak) ETag value, its bytes, and how to stop
    reading the database early (a 304, a client gone)."""

    etag: str
    chunks: Iterator[bytes]
    close: Callable[[], None]


@dataclass(frozen=True, slots=True)
class Created:
    """A create's answer: the event as first returned, and whether this is a replay."""

    body: Mapping[str, Any]
    replayed: bool = False
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        headers = {"Location": f"{EVENTS_PATH}/{self.body['id']}", "ETag": self.body["etag"]}
        if self.replayed:
            headers["Idempotent-Replayed"] = "true"
        object.__setattr__(self, "headers", headers)


class Calendar:
    """Each user's calendar: every method takes the owner (the token's ``sub``) first."""

    def __init__(self, store: Store, settings: CalendarSettings) -> None:
        self.store = store
        self.settings = settings
        self._dump = EventSchema().dump

    def list(self, owner: str, query: Mapping[str, Any]) -> Page:
        """One page of events (with ``expand``, of instances; with ``sync_token``, of changes)."""
        filters = Filters(query.get("start"), query.get("end"), query.get("q"))
        limit = query.get("limit") or self.settings.page_limit_default
        if query.get("sync_token") is not None:
            if filters != Filters() or query["expand"]:
                raise BadRequest(
                    "sync_token cannot be combined with start, end, q or expand: a sync "
                    "returns every change to the whole calendar"
                )
            return self._sync(owner, query["sync_token"], query.get("cursor"), limit)
        scope = filters_hash(filters.start, filters.end, filters.text, query["expand"])
        cursor = decode_cursor(query["cursor"], scope) if query.get("cursor") else Cursor()
        if query["expand"]:
            instances = self._instances(owner, filters)
            after = cursor.position
            items = [i for i in instances if after is None or _position(i) > after][: limit + 1]
            listing_seq = None
        else:
            items, last_seq = self.store.page(owner, filters, cursor.position, limit + 1)
            full = filters == Filters()  # a full listing hands out a sync token at its end
            listing_seq = (
                (last_seq if cursor.listing_seq is None else cursor.listing_seq) if full else None
            )
        if len(items) > limit:
            following = Cursor(_position(items[limit - 1]), listing_seq=listing_seq)
            return Page(items[:limit], encode_cursor(following, scope))
        token = None if listing_seq is None else encode_sync_token(owner, listing_seq)
        return Page(items, next_sync_token=token)

    def _sync(self, owner: str, token: str, raw_cursor: str | None, limit: int) -> Page:
        """Changes after the token's change number (or the previous page's last), in order."""
        since = decode_sync_token(owner, token)
        scope = filters_hash("sync", token)
        after = since if raw_cursor is None else decode_cursor(raw_cursor, scope).change
        if after is None or after < since:
            raise BadRequest("The cursor is not valid for this sync_token; sync again without it")
        changes, counters = self.store.changes(owner, after, limit + 1)
        check_sync_position(after, counters.last_seq, counters.purged_seq)
        if len(changes) > limit:
            following = Cursor(change=changes[limit - 1].change_seq)
            return Page(changes[:limit], encode_cursor(following, scope))
        return Page(changes, next_sync_token=encode_sync_token(owner, counters.last_seq))

    def get(self, owner: str, event_id: str) -> Event:
        return self.store.get(owner, event_id)

    def create(self, owner: str, fields: Mapping[str, Any], idempotency_key: str | None) -> Created:
        """Store a new event; a repeated ``Idempotency-Key`` replays the first answer."""
        now = now_utc()
        event = Event(
            id=new_event_id(),
            owner=owner,
            version=1,
            created_utc=now,
            updated_utc=now,
            **event_values(fields),
        )
        key = None if idempotency_key is None else self._idempotency_key(idempotency_key, fields)
        body, replayed = self.store.add(event, key, self._dump(event))
        return Created(body, replayed)

    def replace(
        self, owner: str, event_id: str, fields: Mapping[str, Any], if_match: ETags | None
    ) -> Event:
        values = event_values(fields)

        def change(current: Event) -> Mapping[str, Any]:
            check_if_match(if_match, current.etag)
            return values

        return self.store.update(owner, event_id, change)

    def patch(
        self, owner: str, event_id: str, changes: Mapping[str, Any], if_match: ETags | None
    ) -> Event:
        """Merge ``changes`` into the stored event, then check the result as a whole."""

        def change(current: Event) -> Mapping[str, Any]:
            check_if_match(if_match, current.etag)
            merged = {**current.fields(), **changes}
            errors = event_errors(merged)
            if errors:
                raise FieldErrors(errors)
            return event_values(merged)

        return self.store.update(owner, event_id, change)

    def delete(self, owner: str, event_id: str, if_match: ETags | None) -> None:
        self.store.delete(owner, event_id, lambda current: check_if_match(if_match, current.etag))

    def export(self, owner: str, query: Mapping[str, Any]) -> Export:
        """The owner's events (those overlapping ``start``/``end`` when given) as iCalendar,
        streamed from one snapshot; the ETag is its change number, known before any byte."""
        filters = Filters(query.get("start"), query.get("end"))
        rows = self.store.export(owner, filters)
        feed = next(rows)
        assert isinstance(feed, Feed)
        version = filters_hash(owner, feed.last_seq, filters.start, filters.end)
        return Export(version, calendar_ics(feed.zones, rows), rows.close)

    def _instances(self, owner: str, filters: Filters) -> list[Event | Occurrence]:
        """Every instance overlapping the window, bounded in window length, work and count."""
        start, end = filters.start, filters.end
        if start is None or end is None:
            raise BadRequest("expand=true needs both start and end (RFC 3339 date-times)")
        days = self.settings.expand_max_days
        if end - start > timedelta(days=days):
            raise BadRequest(f"expand=true allows a window of at most {days} days; narrow it")
        most, budget = self.settings.expand_max_instances, self.settings.expand_max_work
        found: list[Event | Occurrence] = []
        for event in self.store.scan(owner, filters):
            series = event.series()
            budget -= series.expansion_cost(start, end)
            if budget < 0:
                raise BadRequest(
                    "Expanding this window takes too much work (too many recurring events "
                    "overlap it); narrow start and end"
                )
            found.extend(_occurrences(event, series, start, end))
            if len(found) > most:
                raise BadRequest(
                    f"The window holds more than {most} instances; narrow start and end"
                )
        return sorted(found, key=_position)

    def _idempotency_key(self, raw: str, fields: Mapping[str, Any]) -> IdempotencyKey:
        value = raw.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]  # the IETF draft's quoted sf-string form
        if not _IDEMPOTENCY_KEY.fullmatch(value):
            raise BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID"
            )
        canonical = json.dumps(fields, sort_keys=True, default=lambda v: v.isoformat())
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        ttl = timedelta(seconds=self.settings.idempotency_ttl_seconds)
        return IdempotencyKey(value, fingerprint, ttl)


def _occurrences(
    event: Event, series: Series, start: datetime, end: datetime
) -> Iterable[Event | Occurrence]:
    if not event.recurrence:
        return [event]
    return [
        Occurrence(
            id=event.id,
            title=event.title,
            description=event.description,
            location=event.location,
            start=instance.start,
            end=instance.end,
            time_zone=event.time_zone,
            recurrence=event.recurrence,
            created=event.created,
            updated=event.updated,
            etag=event.etag,
            recurrence_id=instance.start,
            start_utc=naive_utc(instance.start_utc),
        )
        for instance in series.instances(start, end)
    ]


def _position(item: Event | Occurrence) -> tuple[datetime, str]:
    return item.start_utc, item.id
