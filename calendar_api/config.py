"""The calendar API's settings, read once at start-up from environment-style variables.

Every knob is named like its environment variable so ``create_app({"DATABASE_URL": ...})`` and
``DATABASE_URL=... gunicorn calendar_api.wsgi:app`` mean the same thing, and a bad value stops
the process at start (``ConfigError``) instead of misbehaving at request time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared_auth import AuthSettings, ConfigError

from .auth import refuse_non_user_tokens

DEFAULT_ISSUER = "http://127.0.0.1:8000/"
DEFAULT_AUDIENCE = "https://api.example.com/calendar/v1/"
DEFAULT_REALM = "calendar"
DEFAULT_CORS_ORIGINS = "http://127.0.0.1:8000 http://localhost:8000"
SQLITE_FILE = "calendar.sqlite3"


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """What this deployment of the calendar API is allowed to do and where it keeps data."""

    database_url: str
    cors_origins: tuple[str, ...]
    max_body_bytes: int = 64 * 1024
    page_limit_default: int = 50
    page_limit_max: int = 100
    expand_max_days: int = 366
    expand_max_instances: int = 1000
    idempotency_ttl_seconds: int = 86400

    def __post_init__(self) -> None:
        if not 1 <= self.page_limit_default <= self.page_limit_max <= 1000:
            raise ConfigError(
                "need 1 <= CALENDAR_PAGE_LIMIT_DEFAULT <= CALENDAR_PAGE_LIMIT_MAX <= 1000"
            )
        if self.max_body_bytes < 1024:
            raise ConfigError("CALENDAR_MAX_BODY_BYTES below 1024 would refuse ordinary events")
        if not 1 <= self.expand_max_days <= 3660 or not 1 <= self.expand_max_instances <= 100000:
            raise ConfigError(
                "CALENDAR_EXPAND_MAX_DAYS or CALENDAR_EXPAND_MAX_INSTANCES out of range"
            )
        if self.idempotency_ttl_seconds < 60:
            raise ConfigError("CALENDAR_IDEMPOTENCY_TTL_SECONDS must be at least 60")
        for origin in self.cors_origins:
            if origin != "*" and (
                not origin.startswith(("http://", "https://")) or origin.endswith("/")
            ):
                raise ConfigError(
                    f"CALENDAR_CORS_ORIGINS entry {origin!r} must look like https://host[:port]"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> CalendarSettings:
        """Read ``DATABASE_URL`` and ``CALENDAR_*``; unset or empty means the default."""
        values: dict[str, Any] = {}
        for var, name, parse in _ENV_FIELDS:
            raw = env.get(var)
            if raw is not None and raw.strip():
                try:
                    values[name] = parse(raw)
                except ValueError as exc:
                    raise ConfigError(f"{var}={raw!r} is not valid: {exc}") from None
        values.setdefault("database_url", "sqlite:///" + os.path.join(instance_path, SQLITE_FILE))
        values.setdefault("cors_origins", tuple(DEFAULT_CORS_ORIGINS.split()))
        return cls(**values)


def auth_settings(env: Mapping[str, str]) -> AuthSettings:
    """``AUTH_*`` settings with the calendar's defaults; user tokens only (see ``auth``)."""
    return AuthSettings.from_env(
        env,
        issuer=DEFAULT_ISSUER,
        audiences=(DEFAULT_AUDIENCE,),
        realm=DEFAULT_REALM,
        validators=(refuse_non_user_tokens,),
    )


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(part.rstrip("/") for part in raw.replace(",", " ").split() if part)


_ENV_FIELDS: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("DATABASE_URL", "database_url", str.strip),
    ("CALENDAR_CORS_ORIGINS", "cors_origins", _origins),
    ("CALENDAR_MAX_BODY_BYTES", "max_body_bytes", int),
    ("CALENDAR_PAGE_LIMIT_DEFAULT", "page_limit_default", int),
    ("CALENDAR_PAGE_LIMIT_MAX", "page_limit_max", int),
    ("CALENDAR_EXPAND_MAX_DAYS", "expand_max_days", int),
    ("CALENDAR_EXPAND_MAX_INSTANCES", "expand_max_instances", int),
    ("CALENDAR_IDEMPOTENCY_TTL_SECONDS", "idempotency_ttl_seconds", int),
)
