"""OAuth 2.0 error answers (RFC 6749 sections 4.1.2.1, 4.2.2.1 and 5.2).

One exception type for every refusal the token endpoint, the authorization endpoint and the
command line make, so each decides once what the error code and the sentence are, and the
HTTP layer only chooses how to deliver them (JSON body, redirect, or stderr).
"""

from __future__ import annotations

from typing import Any

from service_kit import error_body


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

    def body(self) -> dict[str, Any]:
        """The RFC 6749 fields, beside the service-wide ``code``/``status``/``message``."""
        return {
            **error_body(self.status, self.description),
            "error": self.error,
            "error_description": self.description,
        }

    def params(self) -> dict[str, str]:
        """What a redirect to the application carries (RFC 6749 4.1.2.1): the RFC fields only."""
        return {"error": self.error, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_scope(description: str) -> OAuthError:
    return OAuthError("invalid_scope", description)
