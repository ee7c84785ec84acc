"""AuthSettings: issuer normalisation, every AUTH_* variable, and unsafe values refused."""

from __future__ import annotations

import pytest
from shared_auth_helpers import AUD, GEO_AUD

from shared_auth import AuthSettings, ConfigError
from shared_auth.env import variables


@pytest.mark.parametrize(
    ("configured", "issuer"),
    [
        ("tenant.eu.auth0.com", "https://tenant.eu.auth0.com/"),
        ("  tenant.auth0.com  ", "https://tenant.auth0.com/"),
        ("https://tenant.auth0.com/", "https://tenant.auth0.com/"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
        ("https://accounts.example.com/realms/x", "https://accounts.example.com/realms/x"),
    ],
)
def test_issuer_bare_domain_becomes_https_url_full_url_is_kept(configured: str, issuer: str):
    settings = AuthSettings(issuer=configured, audiences=(AUD,))
    assert settings.issuer == issuer
    assert settings.discovery_uri == issuer.rstrip("/") + "/.well-known/openid-configuration"
    assert settings.fallback_jwks_uri == issuer.rstrip("/") + "/.well-known/jwks.json"


@pytest.mark.parametrize("issuer", ["", "   ", "ftp://tenant.auth0.com/", "tenant.auth0.com/x"])
def test_unusable_issuer_is_refused(issuer: str):
    with pytest.raises(ConfigError, match="AUTH_ISSUER"):
        AuthSettings(issuer=issuer, audiences=(AUD,))


def test_defaults_are_safe():
    settings = AuthSettings(issuer="tenant.auth0.com", audiences=AUD)
    assert settings.audiences == (AUD,)
    assert settings.algorithms == ("RS256",)
    assert 30 <= settings.leeway <= 60
    assert settings.allow_query_token is False
    assert settings.require_at_jwt is False
    assert settings.scope_claims == ("scope",)
    assert settings.jwks_uri is None


# A non-default value for every variable, and the field value it must produce.
ENV = {
    "AUTH_ISSUER": "tenant.auth0.com",
    "AUTH_AUDIENCE": f"{AUD}, {GEO_AUD}",
    "AUTH_JWKS_URI": " https://keys.example.com/jwks.json ",
    "AUTH_ALGORITHMS": "RS256 ES256,PS256",
    "AUTH_LEEWAY": "45",
    "AUTH_JWKS_CACHE_LIFETIME": "120.5",
    "AUTH_JWKS_REFETCH_COOLDOWN": "10",
    "AUTH_JWKS_MAX_STALE": "3600",
    "AUTH_HTTP_TIMEOUT": "2.5",
    "AUTH_REQUIRE_AT_JWT": "yes",
    "AUTH_SCOPE_CLAIMS": "scope,permissions",
    "AUTH_MAX_TOKEN_AGE": "900",
    "AUTH_MAX_TOKEN_BYTES": "4096",
    "AUTH_REQUIRED_CLAIMS": "jti sid",
    "AUTH_ALLOW_QUERY_TOKEN": "TRUE",
    "AUTH_REALM": " calendar ",
    "AUTH_DPOP": "required",
    "AUTH_DPOP_NONCE": "on",
    "AUTH_DPOP_ALGORITHMS": "ES256 EdDSA",
    "AUTH_DPOP_MAX_AGE": "120",
    "AUTH_TOKEN_CACHE_SIZE": "500",
}
EXPECTED = {
    "issuer": "https://tenant.auth0.com/",
    "audiences": (AUD, GEO_AUD),
    "jwks_uri": "https://keys.example.com/jwks.json",
    "algorithms": ("RS256", "ES256", "PS256"),
    "leeway": 45.0,
    "jwks_cache_lifetime": 120.5,
    "jwks_refetch_cooldown": 10.0,
    "jwks_max_stale": 3600.0,
    "http_timeout": 2.5,
    "require_at_jwt": True,
    "scope_claims": ("scope", "permissions"),
    "max_token_age": 900.0,
    "max_token_bytes": 4096,
    "required_claims": ("jti", "sid"),
    "allow_query_token": True,
    "realm": "calendar",
    "dpop": "required",
    "dpop_nonce": True,
    "dpop_algorithms": ("ES256", "EdDSA"),
    "dpop_max_age": 120.0,
    "token_cache_size": 500,
}


def test_from_env_reads_every_auth_variable():
    assert set(variables(AuthSettings).values()) == set(ENV)
    settings = AuthSettings.from_env(ENV)
    assert {name: getattr(settings, name) for name in EXPECTED} == EXPECTED


def test_from_env_defaults_fill_gaps_and_env_wins():
    settings = AuthSettings.from_env(
        {"AUTH_DOMAIN": "tenant.auth0.com", "AUTH_LEEWAY": ""},
        issuer="http://127.0.0.1:8000/",
        audiences=(AUD,),
        realm="calendar",
    )
    assert (settings.issuer, settings.audiences, settings.realm, settings.leeway) == (
        "https://tenant.auth0.com/",
        (AUD,),
        "calendar",
        30.0,
    )
    assert AuthSettings.from_env({}, issuer="x.auth0.com", audiences=(AUD,)).issuer == (
        "https://x.auth0.com/"
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"AUTH_AUDIENCE": AUD}, "AUTH_ISSUER"), ({"AUTH_ISSUER": "t.auth0.com"}, "AUTH_AUDIENCE")],
)
def test_from_env_names_the_missing_variable(env: dict[str, str], variable: str):
    with pytest.raises(ConfigError, match=variable):
        AuthSettings.from_env(env)


