"""Browser callers (CORS), health probes, the OpenAPI document and settings."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from calendar_helpers import EVENTS, CalendarClient

from calendar_api import create_app
from calendar_api.config import CalendarSettings, service_settings
from calendar_api.queries import Filters
from shared_auth import ConfigError

DEMO_ORIGIN = "http://127.0.0.1:8000"


def _preflight(api: CalendarClient, origin: str, path: str = EVENTS) -> requests.Response:
    return requests.options(
        api.base_url + path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        },
        timeout=10,
    )


def test_preflight_from_a_configured_origin_needs_no_token(api: CalendarClient) -> None:
    for origin in (DEMO_ORIGIN, "http://localhost:8000"):
        response = _preflight(api, origin, f"{EVENTS}/evt_AAAAAAAAAAAAAAAAAAAAAA")
        assert response.status_code == 200
        headers = response.headers
        assert headers["Access-Control-Allow-Origin"] == origin
        methods = {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
        assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}
        allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
        assert allowed == {"authorization", "content-type", "if-match"}  # what was asked
        assert "WWW-Authenticate" not in headers
        assert int(headers["Access-Control-Max-Age"]) > 0
        assert "Origin" in headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in headers


def test_actual_responses_expose_etag_location_and_link(api: CalendarClient) -> None:
    origin = {"Origin": DEMO_ORIGIN}
    created = api.post(
        EVENTS, json={"title": "x", "start": "2026-01-01", "end": "2026-01-02"}, headers=origin
    )
    assert created.headers["Access-Control-Allow-Origin"] == DEMO_ORIGIN
    exposed = {h.strip() for h in created.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Location", "Link"} <= exposed
    refused = api.get(EVENTS, token="", headers=origin)  # errors are readable by the page too
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == DEMO_ORIGIN


def test_unknown_origins_get_no_cors_headers(api: CalendarClient) -> None:
    preflight = _preflight(api, "https://evil.example")
    assert preflight.status_code < 300
    assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
    actual = api.get(EVENTS, headers={"Origin": "https://evil.example"})
    assert actual.status_code == 200
    assert "Access-Control-Allow-Origin" not in actual.headers
    assert "Origin" in actual.headers["Vary"]


def test_origins_are_configurable(make_app: Any, serve: Any, tokens: Any, tmp_path: Any) -> None:
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path}/o.sqlite3",
        CALENDAR_CORS_ORIGINS="https://app.example.com/, https://other.example",
    )
    api = CalendarClient(serve(app), tokens.mint())
    preflight = _preflight(api, "https://app.example.com")
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in _preflight(api, DEMO_ORIGIN).headers


def test_healthz_and_readyz(api: CalendarClient, jwks_server: Any) -> None:
    assert requests.get(api.base_url + "/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(api.base_url + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"signing_keys": "ok", "database": "ok"}}
    assert ready.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_naming_the_signing_keys_when_the_issuer_is_down(
    make_app: Any, serve: Any, jwks_server: Any, tmp_path: Any
) -> None:
    jwks_server.mode = "fail"
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/r.sqlite3")
    response = requests.get(serve(app) + "/readyz", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["signing_keys"].startswith("failed")
    assert jwks_server.issuer not in response.text


def test_openapi_documents_every_operation(api: CalendarClient) -> None:
    spec = requests.get(api.base_url + "/openapi.json", timeout=10).json()
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "Calendar API"
    paths = spec["paths"]
    operations = {
        ("/calendar/v1/events", "get"): "read",
        ("/calendar/v1/events", "post"): "write",
        ("/calendar/v1/events/{event_id}", "get"): "read",
        ("/calendar/v1/events/{event_id}", "put"): "write",
        ("/calendar/v1/events/{event_id}", "patch"): "write",
        ("/calendar/v1/events/{event_id}", "delete"): "write",
        ("/calendar/v1/events.ics", "get"): "read",
    }
    for (path, method), scope in operations.items():
        operation = paths[path][method]
        assert operation["summary"], (path, method)
        assert {"oauth2": [scope]} in operation["security"]
        assert {"401", "403"} <= set(operation["responses"]), (path, method)
    for method in ("put", "patch", "delete"):
        codes = set(paths["/calendar/v1/events/{event_id}"][method]["responses"])
        assert {"404", "412", "428"} <= codes
        names = [p["name"] for p in paths["/calendar/v1/events/{event_id}"][method]["parameters"]]
        assert "If-Match" in names
    post = paths["/calendar/v1/events"]["post"]
    assert {"201", "413", "415", "422"} <= set(post["responses"])
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"]]
    assert "text/calendar" in paths["/calendar/v1/events.ics"]["get"]["responses"]["200"]["content"]
    schemas = spec["components"]["schemas"]
    assert {"Event", "EventPatch", "EventPage"} <= set(schemas)
    assert set(schemas["Event"]["required"]) == {"title", "start", "end"}
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flows) == {"authorizationCode", "implicit"}  # no client credentials here


def test_settings_defaults_and_overrides(tmp_path: Any) -> None:
    defaults = CalendarSettings.from_env({}, str(tmp_path))
    assert defaults.database_url == f"sqlite:///{tmp_path}/calendar.sqlite3"
    service = service_settings({})
    assert service.cors_origins == ("http://127.0.0.1:8000", "http://localhost:8000")
    assert service.public_url == "http://127.0.0.1:8001/calendar/v1/"
    assert service.max_body_bytes == 65536
    assert (defaults.page_limit_default, defaults.page_limit_max) == (50, 100)
    assert (defaults.expand_max_days, defaults.expand_max_instances) == (366, 1000)
    assert defaults.idempotency_ttl_seconds == 86400
    custom = CalendarSettings.from_env(
        {
            "CALENDAR_PAGE_LIMIT_DEFAULT": "10",
            "CALENDAR_PAGE_LIMIT_MAX": "20",
            "DATABASE_URL": " x ",
        },
        str(tmp_path),
    )
    assert (custom.page_limit_default, custom.page_limit_max, custom.database_url) == (10, 20, "x")


@pytest.mark.parametrize(
    "env",
    [
        {"CALENDAR_PAGE_LIMIT_DEFAULT": "200"},
        {"CALENDAR_PAGE_LIMIT_MAX": "zero"},
        {"CALENDAR_MAX_BODY_BYTES": "10"},
        {"CALENDAR_CORS_ORIGINS": "127.0.0.1:8000"},
        {"CALENDAR_CORS_ORIGINS": "https://app.example.com/path"},
        {"CALENDAR_PUBLIC_URL": "http://127.0.0.1:8001/calendar/v1"},
        {"CALENDAR_METRICS": "sometimes"},
        {"CALENDAR_IDEMPOTENCY_TTL_SECONDS": "5"},
        {"CALENDAR_EXPAND_MAX_DAYS": "0"},
    ],
)
def test_bad_settings_stop_the_start(env: dict[str, str], tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        create_app({"CALENDAR_INSTANCE_PATH": str(tmp_path), **env})


def test_auth_defaults_for_the_calendar(make_app: Any, tmp_path: Any) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/a.sqlite3", AUTH_ISSUER="")
    settings = app.extensions["shared_auth"].settings
    assert settings.issuer == "http://127.0.0.1:8000/"
    assert settings.audiences == (
        "https://api.example.com/calendar/v1/",
        "http://127.0.0.1:8001/calendar/v1/",
    )
    assert settings.realm == "calendar"


def test_the_rate_limit_counts_users_and_refuses_before_any_write(
    make_app: Any, tokens: Any, tmp_path: Any
) -> None:
    """CALENDAR_RATE_LIMIT is per user (the token's sub), whichever client the user holds; a
    create over the limit writes nothing."""
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path}/limited.sqlite3", CALENDAR_RATE_LIMIT="2/minute"
    )
    client = app.test_client()

    def create(token: str) -> int:
        body = {"title": "x", "start": "2026-01-01", "end": "2026-01-02"}
        headers = {"Authorization": f"Bearer {token}"}
        return client.post("/calendar/v1/events", json=body, headers=headers).status_code

    spa, cli = tokens.mint(azp="demo-spa"), tokens.mint(azp="cli")
    assert [create(spa), create(cli), create(spa)] == [201, 201, 429]
    assert create(tokens.mint(sub="usr_456")) == 201
    events, _ = app.extensions["calendar"].store.page("usr_123", Filters(), None, 10)
    assert len(events) == 2
