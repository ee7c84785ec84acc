"""Who is calling the token endpoint: client authentication per RFC 6749 section 2.3.

Confidential clients authenticate with their secret, by HTTP Basic (``client_secret_basic``)
or in the body (``client_secret_post``), never both. Public clients (single-page apps) send
only their ``client_id``; what protects their codes is PKCE. Secrets are compared in constant
time, and a failure says ``invalid_client`` without telling which part was wrong.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from urllib.parse import unquote

from .errors import OAuthError, invalid_request
from .tenant import Client, Tenant

BASIC_CHALLENGE = 'Basic realm="dev_issuer", charset="UTF-8"'


def _invalid_client(description: str, basic: bool) -> OAuthError:
    headers = {"WWW-Authenticate": BASIC_CHALLENGE} if basic else None
    return OAuthError("invalid_client", description, status=401, headers=headers)


def _basic_credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("the token endpoint accepts Basic authentication only", True)
    try:  # non-ASCII text is a ValueError in b64decode; bytes not UTF-8 a UnicodeDecodeError
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_client("the Basic credentials are not valid base64", True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise _invalid_client("Basic credentials must be client_id:client_secret", True)
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def authenticate_client(
    tenant: Tenant, params: Mapping[str, str], authorization: str | None
) -> Client:
    """The calling client, or ``OAuthError`` (``invalid_client`` 401, ``invalid_request``)."""
    basic = authorization is not None
    if basic:
        client_id, secret = _basic_credentials(authorization or "")
        if "client_secret" in params:
            raise invalid_request("send the client secret by Basic or in the body, not both")
        if params.get("client_id", client_id) != client_id:
            raise invalid_request("client_id in the body differs from the Basic credentials")
    else:
        client_id, secret = params.get("client_id", ""), params.get("client_secret")
        if not client_id:
            raise _invalid_client("client authentication is missing: send client_id", False)
    client = tenant.clients.get(client_id)
    if client is None:
        raise _invalid_client(f"unknown client {client_id!r} or wrong secret", basic)
    if client.is_public:
        if secret:
            raise _invalid_client(f"{client_id} is a public client and has no secret", basic)
        return client
    expected = (client.secret or "").encode("utf-8")
    if not secret or not hmac.compare_digest(secret.encode("utf-8"), expected):
        raise _invalid_client(f"unknown client {client_id!r} or wrong secret", basic)
    return client
