"""Fixtures for the calendar API: real apps on real databases, served over real HTTP.

``database_url`` runs a test once on SQLite and once on the PostgreSQL server at
127.0.0.1:5432 (each test in its own schema, dropped afterwards). Without that server the
PostgreSQL run is skipped with the reason, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from calendar_helpers import CalendarClient, postgres_dsn
from flask import Flask

from calendar_api import create_app


def _postgres_schema() -> Iterator[str]:
    """A private schema, dropped afterwards, so runs and tests never see each other's rows."""
    dsn = postgres_dsn()
    schema = f"cal_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/calendar.sqlite3"
    else:
        yield from _postgres_schema()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private, empty PostgreSQL schema (for tests that only make sense there)."""
    yield from _postgres_schema()


@pytest.fixture
def make_app(jwks_server: Any, tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    """``make_app(**settings)`` builds an app trusting the test issuer; engines are closed after."""
    apps: list[Flask] = []

    def build(**settings: Any) -> Flask:
        config = {
            "AUTH_ISSUER": jwks_server.issuer,
            "CALENDAR_INSTANCE_PATH": str(tmp_path / f"instance{len(apps)}"),
            **settings,
        }
        apps.append(create_app(config))
        return apps[-1]

    yield build
    for app in apps:
        app.extensions["calendar"].store.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Any) -> Flask:
    return make_app(DATABASE_URL=f"sqlite:///{tmp_path}/calendar.sqlite3")


@pytest.fixture
def api(app: Flask, serve: Callable[[Flask], str], tokens: Any) -> CalendarClient:
    """The SQLite app over HTTP, as usr_123 with scopes read and write."""
    return CalendarClient(serve(app), tokens.mint())


@pytest.fixture
def other_user(api: CalendarClient, tokens: Any) -> CalendarClient:
    """The same server, as usr_456 (read write)."""
    return api.as_user(tokens.mint(sub="usr_456"))
