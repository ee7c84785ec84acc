"""RFC 6750 section 3 rejections, as exceptions that know their HTTP answer.

Every description is a fixed sentence written here, never text taken from the request, so a
challenge header cannot be used to reflect attacker input; ``_quoted`` still drops the two
characters RFC 6750 forbids in case a caller passes its own.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _quoted(value: str) -> str:
    return '"' + _UNSAFE.sub("", value) + '"'


def token_fingerprint(token: str | None) -> str | None:
    """A short, non-reversible handle for logs: enough to correlate, useless to replay."""
    if not token:
        return None
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


class AuthError(Exception):
    """A request that may not proceed; ``reason`` is a stable code for logs and metrics."""

    status: int = 401
    error: str | None = "invalid_token"

    def __init__(self, description: str, reason: str, *, scope: tuple[str, ...] = ()) -> None:
        super().__init__(description)
        self.description = description
        self.reason = reason
        self.scope = scope

    def headers(self, realm: str, extra_params: dict[str, str] | None = None) -> dict[str, str]:
        params = [f"realm={_quoted(realm)}"]
        if self.error:
            params.append(f"error={_quoted(self.error)}")
            params.append(f"error_description={_quoted(self.description)}")
        if self.scope:
            params.append(f"scope={_quoted(' '.join(self.scope))}")
        for name, value in (extra_params or {}).items():
            params.append(f"{name}={_quoted(value)}")
        return {"WWW-Authenticate": "Bearer " + ", ".join(params)}

    def body(self) -> dict[str, Any]:
        """The JSON answer: flask-smorest's ``code``/``status``/``message`` plus the RFC fields."""
        body: dict[str, Any] = {
            "code": self.status,
            "status": _STATUS_TEXT[self.status],
            "message": self.description,
        }
        if self.error:
            body["error"] = self.error
            body["error_description"] = self.description
        if self.scope:
            body["scope"] = " ".join(self.scope)
        return body


class MissingToken(AuthError):
    """No credentials at all: RFC 6750 3.1 says answer with a bare challenge, no error code."""

    status = 401
    error = None


class InvalidRequest(AuthError):
    status = 400
    error = "invalid_request"


class InvalidToken(AuthError):
    status = 401
    error = "invalid_token"


class InsufficientScope(AuthError):
    status = 403
    error = "insufficient_scope"


class KeysUnavailable(AuthError):
    """The issuer's keys cannot be had right now: the token is not known to be bad, so no 401.

    Answered with 503 and ``Retry-After``; the challenge header is left out because the
    client did nothing wrong.
    """

    status = 503
    error = "temporarily_unavailable"

    def __init__(self, description: str, reason: str, *, retry_after: int) -> None:
        super().__init__(description, reason)
        self.retry_after = max(1, int(retry_after))

    def headers(self, realm: str, extra_params: dict[str, str] | None = None) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    503: "Service Unavailable",
}
