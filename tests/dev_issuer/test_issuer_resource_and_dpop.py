"""RFC 8707 resource indicators and DPoP-bound tokens at the issuer."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from issuer_testkit import (
    CALENDAR,
    CHALLENGE,
    DEMO_CALLBACK,
    GEOCODING,
    ISSUER,
    VERIFIER,
    Driver,
    decode,
    reply,
    tenant_with,
)
from support.dpop import proof

from dev_issuer import create_app
from dev_issuer.tenant import TenantError
from shared_auth.dpop_client import DPoPKey

GEO_URL = "http://127.0.0.1:8002/geocoding/v1/"
CAL_URL = "http://127.0.0.1:8001/calendar/v1/"
TOKEN_ENDPOINT = ISSUER + "oauth/token"
GEO = {"grant_type": "client_credentials", "client_id": "geo-backend"}
GEO_SECRET = {**GEO, "client_secret": "geo-backend-secret"}


def token(client: FlaskClient, params: dict[str, str], **headers: str) -> Any:
    return client.post("/oauth/token", data=params, headers=headers)


# -- resource indicators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "aud"),
    [
        ({"resource": GEO_URL}, GEO_URL),
        ({"audience": GEOCODING}, GEOCODING),
        ({"resource": GEOCODING}, GEOCODING),
        ({"audience": GEO_URL, "resource": GEO_URL}, GEO_URL),
    ],
)
def test_a_token_is_for_whichever_identifier_was_asked(
    client: FlaskClient, params: dict[str, str], aud: str
) -> None:
    response = token(client, {**GEO_SECRET, **params})
    assert response.status_code == 200, response.get_json()
    assert decode(client, response.get_json()["access_token"], aud)["aud"] == aud


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"audience": GEOCODING, "resource": GEO_URL}, "invalid_target"),
        ({"resource": "http://127.0.0.1:9999/nothing/"}, "invalid_target"),
        ({"audience": "http://127.0.0.1:9999/nothing/"}, "invalid_request"),
        ({}, "invalid_request"),
    ],
)
def test_conflicting_or_unknown_targets_are_refused(
    client: FlaskClient, params: dict[str, str], error: str
) -> None:
    response = token(client, {**GEO_SECRET, **params})
    assert (response.status_code, response.get_json()["error"]) == (400, error)


def test_authorize_takes_resource_and_the_code_keeps_it(
    driver: Driver, client: FlaskClient
) -> None:
    code_request = {
        "response_type": "code",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "audience": None,
        "resource": CAL_URL,
    }
    code = driver.token(**code_request)["code"]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": "demo-spa",
        "code": code,
        "redirect_uri": DEMO_CALLBACK,
        "code_verifier": VERIFIER,
    }
    elsewhere = token(client, {**exchange, "resource": GEO_URL})
    assert elsewhere.get_json()["error"] == "invalid_target"
    code = driver.token(**code_request)["code"]
    issued = token(client, {**exchange, "code": code, "resource": CAL_URL})
    assert decode(client, issued.get_json()["access_token"], CAL_URL)["aud"] == CAL_URL


def test_authorize_with_two_different_targets_redirects_invalid_target(driver: Driver) -> None:
    page = driver.start(audience=CALENDAR, resource=GEO_URL)
    assert page.location and reply(page.location)["error"] == "invalid_target"


def test_discovery_lists_dpop_algorithms(client: FlaskClient) -> None:
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        document = client.get(path).get_json()
        assert document["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA", "RS256", "PS256"]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('resource_indicators = ["http://x.test/a#frag"]', "must not have a #fragment"),
        ('resource_indicators = ["not a url"]', r"must be an absolute http\(s\) URL"),
        ('resource_indicators = ["https://api.example.com/geocoding/v1/"]', "names two APIs"),
    ],
)
def test_bad_resource_indicators_stop_the_issuer(
    tmp_path: Any, issuer_dir: Any, extra: str, problem: str
) -> None:
    text = (
        '[[apis]]\nidentifier = "https://notes.example/"\nname = "Notes"\n'
        f'{extra}\n[apis.scopes]\nnote = "Notes"\n'
    )
    with pytest.raises(TenantError, match=problem):
        create_app(
            {
                "DEV_ISSUER_KEYS_DIR": str(issuer_dir),
                "DEV_ISSUER_TENANT": str(tenant_with(tmp_path, text)),
            }
        )


# -- DPoP --------------------------------------------------------------------------------------


def test_a_proof_at_the_token_endpoint_binds_the_token(client: FlaskClient) -> None:
    key = DPoPKey.generate()
    response = token(
        client, {**GEO_SECRET, "resource": GEO_URL}, DPoP=key.proof("POST", TOKEN_ENDPOINT)
    )
    body = response.get_json()
    assert (response.status_code, body["token_type"]) == (200, "DPoP")
    assert decode(client, body["access_token"], GEO_URL)["cnf"] == {"jkt": key.thumbprint}
    plain = token(client, {**GEO_SECRET, "resource": GEO_URL}).get_json()
    assert plain["token_type"] == "Bearer"
    assert "cnf" not in decode(client, plain["access_token"], GEO_URL)


def test_the_code_flow_binds_too(driver: Driver, client: FlaskClient) -> None:
    code = driver.token(
        response_type="code", code_challenge=CHALLENGE, code_challenge_method="S256"
    )["code"]
    key = DPoPKey.generate("EdDSA")
    exchange = {
        "grant_type": "authorization_code",
        "client_id": "demo-spa",
        "code": code,
        "redirect_uri": DEMO_CALLBACK,
        "code_verifier": VERIFIER,
    }
    body = token(client, exchange, DPoP=key.proof("POST", TOKEN_ENDPOINT)).get_json()
    assert body["token_type"] == "DPoP"
    assert decode(client, body["access_token"], CALENDAR)["cnf"]["jkt"] == key.thumbprint


@pytest.mark.parametrize(
    "make",
    [
        lambda key: proof(key, "GET", TOKEN_ENDPOINT),
        lambda key: proof(key, "POST", ISSUER + "authorize"),
        lambda key: proof(key, "POST", TOKEN_ENDPOINT, header={"typ": "JWT"}),
        lambda key: proof(key, "POST", TOKEN_ENDPOINT, alg="none"),
        lambda key: proof(key, "POST", TOKEN_ENDPOINT, claims={"iat": 1_000_000_000}),
        lambda key: "not-a-proof",
    ],
    ids=["htm", "htu", "typ", "alg-none", "stale", "malformed"],
)
def test_a_bad_proof_is_invalid_dpop_proof(client: FlaskClient, make: Any) -> None:
    response = token(client, GEO_SECRET | {"audience": GEOCODING}, DPoP=make(DPoPKey.generate()))
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_dpop_proof")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_token_endpoint_proof_works_once(client: FlaskClient) -> None:
    once = DPoPKey.generate().proof("POST", TOKEN_ENDPOINT)
    params = GEO_SECRET | {"audience": GEOCODING}
    assert token(client, params, DPoP=once).status_code == 200
    replay = token(client, params, DPoP=once)
    assert (replay.status_code, replay.get_json()["error"]) == (400, "invalid_dpop_proof")
