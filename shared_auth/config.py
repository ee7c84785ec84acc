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

from . import env as envvars
from .env import (
    ConfigError,
    at_least,
    between,
    boolean,
    integer,
    number,
    one_of,
    setting,
    text,
    words,
)

# Asymmetric algorithms only: a JWKS publishes public keys, and an HMAC "key" made from a public
# key is the classic algorithm-confusion attack (RFC 8725 section 2.1).
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
SCOPE_CLAIMS = frozenset({"scope", "scp", "permissions"})

ClaimsValidator = Callable[[Mapping[str, Any]], None]

__all__ = ["SUPPORTED_ALGORITHMS", "AuthSettings", "ConfigError", "normalize_issuer"]


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


def _seconds(value: float) -> str | None:
    """NaN compares false with everything: a NaN leeway would switch the exp check off."""
    return None if math.isfinite(value) and value >= 0 else "be a finite number of seconds, >= 0"


def _subset(allowed: frozenset[str]) -> Callable[[tuple[str, ...]], str | None]:
    def check(values: tuple[str, ...]) -> str | None:
        if values and set(values) <= allowed:
            return None
        return f"list only {', '.join(sorted(allowed))}"

    return check


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How this API decides whether an access token is acceptable."""

    issuer: str = setting("AUTH_ISSUER", text)
    audiences: tuple[str, ...] = setting("AUTH_AUDIENCE", words)
    """Every identifier this API answers to (RFC 8707 resource indicators included)."""
    jwks_uri: str | None = setting("AUTH_JWKS_URI", text, None)
    algorithms: tuple[str, ...] = setting(
        "AUTH_ALGORITHMS", words, ("RS256",), check=_subset(SUPPORTED_ALGORITHMS)
    )
    leeway: float = setting("AUTH_LEEWAY", number, 30.0, check=between(0, 300))
    """Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat`` (above 300 s would
    accept tokens long expired)."""
    jwks_cache_lifetime: float = setting("AUTH_JWKS_CACHE_LIFETIME", number, 600.0, check=_seconds)
    """Seconds a fetched key set is trusted before it is refreshed."""
    jwks_refetch_cooldown: float = setting(
        "AUTH_JWKS_REFETCH_COOLDOWN", number, 30.0, check=_seconds
    )
    """Minimum seconds between two fetches, so unknown ``kid`` floods cannot hammer the issuer."""
    jwks_max_stale: float = setting("AUTH_JWKS_MAX_STALE", number, 86400.0, check=_seconds)
    """While the issuer is down, cached keys keep working for at most this many seconds."""
    http_timeout: float = setting(
        "AUTH_HTTP_TIMEOUT", number, 5.0, check=lambda v: None if v > 0 else "be positive"
    )
    """Connect and read timeout, each, for discovery and JWKS requests."""
    require_at_jwt: bool = setting("AUTH_REQUIRE_AT_JWT", boolean, False)
    """Strict RFC 9068 mode: the token header must say ``typ: at+jwt``."""
    scope_claims: tuple[str, ...] = setting(
        "AUTH_SCOPE_CLAIMS", words, ("scope",), check=_subset(SCOPE_CLAIMS)
    )
    """Claims scopes are read from: ``scope`` (string), ``scp`` and ``permissions`` (lists)."""
    max_token_bytes: int = setting("AUTH_MAX_TOKEN_BYTES", integer, 8192, check=at_least(256))
    token_cache_size: int = setting(
        "AUTH_TOKEN_CACHE_SIZE", integer, 10_000, check=between(0, 1_000_000)
    )
    """Verified tokens remembered per process (0: verify every time); see ``token_cache``."""
    max_token_age: float | None = setting("AUTH_MAX_TOKEN_AGE", number, None, check=_seconds)
    """When set, tokens whose ``iat`` is older than this many seconds are refused."""
    required_claims: tuple[str, ...] = setting("AUTH_REQUIRED_CLAIMS", words, ())
    validators: tuple[ClaimsValidator, ...] = field(default=(), compare=False)
    allow_query_token: bool = setting("AUTH_ALLOW_QUERY_TOKEN", boolean, False)
    """RFC 6750 2.3 tokens in the URL end up in logs and history; refused unless enabled."""
    realm: str = setting("AUTH_REALM", text, "api")
    dpop: str = setting(
        "AUTH_DPOP", text, "allowed", check=one_of("allowed", "required", "disabled")
    )
    """RFC 9449: accept DPoP-bound tokens beside Bearer ones, only them, or not at all."""
    dpop_nonce: bool = setting("AUTH_DPOP_NONCE", boolean, False)
    """Require server nonces in DPoP proofs (``use_dpop_nonce`` + ``DPoP-Nonce``)."""
    dpop_algorithms: tuple[str, ...] = setting(
        "AUTH_DPOP_ALGORITHMS",
        words,
        ("ES256", "EdDSA", "RS256", "PS256"),
        check=_subset(SUPPORTED_ALGORITHMS),
    )
    dpop_max_age: float = setting("AUTH_DPOP_MAX_AGE", number, 300.0, check=between(1, 3600))
    """Seconds a DPoP proof is accepted after its ``iat`` (and its ``jti`` remembered)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuer", normalize_issuer(self.issuer))
        audiences = (self.audiences,) if isinstance(self.audiences, str) else self.audiences
        object.__setattr__(self, "audiences", tuple(a.strip() for a in audiences if a.strip()))
        if not self.audiences:
            raise ConfigError("at least one audience is required (AUTH_AUDIENCE)")
        envvars.check_fields(self)

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
        if not (env.get("AUTH_ISSUER") or "").strip() and (env.get("AUTH_DOMAIN") or "").strip():
            env = {**env, "AUTH_ISSUER": env["AUTH_DOMAIN"]}
        return envvars.load(cls, env, **defaults)
