"""Fixtures for the geocoding API: the small GeoNames-format fixture and the bundled data.

The bundled extract (~155,000 places) takes about a second to load, so it is loaded once per
session through the same process-wide cache the app uses; apps are built per test (cheap once
the index is cached) so each one gets a fresh JWKS cache pointed at the test issuer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geocoding_api import create_app
from geocoding_api.index import PlaceIndex
from geocoding_api.service import shared_geocoder

DATA_DIR = Path(__file__).parent / "data"
AUDIENCE = "https://api.example.com/geocoding/v1/"


@pytest.fixture(scope="session")
def bundled_index() -> PlaceIndex:
    return shared_geocoder("bundled").index


@pytest.fixture(scope="session")
def fixture_index() -> PlaceIndex:
    return shared_geocoder(str(DATA_DIR)).index


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    """A writable copy of the fixture dump, for tests that break one file."""
    target = tmp_path / "dump"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture
def make_app(jwks_server: Any, tmp_path: Path) -> Callable[..., Flask]:
    """``make_app(**overrides)``: the app over the fixture data, trusting the test issuer."""

    def build(**overrides: Any) -> Flask:
        config = {
            "GEOCODING_DATA": str(DATA_DIR),
            "GEOCODING_INSTANCE_PATH": str(tmp_path / "instance"),
            "AUTH_ISSUER": jwks_server.issuer,
            "AUTH_AUDIENCE": AUDIENCE,
            "TESTING": True,
            **overrides,
        }
        return create_app(config)

    return build


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app().test_client()


@pytest.fixture
def bundled_client(make_app: Callable[..., Flask], bundled_index: PlaceIndex) -> FlaskClient:
    return make_app(GEOCODING_DATA="bundled").test_client()


@pytest.fixture
def geo_token(tokens: Any) -> str:
    """A client-credentials token for this API, as geo-backend gets it from the issuer."""
    return tokens.client_credentials()


@pytest.fixture
def auth_header(geo_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {geo_token}"}
