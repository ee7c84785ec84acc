"""Step 1, well formed: shape, size, header rules; key-bearing header fields are never used."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from shared_auth_helpers import b64url, compact, rejected, signer

from shared_auth import TokenVerifier

HEADER = {"alg": "RS256", "typ": "JWT", "kid": "test-key-1"}
CLAIMS = {"sub": "usr_123"}


H, C = b64url(HEADER), b64url(CLAIMS)
MALFORMED = {
    "one-segment": "abc",
    "two-segments": "abc.def",
    "four-segments": "abc.def.ghi.jkl",
    "empty-payload": f"{H}..c2ln",
    "empty-signature": f"{H}.{C}.",
    "empty-header": f".{C}.c2ln",
    "padding": f"{H}.{C}.c2ln=",
    "plus": f"{H}.{C}.c2l+",
    "slash": f"{H}.{C}.c2l/",
    "trailing-space": f"{H}.{C}.c2ln ",
    "impossible-length": f"{H}.{C}.c2lnx",  # 4n+1 characters decode to nothing
    "bad-payload-length": f"{H}.{C}x.c2ln",
    "non-ascii": f"{H}.{C}.c2lné",
    "header-not-json": compact("bm90IGpzb24", CLAIMS),
    "header-array": compact(b64url("[1, 2]"), CLAIMS),
    "header-string": compact(b64url('"RS256"'), CLAIMS),
    "header-not-utf8": compact(b64url(b"\xff\xfe{}"), CLAIMS),
    "header-utf16": compact(b64url('{"alg": "RS256"}'.encode("utf-16")), CLAIMS),
    "header-nested-deep": compact(b64url("[" * 5000), CLAIMS),  # past the decoder's stack
    "payload-not-json": compact(HEADER, b64url("not json")),
    "payload-array": compact(HEADER, b64url("[]")),
    "payload-null": compact(HEADER, b64url("null")),
    "payload-nested-deep": compact(HEADER, b64url('{"a":' * 1100)),  # under the size cap
    "kid-not-string": compact({**HEADER, "kid": 7}, CLAIMS),
    "kid-too-long": compact({**HEADER, "kid": "k" * 300}, CLAIMS),
}


@pytest.mark.parametrize("token", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_tokens_are_rejected_before_any_key_fetch(
    verifier: TokenVerifier, jwks_server: Any, token: str
):
    error = rejected(lambda: verifier.verify(token), "malformed")
    assert error.error == "invalid_token"
    assert jwks_server.jwks_fetches == 0


@pytest.mark.parametrize(
    "header",
    [{"typ": "JWT"}, {"alg": None}, {"alg": 256}, {"alg": ["RS256"]}, {"alg": "rs256"}],
)
def test_header_without_an_accepted_alg_is_rejected(verifier: TokenVerifier, header: dict):
    rejected(lambda: verifier.verify(compact(header, CLAIMS)), "alg_not_allowed")


def test_oversized_token_is_rejected_before_parsing(verifier: TokenVerifier, tokens, jwks_server):
    big = tokens.mint(padding="x" * 9000)
    garbage = "!" * 9000  # would be "not a JWT" if it were parsed at all
    for token in (big, garbage):
        error = rejected(lambda token=token: verifier.verify(token), "malformed")
        assert error.description == "The token is too large"
    assert jwks_server.jwks_fetches == 0


def test_size_limit_is_exact(make_verifier, tokens):
    token = tokens.mint()
    assert make_verifier(max_token_bytes=len(token)).verify(token).subject == "usr_123"
    rejected(lambda: make_verifier(max_token_bytes=len(token) - 1).verify(token), "malformed")


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"])
def test_jwt_and_at_jwt_types_are_accepted(verifier: TokenVerifier, tokens, typ: str | None):
    assert verifier.verify(tokens.mint(headers={"typ": typ})).subject == "usr_123"


@pytest.mark.parametrize("typ", ["JOSE", "id_token+jwt", "secevent+jwt", "dpop+jwt", 1, ["JWT"]])
def test_other_types_are_refused(verifier: TokenVerifier, tokens, typ: Any):
    rejected(lambda: verifier.verify(tokens.mint(headers={"typ": typ})), "bad_typ")


@pytest.mark.parametrize(
    ("typ", "accepted"),
    [("at+jwt", True), ("application/at+jwt", True), ("JWT", False), (None, False)],
)
def test_strict_mode_requires_at_jwt(make_verifier, tokens, typ: str | None, accepted: bool):
    verifier = make_verifier(require_at_jwt=True)
    token = tokens.mint(headers={"typ": typ})
    if accepted:
        assert verifier.verify(token).subject == "usr_123"
    else:
        rejected(lambda: verifier.verify(token), "bad_typ")


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "b64"])
def test_crit_header_is_refused(verifier: TokenVerifier, tokens, crit: Any):
    headers = {"crit": crit, "b64": True, "exp": 1}
    rejected(lambda: verifier.verify(tokens.mint(headers=headers)), "crit")


@pytest.fixture(scope="module")
def attacker_cert(attacker_key: Any) -> str:
    """A self-signed certificate for the attacker's key, as an ``x5c`` entry."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(attacker_key.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(attacker_key.private_key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@pytest.mark.parametrize("field", ["jwk", "jku", "x5u", "x5c"])
