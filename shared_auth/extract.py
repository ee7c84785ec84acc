"""Step 0: find the one access token a request carries (RFC 6750 section 2, RFC 9449 7.1).

Works on plain strings (the ``Authorization`` header value, the query and form parameters),
so any framework can call it. The header (2.1) is the method to use. A form body (2.2) is
accepted under the RFC's own conditions. A URL query (2.3) is refused by default with a 400
that says why: URLs are written to access logs, proxies and browser history, so a token there
is a token leaked. A request that uses more than one method is ``invalid_request``, as
section 2 requires. A header with a scheme this API does not accept (``Basic``, say) is no
credentials at all (3.1): a bare challenge tells the client which scheme to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import BEARER, DPOP, InvalidRequest, MissingToken

# RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """The request's access token and the scheme it came with (``Bearer`` or ``DPoP``)."""

    token: str
    scheme: str = BEARER


def credentials_from_header(authorization: str, schemes: Iterable[str] = (BEARER,)) -> Credentials:
    """The token in an ``Authorization`` value; scheme names match in any case."""
    name, _, value = authorization.strip().partition(" ")
    scheme = next((s for s in schemes if s.lower() == name.lower()), None)
    if scheme is None:
        raise MissingToken(
            f"This API needs an access token in Authorization: {' or '.join(schemes)}",
            "unsupported_scheme",
        )
    value = value.strip(" ")
    if not value:
        raise InvalidRequest(
            f"The Authorization header has no token after {scheme}", "empty_token", scheme=scheme
        )
    if not _B64TOKEN.fullmatch(value):
        raise InvalidRequest(
            "The Authorization header must hold exactly one token of base64url characters",
            "malformed_header",
            scheme=scheme,
        )
    return Credentials(value, scheme)


def find_token(
    *,
    method: str,
    authorization: str | None,
    query: Mapping[str, list[str]],
    form: Mapping[str, list[str]] | None,
    allow_query: bool = False,
    schemes: Iterable[str] = (BEARER,),
) -> Credentials:
    """Return the request's single access token or raise the RFC 6750 error.

    ``query`` and ``form`` map parameter names to all their values, so a repeated parameter
    is seen as such; ``form`` is the parsed body, passed only when it is form-encoded.
    """
    schemes = tuple(schemes)
    found: list[Credentials] = []
    if authorization is not None:
        found.append(credentials_from_header(authorization, schemes))
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
        if BEARER not in schemes:
            raise InvalidRequest(
                "This API needs DPoP-bound tokens, sent in Authorization: DPoP", "bearer_refused"
            )
        found.extend(Credentials(token) for token in tokens)
    if not found:
        raise MissingToken("This API needs an access token", "missing_token")
    if len(found) > 1:
        raise InvalidRequest(
            "The request carries more than one access token; send exactly one",
            "multiple_tokens",
        )
    if not found[0].token:
        raise InvalidRequest("The access token is empty", "empty_token")
    return found[0]


__all__ = ["BEARER", "DPOP", "FORM_CONTENT_TYPE", "Credentials", "find_token"]
