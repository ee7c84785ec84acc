"""Interactive API docs that work offline: Swagger UI from the installed swagger-ui-bundle.

flask-smorest's Swagger UI page loads its JavaScript from a CDN unless told otherwise; here
it is pointed at files served by the app itself, so ``/docs`` works on a plane.
"""

from __future__ import annotations

from flask import Flask, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets/"


def docs_config(title: str, version: str) -> dict[str, object]:
    """The flask-smorest settings for an OpenAPI 3.0.3 document and Swagger UI at ``/docs``."""
    return {
        "API_TITLE": title,
        "API_VERSION": version,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": ASSETS_URL,
    }


def init_docs_assets(app: Flask) -> None:
    """Serve the Swagger UI bundle's static files under ``/docs/assets/``."""

    @app.get(f"{ASSETS_URL}<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(swagger_ui_path, filename, max_age=86400)
