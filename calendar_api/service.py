"""The calendar's use cases, between the HTTP routes and the store.

Routes stay a few lines each because everything with a rule in it lives here: paging and
expansion limits, idempotent creates, preconditions checked inside the write transaction,
and the merge-then-validate of a PATCH.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from werkzeug.datastructures import ETags

from .config import CalendarSettings
from .errors import BadRequest, FieldErrors
from .ics import calendar_ics
from .models import Event, event_values, naive_utc, new_event_id, now_utc
from .paging import decode_cursor, encode_cursor, filters_hash
from .preconditions import check_if_match
from .queries import Filters
from .schemas import EventSchema, event_errors
from .store import IdempotencyKey, Store

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


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None = None


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
        """One page of events (or, with ``expand``, of instances) in (start, id) order."""
        filters = Filters(query.get("start"), query.get("end"), query.get("q"))
        scope = filters_hash(filters.start, filters.end, filters.text, query["expand"])
        after = decode_cursor(query["cursor"], scope) if query.get("cursor") else None
        limit = query.get("limit") or self.settings.page_limit_default
        if query["expand"]:
            items = self._instances(owner, filters)
            items = [i for i in items if after is None or _position(i) > after][: limit + 1]
        else:
            items = self.store.page(owner, filters, after, limit + 1)
        if len(items) <= limit:
            return Page(items)
        return Page(items[:limit], encode_cursor(_position(items[limit - 1]), scope))

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
        self, owner: str, event_id: str, fields: Mapping[str, Any], if_match: ETags
    ) -> Event:
        values = event_values(fields)

        def change(current: Event) -> Mapping[str, Any]:
            check_if_match(if_match, current.etag)
            return values

        return self.store.update(owner, event_id, change)

    def patch(
        self, owner: str, event_id: str, changes: Mapping[str, Any], if_match: ETags
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

    def delete(self, owner: str, event_id: str, if_match: ETags) -> None:
        self.store.delete(owner, event_id, lambda current: check_if_match(if_match, current.etag))

    def export(self, owner: str) -> bytes:
        return calendar_ics(self.store.scan(owner, Filters()))

    def _instances(self, owner: str, filters: Filters) -> list[Event | Occurrence]:
        """Every instance overlapping the window, bounded in window length and count."""
        start, end = filters.start, filters.end
        if start is None or end is None:
            raise BadRequest("expand=true needs both start and end (RFC 3339 date-times)")
        days = self.settings.expand_max_days
        if end - start > timedelta(days=days):
            raise BadRequest(f"expand=true allows a window of at most {days} days; narrow it")
        most = self.settings.expand_max_instances
        found: list[Event | Occurrence] = []
        for event in self.store.scan(owner, filters):
            found.extend(_occurrences(event, start, end))
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


def _occurrences(event: Event, start: datetime, end: datetime) -> Iterable[Event | Occurrence]:
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
        for instance in event.series().instances(start, end)
    ]


def _position(item: Event | Occurrence) -> tuple[datetime, str]:
    return item.start_utc, item.id
