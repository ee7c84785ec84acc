"""The browser demo at ``/demo/``: whatever sits in ``dev_issuer/static/demo/``, plus the
little configuration it reads (where to sign in, where the calendar API is)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, redirect, send_from_directory
from flask.typing import ResponseReturnValue

DEMO_DIR = Path(__file__).parent / "static" / "demo"
CALENDAR_AUDIENCE = "https://api.example.com/calendar/v1/"

bp = Blueprint("demo", __name__)


@bp.get("/demo")
def demo_slash() -> ResponseReturnValue:
    return redirect("/demo/", 308)


@bp.get("/demo/config.json")
def demo_config() -> Response:
    """What the demo needs to know: where to sign in and where the calendar API is."""
    issuer = current_app.config["DEV_ISSUER_URL"]
    return jsonify(
        authorize_url=f"{issuer}authorize",
        token_url=f"{issuer}oauth/token",
        audience=CALENDAR_AUDIENCE,
        client_id="demo-spa",
        calendar_api=current_app.config["DEV_ISSUER_DEMO_CALENDAR_URL"],
    )


@bp.get("/demo/")
@bp.get("/demo/<path:filename>")
def demo(filename: str = "index.html") -> Response:
    return send_from_directory(DEMO_DIR, filename)
