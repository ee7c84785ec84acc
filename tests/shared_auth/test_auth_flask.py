"""The Flask adapter end to end: a tiny flask-smorest app using ``@auth.required``.

Most cases go through Flask's test client (fast, parametrized); one test drives the same app
over real HTTP with ``requests`` via the ``serve`` fixture.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest
import requests
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields

from shared_auth import AuthSettings
from shared_auth.errors import token_fingerprint
from shared_auth.flask import BearerAuth, current_principal

REALM = "calendar"
CHALLENGE = re.compile(r'Bearer realm="calendar"(, [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*')


class EventSchema(Schema):
    title = fields.String(required=True)


class CallerSchema(Schema):
    subject = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    scopes = fields.List(fields.String())
    machine = fields.Boolean()


auth = BearerAuth()
blp = Blueprint("events", __name__, url_prefix="/events")
SCOPES = {"read": "Read events", "write": "Change events", "admin": "Anything"}


@blp.route("/")
class Events(MethodView):
    @auth.required("read")
    @blp.response(200, EventSchema(many=True))
    @blp.alt_response(400, description="The filter is not valid")
    def get(self) -> list[dict[str, str]]:
        """List events."""
        return [{"title": "standup"}]

    @auth.required("write")
    @blp.arguments(EventSchema)
    @blp.response(201, EventSchema)
    def post(self, event: dict[str, str]) -> dict[str, str]:
        """Create an event."""
        return event


@blp.route("/<int:event_id>")
class Event(MethodView):
    @auth.required(any_of=("write", "admin"))
    @blp.response(204)
    def delete(self, event_id: int) -> None:
        """Delete an event."""


@blp.route("/caller")
class Caller(MethodView):
    @auth.required("read", any_of=("write", "admin"))
    @blp.response(200, CallerSchema)
    def get(self) -> dict[str, Any]:
        """Who is calling."""
        return _caller()

    @auth.required()
    @blp.response(200, CallerSchema)
    def post(self) -> dict[str, Any]:
        """Who is calling (token allowed in a form body)."""
        return _caller()


def create_app(settings: AuthSettings) -> Flask:
    """The Flask extension pattern: module-level ``auth`` and routes, state per app."""
    app = Flask(__name__)
    app.config.update(
        API_TITLE="Test API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(app)
    auth.init_app(app, settings, scopes=SCOPES, grants=["authorization_code", "client_credentials"])
    api.register_blueprint(blp)
    return app


def _caller() -> dict[str, Any]:
    principal = current_principal()
    return {
        "subject": principal.subject,
        "client_id": principal.client_id,
        "scopes": sorted(principal.scopes),
        "machine": principal.is_client_credentials,
    }


@pytest.fixture
def make_app(make_settings):
    return lambda **overrides: create_app(make_settings(realm=REALM, **overrides))


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _challenge(response: Any) -> str:
    header = response.headers["WWW-Authenticate"]
    assert CHALLENGE.fullmatch(header), header
    return header


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, None),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, None),
        ({"Authorization": "Bearer"}, 400, "invalid_request"),
        ({"Authorization": "Bearer a b"}, 400, "invalid_request"),
        ({"Authorization": "Bearer not-a-jwt"}, 401, "invalid_token"),
    ],
)
def test_requests_without_a_usable_token(client, headers, status, error):
    response = client.get("/events/", headers=headers)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert (body["code"], body.get("error")) == (status, error)
    header = _challenge(response)
    if error is None:
        assert header == 'Bearer realm="calendar", scope="read"'
        assert "error_description" not in body
    else:
        assert header.startswith(f'Bearer realm="calendar", error="{error}", error_description="')
        assert body["error_description"] == body["message"]
        assert f'error_description="{body["error_description"]}"' in header


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"aud": "https://api.example.com/geocoding/v1/"},
        {"iss": "https://evil.example/"},
    ],
)
def test_invalid_tokens_get_401_invalid_token(client, tokens, claims):
    response = client.get("/events/", headers=bearer(tokens.mint(**claims)))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in _challenge(response)


@pytest.mark.parametrize(
    ("method", "path", "scope", "status", "needed"),
    [
        ("get", "/events/", "read", 200, None),
        ("get", "/events/", "write", 403, "read"),
        ("post", "/events/", "read", 403, "write"),
        ("post", "/events/", "write", 201, None),
        ("delete", "/events/1", "read", 403, "write admin"),
        ("delete", "/events/1", "admin", 204, None),
        ("delete", "/events/1", "write", 204, None),
        ("get", "/events/caller", "read", 403, "write admin"),
        ("get", "/events/caller", "write admin", 403, "read"),
        ("get", "/events/caller", "read admin", 200, None),
    ],
)
def test_scopes_all_of_and_any_of(client, tokens, method, path, scope, status, needed):
    response = getattr(client, method)(
        path, headers=bearer(tokens.mint(scope=scope)), json={"title": "standup"}
    )
    assert response.status_code == status
    if needed is None:
        assert "WWW-Authenticate" not in response.headers
        return
    body = response.get_json()
    assert (body["error"], body["scope"]) == ("insufficient_scope", needed)
    assert _challenge(response).endswith(f', scope="{needed}"')


def test_the_view_sees_the_principal(client, tokens):
    response = client.get("/events/caller", headers=bearer(tokens.mint(scope="read write")))
    assert response.get_json() == {
        "subject": "usr_123",
        "client_id": "demo-spa",
        "scopes": ["read", "write"],
        "machine": False,
    }


@pytest.mark.parametrize(
    ("body", "scope", "status"),
    [
        ({"unknown": 1}, None, 401),
        ("not json", None, 401),
        ({"unknown": 1}, "read", 403),
        ({"unknown": 1}, "write", 422),
        ({"title": "ok"}, "write", 201),
    ],
)
def test_authentication_runs_before_body_validation(client, tokens, body, scope, status):
    headers = {} if scope is None else bearer(tokens.mint(scope=scope))
    if isinstance(body, str):
        response = client.post("/events/", headers=headers, data=body, content_type="text/json")
    else:
        response = client.post("/events/", headers=headers, json=body)
    assert response.status_code == status


def test_token_in_a_form_body_or_the_query(make_app, tokens):
    token = tokens.mint()
    client = make_app().test_client()
    response = client.post("/events/caller", data={"access_token": token})
    assert (response.status_code, response.get_json()["subject"]) == (200, "usr_123")
    for response in (
        client.get("/events/caller", data={"access_token": token}),  # form on GET
        client.post("/events/caller", data={"access_token": token}, headers=bearer(token)),
        client.get(f"/events/caller?access_token={token}"),  # query refused by default
    ):
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request"
    lenient = make_app(allow_query_token=True).test_client()
    assert lenient.get(f"/events/caller?access_token={token}&x=1").status_code == 200
    response = lenient.get(f"/events/caller?access_token={token}", headers=bearer(token))
    assert response.status_code == 400


def test_keys_unavailable_is_503_with_retry_after(client, tokens, jwks_server):
    jwks_server.mode = "fail"
    response = client.get("/events/", headers=bearer(tokens.mint()))
    assert response.status_code == 503
    assert 1 <= int(response.headers["Retry-After"]) <= 31
    assert "WWW-Authenticate" not in response.headers
    assert response.get_json()["error"] == "temporarily_unavailable"


def test_each_rejection_is_logged_once_without_the_token(client, tokens, jwks_server, caplog):
    caplog.set_level(logging.DEBUG)
    attempts = [
        (tokens.mint(scope="write"), "insufficient_scope"),
        (tokens.mint(headers={"kid": "unknown"}), "unknown_kid"),
        (tokens.mint(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), "expired"),
        (tokens.mint(aud="https://other/"), "bad_aud"),
        (tokens.mint()[:-6] + "AAAAAA", "bad_signature"),
    ]
    for token, reason in attempts:
        caplog.clear()
        assert client.get(f"/events/?q={token[:20]}", headers=bearer(token)).status_code in (
            401,
            403,
        )
        rejections = [r for r in caplog.records if r.getMessage() == "request rejected"]
        assert len(rejections) == 1
        record = rejections[0]
        assert (record.reason, record.token_fp, record.path) == (
            reason,
            token_fingerprint(token),
            "/events/",
        )
        for record in caplog.records:
            dump = f"{record.getMessage()} {record.__dict__!r}"
            for secret in (token, token.split(".")[1], token.split(".")[2]):
                assert secret not in dump


def test_query_token_is_not_logged(make_app, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    token = tokens.mint()
    assert make_app().test_client().get(f"/events/?access_token={token}").status_code == 400
    assert [r.reason for r in caplog.records if r.getMessage() == "request rejected"] == [
        "token_in_query"
    ]
    assert all(token not in repr(r.__dict__) for r in caplog.records)


def test_openapi_documents_security_and_auth_responses(client):
    spec = client.get("/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert (schemes["bearerAuth"]["scheme"], schemes["bearerAuth"]["bearerFormat"]) == (
        "bearer",
        "JWT",
    )
    flows = schemes["oauth2"]["flows"]
    assert set(flows) == {"authorizationCode", "clientCredentials"}
    assert flows["clientCredentials"]["scopes"] == {
        "read": "Read events",
        "write": "Change events",
        "admin": "Anything",
    }
    assert flows["authorizationCode"]["authorizationUrl"].endswith(
        "/authorize?audience=https%3A%2F%2Fapi.example.com%2Fcalendar%2Fv1%2F"
    )  # Auth0 issues a JWT only for a named audience
    paths = spec["paths"]
    expected = {
        ("/events/", "get"): [{"oauth2": ["read"]}, {"bearerAuth": []}],
        ("/events/", "post"): [{"oauth2": ["write"]}, {"bearerAuth": []}],
        ("/events/{event_id}", "delete"): [
            {"oauth2": ["write"]},
            {"oauth2": ["admin"]},
            {"bearerAuth": []},
        ],
        ("/events/caller", "get"): [
            {"oauth2": ["read", "write"]},
            {"oauth2": ["read", "admin"]},
            {"bearerAuth": []},
        ],
        ("/events/caller", "post"): [{"oauth2": []}, {"bearerAuth": []}],
    }
    for (path, method), security in expected.items():
        operation = paths[path][method]
        assert operation["security"] == security, (path, method)
        for code, name in (("401", "AuthInvalidToken"), ("403", "AuthInsufficientScope")):
            assert operation["responses"][code] == {"$ref": f"#/components/responses/{name}"}
    # a status the view documents itself keeps the view's own description
    assert paths["/events/"]["get"]["responses"]["400"]["description"] == "The filter is not valid"
    assert paths["/events/"]["post"]["responses"]["400"] == {
        "$ref": "#/components/responses/AuthInvalidRequest"
    }
    assert paths["/events/"]["get"]["summary"] == "List events."
    assert "422" in paths["/events/"]["post"]["responses"]
    response = spec["components"]["responses"]["AuthInvalidToken"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuthError"
    }


def test_end_to_end_over_real_http(make_app, serve, tokens, jwks_server):
    base = serve(make_app())
    with requests.Session() as http:
        response = http.get(f"{base}/events/", timeout=5)
        assert (response.status_code, response.headers["WWW-Authenticate"]) == (
            401,
            'Bearer realm="calendar", scope="read"',
        )
        response = http.get(f"{base}/events/", headers=bearer(tokens.mint()), timeout=5)
        assert (response.status_code, response.json()) == (200, [{"title": "standup"}])
        response = http.post(
            f"{base}/events/", headers=bearer(tokens.mint(scope="read")), json={}, timeout=5
        )
        assert response.status_code == 403
        assert response.headers["WWW-Authenticate"] == (
            'Bearer realm="calendar", error="insufficient_scope", '
            'error_description="This request needs the scope write", scope="write"'
        )
        response = http.post(
            f"{base}/events/caller", data={"access_token": tokens.client_credentials()}, timeout=5
        )
        assert response.status_code == 401  # a geocoding token: wrong audience
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        response = http.get(f"{base}/events/?access_token={tokens.mint()}", timeout=5)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert jwks_server.jwks_fetches == 1
