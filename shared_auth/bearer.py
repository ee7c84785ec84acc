"""Step 0: find the one access token a request carries (RFC 6750 section 2).

The header (2.1) is the method to use. A form body (2.2) is accepted under the RFC's own
conditions. A URL query (2.3) is refused by default with a 400 that says why: URLs are
written to access logs, proxies and browser history, so a token there is a token leaked.
A request that uses more than one method is ``invalid_request``, as section 2 requires.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import InvalidRequest, MissingToken

# RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


def token_from_header(authorization: str) -> str:
    """The token in an ``Authorization`` value; the ``Bearer`` scheme matches in any case."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidRequest("The Authorization header must use the Bearer scheme", "wrong_scheme")
    credentials = credentials.strip(" ")
    if not credentials:
        raise InvalidRequest("The Authorization header has no token after Bearer", "empty_token")
    if not _B64TOKEN.fullmatch(credentials):
        raise InvalidRequest(
            "The Authorization header must hold exactly one token of base64url characters",
            "malformed_header",
        )
    return credentials


def find_token(
    *,
    method: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]],
    form: Mapping[str, list[str]] | None,
    allow_query: bool = False,
) -> str:
    """Return the request's single bearer token or raise the RFC 6750 error.

    ``headers`` must look names up case-insensitively, as every framework's header object does.

    ``form`` is the parsed body, passed only when the body is form-encoded; callers get
    ``query`` and ``form`` as multi-value mappings so a repeated parameter is seen as such.
    """
    found: list[str] = []
    authorization = headers.get("Authorization")
    if authorization is not None:
        found.append(token_from_header(authorization))
    for source, values in (("query", query), ("form", form or {})):
        tokens = values.get("access_token", [])
        if not tokens:
            continue
        if source == "query" and not allow_query:
            raise InvalidRequest(
                "Send the access token in the Authorization header, not in the URL",
                "token_in_query",
            )
        if source == "form" and method.upper() in _BODYLESS_METHODS:
            raise InvalidRequest(
                "A form-body token needs a method with a body; use the Authorization header",
                "token_in_form_without_body",
            )
        found.extend(tokens)
    if not found:
        raise MissingToken("This API needs an access token", "missing_token")
    if len(found) > 1:
        raise InvalidRequest(
            "The request carries more than one access token; send exactly one",
            "multiple_tokens",
        )
    token = found[0]
    if not token:
        raise InvalidRequest("The access token is empty", "empty_token")
    return token
