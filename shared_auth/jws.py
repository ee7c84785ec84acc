"""Compact JWS, parsed strictly: for access tokens and for DPoP proofs alike.

One regular expression checks the whole compact form, ``binascii`` and ``json`` decode it.
Base64url is read canonically (RFC 4648 section 3.5: no padding, no ``+``, ``/`` or
whitespace, and the bits the last character carries beyond the data must be zero, so one
signed string has one spelling), and JSON nesting is bounded before ``json`` could recurse.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# base64url -> standard alphabet, so binascii decodes it directly (the regex above has
# already refused every other character, which base64's lenient mode would skip silently).
_TO_STANDARD_B64 = bytes.maketrans(b"-_", b"+/")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The characters that may end a segment of 4n+2 (value % 16 == 0) or 4n+3 (% 4 == 0) chars.
_CANONICAL_LAST = {
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i % 16 == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i % 4 == 0),
}
MAX_DEPTH = 32
"""JSON nesting a header or claims set may have; real ones are a few levels deep at most."""
# RFC 7519 section 7.2: the segments are UTF-8 JSON. ``json.loads(bytes)`` would also guess
# UTF-16/32 and costs a few microseconds per call doing so.
_JSON = json.JSONDecoder()


class MalformedJWS(ValueError):
    """Not a strict compact JWS; the message is a fixed sentence naming the part at fault."""


def split(value: str, what: str) -> tuple[bytes, bytes, bytes]:
    """The three segments of ``value``; ``what`` ("The token") starts the error sentence."""
    if not _COMPACT.fullmatch(value):
        raise MalformedJWS(f"{what} is not a JWS (three base64url parts separated by dots)")
    head, body, signature = value.encode("ascii").split(b".")  # the regex admitted ASCII only
    return head, body, signature


def b64url_decode(segment: bytes, what: str) -> bytes:
    """Decode one segment already matched by ``split`` (so only base64url characters)."""
    tail = len(segment) % 4
    if tail == 1 or (tail and segment[-1] not in _CANONICAL_LAST[tail]):
        raise MalformedJWS(f"{what} is not valid base64url")
    try:
        return binascii.a2b_base64(segment.translate(_TO_STANDARD_B64) + b"=" * (-len(segment) % 4))
    except binascii.Error:
        raise MalformedJWS(f"{what} is not valid base64url") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_object(segment: bytes, what: str) -> dict[str, Any]:
    """The JSON object a segment holds; ``what`` names it ("The token header")."""
    data = b64url_decode(segment, what)
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _nests_deeper(data, MAX_DEPTH):
        raise MalformedJWS(f"{what} is nested too deeply")
    try:
        value = _JSON.decode(data.decode("utf-8"))
    except ValueError:
        raise MalformedJWS(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedJWS(f"{what} is not a JSON object")
    return value


def _nests_deeper(data: bytes, limit: int) -> bool:
    """Whether brackets nest past ``limit`` (outside strings): refused before ``json`` would
    recurse into them. Only segments with many brackets get here, so valid ones stay fast."""
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if escaped:
            escaped = False
        elif in_string:
            escaped = byte == 0x5C  # a backslash escapes the next byte
            in_string = byte != 0x22  # a closing quote
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False
