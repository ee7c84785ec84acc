"""The client side of DPoP (RFC 9449): a key of the client's own, and a proof per request.

    key = DPoPKey.generate()
    token = ...  # POST /oauth/token with header DPoP: key.proof("POST", token_endpoint)
    requests.get(url, headers={"Authorization": f"DPoP {token}",
                               "DPoP": key.proof("GET", url, access_token=token)})

From a shell, ``python -m shared_auth.dpop_client new-key > key.json`` writes a key (a
private JWK: keep it like a password) and ``... proof --key key.json [--token T] METHOD
URL`` prints a proof, so curl can use DPoP too (see the README).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .dpop import PROOF_TYPE, access_token_hash
from .jwk import thumbprint

_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
_PUBLIC_MEMBERS = {"EC": ("kty", "crv", "x", "y"), "OKP": ("kty", "crv", "x")}


class DPoPKey:
    """An asymmetric key (ES256 by default, or EdDSA) that signs DPoP proofs."""

    def __init__(self, private_key: Any, algorithm: str = "ES256") -> None:
        self.private_key = private_key
        self.algorithm = algorithm
        private_jwk = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(private_key))
        self._private_jwk = private_jwk
        self.public_jwk = {m: private_jwk[m] for m in _PUBLIC_MEMBERS[private_jwk["kty"]]}
        self.thumbprint = thumbprint(self.public_jwk)
        """RFC 7638: what a token bound to this key names in ``cnf.jkt``."""

    @classmethod
    def generate(cls, algorithm: str = "ES256") -> DPoPKey:
        if algorithm == "EdDSA":
            return cls(ed25519.Ed25519PrivateKey.generate(), algorithm)
        return cls(ec.generate_private_key(_CURVES[algorithm]()), algorithm)

    @classmethod
    def from_json(cls, text: str) -> DPoPKey:
        """A key saved by ``to_json`` (a private JWK with its ``alg``)."""
        data = json.loads(text)
        algorithm = data.pop("alg")
        return cls(jwt.get_algorithm_by_name(algorithm).from_jwk(data), algorithm)

    def to_json(self) -> str:
        return json.dumps({**self._private_jwk, "alg": self.algorithm})

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """A fresh proof for one request (``htu`` is ``url`` without query or fragment)."""
        parts = urlsplit(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        headers = {"typ": PROOF_TYPE, "jwk": self.public_jwk}
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared_auth.dpop_client")
    commands = parser.add_subparsers(dest="command", required=True)
    new_key = commands.add_parser("new-key", help="print a new private key (JSON)")
    new_key.add_argument("--alg", default="ES256", choices=[*_CURVES, "EdDSA"])
    proof = commands.add_parser("proof", help="print a DPoP proof for one request")
    proof.add_argument("--key", required=True, help="a file written by new-key")
    proof.add_argument("--token", help="the access token the request carries (adds ath)")
    proof.add_argument("--nonce", help="the server's DPoP-Nonce, when it asks for one")
    proof.add_argument("method")
    proof.add_argument("url")
    args = parser.parse_args(argv)
    if args.command == "new-key":
        print(DPoPKey.generate(args.alg).to_json())
        return 0
    with open(args.key, encoding="utf-8") as file:
        key = DPoPKey.from_json(file.read())
    print(key.proof(args.method, args.url, access_token=args.token, nonce=args.nonce))
    return 0


if __name__ == "__main__":
    sys.exit(main())
