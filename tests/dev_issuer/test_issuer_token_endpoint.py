"""POST /oauth/token with client credentials: every way in, and every RFC 6749 5.2 refusal."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from issuer_testkit import CALENDAR, GEOCODING, ISSUER, decode, jwks_of
from werkzeug.test import TestResponse

GEO = {
    "grant_type": "client_credentials",
    "client_id": "geo-backend",
    "client_secret": "geo-backend-secret",
    "audience": GEOCODING,
}


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def assert_error(response: TestResponse, status: int, error: str, fragment: str = "") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error
    assert fragment in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_json_body_gets_an_auth0_shaped_machine_token(client: FlaskClient) -> None:
    response = client.post("/oauth/token", json=GEO)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "geocode"
    claims = decode(client, body["access_token"], GEOCODING)
    assert claims["iss"] == ISSUER
    assert claims["sub"] == "geo-backend@clients"
    assert claims["azp"] == "geo-backend"
    assert claims["gty"] == "client-credentials"
    assert claims["scope"] == "geocode"
    assert claims["exp"] - claims["iat"] == 86400
    assert "permissions" not in claims  # the geocoding API does not enable RBAC
    again = decode(
        client, client.post("/oauth/token", json=GEO).get_json()["access_token"], GEOCODING
    )
    assert len(claims["jti"]) >= 16 and again["jti"] != claims["jti"]  # RFC 9068 2.2
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] in {key.key_id for key in jwks_of(client).keys}


def test_form_body_with_basic_authentication(client: FlaskClient) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "audience": CALENDAR},
        headers=basic("calendar-batch", "calendar-batch-secret"),
    )
    assert response.status_code == 200, response.get_json()
    claims = decode(client, response.get_json()["access_token"], CALENDAR)
    assert claims["sub"] == "calendar-batch@clients"
    assert claims["scope"] == "read"
    assert claims["permissions"] == ["read"]  # the calendar API enables RBAC


def test_form_body_with_secret_in_the_body(client: FlaskClient) -> None:
    response = client.post("/oauth/token", data=GEO)
    assert response.status_code == 200
    assert decode(client, response.get_json()["access_token"], GEOCODING)["scope"] == "geocode"


def test_scope_may_narrow_but_not_widen_the_grant(client: FlaskClient) -> None:
    batch = {**GEO, "client_id": "calendar-batch", "client_secret": "calendar-batch-secret"}
    narrowed = client.post("/oauth/token", json={**batch, "audience": CALENDAR, "scope": "read"})
    assert narrowed.get_json()["scope"] == "read"
    wider = client.post("/oauth/token", json={**batch, "audience": CALENDAR, "scope": "read write"})
    assert_error(wider, 400, "invalid_scope", "granted only read")
    unknown = client.post("/oauth/token", json={**batch, "audience": CALENDAR, "scope": "admin"})
    assert_error(unknown, 400, "invalid_scope", "does not define the scope admin")


def test_no_client_grant_for_the_audience_is_access_denied(client: FlaskClient) -> None:
    response = client.post("/oauth/token", json={**GEO, "audience": CALENDAR})
    assert_error(response, 403, "access_denied", f"geo-backend has no client grant for {CALENDAR}")


@pytest.mark.parametrize(
    ("audience", "fragment"),
    [
        (None, "audience is required"),
        ("https://api.example.com/calendar/v1", "unknown audience"),
    ],
)
def test_missing_or_unknown_audience(
    client: FlaskClient, audience: str | None, fragment: str
) -> None:
    params = {k: v for k, v in {**GEO, "audience": audience}.items() if v is not None}
    assert_error(client.post("/oauth/token", json=params), 400, "invalid_request", fragment)


def test_wrong_secret_in_body_is_invalid_client_without_basic_challenge(
    client: FlaskClient,
) -> None:
    response = client.post("/oauth/token", json={**GEO, "client_secret": "guess"})
    assert_error(response, 401, "invalid_client", "wrong secret")
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    "authorization",
    [
        basic("geo-backend", "guess")["Authorization"],
        basic("nobody", "geo-backend-secret")["Authorization"],
        "Basic not-base64!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer abc",
    ],
)
def test_failed_basic_authentication_answers_401_with_challenge(
    client: FlaskClient, authorization: str
) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "audience": GEOCODING},
        headers={"Authorization": authorization},
    )
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="dev_issuer"')


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"client_id": "nobody", "client_secret": "x"}, "unknown client 'nobody'"),
        ({"client_id": None, "client_secret": None}, "client authentication is missing"),
        ({"client_secret": None}, "wrong secret"),
    ],
)
def test_body_authentication_failures(
    client: FlaskClient, params: dict[str, str | None], fragment: str
) -> None:
    body = {k: v for k, v in {**GEO, **params}.items() if v is not None}
    assert_error(client.post("/oauth/token", json=body), 401, "invalid_client", fragment)


def test_secret_by_basic_and_body_at_once_is_invalid_request(client: FlaskClient) -> None:
    response = client.post(
        "/oauth/token", data=GEO, headers=basic("geo-backend", "geo-backend-secret")
    )
    assert_error(response, 400, "invalid_request", "not both")


def test_public_client_may_not_use_client_credentials(client: FlaskClient) -> None:
    response = client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": "demo-spa", "audience": CALENDAR},
    )
    assert_error(response, 400, "unauthorized_client", "demo-spa may not use client_credentials")


@pytest.mark.parametrize("grant_type", ["password", "refresh_token", "urn:x"])
def test_unsupported_grant_type(client: FlaskClient, grant_type: str) -> None:
    response = client.post("/oauth/token", json={**GEO, "grant_type": grant_type})
    assert_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"json": {k: v for k, v in GEO.items() if k != "grant_type"}}, "grant_type is required"),
        ({"data": "grant_type=client_credentials", "content_type": "text/plain"}, "send the"),
        ({"data": "{not json", "content_type": "application/json"}, "body is not valid JSON"),
        ({"json": [GEO]}, "JSON body must be an object"),
        ({"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}, "nested more"),
        ({"data": '{"scope": NaN}', "content_type": "application/json"}, "not valid JSON"),
        ({"data": '{"scope": ' + "9" * 5000 + "}", "content_type": "application/json"}, "JSON"),
        ({"json": {**GEO, "scope": ["geocode"]}}, "scope must be a string"),
        ({"data": {**GEO, "audience": [GEOCODING, CALENDAR]}}, "audience is given more than"),
    ],
)
def test_malformed_requests_are_invalid_request(
    client: FlaskClient, kwargs: dict[str, Any], fragment: str
) -> None:
    assert_error(client.post("/oauth/token", **kwargs), 400, "invalid_request", fragment)


def test_parameters_in_the_url_are_refused(client: FlaskClient) -> None:
    response = client.post("/oauth/token?client_secret=geo-backend-secret", json=GEO)
    assert_error(response, 400, "invalid_request", "not in the URL")


def test_get_is_405_in_oauth_json(client: FlaskClient) -> None:
    response = client.get("/oauth/token")
    assert response.status_code == 405
    assert response.get_json()["error"] == "invalid_request"
    assert "POST" in response.headers["Allow"]


def test_oversized_body_is_413_not_500(client: FlaskClient) -> None:
    response = client.post("/oauth/token", json={**GEO, "scope": "x" * 100_000})
    assert response.status_code == 413
    assert response.get_json()["error"] == "invalid_request"


def test_cors_only_for_registered_web_origins(client: FlaskClient) -> None:
    allowed = client.options(
        "/oauth/token",
        headers={"Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    other = client.post("/oauth/token", json=GEO, headers={"Origin": "http://evil.example"})
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]
