"""Step 3, claims: exp required, nbf/iat with leeway, iss exact, aud, types, optional rules.

The verifier's wall clock is pinned to ``NOW`` so every boundary is exact; the default leeway
is 30 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from shared_auth_helpers import AUD, GEO_AUD, NOW, compact, rejected, signer

from shared_auth import InvalidToken

VALID = {"iat": NOW - 60, "exp": NOW + 3600}


@pytest.fixture
def verify(make_verifier, tokens):
    """``verify(settings_overrides, **claims)`` mints a token with ``claims`` and verifies it."""

    def run(overrides: Mapping[str, Any] | None = None, /, **claims: Any):
        # signed by hand: PyJWT's encode refuses some of the wrong types tested here
        header = {"alg": "RS256", "typ": "JWT", "kid": tokens.key.kid}
        token = compact(
            header, tokens.claims(**{**VALID, **claims}), signer(tokens.key.private_key)
        )
        return make_verifier(wall=NOW, **(overrides or {})).verify(token)

    return run


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - 30},  # expired, but within the leeway
        {"exp": NOW + 1},
        {"nbf": NOW + 30},  # not yet valid, but within the leeway
        {"nbf": NOW - 10},
        {"iat": NOW + 30},  # issued "in the future", within the leeway
        {"iat": None},  # iat is optional
        {"exp": int(NOW) + 10, "iat": int(NOW) - 10},
    ],
)
def test_times_within_the_leeway_are_accepted(verify, claims):
    assert verify(**claims).subject == "usr_123"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"exp": NOW - 86400}, "expired"),
        ({"nbf": NOW + 31}, "not_yet_valid"),
        ({"nbf": str(NOW)}, "not_yet_valid"),
        ({"iat": NOW + 31}, "bad_iat"),
        ({"iat": "yesterday"}, "bad_iat"),
        ({"exp": None}, "bad_exp"),
        ({"exp": str(NOW + 3600)}, "bad_exp"),
        ({"exp": True}, "bad_exp"),
        ({"exp": [NOW + 3600]}, "bad_exp"),
        ({"exp": float("nan")}, "bad_exp"),  # json writes NaN; NaN > now is never true
        ({"exp": float("inf")}, "bad_exp"),
        ({"exp": 10**400}, "bad_exp"),  # would overflow float arithmetic: a 500
        ({"nbf": float("nan")}, "not_yet_valid"),
        ({"iat": float("nan")}, "bad_iat"),
    ],
)
def test_bad_times_are_rejected(verify, claims, reason):
    rejected(lambda: verify(**claims), reason)


def test_the_leeway_is_configurable(verify):
    rejected(lambda: verify({"leeway": 0}, exp=NOW - 1), "expired")
    assert verify({"leeway": 120}, exp=NOW - 100).subject == "usr_123"


WRONG_ISSUERS = {
    "missing": lambda iss: None,
    "other": lambda iss: "https://evil.example/",
    "empty": lambda iss: "",
    "number": lambda iss: 7,
    "array": lambda iss: [iss],
    "no-trailing-slash": lambda iss: iss.rstrip("/"),
    "suffix": lambda iss: iss + "x",
    "upper-case": lambda iss: iss.upper(),
}


@pytest.mark.parametrize("wrong", WRONG_ISSUERS.values(), ids=WRONG_ISSUERS.keys())
def test_issuer_must_match_exactly(verify, tokens, wrong):
    rejected(lambda: verify(iss=wrong(tokens.issuer)), "bad_iss")


def test_issuer_configured_without_slash_refuses_the_slashed_form(make_verifier, tokens):
    bare = tokens.issuer.rstrip("/")
    verifier = make_verifier(wall=NOW, issuer=bare, jwks_uri=f"{bare}/.well-known/jwks.json")
    assert verifier.verify(tokens.mint(iss=bare, **VALID)).subject == "usr_123"
    rejected(lambda: verifier.verify(tokens.mint(iss=tokens.issuer, **VALID)), "bad_iss")


@pytest.mark.parametrize(
    "aud",
    [AUD, [AUD], ["https://tenant.auth0.com/userinfo", AUD], [7, AUD]],
)
def test_audience_string_or_array_containing_ours_is_accepted(verify, aud):
    assert verify(aud=aud).subject == "usr_123"


@pytest.mark.parametrize(
    "aud",
    [
        None,
        GEO_AUD,
        AUD.rstrip("/"),
        [],
        [GEO_AUD, "https://tenant.auth0.com/userinfo"],
        7,
        {"aud": AUD},
        [[AUD]],
        "",
    ],
)
def test_audience_without_ours_or_of_the_wrong_type_is_rejected(verify, aud):
    rejected(lambda: verify(aud=aud), "bad_aud")


def test_any_configured_audience_is_accepted(verify):
    assert verify({"audiences": (AUD, GEO_AUD)}, aud=GEO_AUD).subject == "usr_123"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iat": NOW - 301}, None),  # 300 s + 30 s leeway
        ({"iat": NOW - 331}, "too_old"),
        ({"iat": None}, "too_old"),  # an age limit needs an iat
    ],
)
def test_max_token_age(verify, claims, reason):
    call = lambda: verify({"max_token_age": 300}, **claims)  # noqa: E731
    if reason is None:
        assert call().subject == "usr_123"
    else:
        rejected(call, reason)


def test_required_claims(verify):
    rejected(lambda: verify({"required_claims": ("jti",)}), "missing_claim")
    assert verify({"required_claims": ("jti",)}, jti="abc").claims["jti"] == "abc"


def test_custom_validators_see_the_claims_and_can_reject(verify):
    seen: list[Mapping[str, Any]] = []

    def same_tenant(claims: Mapping[str, Any]) -> None:
        seen.append(claims)
        if claims.get("org_id") != "org_1":
            raise InvalidToken("The token belongs to another organisation", "wrong_org")

    settings = {"validators": (same_tenant,)}
    assert verify(settings, org_id="org_1").subject == "usr_123"
    rejected(lambda: verify(settings, org_id="org_2"), "wrong_org")
    assert [c["org_id"] for c in seen] == ["org_1", "org_2"]


@pytest.mark.parametrize(
    "claims",
    [{"sub": 123}, {"sub": ["usr_123"]}, {"azp": 1}, {"client_id": {}}, {"scope": ["read"]}],
)
def test_string_claims_of_another_type_are_rejected(verify, claims):
    rejected(lambda: verify(**claims), "bad_claim_type")


def test_validators_run_only_after_the_standard_checks(verify):
    called: list[bool] = []
    settings = {"validators": (lambda claims: called.append(True),)}
    rejected(lambda: verify(settings, exp=NOW - 3600), "expired")
    assert called == []


@pytest.mark.parametrize("sub", [None, ""])
def test_a_token_without_a_subject_is_refused(verify, sub):
    """RFC 9068 2.2: ``sub`` is REQUIRED in a JWT access token, for users and clients alike."""
    rejected(lambda: verify(sub=sub), "missing_sub")
