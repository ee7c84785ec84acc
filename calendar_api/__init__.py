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
from flask_smorest import Api

from shared_auth import BearerAuth, oauth2_flows
from shared_auth.docs import docs_config, init_docs_assets
from shared_auth.request_log import init_request_logging

from .config import CalendarSettings, auth_settings
from .cors import init_cors
from .errors import init_errors
from .health import health
from .routes import create_blueprint
from .service import Calendar
from .store import Store

SCOPES = {"read": "Read your events", "write": "Create, change and delete your events"}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database schema, auth, routes, errors, CORS."""
    env = {**os.environ, **{key: str(value) for key, value in (config or {}).items()}}
    instance_path = env.get("CALENDAR_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path and os.path.abspath(instance_path))
    settings = CalendarSettings.from_env(env, app.instance_path)
    if settings.database_url.startswith("sqlite:///" + app.instance_path):
        os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(docs_config("Calendar API", "v1"))
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        CALENDAR_PAGE_LIMIT_MAX=settings.page_limit_max,
    )
    api = Api(app)
    init_docs_assets(app)
    init_request_logging(app, "calendar_api")
    auth = BearerAuth(auth_settings(env))
    flows = oauth2_flows(auth.settings.issuer, SCOPES, ("authorization_code", "implicit"))
    auth.init_app(app, api, flows=flows)
    store = Store(settings.database_url)
    store.create_schema(timedelta(seconds=settings.idempotency_ttl_seconds))
    app.extensions["calendar"] = Calendar(store, settings)
    api.register_blueprint(create_blueprint(auth))
    app.register_blueprint(health)
    init_errors(app, api)
    init_cors(app, settings.cors_origins)
    return app


__all__ = ["create_app"]
