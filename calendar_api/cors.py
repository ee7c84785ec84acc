"""CORS for the browser applications listed in ``CALENDAR_CORS_ORIGINS``, and for no one else.

A few explicit lines instead of a dependency, so what is allowed is visible in one place:

* Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) from a configured origin get
  204 with the allowed methods and headers. They carry no token by design (browsers never
  send credentials on a preflight), so they are answered before any view or auth runs.
* Actual responses to a configured origin name it in ``Access-Control-Allow-Origin`` and
  expose the headers a client needs: ``ETag`` (for If-Match), ``Location``, ``Link``.
* Unknown origins get no CORS header at all, so the browser keeps the response from them.
* No ``Allow-Credentials``: the API reads bearer tokens, never cookies.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key"
EXPOSE_HEADERS = "ETag, Location, Link, WWW-Authenticate, Retry-After, Idempotent-Replayed"
MAX_AGE_SECONDS = 600


def init_cors(app: Flask, origins: Iterable[str]) -> None:
    """Install the preflight answer and the response headers for ``origins`` (``*`` = any)."""
    allowed = frozenset(origins)

    def allowed_origin() -> str | None:
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        if "*" in allowed:
            return "*"
        return origin if origin in allowed else None

    def is_preflight() -> bool:
        return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers

    @app.before_request
    def answer_preflight() -> Response | None:
        origin = allowed_origin()
        if not is_preflight() or origin is None:
            return None  # an unknown origin's preflight gets Flask's plain OPTIONS answer
        response = app.response_class(status=204)
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
        return response

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        response.vary.add("Origin")
        origin = allowed_origin()
        if origin is not None and not is_preflight():
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
