"""The calendar API: each user's own events, read and written by scope, with no lost updates.

``create_app(config)`` builds the Flask app; ``config`` overrides settings named like their
environment variables (``DATABASE_URL``, ``CALENDAR_*``, ``AUTH_*``), the rest come from
``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from service_kit import DocsSignIn, ServiceKit, admit, merged_env

from .auth import auth
from .config import CalendarSettings, auth_settings, service_settings
from .errors import init_database_errors
from .routes import blp
from .service import Calendar
from .store import Store

SCOPES = {"read": "Read your events", "write": "Create, change and delete your events"}
kit = ServiceKit("Calendar API", "v1")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: read settings, create the schema, install the kit and auth, add routes."""
    env = merged_env(config, os.environ)
    service = service_settings(env)
    app = Flask(__name__, instance_path=service.instance_path)
    settings = CalendarSettings.from_env(env, app.instance_path)
    authn = auth_settings(env, service.public_url)
    app.config["CALENDAR_PAGE_LIMIT_MAX"] = settings.page_limit_max
    retention = timedelta(seconds=settings.sync_retention_seconds)
    store = Store(settings.database_url, tombstone_retention=retention)
    store.create_schema(timedelta(seconds=settings.idempotency_ttl_seconds))
    sign_in = DocsSignIn(authn.issuer, "api-docs", tuple(SCOPES))
    kit.init_app(
        app,
        service,
        checks={"signing_keys": auth.signing_keys_check, "database": store.ping},
        sign_in=sign_in,
        cors_allow_headers=(
            "Authorization",
            "Content-Type",
            "DPoP",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
        ),
        cors_expose_headers=("ETag", "Location", "Link", "Idempotent-Replayed"),
    )
    auth.init_app(
        app,
        authn,
        scopes=SCOPES,
        grants=("authorization_code", "implicit"),
        resource=service.public_url,
        redis_url=service.redis_url,
        admit=admit,
    )
    init_database_errors(app)
    app.extensions["calendar"] = Calendar(store, settings)
    kit.register(app, blp)
    return app


__all__ = ["create_app"]
