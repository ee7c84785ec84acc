"""Bench-only WSGI apps whose authentication is replaced by a fixed caller.

``gunicorn --pythonpath bench 'auth_off:geocoding()'`` (or ``calendar()``) serves the real app,
kit and routes and scope checks included, with token extraction and verification taken out:
the baseline that shows what authentication costs per request. ``bench/`` is no package and
no setting names this module, so no deployment can switch authentication off.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask

from calendar_api import create_app as create_calendar
from geocoding_api import create_app as create_geocoding
from service_kit import configure_json_logging
from shared_auth import Principal
from shared_auth.flask import EXTENSION


class FixedCaller:
    """Stands in for ``shared_auth.authenticate.Authenticator``: always the same caller."""

    def __init__(self, principal: Principal, verifier: Any) -> None:
        self.principal = principal
        self.verifier = verifier  # kept for the readiness check
        self.dpop = None
        self.schemes = ("Bearer",)

    def authenticate(self, request: Any, scopes: tuple[str, ...] = ()) -> tuple[None, Principal]:
        return None, self.principal


def without_auth(app: Flask, claims: dict[str, Any]) -> Flask:
    state = app.extensions[EXTENSION]
    caller = FixedCaller(Principal.from_claims(claims, ("scope",)), state.verifier)
    app.extensions[EXTENSION] = dataclasses.replace(state, authenticator=caller)
    return app


def calendar() -> Flask:
    configure_json_logging()
    return without_auth(
        create_calendar(), {"sub": "usr_123", "azp": "demo-spa", "scope": "read write"}
    )


def geocoding() -> Flask:
    configure_json_logging()
    claims = {"sub": "geo-backend@clients", "azp": "geo-backend", "gty": "client-credentials"}
    return without_auth(create_geocoding(), {**claims, "scope": "geocode"})