@pytest.mark.parametrize("algorithms", ["HS256", "RS256 HS256", "none", "RS256,none", "HS512", ","])
def test_hmac_and_none_algorithms_are_refused(algorithms: str):
    env = {"AUTH_ISSUER": "t.auth0.com", "AUTH_AUDIENCE": AUD, "AUTH_ALGORITHMS": algorithms}
    with pytest.raises(ConfigError, match="AUTH_ALGORITHMS"):
        AuthSettings.from_env(env)


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("AUTH_LEEWAY", "thirty"),
        ("AUTH_LEEWAY", "nan"),
        ("AUTH_LEEWAY", "-1"),
        ("AUTH_LEEWAY", "301"),
        ("AUTH_JWKS_CACHE_LIFETIME", "10m"),
        ("AUTH_JWKS_CACHE_LIFETIME", "NaN"),
        ("AUTH_JWKS_REFETCH_COOLDOWN", "-5"),
        ("AUTH_JWKS_MAX_STALE", "inf"),
        ("AUTH_HTTP_TIMEOUT", "0"),
        ("AUTH_HTTP_TIMEOUT", "5s"),
        ("AUTH_MAX_TOKEN_AGE", "nan"),
        ("AUTH_MAX_TOKEN_AGE", "-60"),
        ("AUTH_REQUIRE_AT_JWT", "maybe"),
        ("AUTH_ALLOW_QUERY_TOKEN", "2"),
        ("AUTH_SCOPE_CLAIMS", "roles"),
        ("AUTH_DPOP", "sometimes"),
        ("AUTH_DPOP_ALGORITHMS", "HS256"),
        ("AUTH_DPOP_MAX_AGE", "0"),
        ("AUTH_DPOP_NONCE", "2"),
    ],
)
def test_bad_values_fail_at_start_up_naming_the_variable(variable: str, raw: str):
    env = {"AUTH_ISSUER": "t.auth0.com", "AUTH_AUDIENCE": AUD, variable: raw}
    with pytest.raises(ConfigError, match=variable):
        AuthSettings.from_env(env)


def test_settings_from_code_are_validated_too():
    with pytest.raises(ConfigError, match="audience"):
        AuthSettings(issuer="t.auth0.com", audiences=(" ",))
    with pytest.raises(ConfigError, match="AUTH_LEEWAY"):
        AuthSettings(issuer="t.auth0.com", audiences=(AUD,), leeway=float("nan"))
    with pytest.raises(ConfigError, match="AUTH_MAX_TOKEN_BYTES"):
        AuthSettings(issuer="t.auth0.com", audiences=(AUD,), max_token_bytes=10)
