"""RFC 6750 section 3 answers: challenge shapes, safe descriptions, JSON bodies, fingerprints."""

from __future__ import annotations

import re

import pytest
from shared_auth_helpers import b64url, compact, signer

from shared_auth import (
    AuthError,
    Challenge,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    KeysUnavailable,
    MissingToken,
)
from shared_auth.errors import token_fingerprint

# auth-param = token "=" quoted-string, with no quote or backslash inside (RFC 6750 section 3)
CHALLENGE = re.compile(r'Bearer [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(, [a-z_]+="[^"\\]*")*')
SAFE_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")


@pytest.mark.parametrize(
    ("error", "header"),
    [
        (MissingToken("No token", "missing_token"), 'Bearer realm="api"'),
        (
            InvalidRequest("Two tokens", "multiple_tokens"),
            'Bearer realm="api", error="invalid_request", error_description="Two tokens"',
        ),
        (
            InvalidToken("Expired", "expired"),
            'Bearer realm="api", error="invalid_token", error_description="Expired"',
        ),
        (
            InsufficientScope("Needs read write", "insufficient_scope", scope=("read", "write")),
            'Bearer realm="api", error="insufficient_scope", '
            'error_description="Needs read write", scope="read write"',
        ),
    ],
)
def test_challenge_shapes(error: AuthError, header: str):
    assert error.headers(Challenge("api")) == {"WWW-Authenticate": header}
    assert CHALLENGE.fullmatch(header)


def test_extra_challenge_parameters_are_appended():
    url = "https://api.example.com/.well-known/oauth-protected-resource"
    headers = MissingToken("x", "missing_token").headers(Challenge("api", resource_metadata=url))
    assert headers == {"WWW-Authenticate": f'Bearer realm="api", resource_metadata="{url}"'}


def test_unavailable_keys_answer_with_retry_after_and_no_challenge():
    error = KeysUnavailable("Keys unavailable", "jwks_unavailable", retry_after=12.7)
    assert (error.status, error.headers(Challenge("api"))) == (503, {"Retry-After": "12"})
    assert KeysUnavailable("x", "y", retry_after=-4).retry_after == 1
    assert error.body() == {
        "code": 503,
        "status": "Service Unavailable",
        "message": "Keys unavailable",
        "error": "temporarily_unavailable",
        "error_description": "Keys unavailable",
    }


@pytest.mark.parametrize(
    "description",
    ['say "hi"', "back\\slash", 'both "\\" here', "new\nline\ttab\x00", "naïve ☃"],
)
def test_description_never_carries_quote_backslash_or_control_chars(description: str):
    for error in (
        InvalidToken(description, "x"),
        InsufficientScope(description, "x", scope=('re"ad',)),
    ):
        header = error.headers(Challenge('re"alm\\'))["WWW-Authenticate"]
        assert CHALLENGE.fullmatch(header), header


@pytest.mark.parametrize(
    ("error", "body"),
    [
        (
            MissingToken("No token", "missing_token"),
            {"code": 401, "status": "Unauthorized", "message": "No token"},
        ),
        (
            InvalidRequest("Bad", "wrong_scheme"),
            {
                "code": 400,
                "status": "Bad Request",
                "message": "Bad",
                "error": "invalid_request",
                "error_description": "Bad",
            },
        ),
        (
            InsufficientScope("Needs write", "insufficient_scope", scope=("write",)),
            {
                "code": 403,
                "status": "Forbidden",
                "message": "Needs write",
                "error": "insufficient_scope",
                "error_description": "Needs write",
                "scope": "write",
            },
        ),
    ],
)
def test_json_body_fields(error: AuthError, body: dict):
    assert error.body() == body


def test_fingerprint_is_short_stable_and_not_the_token(tokens):
    token, other = tokens.mint(), tokens.mint(sub="usr_456")
    fingerprint = token_fingerprint(token)
    assert re.fullmatch(r"[0-9a-f]{12}", fingerprint)
    assert fingerprint == token_fingerprint(token) != token_fingerprint(other)
    assert fingerprint not in token
    assert token_fingerprint("") is None
    assert token_fingerprint(None) is None


HOSTILE = 'pwned"\\<img>'


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ({"alg": HOSTILE}, {}),
        ({"alg": "RS256", "typ": HOSTILE}, {}),
        ({"alg": "RS256", "kid": HOSTILE}, {}),
        ({"alg": "RS256", "kid": "test-key-1", "crit": [HOSTILE]}, {}),
        ({"alg": "RS256", "kid": "test-key-1"}, {"iss": HOSTILE}),
        ({"alg": "RS256", "kid": "test-key-1"}, {"aud": HOSTILE}),
        ({"alg": "RS256", "kid": "test-key-1"}, {"exp": HOSTILE}),
        ({"alg": "RS256", "kid": "test-key-1"}, {"sub": [HOSTILE]}),
        ({"alg": "RS256", "kid": "test-key-1"}, {"nbf": HOSTILE}),
    ],
)
def test_descriptions_never_echo_token_content(verifier, tokens, header, claims):
    token = compact(header, tokens.claims(**claims), signer(tokens.key.private_key))
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    error = info.value
    assert SAFE_TEXT.fullmatch(error.description)
    for text in (error.description, str(error.headers(Challenge("api"))), str(error.body())):
        assert "pwned" not in text
        assert "<img>" not in text


def test_descriptions_of_malformed_tokens_are_safe(verifier):
    for token in ("x" * 9000, "a.b", f"{b64url('[]')}.{b64url('{}')}.c2ln", "é.é.é"):
        with pytest.raises(InvalidToken) as info:
            verifier.verify(token)
        assert SAFE_TEXT.fullmatch(info.value.description)
