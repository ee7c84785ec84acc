"""The kit's parts on their own: JSON log records with secrets blanked, offline Swagger UI."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from kit_profiles import Profile

from service_kit.logs import REDACTED, JsonFormatter, RedactSecrets

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3JfMTIzIn0.c2lnbmF0dXJl"


def _render(record: logging.LogRecord) -> dict:
    RedactSecrets().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_a_record_is_one_json_object_with_its_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "calendar.access", "levelname": "INFO", "msg": "request", "status": 200}
    )
    line = _render(record)
    assert (line["logger"], line["level"], line["message"], line["status"]) == (
        "calendar.access",
        "info",
        "request",
        200,
    )
    assert "time" in line


@pytest.mark.parametrize(
    "leak",
    [
        {"msg": f"token was {JWT}"},
        {"msg": "header %s", "args": (f"Bearer {JWT[:20]}",)},
        {"msg": "x", "authorization": f"DPoP {JWT}"},
        {"msg": "x", "detail": f"basic dXNlcjpzZWNyZXQ= and {JWT}"},
    ],
)
def test_token_shaped_text_is_blanked_wherever_it_sits(leak: dict) -> None:
    line = json.dumps(_render(logging.makeLogRecord({"name": "x", "levelname": "WARNING", **leak})))
    assert JWT not in line and JWT[:20] not in line and "dXNlcjpzZWNyZXQ" not in line
    assert REDACTED in line


def test_a_traceback_is_blanked_too() -> None:
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "x", "levelname": "ERROR", "msg": "boom", "exc_info": sys.exc_info()}
        )
    line = _render(record)
    assert "ValueError" in line["exc_info"] and JWT not in json.dumps(line)


def test_swagger_ui_is_served_offline_and_signs_in_with_pkce(service: Profile) -> None:
    if service.name == "dev_issuer":
        pytest.skip("the issuer has no API document")
    client = service.make().test_client()
    page = client.get("/docs")
    html = page.get_data(as_text=True)
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in html and "<script>" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    config = json.loads(html.split('type="application/json">')[1].split("</script>")[0])
    assert config["oauth"]["clientId"] == "api-docs"
    assert config["oauth"]["usePkceWithAuthorizationCodeGrant"] is True
    assert "additionalQueryStringParams" not in config["oauth"]  # it would reach the token URL
    assert config["oauth2_redirect_url"].endswith("/docs/oauth2-redirect.html")
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and b"SwaggerUIBundle" in asset.data
    assert client.get("/docs/oauth2-redirect.html").status_code == 200
    assert client.get("/docs/init.js").status_code == 200
    assert client.get("/docs/assets/../../pyproject.toml").status_code == 404
    flows = client.get("/openapi.json").get_json()["components"]["securitySchemes"]["oauth2"]
    code_flow = flows["flows"]["authorizationCode"]
    assert "/authorize?audience=https%3A%2F%2Fapi.example.com%2F" in code_flow["authorizationUrl"]
    assert "?" not in code_flow["tokenUrl"]
