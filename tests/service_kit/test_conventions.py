"""The same answer to the same situation in every service (the table of issue 10, and more).

Each test runs once per service profile (``conftest.py``): the calendar, geocoding, the
notes example and the dev issuer. A service without the route a test needs is skipped with
the reason, which is itself part of the table.
"""

from __future__ import annotations

import http.client
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from kit_profiles import Profile

from service_kit import ConfigError
from service_kit.logs import JsonFormatter

ERROR_KEYS = {"code", "status", "message"}


@pytest.fixture
def client(service: Profile) -> FlaskClient:
    return service.make().test_client()


def need(value: Any, what: str) -> Any:
    if value is None:
        pytest.skip(f"this service has no {what}")
    return value


def bearer(service: Profile) -> dict[str, str]:
    return {"Authorization": f"Bearer {need(service.token, 'protected route')}"}


def assert_error(response: Any, status: int, phrase: str | None = None) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) >= ERROR_KEYS and body["code"] == status and body["message"], body
    assert body["status"] == http.client.responses[status].replace("Content", "Entity")
    if phrase is not None:
        assert phrase in body["message"], body["message"]
    return body


# -- the error body ------------------------------------------------------------------------------


def test_unknown_path_is_a_json_404_with_a_message(client: FlaskClient) -> None:
    assert_error(client.get("/no/such/path"), 404, "There is nothing at this URL")


def test_405_names_the_allowed_methods_in_allow_and_message(
    service: Profile, client: FlaskClient
) -> None:
    method, path, allowed = service.not_allowed
    response = client.open(path, method=method)
    assert_error(response, 405, f"{method} is not allowed here; this URL allows {allowed}")
    assert response.headers["Allow"] == allowed


def test_body_that_is_not_json_is_415(service: Profile, client: FlaskClient) -> None:
    path, _ = need(service.json_route, "JSON route")
    if service.name == "dev_issuer":
        pytest.skip("the token endpoint also takes form bodies (RFC 6749): text/plain is a 400")
    response = client.post(path, data="x=1", content_type="text/plain", headers=_auth(service))
    assert_error(response, 415, "Content-Type: application/json")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "Expecting property name"),
        (b"[" * 40 + b"]" * 40, "it is nested more than 32 levels deep"),
        (b"[" * 20_000 + b"]" * 20_000, "it is nested more than 32 levels deep"),
        (b'{"a": ' + b"7" * 5000 + b"}", "a number in it has more than 100 digits"),
        (b'{"a": 1e400}', "a number in it is too large"),
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'"\xff"', "it is not UTF-8"),
        (b'{"a": "x\\ud800"}', "it holds a lone surrogate escape"),
        (b'{"\\udfff": 1}', "it holds a lone surrogate escape"),
        (b'[["\\ud83d"]]', "it holds a lone surrogate escape"),
    ],
)
def test_malformed_or_hostile_json_is_400_with_the_reason(
    service: Profile, client: FlaskClient, body: bytes, reason: str
) -> None:
    path, _ = need(service.json_route, "JSON route")
    response = client.post(path, data=body, content_type="application/json", headers=_auth(service))
    assert_error(response, 400, f"The request body is not valid JSON: {reason}")


def test_single_valued_query_parameter_given_twice_is_400(
    service: Profile, client: FlaskClient
) -> None:
    path, name, params = need(service.query_route, "query route")
    query = "&".join(f"{k}={v}" for k, v in params.items()) + f"&{name}=7"
    response = client.get(f"{path}?{query}", headers=_auth(service))
    body = assert_error(response, 400, f"{name} must be given once; it appears 2 times")
    assert body["errors"] == {"query": {name: [body["message"]]}}


@pytest.mark.parametrize("number", ["1_0", "\u0661\u0662", "\uff11\uff12", "nan", "0x10", " 1"])
def test_query_numbers_are_plain_ascii_decimal(
    service: Profile, client: FlaskClient, number: str
) -> None:
    path, name, params = need(service.query_route, "query route")
    response = client.get(path, query_string={**params, name: number}, headers=_auth(service))
    assert_error(response, 400, "in plain ASCII digits")


