"""One loopback HTTP server that plays an issuer's discovery and JWKS, or anything else.

A genuine HTTP server (stdlib ``ThreadingHTTPServer`` on 127.0.0.1) whose behaviour a test
changes: the keys it publishes, a discovery document of its own, extra or overriding
``routes``, and a ``mode`` for the JWKS route (``ok``, ``fail`` = HTTP 500, ``hang`` = wait
``hang_seconds`` then fail). ``drip`` sends bodies one byte at a time, to play an issuer
that trickles. Every request path is recorded, and the discovery and JWKS fetches counted,
so caching, rotation and outage rules are checked against real ``requests`` traffic.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/.well-known/jwks.json"


class IssuerStub:
    """``publishes_keys=False`` makes a bare route server: only ``routes`` answer."""

    def __init__(self, *, publishes_keys: bool = True) -> None:
        self.publishes_keys = publishes_keys
        self._lock = threading.Lock()
        self.reset([])
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = stub._answer(self.path)
                self._send(status, body)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if not stub.drip:
                        self.wfile.write(data)
                        return
                    for byte in data:  # each byte arrives within any read timeout
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(stub.drip)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    issuer = url

    @property
    def jwks_uri(self) -> str:
        return f"{self.url}.well-known/jwks.json"

    def reset(self, keys: list[dict[str, Any]]) -> None:
        """Publish ``keys`` and forget everything a previous test changed."""
        self.keys = keys
        self.mode = "ok"
        self.hang_seconds = 10.0
        self.drip = 0.0
        self.discovery: dict[str, Any] | None = None
        self.routes: dict[str, tuple[int, Any]] = {}
        self.requests: list[str] = []
        self.jwks_fetches = self.discovery_fetches = 0

    def _answer(self, path: str) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(path)
        if path in self.routes:
            return self.routes[path]
        if self.publishes_keys and path == DISCOVERY:
            with self._lock:
                self.discovery_fetches += 1
            return 200, self.discovery or {"issuer": self.issuer, "jwks_uri": self.jwks_uri}
        if self.publishes_keys and path == JWKS:
            with self._lock:
                self.jwks_fetches += 1
            if self.mode == "hang":
                time.sleep(self.hang_seconds)
            if self.mode in ("fail", "hang"):
                return 500, {"error": "down"}
            return 200, {"keys": self.keys}
        return 404, {"error": "not_found"}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
