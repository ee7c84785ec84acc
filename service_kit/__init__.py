"""The HTTP conventions every service here shares, each written once.

``ServiceKit(title, version).init_app(app, ServiceSettings.from_env(env, "PREFIX"))`` gives a
Flask app the service-wide error body, the strict request parser (through ``Blueprint``),
security headers, CORS, request ids and JSON logs, Prometheus metrics, per-caller rate
limits, ``/healthz`` and ``/readyz``, and offline Swagger UI at ``/docs``. See
``examples/notes_api`` for a whole service in about a hundred lines.
"""

from .docs import DocsSignIn
from .errors import (
    ApiError,
    BadRequest,
    Conflict,
    Gone,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    error_body,
    error_response,
)
from .kit import ServiceKit
from .limits import admit, by_client, by_subject
from .logs import configure_json_logging
from .parsing import Blueprint, request_json
from .settings import ApiSettings, ConfigError, ServiceSettings, merged_env

__all__ = [
    "ApiError",
    "ApiSettings",
    "BadRequest",
    "Blueprint",
    "ConfigError",
    "Conflict",
    "DocsSignIn",
    "Gone",
    "NotFound",
    "ServiceKit",
    "ServiceSettings",
    "ServiceUnavailable",
    "Unprocessable",
    "admit",
    "by_client",
    "by_subject",
    "configure_json_logging",
    "error_body",
    "error_response",
    "merged_env",
    "request_json",
]