def test_valid_requests_pass_the_parser(service: Profile, client: FlaskClient) -> None:
    if service.query_route:
        path, _, params = service.query_route
        assert client.get(path, query_string=params, headers=_auth(service)).status_code == 200
    path, body = need(service.json_route, "JSON route")
    assert client.post(path, json=body, headers=_auth(service)).status_code in (200, 201)


def test_body_over_the_cap_is_413_sized_or_chunked(service: Profile, serve: Any) -> None:
    path, _ = need(service.json_route, "JSON route")
    base = serve(service.make(**{f"{service.prefix}_MAX_BODY_BYTES": "2048"}))
    body = b'{"x": "' + b"a" * 4096 + b'"}'
    headers = {"Content-Type": "application/json", **_auth(service)}
    sized = requests.post(base + path, data=body, headers=headers, timeout=10)
    chunked = requests.post(base + path, data=iter([body[:1000], body[1000:]]), headers=headers)
    for response in (sized, chunked):
        assert response.status_code == 413, response.text
        assert response.json()["message"] == "The request body is larger than 2048 bytes"


# -- what every resource server refuses (issue 13) ----------------------------------------------


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Digest username=x", "Token abc", "Bearer:abc"]
)
def test_another_scheme_is_no_credentials_a_bare_challenge(
    service: Profile, client: FlaskClient, authorization: str
) -> None:
    """RFC 6750 3.1: a request without Bearer credentials gets 401 and no error code."""
    path = need(service.protected, "protected route")
    response = client.get(path, headers={"Authorization": authorization})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=") and "error=" not in challenge
    assert "error" not in response.get_json()


