"""The issuer's settings, from ``DEV_ISSUER_*`` environment variables or ``create_app(config)``.

Validated once so a typo fails at start with the variable's name, rather than producing
tokens whose ``iss`` no API accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from service_kit.settings import ConfigError, load, setting

from .tenant import DEFAULT_TENANT_FILE

DEFAULT_PORT = 8000
_EXAMPLE = f"http://127.0.0.1:{DEFAULT_PORT}/"


def parse_port(raw: str) -> int:
    text_value = raw.strip()
    if not text_value.isascii() or not text_value.isdigit() or not 1 <= int(text_value) <= 65535:
        raise ValueError("not a port number (1-65535)")
    return int(text_value)


def normalize_issuer(raw: str) -> str:
    """Check an issuer URL and give it Auth0's trailing slash, so ``iss`` is always the same."""
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as {_EXAMPLE}")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError("must not have a query or a fragment")
    return value if value.endswith("/") else value + "/"


def _url(raw: str) -> str:
    return normalize_issuer(raw).rstrip("/")


@dataclass(frozen=True, slots=True)
class Settings:
    port: int = setting("DEV_ISSUER_PORT", parse_port, DEFAULT_PORT)
    """Port for ``serve``, and for the default issuer URL."""
    issuer: str = setting("DEV_ISSUER_URL", normalize_issuer, "")
    """The ``iss`` of every token, Auth0 style: ``http(s)://host[:port]/`` with the slash."""
    tenant_file: Path = setting("DEV_ISSUER_TENANT", Path, DEFAULT_TENANT_FILE)
    keys_dir: Path = setting("DEV_ISSUER_KEYS_DIR", Path, Path("instance/dev_issuer"))
    """Signing keys, the session secret and the consent/code store live here."""
    demo_calendar_url: str = setting("DEV_ISSUER_DEMO_CALENDAR_URL", _url, "http://127.0.0.1:8001")
    """Where the browser demo at ``/demo/`` finds the calendar API."""

    def __post_init__(self) -> None:
        if not self.issuer:
            object.__setattr__(self, "issuer", f"http://127.0.0.1:{self.port}/")

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str | Path) -> Settings:
        return load(cls, env, keys_dir=Path(instance_path) / "dev_issuer")


__all__ = ["ConfigError", "Settings", "normalize_issuer", "parse_port"]
