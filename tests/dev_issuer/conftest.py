"""Fixtures for the dev issuer: real apps over a private key folder per test.

RSA key generation takes a noticeable fraction of a second, so one key folder is made per
session and copied into each test's own folder; tests that are about key creation start
from an empty folder instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from issuer_testkit import ISSUER, Driver, LiveIssuer

from dev_issuer import create_app
from dev_issuer.keys import KeyStore

ENV_VARS = ("DEV_ISSUER_URL", "DEV_ISSUER_PORT", "DEV_ISSUER_TENANT", "DEV_ISSUER_KEYS_DIR")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they set, never the developer's shell."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def _key_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("issuer-template") / "keys"
    KeyStore(directory)
    return directory


@pytest.fixture
def issuer_dir(tmp_path: Path, _key_template: Path) -> Path:
    target = tmp_path / "issuer"
    shutil.copytree(_key_template, target)
    return target


MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(issuer_dir: Path) -> MakeApp:
    """``make_app(**config)``: an issuer on this test's key folder (call again = a restart)."""

    def make(**config: Any) -> Flask:
        return create_app(
            {"DEV_ISSUER_KEYS_DIR": str(issuer_dir), "DEV_ISSUER_URL": ISSUER, **config}
        )

    return make


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def driver(client: FlaskClient) -> Driver:
    return Driver(client)


@pytest.fixture
def live_issuer(make_app: MakeApp, serve: Callable[[Any], str]) -> LiveIssuer:
    """The issuer over real HTTP; its issuer URL is set once the port is known."""
    app = make_app()
    url = serve(app) + "/"
    app.config["DEV_ISSUER_URL"] = url
    return LiveIssuer(app, url)
