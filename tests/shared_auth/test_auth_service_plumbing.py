"""JSON request logs with request ids (never a token) and offline Swagger UI, on a real app."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint

from shared_auth import AuthSettings, BearerAuth, oauth2_flows
from shared_auth.docs import docs_config, init_docs_assets
from shared_auth.request_log import JsonFormatter, init_request_logging

AUDIENCE = "https://api.example.com/calendar/v1/"


@pytest.fixture
def app(jwks_server) -> Flask:
    app = Flask("plumbing")
    app.config.update(docs_config("Plumbing", "v1"))
    api = Api(app)
    init_docs_assets(app)
    init_request_logging(app, "plumbing")
    auth = BearerAuth(AuthSettings(issuer=jwks_server.issuer, audiences=(AUDIENCE,)))
    auth.init_app(app, api, flows=oauth2_flows(jwks_server.issuer, {"read": "r"}, ["implicit"]))
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("/")
    class Things(MethodView):
        @auth.required("read")
        @blp.response(200)
        def get(self) -> dict[str, str]:
            return {"ok": "yes"}

    api.register_blueprint(blp)
    return app


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "plumbing.access"]


def test_each_request_is_one_json_line_with_its_caller(app, tokens, caplog) -> None:
    caplog.set_level(logging.INFO)
    token = tokens.mint(scope="read")
    response = app.test_client().get(
        "/things/?q=1", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "abc-123"}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "abc-123"
    (line,) = access_lines(caplog)
    assert line["request_id"] == "abc-123"
    assert line["method"] == "GET" and line["path"] == "/things/" and line["status"] == 200
    assert line["subject"] == "usr_123" and line["client_id"] == "demo-spa"
    assert line["auth_rejection"] is None and line["latency_ms"] >= 0
    assert "q=1" not in json.dumps(line)


def test_a_rejection_names_its_reason_and_never_the_token(app, tokens, caplog) -> None:
    caplog.set_level(logging.INFO)
    expired = tokens.mint(exp=1000)
    response = app.test_client().get(
        f"/things/?access_token={expired}", headers={"X-Request-ID": "bad id with spaces"}
    )
    assert response.status_code == 400
    generated = response.headers["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32
    (line,) = access_lines(caplog)
    assert line["auth_rejection"] == "token_in_query" and line["request_id"] == generated
    formatter = JsonFormatter()
    for record in caplog.records:
        assert expired not in formatter.format(record)
        assert expired.split(".")[2] not in formatter.format(record)


def test_swagger_ui_is_served_from_the_installed_bundle(app) -> None:
    client = app.test_client()
    page = client.get("/docs").get_data(as_text=True)
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in page
    assert "http" not in page.split("<body>")[1].split("config")[0]
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and b"SwaggerUIBundle" in asset.data
    assert client.get("/docs/assets/../../pyproject.toml").status_code == 404
