"""What shared_auth decided about the current request, for logs, metrics and headers.

``shared_auth`` announces each accepted or refused token with a signal; the kit keeps the
latest in ``flask.g`` so the access log, the metrics and the cache headers all read the same
answer, and ``service_kit`` never needs to know how authentication is wired.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from shared_auth import AuthError, Principal
from shared_auth.signals import token_accepted, token_rejected


def track_auth(app: Flask) -> None:
    token_accepted.connect(_accepted, sender=app)
    token_rejected.connect(_rejected, sender=app)


def request_caller() -> Principal | None:
    return g.get("kit_caller")


def request_rejection() -> AuthError | None:
    return g.get("kit_auth_rejection")


def _accepted(_app: Any, principal: Principal) -> None:
    g.kit_caller = principal


def _rejected(_app: Any, error: AuthError) -> None:
    g.kit_auth_rejection = error
