"""Real parts for every test: an RSA key, a JWKS served over HTTP on 127.0.0.1, signed tokens.

``jwks_server`` is a genuine HTTP server (stdlib ``ThreadingHTTPServer``) whose behaviour a
test can change (fail, hang, serve other keys) and whose request counts a test can read, so
caching, rotation and outage rules are checked against real ``requests`` traffic.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa


class SigningKeyPair:
    """An RSA key with a ``kid``, able to sign tokens and to publish itself as a JWK."""

    def __init__(self, kid: str | None = None, bits: int = 2048) -> None:
        self.kid = kid or uuid.uuid4().hex[:16]
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def jwk(self, **extra: Any) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256", **extra}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.kid, **(headers or {})},
        )


class JWKSServer:
    """Serves discovery and a JWK Set; ``mode`` is ``ok``, ``fail`` (HTTP 500) or ``hang``."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.mode = "ok"
        self.hang_seconds = 10.0
        self.discovery: dict[str, Any] | None = None
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    with server._lock:
                        server.discovery_fetches += 1
                    doc = server.discovery or {
                        "issuer": server.issuer,
                        "jwks_uri": server.jwks_uri,
                    }
                    return self._send(200, doc)
                if self.path != "/.well-known/jwks.json":
                    return self._send(404, {"error": "not_found"})
                with server._lock:
                    server.jwks_fetches += 1
                if server.mode == "hang":
                    time.sleep(server.hang_seconds)
                if server.mode in ("fail", "hang"):
                    return self._send(500, {"error": "down"})
                return self._send(200, {"keys": server.keys})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}.well-known/jwks.json"

    def reset(self, keys: list[dict[str, Any]]) -> None:
        self.keys, self.mode, self.discovery = keys, "ok", None
        self.jwks_fetches = self.discovery_fetches = 0

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def signing_key() -> SigningKeyPair:
    return SigningKeyPair(kid="test-key-1")


@pytest.fixture(scope="session")
def _jwks_server_process() -> Iterator[JWKSServer]:
    server = JWKSServer()
    yield server
    server.close()


@pytest.fixture
def jwks_server(_jwks_server_process: JWKSServer, signing_key: SigningKeyPair) -> JWKSServer:
    """The running JWKS server, reset to publish ``signing_key`` and to answer normally."""
    _jwks_server_process.reset([signing_key.jwk()])
    return _jwks_server_process


class TokenFactory:
    """Mints tokens the way Auth0 does, for one issuer; override any claim or header."""

    def __init__(self, issuer: str, key: SigningKeyPair) -> None:
        self.issuer = issuer
        self.key = key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "usr_123",
            "aud": "https://api.example.com/calendar/v1/",
            "iat": now,
            "exp": now + 3600,
            "azp": "demo-spa",
            "scope": "read write",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(
        self,
        key: SigningKeyPair | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        return (key or self.key).sign(self.claims(**claims), headers)

    def client_credentials(self, client_id: str = "geo-backend", **claims: Any) -> str:
        defaults = {
            "sub": f"{client_id}@clients",
            "azp": client_id,
            "gty": "client-credentials",
            "aud": "https://api.example.com/geocoding/v1/",
            "scope": "geocode",
        }
        return self.mint(**{**defaults, **claims})


@pytest.fixture
def tokens(jwks_server: JWKSServer, signing_key: SigningKeyPair) -> TokenFactory:
    return TokenFactory(jwks_server.issuer, signing_key)


class LiveServer:
    """A WSGI app served over real HTTP on 127.0.0.1 (threaded werkzeug) for the test's life."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app)`` returns the base URL of ``app`` running on a real loopback port."""
    servers: list[LiveServer] = []

    def start(app: Any) -> str:
        servers.append(LiveServer(app))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()
