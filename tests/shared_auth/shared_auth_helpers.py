"""Plain helpers for the shared_auth tests (the fixtures live in ``conftest.py``).

* ``FakeClock`` is a time source handed to ``JWKSCache``/``TokenVerifier`` (both take a clock
  as an input), so cache lifetime, cooldown and staleness can be crossed without sleeping.
* ``compact`` hand-builds a JWS for the malformed or hostile shapes PyJWT refuses to produce.
* ``RouteServer`` is a second real HTTP server on 127.0.0.1 that answers fixed documents and
  records every request, for "discovery 404s" and "the jku URL is never fetched".
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from jwt.algorithms import get_default_algorithms

from shared_auth import AuthError

AUD = "https://api.example.com/calendar/v1/"
GEO_AUD = "https://api.example.com/geocoding/v1/"
NOW = 1_800_000_000.0
"""A fixed wall-clock time for claim tests, so boundaries are exact."""


class FakeClock:
    """A clock the test moves by hand; ``JWKSCache`` reads time only through it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def b64url(data: bytes | str | dict[str, Any] | list[Any]) -> str:
    if isinstance(data, dict | list):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(
    header: dict[str, Any] | str,
    claims: dict[str, Any] | str,
    sign: Callable[[bytes], bytes] = lambda _: b"signature",
) -> str:
    """``header.payload.signature``; a ``str`` part is used as an already-encoded segment."""
    head = header if isinstance(header, str) else b64url(header)
    body = claims if isinstance(claims, str) else b64url(claims)
    return f"{head}.{body}.{b64url(sign(f'{head}.{body}'.encode()))}"


def signer(private_key: Any, algorithm: str = "RS256") -> Callable[[bytes], bytes]:
    """Sign with PyJWT's algorithm object, for headers ``TokenFactory`` cannot express."""
    return lambda data: get_default_algorithms()[algorithm].sign(data, private_key)


def rejected(call: Callable[[], Any], reason: str, status: int = 401) -> AuthError:
    """Run ``call``; it must raise ``AuthError`` with this reason code and status."""
    with pytest.raises(AuthError) as info:
        call()
    assert (info.value.reason, info.value.status) == (reason, status), info.value.description
    return info.value


class RouteServer:
    """Real HTTP server answering ``routes[path] = (status, json)``; 404 otherwise.

    Every request path is recorded in ``requests``.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any]] = {}
        self.requests: list[str] = []
        self.drip = 0.0
        """Seconds between body bytes; 0 sends the body at once."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body = server.routes.get(self.path, (404, {"error": "not_found"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if not server.drip:
                        self.wfile.write(data)
                        return
                    for byte in data:  # a slow issuer: each byte arrives within any timeout
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(server.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
