"""Public JWKs sent by clients (a DPoP proof's ``jwk`` header): checked, loaded, thumbprinted.

A client key is untrusted input. It must be public (a ``d`` or any other private member
means the client leaked its key: refused, never used), of the type and curve its algorithm
needs, RSA of at least 2048 bits, and it is named by its RFC 7638 thumbprint: the SHA-256 of
its required members only, sorted, without whitespace.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from .jws import b64url_encode

MIN_RSA_BITS = 2048
_REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KTY_FOR_ALG = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVE_FOR_ALG = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}


class UnusableKey(ValueError):
    """The JWK cannot be used to verify; the message says why, in a fixed sentence."""


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url: the ``jkt`` a DPoP-bound token names."""
    members = _REQUIRED.get(jwk.get("kty"))  # type: ignore[arg-type]
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise UnusableKey("the key's type or members are not those of an RSA, EC or OKP key")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_key(jwk: object, algorithm: str) -> Any:
    """The verification key for ``algorithm`` that ``jwk`` describes (PyJWT's algorithm object
    wraps it: ``key.Algorithm.verify(data, key.key, signature)``)."""
    if not isinstance(jwk, dict):
        raise UnusableKey("the jwk header is not a JSON object")
    if _PRIVATE.intersection(jwk):
        raise UnusableKey("the jwk header holds private key material")
    kty = _KTY_FOR_ALG.get(algorithm[:2])
    if jwk.get("kty") != kty:
        raise UnusableKey(f"an {algorithm} signature needs a {kty} key")
    if algorithm in _CURVE_FOR_ALG and jwk.get("crv") != _CURVE_FOR_ALG[algorithm]:
        raise UnusableKey(f"an {algorithm} signature needs the curve {_CURVE_FOR_ALG[algorithm]}")
    try:
        key = PyJWK(jwk, algorithm=algorithm)
    except (PyJWTError, ValueError, TypeError):
        raise UnusableKey("the jwk header is not a valid public key") from None
    if kty == "RSA" and key.key.key_size < MIN_RSA_BITS:
        raise UnusableKey(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    return key
