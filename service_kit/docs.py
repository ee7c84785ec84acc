"""Interactive API docs that work offline: Swagger UI from the installed swagger-ui-bundle.

``/docs`` is our own page (flask-smorest's loads nothing of ours and cannot sign in): the
Swagger UI files come from the package, so the page works on a plane, and its "Authorize"
button signs in at the issuer with the authorization code flow and PKCE, pre-filled with the
docs' registered client id and the API's audience, returning to
``/docs/oauth2-redirect.html``, which the dev tenant registers as that client's callback.
No script is inline, so the page runs under ``script-src 'self'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_URL = "/docs/assets/"
REDIRECT_PATH = "/docs/oauth2-redirect.html"
STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' {issuer}; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True, slots=True)
class DocsSignIn:
    """How Swagger UI's "Authorize" signs in: a public client of the issuer, with PKCE.

    The audience travels in the OpenAPI flow's ``authorizationUrl``
    (``shared_auth.flask_openapi.oauth2_flows``); ``scopes`` are ticked in advance.
    """

    issuer: str
    client_id: str
    scopes: tuple[str, ...] = field(default=())

    def oauth_config(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "usePkceWithAuthorizationCodeGrant": True,
            "scopes": list(self.scopes),
        }


def openapi_config(title: str, version: str) -> dict[str, object]:
    """flask-smorest settings: an OpenAPI 3.0.3 document at ``/openapi.json``."""
    return {
        "API_TITLE": title,
        "API_VERSION": version,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


EXTENSION = "service_kit.docs"
blp = Blueprint("docs", __name__, template_folder="templates", static_folder=None)


def init_docs(
    app: Flask, title: str, *, public_origin: str | None, sign_in: DocsSignIn | None
) -> None:
    """Serve ``/docs``, its assets and the OAuth 2 redirect page."""
    redirect_url = f"{public_origin}{REDIRECT_PATH}" if public_origin else REDIRECT_PATH
    config = {
        "spec_url": "/openapi.json",
        "oauth2_redirect_url": redirect_url,
        "oauth": sign_in.oauth_config() if sign_in else None,
    }
    issuer = sign_in.issuer.rstrip("/") if sign_in else ""
    app.extensions[EXTENSION] = (title, config, CSP.format(issuer=issuer).strip())
    app.register_blueprint(blp)


@blp.get(DOCS_PATH)
def docs_page() -> Any:
    title, config, csp = current_app.extensions[EXTENSION]
    page = render_template("docs.html", title=title, assets=ASSETS_URL, config=config)
    return page, 200, {"Content-Security-Policy": csp}


@blp.get("/docs/init.js")
def docs_script() -> Response:
    return send_from_directory(STATIC, "docs-init.js", max_age=3600)


@blp.get(REDIRECT_PATH)
def docs_oauth2_redirect() -> Response:
    return send_from_directory(swagger_ui_path, "oauth2-redirect.html", max_age=3600)


@blp.get(f"{ASSETS_URL}<path:filename>")
def swagger_ui_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
