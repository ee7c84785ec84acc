"""The calendar API's settings, read once at start-up from environment variables.

Every setting is named like its variable so ``create_app({"DATABASE_URL": ...})`` and
``DATABASE_URL=... gunicorn calendar_api.wsgi:app`` mean the same thing, and a bad value
stops the process at start (``ConfigError``) instead of misbehaving at request time. The
settings every service shares (``CALENDAR_CORS_ORIGINS``, ``CALENDAR_MAX_BODY_BYTES``,
``CALENDAR_PUBLIC_URL``, ``CALENDAR_METRICS``) are ``service_kit.ApiSettings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from service_kit import ApiSettings, ConfigError
from service_kit.settings import (
    at_least,
    between,
    check_fields,
    env_name,
    integer,
    load,
    setting,
    text,
)
from shared_auth import AuthSettings

from .auth import refuse_non_user_tokens

PREFIX = "CALENDAR"
DEFAULT_ISSUER = "http://127.0.0.1:8000/"
DEFAULT_AUDIENCE = "https://api.example.com/calendar/v1/"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8001/calendar/v1/"
DEFAULT_REALM = "calendar"
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")
SQLITE_FILE = "calendar.sqlite3"


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """What this deployment of the calendar API is allowed to do and where it keeps data."""

    database_url: str = setting("DATABASE_URL", text)
    page_limit_default: int = setting("CALENDAR_PAGE_LIMIT_DEFAULT", integer, 50)
    page_limit_max: int = setting("CALENDAR_PAGE_LIMIT_MAX", integer, 100)
    expand_max_days: int = setting("CALENDAR_EXPAND_MAX_DAYS", integer, 366, check=between(1, 3660))
    expand_max_instances: int = setting(
        "CALENDAR_EXPAND_MAX_INSTANCES", integer, 1000, check=between(1, 100_000)
    )
    expand_max_work: int = setting(
        "CALENDAR_EXPAND_MAX_WORK", integer, 10_000, check=between(100, 1_000_000)
    )
    """About the days of recurrence rules one ``expand=true`` request may walk, each a few
    microseconds (``Series.expansion_cost``); beyond it the request is a 400."""
    idempotency_ttl_seconds: int = setting(
        "CALENDAR_IDEMPOTENCY_TTL_SECONDS", integer, 86400, check=at_least(60)
    )
    sync_retention_seconds: int = setting(
        "CALENDAR_SYNC_RETENTION_SECONDS", integer, 30 * 86400, check=at_least(3600)
    )
    """How long deletions are remembered for syncs; older sync tokens get 410 Gone."""

    def __post_init__(self) -> None:
        check_fields(self)
        if not 1 <= self.page_limit_default <= self.page_limit_max <= 1000:
            raise ConfigError(
                f"need 1 <= {env_name(self, 'page_limit_default')} <= "
                f"{env_name(self, 'page_limit_max')} <= 1000"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> CalendarSettings:
        """Read ``DATABASE_URL`` and ``CALENDAR_*``; unset or empty means the default."""
        return load(cls, env, database_url="sqlite:///" + os.path.join(instance_path, SQLITE_FILE))


def service_settings(env: Mapping[str, str]) -> ApiSettings:
    return ApiSettings.from_env(
        env, PREFIX, public_url=DEFAULT_PUBLIC_URL, cors_origins=DEFAULT_CORS_ORIGINS
    )


def auth_settings(env: Mapping[str, str], public_url: str | None) -> AuthSettings:
    """``AUTH_*`` settings with the calendar's defaults; user tokens only (see ``auth``).

    The API answers to its Auth0-style identifier and to its public URL (RFC 8707).
    """
    audiences = (DEFAULT_AUDIENCE, public_url) if public_url else (DEFAULT_AUDIENCE,)
    return AuthSettings.from_env(
        env,
        issuer=DEFAULT_ISSUER,
        audiences=audiences,
        realm=DEFAULT_REALM,
        validators=(refuse_non_user_tokens,),
    )
