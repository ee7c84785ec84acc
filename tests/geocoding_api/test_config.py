"""Settings: defaults, environment, overrides, and refusal of unusable values at start-up."""

from __future__ import annotations

import importlib

import pytest

from geocoding_api import create_app
from geocoding_api.config import load_settings
from shared_auth import ConfigError

GEO_VARS = (
    "GEOCODING_DATA",
    "GEOCODING_MAX_DISTANCE_KM",
    "GEOCODING_BATCH_LIMIT",
    "GEOCODING_SCOPE",
    "AUTH_ISSUER",
    "AUTH_DOMAIN",
    "AUTH_AUDIENCE",
    "AUTH_REALM",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GEO_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.data == "bundled"
    assert settings.max_distance_km == 50.0
    assert settings.batch_limit == 1000
    assert settings.scope == "geocode"
    assert settings.auth.issuer == "http://127.0.0.1:8000/"
    assert settings.auth.audiences == ("https://api.example.com/geocoding/v1/",)
    assert settings.auth.realm == "geocoding"


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOCODING_MAX_DISTANCE_KM", "25")
    monkeypatch.setenv("GEOCODING_BATCH_LIMIT", "200")
    monkeypatch.setenv("AUTH_DOMAIN", "tenant.example.auth0.com")
    settings = load_settings({"GEOCODING_BATCH_LIMIT": 300, "GEOCODING_DATA": "/srv/geonames"})
    assert settings.max_distance_km == 25.0
    assert settings.batch_limit == 300
    assert settings.data == "/srv/geonames"
    assert settings.auth.issuer == "https://tenant.example.auth0.com/"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GEOCODING_MAX_DISTANCE_KM", "0", "GEOCODING_MAX_DISTANCE_KM='0' must be a number"),
        ("GEOCODING_MAX_DISTANCE_KM", "501", "above 0 and at most 500"),
        ("GEOCODING_MAX_DISTANCE_KM", "nan", "above 0 and at most 500"),
        ("GEOCODING_MAX_DISTANCE_KM", "far", "above 0 and at most 500"),
        ("GEOCODING_BATCH_LIMIT", "0", "GEOCODING_BATCH_LIMIT='0' must be a whole number"),
        ("GEOCODING_BATCH_LIMIT", "10001", "from 1 to 10000"),
        ("GEOCODING_BATCH_LIMIT", "1.5", "from 1 to 10000"),
        ("GEOCODING_SCOPE", "geocode read", "must be a single scope name"),
        ("AUTH_ISSUER", "ftp://issuer", "AUTH_ISSUER must be an http(s) URL"),
    ],
)
def test_bad_settings_stop_start_up(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_app({name: value})
    assert message in str(caught.value)


def test_wsgi_module_builds_the_app_from_the_environment(bundled_index: object) -> None:
    wsgi = importlib.import_module("geocoding_api.wsgi")
    rules = {rule.rule for rule in wsgi.app.url_map.iter_rules()}
    assert {
        "/geocoding/v1/reverse",
        "/geocoding/v1/reverse/batch",
        "/geocoding/v1/search",
        "/healthz",
        "/readyz",
        "/openapi.json",
    } <= rules
