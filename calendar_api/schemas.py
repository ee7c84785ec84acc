"""What the calendar accepts and returns, as marshmallow schemas flask-smorest validates with.

Unknown fields are rejected (marshmallow's default, kept on purpose): a misspelt ``titel`` is a
422 naming it rather than a silently dropped value. Strings are checked for what the
databases would refuse (NUL) so bad text is a 422, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, request
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from .recurrence import build_series
from .rrule import FIRST_YEAR, HORIZON, MAX_LINES, RecurrenceError
from .zones import load_zone

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_when(text: str, *, allow_date: bool = True) -> date | datetime:
    """An RFC 3339 date-time with an offset, or (for all-day events) a plain date."""
    if allow_date and _DATE.fullmatch(text):
        value: date | datetime = date.fromisoformat(text)
    elif match := _DATETIME.fullmatch(text):
        fraction = (match["fraction"] or "").ljust(6, "0")[:6]
        offset = "+00:00" if match["offset"] in "Zz" else match["offset"]
        value = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{offset}")
    else:
        raise ValueError
    if not FIRST_YEAR <= value.year < HORIZON.year:
        raise ValidationError(f"Must be in the years {FIRST_YEAR} to {HORIZON.year - 1}.")
    return value


class When(fields.String):
    """A start or end: RFC 3339 date-time with offset, or a date when ``allow_date``."""

    def __init__(self, *, allow_date: bool = True, **kwargs: Any) -> None:
        self.allow_date = allow_date
        example = "2026-03-23T09:00:00+01:00"
        kind = "an RFC 3339 date-time with offset" + (" or a date" if allow_date else "")
        kwargs.setdefault("metadata", {}).setdefault("example", example)
        super().__init__(**kwargs)
        self.error_messages["when"] = f"Must be {kind}, e.g. 2026-03-23T09:00:00+01:00" + (
            " or 2026-03-23." if allow_date else "."
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_when(text, allow_date=self.allow_date)
        except ValueError:
            raise self.make_error("when") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_when(value)


def format_when(value: date | datetime) -> str:
    """RFC 3339 (a date for all-day events). RFC 3339 offsets are whole minutes, so an instant
    in a zone whose offset then had seconds (Amsterdam until 1937) is written in UTC: the
    same instant, accepted back unchanged."""
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None and offset.total_seconds() % 60:
            value = value.astimezone(UTC)
    return value.isoformat()


def plain_text(*, multiline: bool = False) -> Callable[[str], None]:
    """Refuse control characters (tab and newlines allowed in multi-line text), which no
    calendar shows and PostgreSQL refuses (NUL). Lone surrogates never get here: the kit's
    parser refuses them in any JSON body."""
    pattern = _CONTROL_EXCEPT_WHITESPACE if multiline else _CONTROL

    def check(value: str) -> None:
        if pattern.search(value):
            raise ValidationError("Must not contain control characters.")

    return check


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _time_zone(value: str) -> None:
    try:
        load_zone(value)
    except ValueError as exc:
        raise ValidationError(f"{exc}.") from None


def _page_limit(value: int) -> None:
    most = current_app.config["CALENDAR_PAGE_LIMIT_MAX"]
    if value > most:
        raise ValidationError(f"Must be at most {most}.")


def event_errors(event: Mapping[str, Any]) -> dict[str, list[str]]:
    """Rules across fields, for a complete event (a create, a replace or a patched event)."""
    start, end = event["start"], event["end"]
    if isinstance(start, datetime) != isinstance(end, datetime):
        return {"end": ["start and end must both be dates (an all-day event) or both date-times."]}
    if end <= start:
        return {"end": ["Must be after start."]}
    try:
        build_series(start, end, event["time_zone"], event["recurrence"])
    except RecurrenceError as exc:
        return {"recurrence": [str(exc)]}
    return {}


class EventSchema(Schema):
    """An event in the caller's calendar; the body of create and replace requests."""

    id = fields.String(
        dump_only=True,
        metadata={"description": "Opaque id chosen by the server", "example": "evt_x2a"},
    )
    title = fields.String(
        required=True, validate=[validate.Length(1, 200), plain_text(), _not_blank]
    )
    description = fields.String(
        load_default="",
        allow_none=True,
        validate=[validate.Length(max=5000), plain_text(multiline=True)],
    )
    location = fields.String(
        load_default="", allow_none=True, validate=[validate.Length(max=500), plain_text()]
    )
    start = When(
        required=True,
        metadata={"description": "RFC 3339 date-time with offset, or a date (all-day event)"},
    )
    end = When(
        required=True,
        metadata={
            "description": "Same kind as start and after it; for all-day events the day "
            "after the last day (exclusive, as DTEND in RFC 5545)"
        },
    )
    time_zone = fields.String(
        load_default="UTC",
        validate=_time_zone,
        metadata={
            "description": "IANA zone the event lives in: recurrences keep its wall-clock "
            "time and start/end are shown in it",
            "example": "Europe/Berlin",
        },
    )
    recurrence = fields.List(
        fields.String(validate=[validate.Length(1, 1000), plain_text()]),
        load_default=list,
        allow_none=True,
        validate=validate.Length(max=MAX_LINES),
        metadata={
            "description": "RFC 5545 RRULE, EXDATE and RDATE lines",
            "example": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10"],
        },
    )
    recurrence_id = When(
        dump_only=True,
        metadata={
            "description": "Only on instances from expand=true: the instance's original "
            "start (RFC 5545 RECURRENCE-ID); id is then the series' id"
        },
    )
    created = fields.DateTime(dump_only=True)
    updated = fields.DateTime(dump_only=True)
    etag = fields.String(
        dump_only=True,
        metadata={"description": "Current entity tag, quoted: send it back in If-Match"},
    )
    status = fields.String(
        dump_only=True,
        metadata={
            "description": "confirmed; in a sync, cancelled for a deleted event, which then "
            "carries only id and status",
            "enum": ["confirmed", "cancelled"],
        },
    )

    @post_load
    def _defaults_for_null(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for name, empty in (("description", ""), ("location", ""), ("recurrence", [])):
            if name in data and data[name] is None:
                data[name] = empty
        return data

    @validates_schema(skip_on_field_errors=True)
    def _whole_event(self, data: dict[str, Any], partial: Any = None, **_: Any) -> None:
        if partial:
            if not data:
                raise ValidationError("Send at least one field to change.")
            return  # a patch is checked once merged with the stored event
        errors = event_errors({**data, "recurrence": data.get("recurrence") or []})
        if errors:
            raise ValidationError(errors)

    @post_dump
    def _drop_absent_recurrence_id(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("recurrence_id") is None:
            data.pop("recurrence_id", None)
        return data


READ_ONLY = ("id", "etag", "created", "updated", "status")


class EventReplaceSchema(EventSchema):
    """A replace: what GET returned is accepted unchanged. Its read-only fields are ignored
    (If-Match, not the body's etag, guards the write), except an ``id`` naming another
    event, which is refused rather than silently written over this one."""

    @pre_load
    def _ignore_read_only(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        sent_id = data.get("id")
        if "id" in data and sent_id != request.view_args.get("event_id"):
            raise ValidationError(
                "Must be the id in the URL, or left out: an event's id never changes.", "id"
            )
        return {key: value for key, value in data.items() if key not in READ_ONLY}


class EventPatchSchema(EventReplaceSchema):
    """A partial update: any subset of the writable fields; ``null`` clears optional ones."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)


class WindowSchema(Schema):
    """An optional window: what overlaps ``[start, end)``."""

    start = When(
        allow_date=False,
        metadata={
            "description": "Only events ending after this instant (RFC 3339)",
            "example": "2026-03-23T00:00:00+01:00",
        },
    )
    end = When(
        allow_date=False,
        metadata={
            "description": "Only events starting before this instant (RFC 3339)",
            "example": "2026-03-30T00:00:00+02:00",
        },
    )

    @validates_schema(skip_on_field_errors=True)
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ValidationError({"end": ["Must be after start."]})


class FeedQuerySchema(WindowSchema):
    """``GET /events.ics``: the whole calendar, or the events overlapping a window."""


class EventQuerySchema(WindowSchema):
    """Filters and paging for ``GET /events``; unknown query parameters are ignored."""

    q = fields.String(
        validate=[validate.Length(1, 200), plain_text()],
        metadata={"description": "Case-insensitive text in title, description or location"},
    )
    limit = fields.Integer(
        validate=[validate.Range(min=1), _page_limit],
        metadata={"description": "Page size, 1 to 100 (default 50)"},
    )
    cursor = fields.String(
        metadata={"description": "next_cursor from the previous page, unchanged"}
    )
    expand = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Return recurring events as their instances; needs start and "
            "end at most 366 days apart"
        },
    )
    sync_token = fields.String(
        metadata={
            "description": "next_sync_token of a full listing or of the last sync: returns "
            "only the events created, changed (in full) or deleted (as tombstones) since. "
            "Not with start, end, q or expand (400); 410 when the token can no longer be "
            "used: then list in full again"
        }
    )


class EventPageSchema(Schema):
    """One page of events, oldest start first."""

    items = fields.List(fields.Nested(EventSchema), required=True)
    next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "Pass as cursor for the next page; null on the last page"},
    )
    next_sync_token = fields.String(
        allow_none=True,
        metadata={
            "description": "On the last page of a full listing (no start, end or q) or of a "
            "sync: pass as sync_token later to get only what changed; null otherwise"
        },
    )
