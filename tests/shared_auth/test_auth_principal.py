"""Step 4 and the caller: scopes from the configured claims, all-of/any-of, Principal fields."""

from __future__ import annotations

import pytest
from shared_auth_helpers import GEO_AUD, rejected

from shared_auth import Challenge, InsufficientScope, require_scopes


@pytest.mark.parametrize(
    ("scope_claims", "claims", "scopes"),
    [
        (("scope",), {"scope": "read write"}, {"read", "write"}),
        (("scope",), {"scope": "  read   write "}, {"read", "write"}),
        (("scope",), {"scope": ""}, set()),
        (("scope",), {"scope": None}, set()),
        (("scope",), {"scope": "read", "scp": ["admin"], "permissions": ["delete"]}, {"read"}),
        (("scope", "scp"), {"scope": "read", "scp": ["admin", 7, ""]}, {"read", "admin"}),
        (("scp",), {"scope": "read", "scp": "write admin"}, {"write", "admin"}),
        (
            ("scope", "permissions"),
            {"scope": None, "permissions": ["read:events"]},
            {"read:events"},
        ),
        (("permissions",), {"permissions": {"read": True}}, set()),
    ],
)
def test_scopes_come_only_from_the_configured_claims(
    make_verifier, tokens, scope_claims, claims, scopes
):
    principal = make_verifier(scope_claims=scope_claims).verify(tokens.mint(**claims))
    assert principal.scopes == frozenset(scopes)


@pytest.mark.parametrize(
    ("scope", "all_of", "any_of"),
    [
        ("read write", ("read",), ()),
        ("read write", ("read", "write"), ()),
        ("read", (), ("read", "admin")),
        ("write", ("write",), ("read", "write")),
        ("", (), ()),
    ],
)
def test_required_scopes_held(verifier, tokens, scope, all_of, any_of):
    require_scopes(verifier.verify(tokens.mint(scope=scope)), all_of, any_of)


@pytest.mark.parametrize(
    ("scope", "all_of", "any_of", "named"),
    [
        ("read", ("read", "write"), (), "read write"),
        ("", ("read",), (), "read"),
        ("read", (), ("write", "admin"), "write admin"),
        ("write", ("read",), ("write",), "read"),
        ("read", ("read",), ("write", "admin"), "write admin"),
        ("READ", ("read",), (), "read"),
    ],
)
def test_missing_scope_is_403_naming_what_is_needed(verifier, tokens, scope, all_of, any_of, named):
    principal = verifier.verify(tokens.mint(scope=scope))
    error = rejected(lambda: require_scopes(principal, all_of, any_of), "insufficient_scope", 403)
    assert isinstance(error, InsufficientScope)
    assert error.error == "insufficient_scope"
    header = error.headers(Challenge("api"))["WWW-Authenticate"]
    assert header.endswith(f', scope="{named}"')
    assert error.body()["scope"] == named


def test_principal_fields_for_a_user_token(verifier, tokens):
    principal = verifier.verify(tokens.mint())
    assert principal.subject == "usr_123"
    assert principal.client_id == "demo-spa"
    assert principal.claims["aud"] == tokens.claims()["aud"]
    assert principal.has_scopes("read", "write")
    assert not principal.has_scopes("read", "admin")
    assert principal.is_client_credentials is False


def test_client_id_claim_wins_over_azp(verifier, tokens):
    principal = verifier.verify(tokens.mint(client_id="rfc9068-client", azp="demo-spa"))
    assert principal.client_id == "rfc9068-client"


@pytest.mark.parametrize(
    ("claims", "m2m"),
    [
        ({"sub": "geo-backend@clients", "azp": "geo-backend", "gty": "client-credentials"}, True),
        ({"sub": "geo-backend@clients", "azp": "geo-backend"}, True),  # no gty
        ({"sub": "usr_123", "gty": "client-credentials"}, True),
        ({"sub": "geo-backend", "client_id": "geo-backend", "azp": None}, True),  # RFC 9068
        ({"sub": "usr_123", "client_id": "demo-spa"}, False),
        ({"sub": "usr_123", "azp": "demo-spa", "gty": "password"}, False),
    ],
)
def test_is_client_credentials(verifier, tokens, claims, m2m):
    assert verifier.verify(tokens.mint(**claims)).is_client_credentials is m2m


def test_auth0_client_credentials_token(make_verifier, tokens):
    principal = make_verifier(audiences=(GEO_AUD,)).verify(tokens.client_credentials())
    assert (principal.subject, principal.client_id) == ("geo-backend@clients", "geo-backend")
    assert principal.scopes == {"geocode"}
    assert principal.is_client_credentials
