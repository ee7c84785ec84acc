"""Verify OAuth 2.0 JWT access tokens in four steps and answer failures the RFC 6750 way.

Framework-free core: ``AuthSettings`` -> ``JWKSCache`` -> ``TokenVerifier.verify`` ->
``require_scopes``; ``find_token`` reads a request's token; ``AuthError`` subclasses carry
their status, challenge header and JSON body. ``BearerAuth`` is the thin Flask adapter.
"""

from .bearer import find_token
from .config import AuthSettings, ConfigError
from .errors import (
    AuthError,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    KeysUnavailable,
    MissingToken,
)
from .flask_adapter import BearerAuth, current_principal, oauth2_flows
from .jwks import JWKSCache
from .principal import Principal, require_scopes
from .verify import TokenVerifier

__all__ = [
    "AuthError",
    "AuthSettings",
    "BearerAuth",
    "ConfigError",
    "InsufficientScope",
    "InvalidRequest",
    "InvalidToken",
    "JWKSCache",
    "KeysUnavailable",
    "MissingToken",
    "Principal",
    "TokenVerifier",
    "current_principal",
    "find_token",
    "oauth2_flows",
    "require_scopes",
]
