"""Real parts for every test: RSA keys, an issuer's JWKS served over HTTP on 127.0.0.1,
signed tokens, and apps served over real HTTP (``tests/support`` holds the parts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.http_stub import IssuerStub
from support.live_server import ServerPool
from support.tokens import SigningKeyPair, TokenFactory


@pytest.fixture(scope="session")
def signing_key() -> SigningKeyPair:
    return SigningKeyPair(kid="test-key-1")


@pytest.fixture(scope="session")
def _issuer_stub() -> Iterator[IssuerStub]:
    stub = IssuerStub()
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def _route_stub() -> Iterator[IssuerStub]:
    stub = IssuerStub(publishes_keys=False)
    yield stub
    stub.close()


@pytest.fixture
def jwks_server(_issuer_stub: IssuerStub, signing_key: SigningKeyPair) -> IssuerStub:
    """The issuer stub, reset to publish ``signing_key`` and to answer normally."""
    _issuer_stub.reset([signing_key.jwk()])
    return _issuer_stub


@pytest.fixture
def route_server(_route_stub: IssuerStub) -> IssuerStub:
    """A second stub that answers only the ``routes`` a test gives it (404 otherwise)."""
    _route_stub.reset([])
    return _route_stub


@pytest.fixture
def tokens(jwks_server: IssuerStub, signing_key: SigningKeyPair) -> TokenFactory:
    return TokenFactory(jwks_server.issuer, signing_key)


@pytest.fixture(scope="session")
def _server_pool() -> Iterator[ServerPool]:
    pool = ServerPool()
    yield pool
    pool.close()


@pytest.fixture
def serve(_server_pool: ServerPool) -> Iterator[Callable[[Any], str]]:
    """``serve(app)`` returns the base URL of ``app`` running on a real loopback port."""
    slots: list[Any] = []

    def plug(app: Any) -> str:
        slots.append(_server_pool.plug(app))
        return slots[-1].url

    yield plug
    for slot in slots:
        _server_pool.unplug(slot)
