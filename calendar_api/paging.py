"""Opaque cursors for keyset pagination on (start, id), and the ``Link: rel="next"`` header.

Keyset (not offset) paging means a page boundary is a position, so events created or deleted
meanwhile never shift later pages into duplicates or gaps. The cursor is base64url JSON of
that position plus a hash of the filters it was made for: a client must not build or edit
one, and one reused with other filters is refused with a 400 saying so instead of silently
paging a different list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from .errors import BadRequest

MAX_CURSOR_LENGTH = 400
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def filters_hash(*parts: Any) -> str:
    """A short digest of the query a cursor belongs to."""
    canonical = json.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(position: tuple[datetime, str], filters: str) -> str:
    start, event_id = position
    raw = json.dumps({"s": start.isoformat(), "i": event_id, "f": filters}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: str) -> tuple[datetime, str]:
    """The (naive UTC start, id) position in ``cursor``; 400 when it is not one we made."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, dict) or set(data) != {"s", "i", "f"}:
            raise ValueError
        start, event_id = datetime.fromisoformat(data["s"]), data["i"]
        if start.tzinfo is not None or not isinstance(event_id, str) or len(event_id) > 64:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise BadRequest(
            "The cursor is not valid: pass the next_cursor of the previous page unchanged, "
            "or start again without a cursor"
        ) from None
    if data["f"] != filters:
        raise BadRequest(
            "This cursor belongs to a different query (start, end, q or expand changed); "
            "start again without a cursor"
        )
    return start, event_id


def next_link(cursor: str) -> str:
    """``Link`` value for the next page: this request's URL with ``cursor`` replaced."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    return f'<{request.path}?{urlencode([*args, ("cursor", cursor)])}>; rel="next"'
