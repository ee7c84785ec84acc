"""The settings every service has, under its own prefix: ``CALENDAR_CORS_ORIGINS`` and
``GEOCODING_CORS_ORIGINS`` are the same setting of two services.

The table-driven helper (``setting``, ``load`` and the parsers) is ``shared_auth.env``; it is
re-exported here, so a service declares all its settings from one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from shared_auth.env import (
    ConfigError,
    at_least,
    between,
    boolean,
    check_fields,
    each,
    env_name,
    integer,
    load,
    number,
    one_of,
    setting,
    text,
    words,
)
from shared_auth.resource_metadata import origin

__all__ = [
    "ApiSettings",
    "ConfigError",
    "ServiceSettings",
    "at_least",
    "between",
    "boolean",
    "check_fields",
    "each",
    "env_name",
    "integer",
    "load",
    "merged_env",
    "number",
    "one_of",
    "setting",
    "text",
    "words",
]


def merged_env(config: Mapping[str, Any] | None, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with ``create_app(config)`` overrides, so both spell settings the same way."""
    merged = dict(environ)
    merged.update({key: str(value) for key, value in (config or {}).items() if value is not None})
    return merged


def _origin(value: str) -> str | None:
    if value == "*":
        return None
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc and value == origin(value):
        return None
    return "look like https://host[:port] (no path, no trailing slash) or be *"


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(part.rstrip("/") for part in words(raw))


def limit_problem(value: str) -> str | None:
    """None when ``value`` is Flask-Limiter notation (``600/minute``, ``10/second;1000/hour``)."""
    try:
        parse_many(value)
    except ValueError:
        return "be a rate limit like 600/minute or 10/second;1000/hour"
    return None


def _redis_url(value: str) -> str | None:
    scheme = urlsplit(value).scheme
    return None if scheme in ("redis", "rediss", "unix") else "be a redis:// or rediss:// URL"


def _absolute(raw: str) -> str:
    return os.path.abspath(raw.strip())


def _public_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "be an absolute http(s) URL"
    if parts.query or parts.fragment or not value.endswith("/"):
        return "end with / and have no query or fragment"
    return None


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What the kit needs to know about one service; ``prefix`` names its variables."""

    prefix: str
    cors_origins: tuple[str, ...] = setting(
        "{prefix}_CORS_ORIGINS", _origins, (), check=each(_origin)
    )
    """Browser origins allowed to call the service; ``*`` for any; empty for none."""
    max_body_bytes: int = setting(
        "{prefix}_MAX_BODY_BYTES", integer, 64 * 1024, check=at_least(1024)
    )
    metrics: bool = setting("{prefix}_METRICS", boolean, True)
    """Serve Prometheus metrics at ``/metrics``."""
    redis_url: str | None = setting("REDIS_URL", text, None, check=_redis_url)
    """The Redis every instance shares (rate limits, DPoP replays); unset: this machine only."""

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_env(cls, env: Mapping[str, str], prefix: str, **defaults: Any) -> Any:
        return load(cls, env, prefix=prefix, **defaults)


@dataclass(frozen=True, slots=True)
class ApiSettings(ServiceSettings):
    """A service that is an OAuth resource server: it also has a public URL."""

    public_url: str | None = setting("{prefix}_PUBLIC_URL", text, None, check=_public_url)
    """The API's base URL as its clients see it, and its RFC 8707 resource identifier. Never
    taken from a request's ``Host`` header, which the client controls."""
    instance_path: str | None = setting("{prefix}_INSTANCE_PATH", _absolute, None)
    """The folder for the API's own files (SQLite databases); Flask's default when unset."""
    rate_limit: str | None = setting("{prefix}_RATE_LIMIT", text, None, check=limit_problem)
    """Requests each caller may make (Flask-Limiter notation, ``600/minute``); unset: any."""
