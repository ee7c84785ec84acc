"""One request's authentication, framework-free: find the token, verify it, check its binding.

A framework adapter describes the request as plain data (``HttpRequest``) and gets the caller
back, or an ``AuthError`` that is the complete answer. Which schemes count depends on
``AUTH_DPOP``: ``allowed`` takes ``Bearer`` and ``DPoP``, ``required`` only ``DPoP``,
``disabled`` only ``Bearer``. A token bound to a key (``cnf.jkt``, RFC 9449 section 6) must
come as ``DPoP`` with a proof by that key; sent as ``Bearer`` it is refused (section 7.2),
because whoever stole it could otherwise use it without the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dpop import DPoPVerifier, ProofRequest
from .errors import BEARER, DPOP, InvalidToken, MissingToken
from .extract import Credentials, find_token
from .principal import Principal
from .verify import TokenVerifier


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    """The request URL as the client addressed it: the API's public origin and the path."""
    authorization: str | None = None
    dpop: tuple[str, ...] = ()
    """Every ``DPoP`` header value."""
    query: Mapping[str, list[str]] = field(default_factory=dict)
    form: Mapping[str, list[str]] | None = None


def bound_key(claims: Mapping[str, Any]) -> str | None:
    """The thumbprint a token is bound to, None for an unbound token."""
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if not isinstance(jkt, str) or not jkt:
        raise InvalidToken(
            "The token is bound to a key in a way this API cannot check (cnf without jkt)",
            "bad_cnf",
        )
    return jkt


class Authenticator:
    def __init__(self, verifier: TokenVerifier, dpop: DPoPVerifier | None = None) -> None:
        self.verifier = verifier
        self.dpop = dpop
        mode = verifier.settings.dpop if dpop is not None else "disabled"
        self.schemes = {"allowed": (BEARER, DPOP), "required": (DPOP,)}.get(mode, (BEARER,))

    def authenticate(
        self, request: HttpRequest, scopes: tuple[str, ...] = ()
    ) -> tuple[Credentials, Principal]:
        """The request's credentials and caller; ``scopes`` are named in a bare challenge."""
        try:
            credentials = find_token(
                method=request.method,
                authorization=request.authorization,
                query=request.query,
                form=request.form,
                allow_query=self.verifier.settings.allow_query_token,
                schemes=self.schemes,
            )
        except MissingToken as exc:
            exc.scope = scopes
            raise
        principal = self.verifier.verify(credentials.token)
        jkt = bound_key(principal.claims)
        if credentials.scheme == DPOP:
            if jkt is None:
                raise InvalidToken(
                    "The token is not bound to a key; send it as Bearer",
                    "dpop_unbound",
                    scheme=DPOP,
                )
            assert self.dpop is not None  # DPoP is among the schemes only with a verifier
            self.dpop.check(
                ProofRequest(request.method, request.url, request.dpop, credentials.token, jkt)
            )
        elif jkt is not None:
            raise InvalidToken(
                "This token is bound to a key: send it as Authorization: DPoP with a proof",
                "dpop_bound_as_bearer",
            )
        return credentials, principal
