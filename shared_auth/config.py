"""Settings for token verification, from code or from ``AUTH_*`` environment variables.

Everything a service owner may tune lives here, validated once at start-up, so a typo fails
the process instead of weakening verification at request time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Asymmetric algorithms only: a JWKS publishes public keys, and an HMAC "key" made from a public
# key is the classic algorithm-confusion attack (RFC 8725 section 2.1).
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
SCOPE_CLAIMS = frozenset({"scope", "scp", "permissions"})

ClaimsValidator = Callable[[Mapping[str, Any]], None]


class ConfigError(ValueError):
    """A setting is missing or unsafe; raised at start-up, never per request."""


def normalize_issuer(value: str) -> str:
    """Turn a bare Auth0 domain (``tenant.auth0.com``) into ``https://tenant.auth0.com/``.

    Tokens are compared with ``iss`` exactly, so a full URL is kept as written: Auth0's ends
    with a slash, other issuers' (``https://accounts.example.com``, a local
    ``http://127.0.0.1:8000``) may not, and guessing would reject every token they sign.
    """
    value = value.strip()
    if not value:
        raise ConfigError("AUTH_ISSUER is empty: set it to the issuer URL or the Auth0 domain")
    if "://" not in value:
        if "/" in value:
            raise ConfigError(f"AUTH_ISSUER {value!r} is neither a URL nor a bare domain")
        return f"https://{value}/"
    scheme = value.partition("://")[0]
    if scheme not in ("https", "http"):
        raise ConfigError(f"AUTH_ISSUER must be an http(s) URL, got scheme {scheme!r}")
    return value


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How this API decides whether an access token is acceptable."""

    issuer: str
    audiences: tuple[str, ...]
    jwks_uri: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: float = 30.0
    """Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
    jwks_cache_lifetime: float = 600.0
    """Seconds a fetched key set is trusted before it is refreshed."""
    jwks_refetch_cooldown: float = 30.0
    """Minimum seconds between two fetches, so unknown ``kid`` floods cannot hammer the issuer."""
    jwks_max_stale: float = 86400.0
    """While the issuer is down, cached keys keep working for at most this many seconds."""
    http_timeout: float = 5.0
    """Connect and read timeout, each, for discovery and JWKS requests."""
    require_at_jwt: bool = False
    """Strict RFC 9068 mode: the token header must say ``typ: at+jwt``."""
    scope_claims: tuple[str, ...] = ("scope",)
    """Claims scopes are read from: ``scope`` (string), ``scp`` and ``permissions`` (lists)."""
    max_token_bytes: int = 8192
    max_token_age: float | None = None
    """When set, tokens whose ``iat`` is older than this many seconds are refused."""
    required_claims: tuple[str, ...] = ()
    validators: tuple[ClaimsValidator, ...] = field(default=(), compare=False)
    allow_query_token: bool = False
    """RFC 6750 2.3 tokens in the URL end up in logs and history; refused unless enabled."""
    realm: str = "api"

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuer", normalize_issuer(self.issuer))
        audiences = (self.audiences,) if isinstance(self.audiences, str) else self.audiences
        object.__setattr__(self, "audiences", tuple(a.strip() for a in audiences if a.strip()))
        if not self.audiences:
            raise ConfigError("at least one audience is required (AUTH_AUDIENCE)")
        bad = [a for a in self.algorithms if a not in SUPPORTED_ALGORITHMS]
        if bad or not self.algorithms:
            raise ConfigError(
                f"AUTH_ALGORITHMS may only list {sorted(SUPPORTED_ALGORITHMS)}; got {bad or '[]'}"
            )
        unknown_claims = [c for c in self.scope_claims if c not in SCOPE_CLAIMS]
        if unknown_claims or not self.scope_claims:
            raise ConfigError(f"AUTH_SCOPE_CLAIMS may only list {sorted(SCOPE_CLAIMS)}")
        # NaN compares false with everything: a NaN leeway would switch the exp check off.
        for name in _SECONDS_FIELDS:
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(
                    f"{_ENV_NAMES[name]} ({name}) must be a finite number of seconds, "
                    f"not negative; got {value!r}"
                )
        if self.leeway > 300:
            raise ConfigError("AUTH_LEEWAY above 300 s would accept tokens long expired")
        if self.http_timeout <= 0:
            raise ConfigError("AUTH_HTTP_TIMEOUT must be positive")
        if self.max_token_bytes < 256:
            raise ConfigError("AUTH_MAX_TOKEN_BYTES must be at least 256")

    @property
    def discovery_uri(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @property
    def fallback_jwks_uri(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/jwks.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **defaults: Any) -> AuthSettings:
        """Build settings from ``AUTH_*`` variables; ``defaults`` supply what the env leaves out.

        ``AUTH_DOMAIN`` (an Auth0 tenant domain) is accepted in place of ``AUTH_ISSUER``.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = dict(defaults)
        issuer = env.get("AUTH_ISSUER") or env.get("AUTH_DOMAIN")
        if issuer:
            values["issuer"] = issuer
        if env.get("AUTH_AUDIENCE"):
            values["audiences"] = _split(env["AUTH_AUDIENCE"])
        for var, name, parse in _ENV_FIELDS:
            raw = env.get(var)
            if raw is not None and raw.strip() != "":
                try:
                    values[name] = parse(raw)
                except ValueError as exc:
                    raise ConfigError(f"{var}={raw!r} is not valid: {exc}") from None
        for required in ("issuer", "audiences"):
            if required not in values:
                var = "AUTH_ISSUER" if required == "issuer" else "AUTH_AUDIENCE"
                raise ConfigError(f"{var} is not set")
        return cls(**values)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part for part in raw.replace(",", " ").split() if part)


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


_ENV_FIELDS: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("AUTH_JWKS_URI", "jwks_uri", str.strip),
    ("AUTH_ALGORITHMS", "algorithms", _split),
    ("AUTH_LEEWAY", "leeway", float),
    ("AUTH_JWKS_CACHE_LIFETIME", "jwks_cache_lifetime", float),
    ("AUTH_JWKS_REFETCH_COOLDOWN", "jwks_refetch_cooldown", float),
    ("AUTH_JWKS_MAX_STALE", "jwks_max_stale", float),
    ("AUTH_HTTP_TIMEOUT", "http_timeout", float),
    ("AUTH_REQUIRE_AT_JWT", "require_at_jwt", _bool),
    ("AUTH_SCOPE_CLAIMS", "scope_claims", _split),
    ("AUTH_MAX_TOKEN_AGE", "max_token_age", float),
    ("AUTH_MAX_TOKEN_BYTES", "max_token_bytes", int),
    ("AUTH_REQUIRED_CLAIMS", "required_claims", _split),
    ("AUTH_ALLOW_QUERY_TOKEN", "allow_query_token", _bool),
    ("AUTH_REALM", "realm", str.strip),
)
_ENV_NAMES = {name: var for var, name, _ in _ENV_FIELDS}
_SECONDS_FIELDS = (
    "leeway",
    "jwks_cache_lifetime",
    "jwks_refetch_cooldown",
    "jwks_max_stale",
    "http_timeout",
    "max_token_age",
)
