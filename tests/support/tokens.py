"""Signing keys and tokens shaped like Auth0's, for one issuer; any claim or header can change."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .constants import CAL_AUD, GEO_AUD


class SigningKeyPair:
    """An RSA key with a ``kid``, able to sign tokens and to publish itself as a JWK."""

    def __init__(self, kid: str | None = None, bits: int = 2048) -> None:
        self.kid = kid or uuid.uuid4().hex[:16]
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def jwk(self, **extra: Any) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256", **extra}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.kid, **(headers or {})},
        )


class TokenFactory:
    """Mints tokens the way Auth0 does, for one issuer; ``None`` drops a claim."""

    def __init__(self, issuer: str, key: SigningKeyPair) -> None:
        self.issuer = issuer
        self.key = key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "usr_123",
            "aud": CAL_AUD,
            "iat": now,
            "exp": now + 3600,
            "azp": "demo-spa",
            "scope": "read write",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(
        self,
        key: SigningKeyPair | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        return (key or self.key).sign(self.claims(**claims), headers)

    def client_credentials(self, client_id: str = "geo-backend", **claims: Any) -> str:
        defaults = {
            "sub": f"{client_id}@clients",
            "azp": client_id,
            "gty": "client-credentials",
            "aud": GEO_AUD,
            "scope": "geocode",
        }
        return self.mint(**{**defaults, **claims})
