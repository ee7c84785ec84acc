"""DPoP proofs for tests: the real client helper's, and hand-made ones it would never make."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import jwt

from shared_auth.dpop import access_token_hash
from shared_auth.dpop_client import DPoPKey

DROP = object()
"""A claim or header value meaning "leave this member out"."""


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def proof(
    key: DPoPKey,
    method: str,
    url: str,
    *,
    token: str | None = None,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    alg: str | None = None,
    hmac_secret: bytes | None = None,
) -> str:
    """A proof for ``method url``, with any header member or claim replaced or dropped.

    ``alg="none"`` gives an unsigned proof; ``hmac_secret`` signs with HS256 instead of the key.
    """
    body: dict[str, Any] = {
        "jti": secrets.token_urlsafe(12),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if token is not None:
        body["ath"] = access_token_hash(token)
    head: dict[str, Any] = {"typ": "dpop+jwt", "alg": alg or key.algorithm, "jwk": key.public_jwk}
    head.update(header or {})
    body.update(claims or {})
    head = {k: v for k, v in head.items() if v is not DROP}
    body = {k: v for k, v in body.items() if v is not DROP}
    if head["alg"] == "none":
        return f"{b64(head)}.{b64(body)}.{b64(b'x')}"
    if hmac_secret is not None:
        signing_input = f"{b64(head)}.{b64(body)}".encode()
        signature = hmac.new(hmac_secret, signing_input, hashlib.sha256).digest()
        return f"{signing_input.decode()}.{b64(signature)}"
    algorithm = head.pop("alg")
    token = jwt.encode(body, key.private_key, algorithm=key.algorithm, headers=head)
    if algorithm == key.algorithm:
        return token
    # another alg in the header than the key signs with: re-encode the header only
    _, payload, signature = token.split(".")
    header_json = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return f"{b64({**header_json, 'alg': algorithm})}.{payload}.{signature}"
