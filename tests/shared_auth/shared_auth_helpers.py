"""Plain helpers for the shared_auth tests (the fixtures live in ``conftest.py``).

* ``FakeClock`` is a time source handed to ``JWKSCache``/``TokenVerifier`` (both take a clock
  as an input), so cache lifetime, cooldown and staleness can be crossed without sleeping.
* ``compact`` hand-builds a JWS for the malformed or hostile shapes PyJWT refuses to produce.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from jwt.algorithms import get_default_algorithms
from support.constants import CAL_AUD, GEO_AUD, NOW

from shared_auth import AuthError

__all__ = ["AUD", "GEO_AUD", "NOW", "FakeClock", "b64url", "compact", "rejected", "signer"]

AUD = CAL_AUD


class FakeClock:
    """A clock the test moves by hand; ``JWKSCache`` reads time only through it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def b64url(data: bytes | str | dict[str, Any] | list[Any]) -> str:
    if isinstance(data, dict | list):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(
    header: dict[str, Any] | str,
    claims: dict[str, Any] | str,
    sign: Callable[[bytes], bytes] = lambda _: b"signature",
) -> str:
    """``header.payload.signature``; a ``str`` part is used as an already-encoded segment."""
    head = header if isinstance(header, str) else b64url(header)
    body = claims if isinstance(claims, str) else b64url(claims)
    return f"{head}.{body}.{b64url(sign(f'{head}.{body}'.encode()))}"


def signer(private_key: Any, algorithm: str = "RS256") -> Callable[[bytes], bytes]:
    """Sign with PyJWT's algorithm object, for headers ``TokenFactory`` cannot express."""
    return lambda data: get_default_algorithms()[algorithm].sign(data, private_key)


def rejected(call: Callable[[], Any], reason: str, status: int = 401) -> AuthError:
    """Run ``call``; it must raise ``AuthError`` with this reason code and status."""
    with pytest.raises(AuthError) as info:
        call()
    assert (info.value.reason, info.value.status) == (reason, status), info.value.description
    return info.value
