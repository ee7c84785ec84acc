"""Liveness and readiness for process managers and load balancers (no token needed).

``/healthz`` only says the process answers. ``/readyz`` says whether requests can succeed:
the issuer's signing keys are loaded (or can be fetched now) and the database answers
``SELECT 1``. Failures name the check, never a URL, password or token.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("calendar_api.health")
health = Blueprint("health", __name__)
_NO_STORE = {"Cache-Control": "no-store"}


@health.get("/healthz")
def healthz() -> Any:
    """The process is alive."""
    return {"status": "ok"}, 200, _NO_STORE


@health.get("/readyz")
def readyz() -> Any:
    """200 when signing keys and the database are usable, else 503 naming what is not."""
    checks = {"signing_keys": _signing_keys(), "database": _database()}
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return body, 200 if ready else 503, _NO_STORE


def _signing_keys() -> str:
    keys = current_app.extensions["shared_auth"].verifier.keys
    return "ok" if keys.refresh() else "failed: no usable signing key from the issuer"


def _database() -> str:
    try:
        current_app.extensions["calendar"].store.ping()
    except SQLAlchemyError as exc:
        log.warning("database check failed", extra={"error": type(exc).__name__})
        return f"failed: {type(exc).__name__}"
    return "ok"
