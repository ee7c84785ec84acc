"""Verify OAuth 2.0 JWT access tokens in four steps and answer failures the RFC 6750 way.

The framework-free core: ``AuthSettings`` -> ``find_token`` (from plain header strings) ->
``TokenVerifier.verify`` (keys from ``JWKSCache``) -> ``require_scopes``. Every refusal is an
``AuthError`` whose ``status``, ``headers(challenge)`` and ``body()`` are the complete HTTP
answer. Importing this package imports no web framework; the Flask integration is
``shared_auth.flask`` (``BearerAuth``, ``current_principal``).
"""

from .config import AuthSettings, ConfigError
from .errors import (
    AuthError,
    Challenge,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    KeysUnavailable,
    MissingToken,
)
from .extract import Credentials, find_token
from .jwks import JWKSCache
from .principal import Principal, require_scopes
from .verify import TokenVerifier

__all__ = [
    "AuthError",
    "AuthSettings",
    "Challenge",
    "ConfigError",
    "Credentials",
    "InsufficientScope",
    "InvalidRequest",
    "InvalidToken",
    "JWKSCache",
    "KeysUnavailable",
    "MissingToken",
    "Principal",
    "TokenVerifier",
    "find_token",
    "require_scopes",
]
