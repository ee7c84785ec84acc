"""Authorization code + PKCE S256: single use, short-lived, bound to client, redirect, verifier."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from issuer_testkit import (
    CALENDAR,
    CHALLENGE,
    DEMO_CALLBACK,
    VERIFIER,
    Driver,
    LiveIssuer,
    decode,
    reply,
)
from werkzeug.test import TestResponse

from dev_issuer.pkce import s256
from dev_issuer.store import PendingCode

CODE_REQUEST = {
    "response_type": "code",
    "code_challenge": CHALLENGE,
    "code_challenge_method": "S256",
    "scope": "read write",
}


def get_code(driver: Driver, **overrides: str) -> str:
    params = driver.token(**{**CODE_REQUEST, **overrides})
    assert params["state"] == "state-123"
    assert "access_token" not in params
    return params["code"]


def exchange(client: FlaskClient, issued_code: str, **overrides: str | None) -> TestResponse:
    form = {
        "grant_type": "authorization_code",
        "client_id": "demo-spa",
        "code": issued_code,
        "redirect_uri": DEMO_CALLBACK,
        "code_verifier": VERIFIER,
        **overrides,
    }
    return client.post("/oauth/token", data={k: v for k, v in form.items() if v is not None})


def test_rfc7636_example_challenge() -> None:
    assert s256(VERIFIER) == CHALLENGE


def test_code_is_returned_in_the_query_and_exchanged_for_a_user_token(
    driver: Driver, client: FlaskClient
) -> None:
    page = driver.start(**CODE_REQUEST)
    page = driver.decide(driver.sign_in(page), "allow")
    location = page.location or ""
    assert location.startswith(DEMO_CALLBACK + "?code=") and "#" not in location
    response = exchange(client, reply(location)["code"])
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    claims = decode(client, body["access_token"], CALENDAR)
    assert claims["sub"] == "usr_123" and claims["azp"] == "demo-spa"
    assert claims["scope"] == "read write" and "gty" not in claims


def test_exchange_as_json_works_too(driver: Driver, client: FlaskClient) -> None:
    code = get_code(driver)
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": "demo-spa",
            "code": code,
            "redirect_uri": DEMO_CALLBACK,
            "code_verifier": VERIFIER,
        },
    )
    assert response.status_code == 200


def test_a_code_works_once(driver: Driver, client: FlaskClient) -> None:
    code = get_code(driver)
    assert exchange(client, code).status_code == 200
    again = exchange(client, code)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


def test_wrong_verifier_fails_and_burns_the_code(driver: Driver, client: FlaskClient) -> None:
    code = get_code(driver)
    wrong = exchange(client, code, code_verifier="x" * 43)
    assert wrong.status_code == 400
    assert wrong.get_json() == {
        "code": 400,
        "status": "Bad Request",
        "message": "code_verifier does not match the code_challenge",
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge",
    }
    assert exchange(client, code).get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://localhost:8000/demo/"},  # registered, but not this code's
        {"client_id": "first-party-spa"},
        {"code": "made-up-code"},
    ],
)
def test_code_is_bound_to_client_and_redirect_uri(
    driver: Driver, client: FlaskClient, overrides: dict[str, str]
) -> None:
    code = get_code(driver)
    response = exchange(client, code, **overrides)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"code_verifier": None}, 400, "invalid_request"),
        ({"code_verifier": "too-short"}, 400, "invalid_request"),
        ({"redirect_uri": None}, 400, "invalid_request"),
        ({"code": None}, 400, "invalid_request"),
        ({"client_secret": "anything"}, 401, "invalid_client"),
        ({"client_id": "geo-backend"}, 401, "invalid_client"),  # confidential, no secret
    ],
)
def test_malformed_exchanges(
    driver: Driver,
    client: FlaskClient,
    overrides: dict[str, str | None],
    status: int,
    error: str,
) -> None:
    code = get_code(driver)
    response = exchange(client, code, **overrides)
    assert response.status_code == status
    assert response.get_json()["error"] == error


def test_expired_code_is_invalid_grant(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["dev_issuer"].store
    store.save_code(
        "old-code",
        PendingCode("demo-spa", DEMO_CALLBACK, "usr_123", CALENDAR, ("read",), CHALLENGE, 0.0),
    )
    assert exchange(client, "old-code").get_json()["error"] == "invalid_grant"
    store.save_code(
        "fresh-code",
        PendingCode(
            "demo-spa", DEMO_CALLBACK, "usr_123", CALENDAR, ("read",), CHALLENGE, time.time() + 60
        ),
    )
    assert exchange(client, "fresh-code").status_code == 200


def test_codes_are_stored_hashed(app: Flask, driver: Driver) -> None:
    code = get_code(driver)
    database = app.extensions["dev_issuer"].store.path.read_bytes()
    assert code.encode() not in database


def test_racing_redemptions_of_one_code_give_one_token(live_issuer: LiveIssuer) -> None:
    """RFC 6749 4.1.2: a code is used once. Eight exchanges at once, over real HTTP and
    threads: exactly one token, seven invalid_grant (the store takes a code atomically)."""
    code = get_code(Driver(live_issuer.app.test_client()))
    form = {
        "grant_type": "authorization_code",
        "client_id": "demo-spa",
        "code": code,
        "redirect_uri": DEMO_CALLBACK,
        "code_verifier": VERIFIER,
    }
    barrier = threading.Barrier(8)

    def redeem(_: int) -> tuple[int, str | None]:
        barrier.wait()
        response = requests.post(live_issuer.url + "oauth/token", data=form, timeout=10)
        return response.status_code, response.json().get("error")

    with ThreadPoolExecutor(8) as pool:
        answers = sorted(pool.map(redeem, range(8)), key=lambda answer: answer[0])
    assert answers == [(200, None)] + [(400, "invalid_grant")] * 7
