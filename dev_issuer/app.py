"""``create_app``: the dev issuer as a Flask app, configured from the environment.

Everything that can be wrong (settings, tenant file, key folder) is checked here, so a bad
setup stops the process at start with one clear line instead of failing a sign-in later.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import authorize, token_endpoint, wellknown
from .context import EXTENSION, IssuerContext, issuer_context
from .errors import OAuthError
from .files import load_or_create_secret
from .keys import KeyStore
from .security import add_security_headers
from .settings import Settings
from .store import StateStore
from .tenant import load_tenant

log = logging.getLogger("dev_issuer")

DEMO_DIR = Path(__file__).parent / "static" / "demo"
CALENDAR_AUDIENCE = "https://api.example.com/calendar/v1/"
MAX_BODY_BYTES = 64 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the issuer; ``config`` overrides ``DEV_ISSUER_*`` variables and Flask settings."""
    overrides = dict(config or {})
    app = Flask(__name__)
    env = {
        **os.environ,
        **{k: str(v) for k, v in overrides.items() if k.startswith("DEV_ISSUER_")},
    }
    settings = Settings.from_env(env, app.instance_path)
    tenant = load_tenant(settings.tenant_file)
    keys = KeyStore(settings.keys_dir)
    store = StateStore(settings.keys_dir / "state.sqlite3")
    app.config.update(
        DEV_ISSUER_URL=settings.issuer,
        DEV_ISSUER_PORT=settings.port,
        SECRET_KEY=load_or_create_secret(settings.keys_dir / "session-secret"),
        SESSION_COOKIE_NAME="dev_issuer_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.issuer.startswith("https://"),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.config.update({k: v for k, v in overrides.items() if not k.startswith("DEV_ISSUER_")})
    app.extensions[EXTENSION] = IssuerContext(tenant=tenant, keys=keys, store=store)

    app.register_blueprint(wellknown.bp)
    app.register_blueprint(token_endpoint.bp)
    app.register_blueprint(authorize.bp)
    app.after_request(add_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    _add_service_routes(app, settings)
    return app


def _add_service_routes(app: Flask, settings: Settings) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness: the process answers."""
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> ResponseReturnValue:
        """Readiness: a signing key is loadable and the consent store answers."""
        context = issuer_context()
        checks: dict[str, str] = {}
        try:
            context.keys.current()
            checks["signing_key"] = "ok"
        except Exception as exc:  # reported, not raised: this is the probe's job
            checks["signing_key"] = f"failed: {type(exc).__name__}"
        try:
            context.store.consented("-", "-", "-")
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = f"failed: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return jsonify(status="ready" if ready else "unavailable", checks=checks), (
            200 if ready else 503
        )

    # Hook for the browser demo: whatever sits in dev_issuer/static/demo/ is served at /demo/.
    if DEMO_DIR.is_dir():

        @app.get("/demo")
        def demo_slash() -> ResponseReturnValue:
            return redirect("/demo/", 308)

        @app.get("/demo/config.json")
        def demo_config() -> Response:
            """What the demo needs to know: where to sign in and where the calendar API is."""
            return jsonify(
                authorize_url=f"{settings.issuer}authorize",
                token_url=f"{settings.issuer}oauth/token",
                audience=CALENDAR_AUDIENCE,
                client_id="demo-spa",
                calendar_api=settings.demo_calendar_url,
            )

        @app.get("/demo/")
        @app.get("/demo/<path:filename>")
        def demo(filename: str = "index.html") -> Response:
            return send_from_directory(DEMO_DIR, filename)


def _wants_json() -> bool:
    return request.path.startswith(("/oauth/", "/.well-known/", "/healthz", "/readyz"))


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if request.path.startswith("/oauth/"):
        error = OAuthError("invalid_request", _describe(exc), status=status)
        response = token_endpoint.oauth_error_response(error)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
    if _wants_json():
        return jsonify(error=exc.name.lower().replace(" ", "_"), message=_describe(exc)), status
    return authorize.error_page(_describe(exc), status)


def _describe(exc: HTTPException) -> str:
    if exc.code == 405:
        return f"{request.method} is not allowed here"
    if exc.code == 413:
        return f"the request body is larger than {MAX_BODY_BYTES} bytes"
    return exc.description or exc.name


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    log.exception("unexpected error", extra={"path": request.path})
    message = "The issuer hit an unexpected error; the log has the details."
    if _wants_json():
        return jsonify(error="server_error", error_description=message), 500
    return authorize.error_page(message, 500)
