"""``create_app``: the dev issuer as a Flask app, configured from the environment.

Everything that can be wrong (settings, tenant file, key folder) is checked here, so a bad
setup stops the process at start with one clear line instead of failing a sign-in later.
The issuer lives in the same house as the APIs (``service_kit``): the same error body (with
RFC 6749's ``error`` fields on ``/oauth/`` answers), headers, logs, metrics and health.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, request

from service_kit import ServiceKit, ServiceSettings, merged_env
from service_kit.files import load_or_create_secret
from shared_auth.dpop import DPoPVerifier
from shared_auth.replay import SQLiteReplayStore

from . import authorize, demo, token_endpoint, wellknown
from .context import EXTENSION, IssuerContext, issuer_context
from .keys import KeyStore
from .security import add_page_headers
from .settings import Settings
from .store import StateStore
from .tenant_file import load_tenant

PREFIX = "DEV_ISSUER"
DPOP_ALGORITHMS = ("ES256", "EdDSA", "RS256", "PS256")
DPOP_MAX_AGE = 300.0
DPOP_LEEWAY = 30.0
kit = ServiceKit("Dev issuer", "v1")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the issuer; ``config`` overrides ``DEV_ISSUER_*`` variables and Flask settings."""
    overrides = dict(config or {})
    app = Flask(__name__)
    env = merged_env({k: v for k, v in overrides.items() if k.startswith(PREFIX)}, os.environ)
    settings = Settings.from_env(env, app.instance_path)
    tenant = load_tenant(settings.tenant_file)
    keys = KeyStore(settings.keys_dir)
    store = StateStore(settings.keys_dir / "state.sqlite3")
    app.config.update(
        DEV_ISSUER_URL=settings.issuer,
        DEV_ISSUER_PORT=settings.port,
        DEV_ISSUER_DEMO_CALENDAR_URL=settings.demo_calendar_url,
        SECRET_KEY=load_or_create_secret(settings.keys_dir / "session-secret"),
        SESSION_COOKIE_NAME="dev_issuer_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.issuer.startswith("https://"),
    )
    dpop = DPoPVerifier(
        SQLiteReplayStore(settings.keys_dir / "dpop-replay.sqlite3"),
        algorithms=DPOP_ALGORITHMS,
        max_age=DPOP_MAX_AGE,
        leeway=DPOP_LEEWAY,
    )
    app.extensions[EXTENSION] = IssuerContext(tenant=tenant, keys=keys, store=store, dpop=dpop)
    service = ServiceSettings.from_env(env, PREFIX, cors_origins=tuple(sorted(tenant.web_origins)))
    kit.init_app(
        app,
        service,
        openapi=False,
        checks={"signing_key": keys.check, "store": store.check},
        cors_paths={r"/oauth/token": service.cors_origins, r"/\.well-known/.*": ("*",)},
        cors_methods=("GET", "POST"),
        cors_allow_headers=("Authorization", "Content-Type", "DPoP", "X-Requested-With"),
        html_page=authorize.error_page,
        error_fields=_oauth_error_fields,
    )
    app.config.update({k: v for k, v in overrides.items() if not k.startswith(PREFIX)})
    app.register_blueprint(wellknown.bp)
    app.register_blueprint(token_endpoint.bp)
    app.register_blueprint(authorize.bp)
    app.after_request(add_page_headers)
    app.register_blueprint(demo.bp)
    return app


def _oauth_error_fields(status: int, message: str) -> dict[str, str]:
    """RFC 6749 5.2 clients read ``error``: every answer under ``/oauth/`` carries it."""
    if not request.path.startswith("/oauth/"):
        return {}
    return {
        "error": "server_error" if status >= 500 else "invalid_request",
        "error_description": message,
    }


__all__ = ["create_app", "issuer_context"]
