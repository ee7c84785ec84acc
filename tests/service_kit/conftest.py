"""Every service in the house, described once, so each kit behaviour is tested against all.

A ``Profile`` names what a convention test needs from a service: how to build it against
the test issuer, a protected route and a valid token for it, a route taking a JSON body, a
route with a single-valued numeric query parameter, and a method a route does not allow.
``None`` means the service has no such route (the issuer has no query API). A new service
adds a profile here and inherits every test in this folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from kit_profiles import Profile
from support.constants import GEO_AUD, NOTES_AUD

DATA_DIR = Path(__file__).parents[1] / "geocoding_api" / "data"


SERVICES = ("calendar", "geocoding", "notes", "dev_issuer")


@pytest.fixture(scope="session")
def _issuer_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dev_issuer.keys import KeyStore

    directory = tmp_path_factory.mktemp("kit-issuer") / "keys"
    KeyStore(directory)
    return directory


@pytest.fixture(params=SERVICES)
def service(
    request: pytest.FixtureRequest,
    jwks_server: Any,
    tokens: Any,
    tmp_path: Path,
    _issuer_keys: Path,
) -> Profile:
    auth = {"AUTH_ISSUER": jwks_server.issuer}
    if request.param == "calendar":
        from calendar_api import create_app

        def make(**config: Any) -> Flask:
            database = f"sqlite:///{tmp_path}/calendar.sqlite3"
            return create_app({**auth, "DATABASE_URL": database, **config})

        return Profile(
            "calendar",
            "CALENDAR",
            make,
            tokens.mint(scope="read write"),
            "/calendar/v1/events",
            ("/calendar/v1/events", {"title": "x", "start": "2026-01-01", "end": "2026-01-02"}),
            ("/calendar/v1/events", "limit", {"limit": "5"}),
            ("DELETE", "/calendar/v1/events", "GET, HEAD, OPTIONS, POST"),
            ("signing_keys", "database"),
            lambda **claims: tokens.mint(**{"scope": "read write", **claims}),
            "http://127.0.0.1:8001/calendar/v1/",
            ("read", "write"),
        )
    if request.param == "geocoding":
        from geocoding_api import create_app

        def make(**config: Any) -> Flask:
            instance = str(tmp_path / "geocoding")
            data = {"GEOCODING_DATA": str(DATA_DIR), "GEOCODING_INSTANCE_PATH": instance}
            return create_app({**auth, **data, **config})

        return Profile(
            "geocoding",
            "GEOCODING",
            make,
            tokens.client_credentials(),
            "/geocoding/v1/reverse?lat=1&lon=2",
            ("/geocoding/v1/reverse/batch", {"points": [{"lat": 1, "lon": 2}]}),
            ("/geocoding/v1/reverse", "lat", {"lat": "1", "lon": "2"}),
            ("DELETE", "/geocoding/v1/reverse", "GET, HEAD, OPTIONS"),
            ("signing_keys", "places"),
            tokens.client_credentials,
            "http://127.0.0.1:8002/geocoding/v1/",
            ("geocode",),
        )
    if request.param == "notes":
        from examples.notes_api import create_app

        def make(**config: Any) -> Flask:
            public = {
                "NOTES_PUBLIC_URL": "http://127.0.0.1:8003/notes/v1/",
                "NOTES_INSTANCE_PATH": str(tmp_path / "notes"),
            }
            return create_app({**auth, **public, **config})

        return Profile(
            "notes",
            "NOTES",
            make,
            tokens.mint(aud=NOTES_AUD, scope="notes:read notes:write"),
            "/notes/v1/notes",
            ("/notes/v1/notes", {"text": "hello"}),
            ("/notes/v1/notes", "limit", {"limit": "5"}),
            ("PUT", "/notes/v1/notes", "GET, HEAD, OPTIONS, POST"),
            ("signing_keys",),
            lambda **claims: tokens.mint(**{"aud": NOTES_AUD, "scope": "notes:read", **claims}),
            "http://127.0.0.1:8003/notes/v1/",
            ("notes:read", "notes:write"),
        )
    from dev_issuer import create_app

    keys = tmp_path / "issuer"
    shutil.copytree(_issuer_keys, keys)

    def make(**config: Any) -> Flask:
        return create_app({"DEV_ISSUER_KEYS_DIR": str(keys), **config})

    grant = {
        "grant_type": "client_credentials",
        "client_id": "geo-backend",
        "client_secret": "geo-backend-secret",
        "audience": GEO_AUD,
    }
    return Profile(
        "dev_issuer",
        "DEV_ISSUER",
        make,
        None,
        None,
        ("/oauth/token", grant),
        None,
        ("GET", "/oauth/token", "OPTIONS, POST"),
        ("signing_key", "store"),
    )
