"""Every refusal is JSON in flask-smorest's shape, with a ``message`` a person can act on.

flask-smorest answers ``{"code", "status", "errors"}``; werkzeug's own errors (404, 405,
413) arrive without a message, and webargs hands non-JSON bodies to the schema as "missing
fields" and lets a deeply nested body raise ``RecursionError`` (a 500). This module closes
those gaps: ``ApiError`` subclasses for the calendar's own answers, a wrapper that adds a
message (and the ``Allow`` header a 405 must carry), and a JSON body parser that answers 415
and 400 itself.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any, NoReturn

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import HTTPException, MethodNotAllowed


class ApiError(Exception):
    """A request the calendar refuses; ``status`` and ``message`` are its answer."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.errors = errors

    def response(self) -> Response:
        body: dict[str, Any] = {
            "code": self.status,
            "status": HTTPStatus(self.status).phrase,
            "message": self.message,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        response = jsonify(body)
        response.status_code = self.status
        response.headers.update(self.headers)
        return response


log = logging.getLogger("calendar_api")


class BadRequest(ApiError):
    status = 400


class EventNotFound(ApiError):
    """Missing and someone else's look exactly alike: one message, no existence leak."""

    status = 404

    def __init__(self) -> None:
        super().__init__("There is no event with this id in your calendar")


class PreconditionFailed(ApiError):
    status = 412

    def __init__(self, current_etag: str) -> None:
        super().__init__(
            "The event changed since you read it: If-Match does not hold its current ETag "
            "(sent in the ETag header). Read it again, then retry your change.",
            headers={"ETag": current_etag},
        )


class PreconditionRequired(ApiError):
    status = 428

    def __init__(self) -> None:
        super().__init__(
            "Send If-Match with the event's ETag (or If-Match: * to overwrite whatever is "
            "there), so a concurrent change is never silently lost"
        )


class FieldErrors(ApiError):
    """422 in flask-smorest's format, for rules checked after webargs (a merged PATCH)."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("The event is not valid; see errors", errors={"json": errors})


class DatabaseUnavailable(ApiError):
    """The database refused or timed out (down, locked, pool exhausted): retry, not a bug."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "The calendar's database is unavailable right now; retry shortly",
            headers={"Retry-After": "5"},
        )


class IdempotencyKeyReused(ApiError):
    status = 422

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a different event"
        )


_MESSAGES = {
    400: "The request is malformed",
    404: "There is nothing at this URL",
    405: "This URL does not support the request's method",
    413: "The request body is too large",
    422: "The request has invalid fields; see errors",
    500: "The server failed to handle this request; the failure has been logged",
}


def init_errors(app: Flask, api: Any) -> None:
    """Answer ``ApiError``, database outages (503) and every werkzeug error as JSON."""
    app.register_error_handler(ApiError, lambda exc: exc.response())

    def database_unavailable(exc: Exception) -> Response:
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return DatabaseUnavailable().response()

    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)

    def http_error(error: HTTPException) -> Any:
        body, status, headers = api.handle_http_exception(error)
        headers = dict(headers or {})
        if "message" not in body:
            body["message"] = _message(error, status)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return body, status, headers

    app.register_error_handler(HTTPException, http_error)


def _message(error: HTTPException, status: int) -> str:
    if status == 413:
        limit = request.max_content_length
        return f"The request body is larger than {limit} bytes" if limit else _MESSAGES[413]
    return _MESSAGES.get(status) or error.description or HTTPStatus(status).phrase


class JsonBodyParser(FlaskParser):
    """webargs' parser, but a body that is not JSON is a 415 or a 400 with a reason."""

    def load_json(self, req: Any, schema: Any) -> Any:
        if not req.is_json:
            abort(415, message="Send the event as JSON with Content-Type: application/json")
        try:
            return super().load_json(req, schema)
        except RecursionError:
            self._bad_json("it is nested too deeply")
        except ValueError:  # json's own errors are handled above; this is int() on 4300+ digits
            self._bad_json("a number in it is too long")

    def _handle_invalid_json_error(self, error: Exception, req: Any, *a: Any, **k: Any) -> NoReturn:
        reason = str(error) if isinstance(error, json.JSONDecodeError) else "it is not UTF-8"
        self._bad_json(reason)

    @staticmethod
    def _bad_json(reason: str) -> NoReturn:
        abort(
            400,
            message=f"The request body is not valid JSON: {reason}",
            errors={"json": ["Invalid JSON body."]},
        )
