"""PKCE (RFC 7636) with S256 only: the code is useless without the verifier it was bound to.

``plain`` is refused on purpose: it protects nothing once the authorization request is seen,
and every browser can compute SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 section 4.1
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest, unpadded


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` hashes to ``challenge`` (compared in constant time)."""
    return hmac.compare_digest(s256(verifier), challenge)
