"""One error body for every 4xx and 5xx of every service, werkzeug's own included.

``{"code": 404, "status": "Not Found", "message": "..."}``, plus ``errors`` (per location and
field) for validation errors. ``message`` is always a sentence a person can act on: werkzeug's
errors, flask-smorest's 422s and webargs' aborts arrive without one, so it is added here.
A 405 keeps the ``Allow`` header RFC 9110 requires (flask-smorest's handler drops it), and an
unexpected exception is logged and answered with a JSON 500 that reveals nothing.

A service with browser pages (the issuer) passes ``html_page``; requests that prefer HTML then
get the page, API clients still get JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("service_kit")

HtmlPage = Callable[[str, int], Any]
ErrorFields = Callable[[int, str], Mapping[str, Any]]
"""Extra body fields for an error a service's convention adds (RFC 6749 ``error`` at the issuer)."""

_MESSAGES = {
    400: "The request is malformed",
    401: "This URL needs credentials",
    403: "You may not do this",
    404: "There is nothing at this URL",
    405: "This URL does not support the request's method",
    406: "This URL cannot answer in a format the request accepts",
    409: "The request conflicts with the current state of the resource",
    413: "The request body is too large",
    414: "The URL is too long",
    415: "The request body has a type this URL does not accept",
    422: "The request has invalid fields; see errors",
    429: "Too many requests; wait before retrying",
    500: "The server failed to handle this request; the failure has been logged",
    503: "The service is unavailable right now; retry shortly",
}


def error_body(
    status: int, message: str | None = None, errors: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The service-wide error shape."""
    body: dict[str, Any] = {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message or _MESSAGES.get(status) or HTTPStatus(status).phrase,
    }
    if errors is not None:
        body["errors"] = dict(errors)
    return body


def error_response(
    status: int,
    message: str | None = None,
    *,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = jsonify(error_body(status, message, errors))
    response.status_code = status
    response.headers.update(headers or {})
    return response


class ApiError(Exception):
    """A refusal a service raises; ``status`` and the message are its answer."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})
        self.errors = errors

    def response(self) -> Response:
        return error_response(self.status, self.message, errors=self.errors, headers=self.headers)


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    status = 410


class Unprocessable(ApiError):
    status = 422


class ServiceUnavailable(ApiError):
    status = 503


def init_errors(
    app: Flask, html_page: HtmlPage | None = None, error_fields: ErrorFields | None = None
) -> None:
    """Answer ``ApiError`` and every ``HTTPException`` (unhandled exceptions become 500s)."""
    app.register_error_handler(ApiError, lambda exc: exc.response())

    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        errors = data.get("errors", data.get("messages"))
        message = data.get("message") or _message(status, errors, error)
        if html_page is not None and _prefers_html():
            return html_page(message, status)
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        if status == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
        body = error_body(status, message, errors)
        body.update(error_fields(status, message) if error_fields else {})
        response = jsonify(body)
        response.status_code = status
        response.headers.update(headers)
        return response

    app.register_error_handler(HTTPException, http_error)


def _message(status: int, errors: Any, error: HTTPException) -> str:
    if status == 413:
        limit = request.max_content_length
        return f"The request body is larger than {limit} bytes" if limit else _MESSAGES[413]
    if status == 405:
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        return f"{request.method} is not allowed here; this URL allows {allowed}"
    if status == 422 and isinstance(errors, Mapping):
        first = _first_problem(errors)
        if first:
            return f"The request has invalid fields ({first}); see errors"
    return _MESSAGES.get(status) or HTTPStatus(status).phrase


def _first_problem(errors: Mapping[str, Any], path: tuple[str, ...] = ()) -> str | None:
    """``"query lat: Must be ..."`` from webargs' nested ``{location: {field: [messages]}}``."""
    for key, value in errors.items():
        if isinstance(value, Mapping):
            found = _first_problem(value, (*path, str(key)))
            if found:
                return found
        elif isinstance(value, list) and value and isinstance(value[0], str):
            where = " ".join((*path, str(key))) if path else str(key)
            return f"{where}: {value[0]}"
    return None


def _prefers_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"
