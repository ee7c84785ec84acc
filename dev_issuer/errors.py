"""OAuth 2.0 error answers (RFC 6749 sections 4.1.2.1, 4.2.2.1 and 5.2).

One exception type for every refusal the token endpoint, the authorization endpoint and the
command line make, so each decides once what the error code and the sentence are, and the
HTTP layer only chooses how to deliver them (JSON body, redirect, or stderr).
"""

from __future__ import annotations


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the code, ``description`` a sentence a person can act on."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_scope(description: str) -> OAuthError:
    return OAuthError("invalid_scope", description)
