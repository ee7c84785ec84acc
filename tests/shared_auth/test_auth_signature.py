"""Step 2, signature: keys only from the JWKS, one algorithm per key, no algorithm confusion."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from shared_auth_helpers import b64url, compact, rejected, signer

from shared_auth import TokenVerifier


def test_a_token_signed_by_the_issuer_verifies(verifier: TokenVerifier, tokens):
    principal = verifier.verify(tokens.mint())
    assert (principal.subject, principal.client_id) == ("usr_123", "demo-spa")


@pytest.mark.parametrize(
    ("alg", "signature", "reason"),
    [
        ("none", b"", "malformed"),  # the unsecured form has an empty third part
        ("none", b"x", "alg_not_allowed"),
        ("None", b"x", "alg_not_allowed"),
        ("NONE", b"x", "alg_not_allowed"),
    ],
)
def test_alg_none_is_rejected(verifier: TokenVerifier, tokens, alg, signature, reason):
    token = compact({"alg": alg, "typ": "JWT"}, tokens.claims(), lambda _: signature)
    rejected(lambda: verifier.verify(token), reason)


def _public_secrets(key_pair: Any) -> dict[str, bytes]:
    public = key_pair.private_key.public_key()
    return {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "pkcs1": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        "jwk": json.dumps(key_pair.jwk()).encode(),
    }


@pytest.mark.parametrize("secret_form", ["pem", "pkcs1", "jwk"])
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("algorithms", [("RS256",), ("RS256", "ES256", "PS256")])
def test_hmac_signed_with_the_public_key_is_rejected(
    make_verifier, tokens, signing_key, secret_form, alg, algorithms
):
    secret = _public_secrets(signing_key)[secret_form]
    digest = getattr(hashlib, f"sha{alg[2:]}")
    token = compact(
        {"alg": alg, "typ": "JWT", "kid": signing_key.kid},
        tokens.claims(),
        lambda data: hmac.new(secret, data, digest).digest(),
    )
    rejected(lambda: make_verifier(algorithms=algorithms).verify(token), "alg_not_allowed")


def test_right_kid_with_the_wrong_key_is_a_bad_signature(verifier, tokens, attacker_key):
    token = tokens.mint(key=attacker_key, headers={"kid": tokens.key.kid})
    rejected(lambda: verifier.verify(token), "bad_signature")


@pytest.mark.parametrize("part", ["payload", "signature", "header"])
def test_tampered_token_is_a_bad_signature(verifier, tokens, part):
    head, body, signature = tokens.mint().split(".")
    if part == "payload":
        body = b64url({**tokens.claims(), "scope": "read write admin"})
    elif part == "signature":
        signature = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    else:
        head = b64url({"alg": "RS256", "kid": tokens.key.kid, "typ": "at+jwt"})
    rejected(lambda: verifier.verify(f"{head}.{body}.{signature}"), "bad_signature")


def test_unknown_kid_is_rejected(verifier, tokens):
    rejected(lambda: verifier.verify(tokens.mint(headers={"kid": "no-such-key"})), "unknown_kid")


@pytest.mark.parametrize("token_alg", ["RS384", "RS512", "PS256"])
def test_allowed_alg_that_is_not_the_keys_alg_is_rejected(make_verifier, tokens, token_alg):
    """The JWKS binds the key to RS256; another allowed RSA algorithm must not be used with it."""
    verifier = make_verifier(algorithms=("RS256", token_alg))
    key = tokens.key.private_key
    token = jwt.encode(tokens.claims(), key, algorithm=token_alg, headers={"kid": tokens.key.kid})
    rejected(lambda: verifier.verify(token), "alg_key_mismatch")
    assert verifier.verify(tokens.mint()).subject == "usr_123"


def test_key_without_alg_is_bound_to_the_first_allowed_algorithm_of_its_type(
    make_verifier, tokens, jwks_server, signing_key
):
    jwk = signing_key.jwk()
    del jwk["alg"], jwk["use"]  # some issuers publish neither
    jwks_server.keys = [jwk]
    verifier = make_verifier(algorithms=("ES256", "RS256", "RS384"))
    assert verifier.verify(tokens.mint()).subject == "usr_123"
    token = jwt.encode(tokens.claims(), signing_key.private_key, "RS384", {"kid": signing_key.kid})
    rejected(lambda: verifier.verify(token), "alg_key_mismatch")


def test_rsa_key_under_2048_bits_is_skipped(verifier, tokens, jwks_server, signing_key, new_key):
    weak = new_key("weak-key", bits=1024)
    jwks_server.keys = [weak.jwk(), signing_key.jwk()]
    token = compact(
        {"alg": "RS256", "kid": weak.kid}, tokens.claims(), signer(weak.private_key, "RS256")
    )
    rejected(lambda: verifier.verify(token), "unknown_kid")
    assert verifier.verify(tokens.mint()).subject == "usr_123"


def test_encryption_key_is_skipped(make_verifier, tokens, jwks_server, signing_key):
    jwks_server.keys = [signing_key.jwk(use="enc", kid="enc"), signing_key.jwk(kid="sig")]
    verifier = make_verifier()
    rejected(lambda: verifier.verify(tokens.mint(headers={"kid": "enc"})), "unknown_kid")
    assert verifier.verify(tokens.mint(headers={"kid": "sig"})).subject == "usr_123"
    jwks_server.keys = [signing_key.jwk(use="enc")]  # nothing usable at all: 503, not 401
    rejected(lambda: make_verifier().verify(tokens.mint()), "jwks_unavailable", status=503)


def _ec_jwk(public_key: Any, kid: str, alg: str, **extra: Any) -> dict[str, Any]:
    data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public_key))
    return {**data, "kid": kid, "alg": alg, "use": "sig", **extra}


@pytest.fixture(scope="module")
def ec_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_ec_key_works_when_es256_is_allowed(make_verifier, tokens, jwks_server, ec_private_key):
    jwks_server.keys = [_ec_jwk(ec_private_key.public_key(), "ec-1", "ES256")]
    token = jwt.encode(tokens.claims(), ec_private_key, "ES256", headers={"kid": "ec-1"})
    assert make_verifier(algorithms=("RS256", "ES256")).verify(token).subject == "usr_123"
    rejected(lambda: make_verifier().verify(token), "alg_not_allowed")


def test_ec_key_on_the_wrong_curve_is_skipped(make_verifier, tokens, jwks_server, ec_private_key):
    p384 = ec.generate_private_key(ec.SECP384R1())
    jwks_server.keys = [
        _ec_jwk(p384.public_key(), "ec-384", "ES256"),
        _ec_jwk(ec_private_key.public_key(), "ec-1", "ES256"),
    ]
    verifier = make_verifier(algorithms=("ES256",))
    token = compact({"alg": "ES256", "kid": "ec-384"}, tokens.claims(), signer(p384, "ES384"))
    rejected(lambda: verifier.verify(token), "unknown_kid")
    good = jwt.encode(tokens.claims(), ec_private_key, "ES256", headers={"kid": "ec-1"})
    assert verifier.verify(good).subject == "usr_123"


def test_eddsa_key_works_when_allowed(make_verifier, tokens, jwks_server):
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    jwks_server.keys = [{**jwk, "kid": "ed-1", "alg": "EdDSA", "use": "sig"}]
    token = jwt.encode(tokens.claims(), private, "EdDSA", headers={"kid": "ed-1"})
    assert make_verifier(algorithms=("EdDSA",)).verify(token).subject == "usr_123"


def test_es256_signature_of_the_wrong_length_is_a_bad_signature(
    make_verifier, tokens, jwks_server, ec_private_key
):
    jwks_server.keys = [_ec_jwk(ec_private_key.public_key(), "ec-1", "ES256")]
    token = compact({"alg": "ES256", "kid": "ec-1"}, tokens.claims(), lambda _: b"\x01" * 63)
    rejected(lambda: make_verifier(algorithms=("ES256",)).verify(token), "bad_signature")
