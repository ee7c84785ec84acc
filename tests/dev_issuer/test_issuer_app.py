"""Discovery, health, the /demo/ hook, headers, settings and error pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from issuer_testkit import ISSUER

from dev_issuer import create_app
from dev_issuer.settings import ConfigError, Settings


def test_discovery_names_every_endpoint_under_the_issuer(client: FlaskClient) -> None:
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == ISSUER + "authorize"
    assert doc["token_endpoint"] == ISSUER + "oauth/token"
    assert doc["jwks_uri"] == ISSUER + ".well-known/jwks.json"
    assert doc["response_types_supported"] == ["code", "token"]
    assert set(doc["grant_types_supported"]) == {
        "authorization_code",
        "implicit",
        "client_credentials",
    }
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["scopes_supported"] == ["geocode", "read", "write"]
    browser = client.get("/.well-known/openid-configuration", headers={"Origin": "http://x.test"})
    assert browser.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/.well-known/oauth-authorization-server").get_json() == doc


def test_issuer_url_follows_the_config_at_request_time(app: Flask, client: FlaskClient) -> None:
    app.config["DEV_ISSUER_URL"] = "http://127.0.0.1:9999"
    doc = client.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == "http://127.0.0.1:9999/"
    assert doc["jwks_uri"] == "http://127.0.0.1:9999/.well-known/jwks.json"


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"signing_key": "ok", "store": "ok"}}


def test_demo_is_served_at_demo(client: FlaskClient) -> None:
    page = client.get("/demo/")
    assert page.status_code == 200
    assert '<script src="demo.js"></script>' in page.get_data(as_text=True)
    config = client.get("/demo/config.json").get_json()
    assert config["authorize_url"] == client.application.config["DEV_ISSUER_URL"] + "authorize"
    assert config["client_id"] == "demo-spa"
    assert config["calendar_api"] == "http://127.0.0.1:8001"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/demo").status_code == 308
    assert client.get("/demo/../tenant.toml").status_code == 404
    assert client.get("/demo/missing.js").status_code == 404


def test_unknown_page_is_a_page_for_browsers_and_json_for_api_clients(
    client: FlaskClient,
) -> None:
    page = client.get("/nowhere", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "There is nothing at this URL" in page.get_data(as_text=True)
    for accept in (None, "*/*", "application/json"):
        response = client.get("/nowhere", headers={"Accept": accept} if accept else {})
        assert response.status_code == 404
        assert response.get_json() == {
            "code": 404,
            "status": "Not Found",
            "message": "There is nothing at this URL",
        }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000/"),
        ({"DEV_ISSUER_PORT": "9100"}, "http://127.0.0.1:9100/"),
        ({"DEV_ISSUER_URL": "http://localhost:8000"}, "http://localhost:8000/"),
        ({"DEV_ISSUER_URL": "https://dev.example.com/tenant/"}, "https://dev.example.com/tenant/"),
    ],
)
def test_issuer_url_defaults_and_trailing_slash(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    assert Settings.from_env(env, tmp_path).issuer == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DEV_ISSUER_URL": "127.0.0.1:8000"},
            "DEV_ISSUER_URL='127.0.0.1:8000' is not valid: must be an http",
        ),
        ({"DEV_ISSUER_URL": "ftp://x/"}, "must be an http(s) URL"),
        ({"DEV_ISSUER_URL": "http://x/?a=b"}, "must not have a query"),
        ({"DEV_ISSUER_URL": "http://x:99999/"}, "not a valid URL"),
        ({"DEV_ISSUER_PORT": "eighty"}, "DEV_ISSUER_PORT='eighty' is not valid: not a port number"),
        ({"DEV_ISSUER_PORT": "\u0668\u0660"}, "not a port number"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_variable(
    env: dict[str, str], message: str, issuer_dir: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        create_app({"DEV_ISSUER_KEYS_DIR": str(issuer_dir), **env})
    assert message in str(caught.value)


def test_https_issuer_makes_the_session_cookie_secure(issuer_dir: Path) -> None:
    app = create_app(
        {"DEV_ISSUER_KEYS_DIR": str(issuer_dir), "DEV_ISSUER_URL": "https://dev.example.com/"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