def test_a_signed_token_without_sub_is_401_invalid_token(
    service: Profile, client: FlaskClient
) -> None:
    """RFC 9068 2.2: sub is required, of users and of clients alike."""
    mint = need(service.mint, "protected route")
    response = client.get(service.protected, headers={"Authorization": f"Bearer {mint(sub=None)}"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_signature_spelled_differently_is_401(service: Profile, client: FlaskClient) -> None:
    """The last character of a 4n+2 base64url signature carries 4 unused bits: setting one
    keeps the bytes, and a lenient decoder would accept the token (RFC 4648 3.5)."""
    token = need(service.token, "protected route")
    head, body, signature = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
    assert twin != signature
    response = client.get(
        service.protected, headers={"Authorization": f"Bearer {head}.{body}.{twin}"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    ok = client.get(service.protected, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


# -- headers -------------------------------------------------------------------------------------


def test_nosniff_on_every_response(service: Profile, client: FlaskClient) -> None:
    responses = [client.get("/no/such/path"), client.get("/healthz"), client.get("/readyz")]
    if service.protected:
        responses += [
            client.get(service.protected),
            client.get(service.protected, headers=bearer(service)),
        ]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_authenticated_answers_are_never_stored(service: Profile, client: FlaskClient) -> None:
    if service.name == "dev_issuer":
        path, body = need(service.json_route, "JSON route")
        response = client.post(path, json=body)
        assert response.status_code == 200
    else:
        response = client.get(service.protected, headers=bearer(service))
        assert response.status_code == 200, response.get_json()
        refused = client.get(service.protected, headers={"Authorization": "Bearer x.y.z"})
        assert refused.headers["Cache-Control"] == "no-store"
    assert response.headers["Cache-Control"] == "no-store"


# -- health, logs, metrics, CORS -----------------------------------------------------------------


def test_health_and_named_readiness_checks(service: Profile, client: FlaskClient) -> None:
    live = client.get("/healthz")
    assert (live.status_code, live.get_json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": dict.fromkeys(service.checks, "ok")}
    assert ready.headers["Cache-Control"] == "no-store"


def test_a_failing_check_is_503_naming_it(service: Profile, jwks_server: Any) -> None:
    if service.token is None:
        pytest.skip("the issuer's checks are its own keys and store, tested in tests/dev_issuer")
    jwks_server.mode = "fail"
    ready = service.make().test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["signing_keys"] == (
        "failed: no usable signing key from the issuer"
    )
    assert jwks_server.issuer not in ready.get_data(as_text=True)


def test_each_request_is_one_json_log_line_with_its_id_and_no_token(
    service: Profile, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = service.protected or "/healthz"
    headers = {"X-Request-ID": "req-42", **(bearer(service) if service.token else {})}
    response = client.get(path, headers=headers)
    assert response.headers["X-Request-ID"] == "req-42"
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name.endswith(".access")]
    (line,) = lines
    assert (line["request_id"], line["method"], line["status"]) == ("req-42", "GET", 200)
    assert line["path"] == urlsplit(path).path and "?" not in json.dumps(line)
    if service.token:
        assert line["subject"] in ("usr_123", "geo-backend@clients")
        for record in caplog.records:
            assert service.token not in formatter.format(record)


def test_metrics_count_requests_by_route_and_rejections_by_reason(
    service: Profile, client: FlaskClient
) -> None:
    client.get("/healthz")
    if service.protected:
        client.get(service.protected, headers={"Authorization": "Basic eDp5"})
        client.get(service.protected, headers={"Authorization": "Bearer a.b.c"})
    text = client.get("/metrics").get_data(as_text=True)
    name = service.prefix.lower()
    assert (
        f'http_requests_total{{method="GET",route="/healthz",service="{name}",status="200"}}'
        in text
    )
    assert (
        f'http_request_duration_seconds_bucket{{le="0.005",method="GET",route="/healthz",service="{name}"}}'
        in text
    )
    if service.protected:
        assert (
            f'auth_rejections_total{{error="missing_token",reason="unsupported_scheme",service="{name}"}}'
            in text
        )
        assert (
            f'auth_rejections_total{{error="invalid_token",reason="malformed",service="{name}"}}'
            in text
        )
        assert "jwks_fetches_total" in text


def test_metrics_can_be_switched_off(service: Profile) -> None:
    client = service.make(**{f"{service.prefix}_METRICS": "false"}).test_client()
    assert client.get("/metrics").status_code == 404


def test_cors_for_listed_origins_only(service: Profile) -> None:
    origin = "https://app.example.test"
    client = service.make(**{f"{service.prefix}_CORS_ORIGINS": origin}).test_client()
    path = service.json_route[0] if service.json_route else "/healthz"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    allowed = client.options(path, headers=preflight)
    assert allowed.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = client.options(path, headers={**preflight, "Origin": "https://evil.example"})
    assert not any(name.lower().startswith("access-control-allow") for name, _ in other.headers)
    assert "Origin" in client.get("/healthz").headers["Vary"]


@pytest.mark.parametrize(
    ("suffix", "value"),
    [
        ("CORS_ORIGINS", "app.example.com"),
        ("CORS_ORIGINS", "https://app.example.com/"),
        ("MAX_BODY_BYTES", "12"),
        ("MAX_BODY_BYTES", "1_000_000"),
        ("METRICS", "perhaps"),
        ("PUBLIC_URL", "/relative/"),
    ],
)
def test_bad_kit_settings_stop_the_start_naming_the_variable(
    service: Profile, suffix: str, value: str
) -> None:
    if (suffix, value) == ("CORS_ORIGINS", "https://app.example.com/"):
        value = "https://app.example.com/path"  # a trailing slash alone is forgiven
    if suffix == "PUBLIC_URL" and service.token is None:
        pytest.skip("the issuer's public URL is DEV_ISSUER_URL, tested in tests/dev_issuer")
    variable = f"{service.prefix}_{suffix}"
    with pytest.raises(ConfigError, match=variable):
        service.make(**{variable: value})


def _auth(service: Profile) -> dict[str, str]:
    return bearer(service) if service.token else {}
