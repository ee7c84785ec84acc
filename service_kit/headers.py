"""Security headers every response of every service carries.

* ``X-Content-Type-Options: nosniff`` everywhere: a browser never reinterprets a JSON answer
  (or an uploaded calendar) as HTML or script.
* ``Cache-Control: no-store`` on every response to a request that carried credentials or was
  refused for them: an access token's answer is that caller's alone, and no shared or browser
  cache may keep it (RFC 6749 5.1 asks the same of token responses, RFC 9111 3.5 of shared
  caches).
* ``X-Frame-Options: DENY`` unless a page says otherwise: nothing here is meant to be framed.
"""

from __future__ import annotations

from flask import Flask, Response, request

from .auth_events import request_caller, request_rejection

CREDENTIAL_HEADERS = ("Authorization", "DPoP")


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("X-Frame-Options", "DENY")
    if _carried_credentials():
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response


def _carried_credentials() -> bool:
    return (
        any(name in request.headers for name in CREDENTIAL_HEADERS)
        or "access_token" in request.args
        or request_caller() is not None
        or request_rejection() is not None
    )