@pytest.mark.parametrize(
    ("kid", "reason"),
    # the attacker's own kid; the issuer's kid (signing_key); none (the one cached key is tried)
    [("attacker-key", "unknown_kid"), ("test-key-1", "bad_signature"), (None, "bad_signature")],
)
def test_keys_named_by_the_token_are_never_used(
    verifier, tokens, attacker_key, attacker_cert, route_server, jwks_server, field, kid, reason
):
    route_server.routes["/jwks.json"] = (200, {"keys": [attacker_key.jwk()]})
    value = {
        "jwk": attacker_key.jwk(),
        "jku": f"{route_server.url}jwks.json",
        "x5u": f"{route_server.url}jwks.json",
        "x5c": [attacker_cert],
    }[field]
    header = {"alg": "RS256", "typ": "JWT", field: value, **({"kid": kid} if kid else {})}
    token = compact(header, tokens.claims(), signer(attacker_key.private_key))
    rejected(lambda: verifier.verify(token), reason)
    assert route_server.requests == []
    assert jwks_server.jwks_fetches == 1  # keys came from the configured issuer only


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def same_bytes_twin(segment: str) -> str | None:
    """Another spelling of ``segment`` that lenient decoders read as the same bytes: the
    last character with one of its unused low bits set (None when it has no such bits)."""
    unused = {2: 4, 3: 2}.get(len(segment) % 4)
    if unused is None:
        return None
    value = ALPHABET.index(segment[-1])
    return segment[:-1] + ALPHABET[value | 1]


def test_a_signed_token_has_exactly_one_spelling(verifier: TokenVerifier, tokens: Any) -> None:
    """RFC 4648 3.5 strictness: without it, a signature with its last character changed to
    a same-bytes twin verifies, and one token has several spellings (and cache keys)."""
    for _ in range(20):  # RS256 signatures are 342 characters: always 4n+2, always a twin
        token = tokens.mint()
        head, body, signature = token.split(".")
        assert verifier.verify(token).subject == "usr_123"
        twin = same_bytes_twin(signature)
        assert twin is not None and base64.urlsafe_b64decode(twin + "==") == (
            base64.urlsafe_b64decode(signature + "==")
        )
        forged = f"{head}.{body}.{twin}"
        rejected(lambda forged=forged: verifier.verify(forged), "malformed")


@pytest.mark.parametrize("part", [0, 1, 2])
def test_non_canonical_base64url_is_refused_in_every_segment(
    verifier: TokenVerifier, tokens: Any, part: int
) -> None:
    for sub in ("usr_1", "usr_12", "usr_123"):  # payload lengths 4n+2 and 4n+3 both occur
        segments = tokens.mint(sub=sub, headers={"kid": "test-key-1", "x": sub}).split(".")
        twin = same_bytes_twin(segments[part])
        if twin is None:
            continue
        segments[part] = twin
        rejected(lambda segments=segments: verifier.verify(".".join(segments)), "malformed")
