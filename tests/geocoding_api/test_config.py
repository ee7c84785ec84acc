"""Settings: defaults, environment, overrides, and refusal of unusable values at start-up."""

from __future__ import annotations

import importlib
import os

import pytest

from geocoding_api import create_app
from geocoding_api.config import GeocodingSettings, auth_settings, service_settings
from service_kit import merged_env
from shared_auth import ConfigError

GEO_VARS = (
    "GEOCODING_DATA",
    "GEOCODING_MAX_DISTANCE_KM",
    "GEOCODING_BATCH_LIMIT",
    "GEOCODING_PUBLIC_URL",
    "GEOCODING_MAX_BODY_BYTES",
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
    settings = GeocodingSettings.from_env({})
    assert settings.data == "bundled"
    assert settings.max_distance_km == 50.0
    assert settings.batch_limit == 1000
    service = service_settings({}, settings.batch_limit)
    assert service.public_url == "http://127.0.0.1:8002/geocoding/v1/"
    assert service.max_body_bytes == 256_000
    auth = auth_settings({}, service.public_url)
    assert auth.issuer == "http://127.0.0.1:8000/"
    assert auth.audiences == (
        "https://api.example.com/geocoding/v1/",
        "http://127.0.0.1:8002/geocoding/v1/",
    )
    assert auth.realm == "geocoding"


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOCODING_MAX_DISTANCE_KM", "25")
    monkeypatch.setenv("GEOCODING_BATCH_LIMIT", "200")
    monkeypatch.setenv("AUTH_DOMAIN", "tenant.example.auth0.com")
    env = merged_env({"GEOCODING_BATCH_LIMIT": 300, "GEOCODING_DATA": "/srv/geonames"}, os.environ)
    settings = GeocodingSettings.from_env(env)
    assert settings.max_distance_km == 25.0
    assert settings.batch_limit == 300
    assert settings.data == "/srv/geonames"
    assert auth_settings(env, None).issuer == "https://tenant.example.auth0.com/"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GEOCODING_MAX_DISTANCE_KM", "0", "GEOCODING_MAX_DISTANCE_KM must be a number of"),
        ("GEOCODING_MAX_DISTANCE_KM", "501", "above 0 and at most 500; got 501.0"),
        ("GEOCODING_MAX_DISTANCE_KM", "nan", "GEOCODING_MAX_DISTANCE_KM='nan' is not valid"),
        ("GEOCODING_MAX_DISTANCE_KM", "far", "GEOCODING_MAX_DISTANCE_KM='far' is not valid"),
        ("GEOCODING_BATCH_LIMIT", "0", "GEOCODING_BATCH_LIMIT must be from 1 to 10000; got 0"),
        ("GEOCODING_BATCH_LIMIT", "10001", "from 1 to 10000"),
        ("GEOCODING_BATCH_LIMIT", "1.5", "expected a whole number"),
        ("GEOCODING_MAX_BODY_BYTES", "100", "GEOCODING_MAX_BODY_BYTES must be at least 1024"),
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
        "/metrics",
        "/docs",
    } <= rules
