"""Opaque cursors for keyset pagination, and the ``Link: rel="next"`` header.

Keyset (not offset) paging means a page boundary is a position, so events created or deleted
meanwhile never shift later pages into duplicates or gaps. A cursor is base64url JSON of that
position (a (start, id) pair for listings, a change number for syncs), a hash of the query it
was made for, and, in a full listing, the change number its first page saw (the sync token
its last page hands out). A client must not build or edit one; one reused with other filters
is refused with a 400 saying so instead of silently paging a different list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from .errors import BadRequest

MAX_CURSOR_LENGTH = 400
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Cursor:
    position: tuple[datetime, str] | None = None
    """(naive UTC start, id) of the last item of the previous page, in a listing."""
    change: int | None = None
    """The last change number of the previous page, in a sync."""
    listing_seq: int | None = None
    """In a full listing: the owner's change number when its first page was read."""


def filters_hash(*parts: Any) -> str:
    """A short digest of the query a cursor belongs to."""
    canonical = json.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(cursor: Cursor, filters: str) -> str:
    data: dict[str, Any] = {"f": filters}
    if cursor.position is not None:
        data["s"], data["i"] = cursor.position[0].isoformat(), cursor.position[1]
    if cursor.change is not None:
        data["c"] = cursor.change
    if cursor.listing_seq is not None:
        data["t"] = cursor.listing_seq
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(raw: str, filters: str) -> Cursor:
    """The position in ``raw``; 400 when it is not one we made for this query."""
    try:
        if len(raw) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(raw):
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(data, dict) or not set(data) <= {"f", "s", "i", "c", "t"}:
            raise ValueError
        cursor = Cursor(_position(data), _number(data.get("c")), _number(data.get("t")))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise BadRequest(
            "The cursor is not valid: pass the next_cursor of the previous page unchanged, "
            "or start again without a cursor"
        ) from None
    if data.get("f") != filters:
        raise BadRequest(
            "This cursor belongs to a different query (start, end, q, expand or sync_token "
            "changed); start again without a cursor"
        )
    return cursor


def _position(data: dict[str, Any]) -> tuple[datetime, str] | None:
    if "s" not in data and "i" not in data:
        return None
    start, event_id = datetime.fromisoformat(data["s"]), data["i"]
    if start.tzinfo is not None or not isinstance(event_id, str) or len(event_id) > 64:
        raise ValueError
    return start, event_id


def _number(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError
    return value


def next_link(cursor: str) -> str:
    """``Link`` value for the next page: this request's URL with ``cursor`` replaced."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    return f'<{request.path}?{urlencode([*args, ("cursor", cursor)])}>; rel="next"'
