"""Fixtures for the shared_auth tests, on top of the real parts in ``tests/conftest.py``.

Keys come from the real JWKS server (``jwks_server``); the key cache runs on a ``FakeClock``
(a time source ``JWKSCache`` takes as an input), so lifetime, cooldown and staleness can be
crossed without sleeping.

Every test here runs twice: with the verified-token cache at its default size and with it off
(``AUTH_TOKEN_CACHE_SIZE=0``), so remembering a verification can never change an outcome.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from shared_auth_helpers import AUD, FakeClock

from shared_auth import AuthSettings, JWKSCache, TokenVerifier


@pytest.fixture(autouse=True, params=["token-cache-on", "token-cache-off"])
def token_cache(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the verified-token cache is on: off makes 0 the default of every AuthSettings,
    however a test builds them (in code, from the environment, through an app)."""
    if request.param == "token-cache-off":
        names = [p for p in inspect.signature(AuthSettings).parameters]
        defaults = list(AuthSettings.__init__.__defaults__ or ())
        first_default = len(names) - len(defaults)
        defaults[names.index("token_cache_size") - first_default] = 0
        monkeypatch.setattr(AuthSettings.__init__, "__defaults__", tuple(defaults))
    return request.param == "token-cache-on"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def attacker_key(signing_key: Any) -> Any:
    """A second RSA key the issuer never published (same class as ``signing_key``)."""
    return type(signing_key)(kid="attacker-key")


@pytest.fixture
def new_key(signing_key: Any) -> Callable[..., Any]:
    """``new_key(kid, bits=2048)``: a fresh key pair, e.g. for rotation."""
    return lambda kid, bits=2048: type(signing_key)(kid=kid, bits=bits)


@pytest.fixture
def make_settings(jwks_server: Any) -> Callable[..., AuthSettings]:
    """Settings for the test issuer and the calendar audience, with overrides."""

    def build(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {"issuer": jwks_server.issuer, "audiences": (AUD,)}
        return AuthSettings(**{**values, **overrides})

    return build


@pytest.fixture
def make_verifier(
    make_settings: Callable[..., AuthSettings], clock: FakeClock
) -> Callable[..., TokenVerifier]:
    """A verifier whose key cache runs on ``clock``; ``wall`` pins the claims clock."""

    def build(wall: float | None = None, **overrides: Any) -> TokenVerifier:
        settings = make_settings(**overrides)
        keys = JWKSCache(settings, clock=clock)
        if wall is None:
            return TokenVerifier(settings, keys)
        return TokenVerifier(settings, keys, clock=lambda: wall)

    return build


@pytest.fixture
def verifier(make_verifier: Callable[..., TokenVerifier]) -> TokenVerifier:
    return make_verifier()
