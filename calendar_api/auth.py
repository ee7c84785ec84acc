"""The calendar's ``auth``, and why only a token issued for a user may touch its data.

A client-credentials (machine-to-machine) token is genuine and meant for this API, yet no user
stands behind it, so there is no calendar it could own. It is refused with **403 and
``error="invalid_token"``**, and the description says the calendar needs a user's token.
Why this shape:

* 403, not 401: the token verified fine; fetching a fresh one the same way (what clients do on
  401) would only return another user-less token. 403 says "these credentials will not do".
* ``invalid_token``, not ``insufficient_scope``: no scope the client could ask for would help,
  and RFC 6750 3.1 defines ``invalid_token`` as a token "invalid for other reasons". RFC 9470's
  ``insufficient_user_authentication`` is about how strongly a present user authenticated, not
  about a missing user, so it would mislead too.

The check runs as a ``shared_auth`` claims validator, i.e. inside verification and before the
scope check, so every route refuses such tokens the same way (a ``read``-only machine token
calling ``POST`` hears "needs a user's token", not "needs scope write") and the answer, its
``WWW-Authenticate`` header and its log line come from ``shared_auth``'s one error handler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared_auth import AuthError, Principal
from shared_auth.flask import BearerAuth

MAX_SUBJECT_LENGTH = 255
auth = BearerAuth()
"""The calendar's authentication; ``create_app`` calls ``auth.init_app``."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UserTokenRequired(AuthError):
    """A valid token that cannot act for a user: 403 ``invalid_token`` (see module docstring)."""

    status = 403
    error = "invalid_token"


def refuse_non_user_tokens(claims: Mapping[str, Any]) -> None:
    """Claims validator: accept only tokens whose ``sub`` names a user the API can store."""
    principal = Principal.from_claims(claims)
    if principal.is_client_credentials:
        raise UserTokenRequired(
            "The calendar API needs a user's access token; a client-credentials token has no "
            "user whose calendar it could use",
            "client_credentials_token",
        )
    subject = principal.subject or ""  # shared_auth has refused tokens without one
    if len(subject) > MAX_SUBJECT_LENGTH or _CONTROL.search(subject) or not _utf8(subject):
        raise UserTokenRequired(
            "The token's sub claim is not a usable user id (too long or not plain text)",
            "unusable_subject",
        )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a JSON escape; no database stores them
        return False
    return True
