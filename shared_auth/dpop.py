"""DPoP (RFC 9449): a proof that the caller holds the key its access token is bound to.

``DPoPVerifier.check`` runs every check of section 4.3, in order, and answers the first
failure with ``InvalidDPoPProof`` (or ``UseDPoPNonce`` when a server nonce is missing or
stale): one well-formed JWS, ``typ`` ``dpop+jwt``, an asymmetric ``alg`` from the allowlist,
a public ``jwk`` that verifies the signature, ``htm`` and ``htu`` equal to the request's
method and URL (normalised, query and fragment ignored, the URL built from the configured
public URL, never from ``Host``), ``iat`` within the window, the nonce when required,
``ath`` the hash of the access token and the key's thumbprint the token's ``cnf.jkt``. Only a
proof that passed everything spends its ``jti`` in the shared replay store, so a forged proof
cannot burn a real one.

Nonces (section 8) are stateless across workers: an HMAC of the current time slice under the
store's shared secret; the current and the previous slice are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import jws
from .errors import DPOP, AuthError
from .jwk import UnusableKey, public_key, thumbprint
from .replay import ReplayStore

PROOF_TYPE = "dpop+jwt"
MAX_PROOF_BYTES = 4096
MAX_JTI_LENGTH = 256
NONCE_LIFETIME = 60.0
"""Seconds one nonce is current; the previous one stays accepted for as long again."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidDPoPProof(AuthError):
    status = 401
    error = "invalid_dpop_proof"

    def __init__(self, description: str, reason: str) -> None:
        super().__init__(description, reason, scheme=DPOP)


class UseDPoPNonce(AuthError):
    """Section 8: the server wants a nonce of its own in the proof; the header carries it."""

    status = 401
    error = "use_dpop_nonce"

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description, "dpop_nonce", scheme=DPOP, headers={"DPoP-Nonce": nonce})


@dataclass(frozen=True, slots=True)
class ProofRequest:
    """What a proof is checked against: the request, and the token it comes with."""

    method: str
    url: str
    """The request's URL as the client addressed it (public origin + path)."""
    proofs: Sequence[str]
    """Every ``DPoP`` header value the request carried."""
    access_token: str | None = None
    jkt: str | None = None
    """The thumbprint the access token is bound to (``cnf.jkt``)."""


def normalize_url(url: str) -> str | None:
    """RFC 3986 section 6: scheme and host in lower case, no default port, no query or
    fragment, an empty path as ``/``; None for anything that is not an absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def access_token_hash(token: str) -> str:
    """``ath``: base64url of the SHA-256 of the ASCII access token."""
    return jws.b64url_encode(hashlib.sha256(token.encode("ascii")).digest())


class DPoPVerifier:
    def __init__(
        self,
        store: ReplayStore,
        *,
        algorithms: Sequence[str],
        max_age: float,
        leeway: float,
        nonces: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.algorithms = tuple(algorithms)
        self.max_age = max_age
        self.leeway = leeway
        self.nonces = nonces
        self.clock = clock

    def check(self, request: ProofRequest) -> str:
        """Every proof check; returns the proof key's thumbprint."""
        if len(request.proofs) != 1:
            raise InvalidDPoPProof("Send exactly one DPoP header", "dpop_header_count")
        claims, jkt = self._signed_proof(request.proofs[0])
        self._check_claims(claims, request)
        if request.jkt is not None and not hmac.compare_digest(jkt, request.jkt):
            raise InvalidDPoPProof(
                "The proof is signed by another key than the one the token is bound to",
                "dpop_key_mismatch",
            )
        if not self.store.first_use(f"{jkt}:{claims['jti']}", self.max_age + 2 * self.leeway):
            raise InvalidDPoPProof("This proof was already used; make a new one", "dpop_replay")
        return jkt

    def current_nonce(self) -> str:
        return self._nonce(self._slice())

    def _signed_proof(self, proof: str) -> tuple[dict[str, Any], str]:
        """The proof's claims and its key's thumbprint, once its signature is good."""
        if len(proof) > MAX_PROOF_BYTES:
            raise InvalidDPoPProof("The DPoP proof is too large", "dpop_malformed")
        try:
            head, body, signature = jws.split(proof, "The DPoP proof")
            header = jws.json_object(head, "The DPoP proof header")
            claims = jws.json_object(body, "The DPoP proof payload")
            raw_signature = jws.b64url_decode(signature, "The DPoP proof signature")
        except jws.MalformedJWS as exc:
            raise InvalidDPoPProof(str(exc), "dpop_malformed") from None
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != PROOF_TYPE:
            raise InvalidDPoPProof("The DPoP proof's typ must be dpop+jwt", "dpop_typ")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidDPoPProof("The DPoP proof's algorithm is not accepted", "dpop_alg")
        try:
            key = public_key(header.get("jwk"), alg)
            jkt = thumbprint(header["jwk"])
        except UnusableKey as exc:
            raise InvalidDPoPProof(f"The DPoP proof's key is refused: {exc}", "dpop_jwk") from None
        signing_input = proof[: len(head) + 1 + len(body)].encode("ascii")
        if not key.Algorithm.verify(signing_input, key.key, raw_signature):
            raise InvalidDPoPProof("The DPoP proof's signature is not valid", "dpop_signature")
        return claims, jkt

    def _check_claims(self, claims: dict[str, Any], request: ProofRequest) -> None:
        jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise InvalidDPoPProof("The DPoP proof needs a jti (a unique id)", "dpop_jti")
        if htm != request.method:
            raise InvalidDPoPProof("The DPoP proof's htm is not this request's method", "dpop_htm")
        expected = normalize_url(request.url)
        if not isinstance(htu, str) or normalize_url(htu) != expected:
            raise InvalidDPoPProof("The DPoP proof's htu is not this request's URL", "dpop_htu")
        now = self.clock()
        if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
            raise InvalidDPoPProof("The DPoP proof needs a numeric iat", "dpop_iat")
        if iat > now + self.leeway or iat < now - self.max_age - self.leeway:
            raise InvalidDPoPProof("The DPoP proof was not made just now (iat)", "dpop_iat")
        if self.nonces:
            self._check_nonce(claims.get("nonce"))
        if request.access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not hmac.compare_digest(
                ath, access_token_hash(request.access_token)
            ):
                raise InvalidDPoPProof(
                    "The DPoP proof's ath is not the hash of this access token", "dpop_ath"
                )

    def _check_nonce(self, nonce: object) -> None:
        now = self._slice()
        accepted = (self._nonce(now), self._nonce(now - 1))
        if not isinstance(nonce, str) or not any(hmac.compare_digest(nonce, a) for a in accepted):
            missing = "needs" if nonce is None else "has a stale"
            raise UseDPoPNonce(
                f"The DPoP proof {missing} nonce: use the one in the DPoP-Nonce header",
                accepted[0],
            )

    def _slice(self) -> int:
        return int(self.clock() // NONCE_LIFETIME)

    def _nonce(self, time_slice: int) -> str:
        digest = hmac.digest(self.store.shared_secret(), str(time_slice).encode(), "sha256")
        return jws.b64url_encode(digest[:18])
