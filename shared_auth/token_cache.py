"""Verified tokens, remembered: a repeated token costs a hash and a dictionary lookup.

A client sends the same access token with every request until it expires, and verifying it
again (an RSA check, JSON, the claim rules) is the largest share of the API's own work per
request. Remembering the answer is safe only if it can never change an outcome, so an entry:

* is keyed by the SHA-256 of the exact token string (the token itself is not kept);
* holds only tokens that passed every step, never failures;
* ends when the token would stop passing on time alone: at ``exp`` (the leeway is not added:
  past ``exp`` the full checks decide, leeway included), or earlier when ``AUTH_MAX_TOKEN_AGE``
  ends it sooner;
* is used only while the key that verified it is still in the issuer's current key set
  (a key that left the set, or keys too stale to trust, send the token through the full path);
* is bounded in number, least recently used first out.

Scopes, DPoP proofs and everything else that depends on the request are still checked on
every request: the cache answers only "is this token valid", as ``TokenVerifier.verify`` does.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .jwks import SigningKey
from .principal import Principal


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    key: SigningKey
    expires: float


class TokenCache:
    """At most ``size`` verified tokens; thread-safe, one per verifier."""

    def __init__(self, size: int, trusted: Callable[[SigningKey], bool]) -> None:
        self.size = size
        self._trusted = trusted
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> Principal | None:
        """The principal a still-valid remembered token stands for, or None."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if now >= entry.expires or not self._trusted(entry.key):
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry.principal

    def put(self, token: str, principal: Principal, key: SigningKey, expires: float) -> None:
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            self._entries[digest] = _Entry(principal, key, expires)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
