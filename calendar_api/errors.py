"""The calendar's own refusals, in the service-wide error body (``service_kit.ApiError``).

Each is a sentence that says what to do next. A database that refuses or times out (down,
locked, pool exhausted) is a 503 with ``Retry-After``: the client should retry, and nothing
was written.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service_kit import ApiError, BadRequest, ServiceUnavailable, Unprocessable

log = logging.getLogger("calendar_api")

__all__ = [
    "BadRequest",
    "DatabaseUnavailable",
    "EventNotFound",
    "FieldErrors",
    "IdempotencyKeyReused",
    "PreconditionFailed",
    "PreconditionRequired",
    "init_database_errors",
]


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


class FieldErrors(Unprocessable):
    """422 with per-field errors, for rules checked after parsing (a merged PATCH)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field, messages = next(iter(errors.items()))
        super().__init__(
            f"The event is not valid ({field}: {messages[0]}); see errors",
            errors={"json": errors},
        )


class DatabaseUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "The calendar's database is unavailable right now; retry shortly",
            headers={"Retry-After": "5"},
        )


class IdempotencyKeyReused(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a different event"
        )


def init_database_errors(app: Flask) -> None:
    """Database outages are 503s, logged by type (never with the connection URL)."""

    def database_unavailable(exc: Exception) -> Response:
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return DatabaseUnavailable().response()

    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)
