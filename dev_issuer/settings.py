"""The issuer's few settings, from ``DEV_ISSUER_*`` environment variables or ``create_app(config)``.

Validated once so a typo fails at start with the variable's name, rather than producing
tokens whose ``iss`` no API accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .tenant import DEFAULT_TENANT_FILE

DEFAULT_PORT = 8000


class SettingsError(ValueError):
    """A ``DEV_ISSUER_*`` value is unusable; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    issuer: str
    """The ``iss`` of every token, Auth0 style: ``http(s)://host[:port]/`` with the slash."""
    port: int
    tenant_file: Path
    keys_dir: Path
    """Signing keys, the session secret and the consent/code store live here."""
    demo_calendar_url: str = "http://127.0.0.1:8001"
    """Where the browser demo at ``/demo/`` finds the calendar API."""

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str | Path) -> Settings:
        port = parse_port(env.get("DEV_ISSUER_PORT") or str(DEFAULT_PORT))
        issuer = env.get("DEV_ISSUER_URL") or f"http://127.0.0.1:{port}/"
        return cls(
            issuer=normalize_issuer(issuer),
            port=port,
            tenant_file=Path(env.get("DEV_ISSUER_TENANT") or DEFAULT_TENANT_FILE),
            keys_dir=Path(env.get("DEV_ISSUER_KEYS_DIR") or Path(instance_path) / "dev_issuer"),
            demo_calendar_url=(
                env.get("DEV_ISSUER_DEMO_CALENDAR_URL") or "http://127.0.0.1:8001"
            ).rstrip("/"),
        )


def parse_port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise SettingsError(f"DEV_ISSUER_PORT={raw!r} is not a port number (1-65535)")
    return port


def normalize_issuer(raw: str) -> str:
    """Check an issuer URL and give it Auth0's trailing slash, so ``iss`` is always the same."""
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SettingsError(f"DEV_ISSUER_URL={raw!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"DEV_ISSUER_URL={raw!r} must be an http(s) URL such as {_EXAMPLE}")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise SettingsError(f"DEV_ISSUER_URL={raw!r} must not have a query or a fragment")
    return value if value.endswith("/") else value + "/"


_EXAMPLE = f"http://127.0.0.1:{DEFAULT_PORT}/"
