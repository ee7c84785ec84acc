"""One JSON object per line for every request, with a request id, and never a token.

Records are rendered by ``python-json-logger``. The access line carries what an operator
needs to follow a caller (subject or client id) and why a request was refused (the check that
failed, from ``shared_auth``'s ``token_rejected`` signal), but only the path, never the query
string, where a misplaced ``access_token`` could sit. As a second line of defence, a filter
on the handler blanks anything shaped like a JWT or a credential in any record, so a library
that logs a header or an exception message cannot leak one either.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .auth_events import request_caller, request_rejection

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Three base64url segments starting like a JSON header ('{"' is "eyJ"), or a credential
# after an auth scheme name.
_SECRETS = re.compile(
    r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
    r"|(?i:\b(?:bearer|dpop|basic)\s+)[A-Za-z0-9\-._~+/]+=*"
)
REDACTED = "[redacted]"


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter with a fixed field set and the request id."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_default=str,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message: dict
    ) -> None:
        super().add_fields(log_data, record, message)
        log_data["level"] = str(log_data.get("level", "")).lower()
        if has_request_context() and "request_id" in g and "request_id" not in log_data:
            log_data["request_id"] = g.request_id


def redact(text: str) -> str:
    return _SECRETS.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Blank token-shaped text in a record's message, arguments, extra fields and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in ("msg", "name", "levelname", "pathname"):
                setattr(record, key, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON; idempotent, so app factories may call it."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(level)


def init_request_logging(app: Flask, service: str) -> None:
    """Tag each request with an id (``X-Request-ID`` if sane, else new), log it when done."""
    access = logging.getLogger(f"{service}.access")
    app.before_request(_start)

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        caller, rejection = request_caller(), request_rejection()
        started = g.get("request_started", time.perf_counter())
        access.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                "subject": caller.subject if caller else None,
                "client_id": caller.client_id if caller else None,
                "auth_rejection": rejection.reason if rejection else None,
            },
        )
        return response


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
