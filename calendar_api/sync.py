"""Sync tokens: where a client's copy of a calendar stands, so the next read sends only news.

A token is the owner's change number (``OwnerState.last_seq``) at the moment a full listing or
a sync finished, and a digest of the owner it was made for. It is not secret (a client that
edits the number only gets its own changes again, or a 410), and it needs no server state:
every write files its change number on the event row (``change_seq``) or, for a delete, on a
tombstone. A token the server cannot vouch for, because it is malformed, another user's,
newer than anything written, or older than the tombstones kept, is answered with 410 Gone:
the client must drop its copy and list in full, which hands it a fresh token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from service_kit import Gone

MAX_TOKEN_LENGTH = 200
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class SyncTokenGone(Gone):
    def __init__(self, why: str) -> None:
        super().__init__(
            f"This sync_token cannot be used ({why}): drop your copy of the calendar and "
            "list it in full (GET /calendar/v1/events without start, end or q); the last "
            "page carries a new next_sync_token"
        )


def _owner_digest(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:16]


def encode_sync_token(owner: str, seq: int) -> str:
    raw = json.dumps({"u": _owner_digest(owner), "s": seq}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_sync_token(owner: str, token: str) -> int:
    """The change number in ``token``; 410 when it was not made by us for ``owner``."""
    try:
        if len(token) > MAX_TOKEN_LENGTH or not _BASE64URL.fullmatch(token):
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        seq = data["s"]
        if set(data) != {"u", "s"} or isinstance(seq, bool) or not isinstance(seq, int):
            raise ValueError
        if seq < 0:
            raise ValueError
    except (ValueError, TypeError, KeyError, binascii.Error, RecursionError):
        raise SyncTokenGone("it is not a sync token this calendar handed out") from None
    if data["u"] != _owner_digest(owner):
        raise SyncTokenGone("it belongs to another user's calendar")
    return seq


def check_sync_position(seq: int, last_seq: int, purged_seq: int) -> None:
    """410 unless the changes after ``seq`` are all still known."""
    if seq > last_seq:
        raise SyncTokenGone("it is newer than any change in this calendar")
    if seq < purged_seq:
        raise SyncTokenGone("it is older than the deletions this calendar remembers")
