"""Per-caller rate limits (Flask-Limiter), counted after authentication, before the work.

``{PREFIX}_RATE_LIMIT`` (Flask-Limiter notation, ``600/minute``; unset: no limit) is one
budget per caller across the whole API. The caller is who the verified token says (the
service decides: a client for machine APIs, a user for user data), so a client cannot
escape its limit by switching addresses, and users behind one NAT do not share one.
Requests without a valid token are counted by remote address: a flood of bad tokens is
refused with 429 before it costs a verification each.

The count is taken where ``shared_auth`` has just decided (``BearerAuth(admit=...)``), so
the expensive work of a route never runs over the limit, and public routes (health, docs,
metadata) are never limited. Counts live in Redis at ``REDIS_URL`` when set, shared by every
worker and instance; otherwise in this process. If Redis fails, requests are counted in
memory until it is back (a warning is logged) rather than refused: a limit must not become
an outage.

Every limited answer carries the IETF draft's ``RateLimit-Limit``, ``RateLimit-Remaining``
and ``RateLimit-Reset`` (seconds) and ``RateLimit-Policy``; a 429 carries ``Retry-After``
and the service's JSON error body.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded

from shared_auth import Principal

from .errors import error_response

CallerKey = Callable[[Principal], str]
EXTENSION = "kit_rate_limits"


def by_subject(principal: Principal) -> str:
    """The token's subject: the user, or for a client-credentials token the client."""
    return principal.subject or principal.client_id or ""


def by_client(principal: Principal) -> str:
    """The client application (``azp``/``client_id``), whoever the user: for machine APIs."""
    return principal.client_id or principal.subject or ""


class RateLimits:
    """One app's limit: ``admit(principal)`` counts a request (None: no valid token)."""

    def __init__(
        self, app: Flask, limit: str, *, storage_url: str | None, prefix: str, caller: CallerKey
    ) -> None:
        self.caller = caller
        self.limiter = Limiter(
            key_func=_request_key,
            app=app,
            storage_uri=storage_url or "memory://",
            strategy="sliding-window-counter",
            key_prefix=f"{prefix}:rate",
            headers_enabled=False,  # the draft's header names, written below
            swallow_errors=True,
            in_memory_fallback_enabled=True,
        )
        self.guard = self.limiter.shared_limit(limit, scope="callers")
        app.extensions[EXTENSION] = self
        app.after_request(self._headers)
        app.register_error_handler(RateLimitExceeded, self._too_many)

    def admit(self, principal: Principal | None) -> None:
        """Count this request for its caller; ``RateLimitExceeded`` (429) over the limit."""
        g.kit_rate_key = (
            f"caller:{self.caller(principal)}"
            if principal is not None
            else f"address:{request.remote_addr}"
        )
        with self.guard:
            pass

    def _headers(self, response: Response) -> Response:
        current = self.limiter.current_limit
        if current is None:
            return response
        item = current.limit
        reset = max(0, math.ceil(current.reset_at - time.time()))
        response.headers["RateLimit-Limit"] = str(item.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["RateLimit-Reset"] = str(reset)
        response.headers["RateLimit-Policy"] = f"{item.amount};w={item.get_expiry()}"
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset))
        return response

    @staticmethod
    def _too_many(error: RateLimitExceeded) -> Response:
        return error_response(
            429,
            f"Too many requests from this caller: at most {error.limit.limit}. Wait for "
            "the time in Retry-After, then retry",
        )


def admit(principal: Principal | None) -> None:
    """``BearerAuth(admit=...)`` for any app: counts the request when the app has a limit."""
    limits: RateLimits | None = current_app.extensions.get(EXTENSION)
    if limits is not None:
        limits.admit(principal)


def _request_key() -> str:
    return g.get("kit_rate_key") or f"address:{request.remote_addr}"
