"""Steps 1 to 3: is the token well formed, is it signed by the issuer, are its claims right.

The token is parsed once, by us (``jws``: one regular expression, ``binascii`` and ``json``
from the standard library, strictly), and PyJWT's algorithm object
checks the signature with ``cryptography``. That keeps verification close to the cost of the
RSA check itself, and every rule below is in plain sight rather than in a library default
(PyJWT's ``decode`` checks ``exp`` only when present and has no leeway unless told).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from . import jws
from .config import AuthSettings
from .errors import InvalidToken
from .jwks import JWKSCache
from .principal import Principal
from .token_cache import TokenCache

_JWT_TYPES = frozenset({"jwt", "application/jwt"})
_AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_MAX_KID_LENGTH = 256
_MAX_NUMERIC_DATE = 1e15
_STRING_CLAIMS = ("sub", "azp", "client_id", "scope", "gty")


def _malformed(description: str) -> InvalidToken:
    return InvalidToken(description, "malformed")


def _is_number(value: object) -> bool:
    """A JSON number usable as a NumericDate: finite and in range.

    Python's ``json`` accepts ``NaN`` and ``Infinity`` and unbounded integers: a NaN ``exp``
    would compare false against the clock (a token that never expires) and a 400-digit one
    would overflow the float arithmetic (a 500). The bound is year ~31 million; NaN fails it.
    """
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and -_MAX_NUMERIC_DATE < value < _MAX_NUMERIC_DATE
    )


def _has_audience(aud: object, accepted: tuple[str, ...]) -> bool:
    """``aud`` is one of ours, or a list holding one of ours (RFC 7519 section 4.1.3)."""
    if isinstance(aud, str):
        return aud in accepted
    if isinstance(aud, list):
        for item in aud:
            if isinstance(item, str) and item in accepted:
                return True
    return False


class TokenVerifier:
    """Verifies compact JWS access tokens against one issuer and its audiences."""

    def __init__(
        self,
        settings: AuthSettings,
        keys: JWKSCache | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.keys = keys or JWKSCache(settings)
        self._clock = clock
        self._accepted_types = (
            _AT_JWT_TYPES if settings.require_at_jwt else (_AT_JWT_TYPES | _JWT_TYPES)
        )
        size = settings.token_cache_size
        self.cache = TokenCache(size, self.keys.trusts) if size else None

    def verify(self, token: str) -> Principal:
        """Return the caller a token stands for, or raise ``AuthError`` saying why not."""
        cache = self.cache
        if cache is not None:
            remembered = cache.get(token, self._clock())
            if remembered is not None:
                return remembered
        header, claims, signing_input, signature = self._parse(token)
        key = self.keys.get(header.get("kid"), header["alg"])
        if not key.verify(signing_input, signature):
            raise InvalidToken("The token signature is not valid", "bad_signature")
        self._check_claims(claims)
        principal = Principal.from_claims(claims, self.settings.scope_claims)
        if cache is not None:
            cache.put(token, principal, key, self._valid_until(claims))
        return principal

    def _valid_until(self, claims: Mapping[str, Any]) -> float:
        """When a token that passed now could first fail on time alone: ``exp`` itself (past
        it the full checks, leeway included, decide), or the end of ``max_token_age``."""
        until = float(claims["exp"])
        if self.settings.max_token_age is not None:
            age_limit = claims["iat"] + self.settings.max_token_age + self.settings.leeway
            until = min(until, float(age_limit))
        return until

    def _parse(self, token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
        """Step 1: size, shape, base64url, JSON, and a header we are willing to act on."""
        if len(token) > self.settings.max_token_bytes:
            raise _malformed("The token is too large")
        try:
            head, body, signature = jws.split(token, "The token")
            header = jws.json_object(head, "The token header")
        except jws.MalformedJWS as exc:
            raise _malformed(str(exc)) from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.settings.algorithms:
            raise InvalidToken("The token's signing algorithm is not accepted", "alg_not_allowed")
        typ = header.get("typ")
        typ_ok = (
            not self.settings.require_at_jwt
            if typ is None
            else isinstance(typ, str) and typ.lower() in self._accepted_types
        )
        if not typ_ok:
            raise InvalidToken("The token type is not an access token type", "bad_typ")
        if "crit" in header:
            raise InvalidToken(
                "The token uses a critical extension this API does not support", "crit"
            )
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or len(kid) > _MAX_KID_LENGTH):
            raise _malformed("The token's key id is not valid")
        try:
            claims = jws.json_object(body, "The token payload")
            signature = jws.b64url_decode(signature, "The token signature")
        except jws.MalformedJWS as exc:
            raise _malformed(str(exc)) from None
        return header, claims, token[: len(head) + 1 + len(body)].encode("ascii"), signature

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        """Step 3: ``exp`` (required), ``nbf``, ``iat``, ``iss``, ``aud``, ``sub`` (required),
        then extra rules."""
        settings, now, leeway = self.settings, self._clock(), self.settings.leeway
        exp = claims.get("exp")
        if not _is_number(exp):
            raise InvalidToken("The token has no valid exp claim", "bad_exp")
        if now > exp + leeway:
            raise InvalidToken("The token has expired", "expired")
        nbf = claims.get("nbf")
        if nbf is not None and (not _is_number(nbf) or now + leeway < nbf):
            raise InvalidToken("The token is not valid yet", "not_yet_valid")
        iat = claims.get("iat")
        if iat is not None and (not _is_number(iat) or iat > now + leeway):
            raise InvalidToken("The token has an invalid iat claim", "bad_iat")
        if settings.max_token_age is not None and (
            iat is None or now - iat > settings.max_token_age + leeway
        ):
            raise InvalidToken("The token is older than this API accepts", "too_old")
        if claims.get("iss") != settings.issuer:
            raise InvalidToken("The token was not issued by the issuer this API trusts", "bad_iss")
        if not _has_audience(claims.get("aud"), settings.audiences):
            raise InvalidToken("The token is not meant for this API (audience)", "bad_aud")
        for name in _STRING_CLAIMS:
            if name in claims and not isinstance(claims[name], str):
                raise InvalidToken(f"The token's {name} claim is not a string", "bad_claim_type")
        if not claims.get("sub"):  # RFC 9068 2.2: every access token names its subject
            raise InvalidToken("The token has no sub claim naming its subject", "missing_sub")
        for name in settings.required_claims:
            if name not in claims:
                raise InvalidToken(f"The token lacks the required claim {name}", "missing_claim")
        for validator in settings.validators:
            validator(claims)
