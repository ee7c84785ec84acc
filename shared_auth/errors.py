"""RFC 6750 section 3 rejections as data: each knows its status, challenge and JSON body.

Every description is a fixed sentence written here or by the caller's code, never text taken
from the request, so a challenge header cannot be used to reflect attacker input;
``_quoted`` still drops the two characters RFC 6750 forbids in case a caller passes its own.
``Challenge`` describes how this API introduces itself in ``WWW-Authenticate`` (realm, RFC
9728 metadata URL, the schemes it accepts), so every rejection of one API reads the same.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
BEARER = "Bearer"
DPOP = "DPoP"


def _quoted(value: str) -> str:
    return '"' + _UNSAFE.sub("", value) + '"'


def token_fingerprint(token: str | None) -> str | None:
    """A short, non-reversible handle for logs: enough to correlate, useless to replay."""
    if not token:
        return None
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Challenge:
    """What every ``WWW-Authenticate`` of one API says about the API itself."""

    realm: str
    resource_metadata: str | None = None
    """RFC 9728 section 5.1: where a client learns which issuer and scopes to use."""
    bearer: bool = True
    """Whether ``Bearer`` tokens are accepted (``AUTH_DPOP=required`` turns it off)."""
    dpop_algs: tuple[str, ...] = ()
    """RFC 9449 section 7.1: proof algorithms accepted; empty when DPoP is not offered."""


class AuthError(Exception):
    """A request that may not proceed; ``reason`` is a stable code for logs and metrics."""

    status: int = 401
    error: str | None = "invalid_token"

    def __init__(
        self,
        description: str,
        reason: str,
        *,
        scope: tuple[str, ...] = (),
        scheme: str = BEARER,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.reason = reason
        self.scope = scope
        self.scheme = scheme
        """The scheme the request used; its challenge carries ``error``."""
        self.extra_headers = dict(headers or {})

    def headers(self, challenge: Challenge) -> dict[str, str]:
        """``WWW-Authenticate`` (one challenge per accepted scheme) plus any extra header.

        The ``error`` goes into the challenge of the scheme the request used (RFC 9449 7.1);
        the other scheme's challenge only says that it is accepted.
        """
        offered = [BEARER] if challenge.bearer else []
        offered += [DPOP] if challenge.dpop_algs else []
        carrier = self.scheme if self.scheme in offered else offered[0]
        header = ", ".join(self._challenge(s, challenge, s == carrier) for s in offered)
        return {"WWW-Authenticate": header, **self.extra_headers}

    def _challenge(self, scheme: str, challenge: Challenge, carrier: bool) -> str:
        params = [f"realm={_quoted(challenge.realm)}"]
        if carrier and self.error:
            params.append(f"error={_quoted(self.error)}")
            params.append(f"error_description={_quoted(self.description)}")
        if carrier and self.scope:
            params.append(f"scope={_quoted(' '.join(self.scope))}")
        if challenge.resource_metadata:
            params.append(f"resource_metadata={_quoted(challenge.resource_metadata)}")
        if scheme == DPOP:
            params.append(f"algs={_quoted(' '.join(challenge.dpop_algs))}")
        return f"{scheme} {', '.join(params)}"

    def body(self) -> dict[str, Any]:
        """The JSON answer: the service-wide ``code``/``status``/``message`` plus RFC fields."""
        body: dict[str, Any] = {
            "code": self.status,
            "status": HTTPStatus(self.status).phrase,
            "message": self.description,
        }
        if self.error:
            body["error"] = self.error
            body["error_description"] = self.description
        if self.scope and self.error:
            body["scope"] = " ".join(self.scope)
        return body


class MissingToken(AuthError):
    """No credentials this API understands: RFC 6750 3.1 says a bare challenge, no error code."""

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

    def headers(self, challenge: Challenge) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
