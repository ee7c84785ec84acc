"""The dev issuer in real headless Chromium: a single-page app runs the implicit flow.

Two real HTTP servers on 127.0.0.1: the issuer, and a tiny application on another origin whose
page builds the /authorize URL in JavaScript (random ``state`` kept in ``sessionStorage``) and
whose callback page reads the token from the URL fragment, as a SPA does. The application is
registered in a test tenant file, so its callback is exact; nothing in the flow is simulated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from browser_steps import ARTIFACTS, sign_in
from flask import Flask

from dev_issuer import create_app
from dev_issuer.tenant import DEFAULT_TENANT_FILE
from shared_auth import AuthSettings, TokenVerifier

pytestmark = pytest.mark.browser

CALENDAR = "https://api.example.com/calendar/v1/"
GEOCODING = "https://api.example.com/geocoding/v1/"
CLIENT_ID = "browser-test-spa"

# The application's only page: /start sends the browser to /authorize, /callback shows the reply.
SPA_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Test SPA</title></head>
<body><pre id="result">waiting</pre>
<script>
const ISSUER = __ISSUER__, CLIENT_ID = __CLIENT_ID__;
const random = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
  (b) => b.toString(16).padStart(2, "0")).join("");
const here = new URL(location.href);
if (here.pathname === "/start") {
  const state = random();
  sessionStorage.setItem("state", state);
  const query = new URLSearchParams({
    client_id: CLIENT_ID, redirect_uri: location.origin + "/callback", response_type: "token",
    audience: here.searchParams.get("audience"), scope: here.searchParams.get("scope"),
    state: state, nonce: random(),
  });
  location.assign(ISSUER + "authorize?" + query);
} else {
  const reply = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
  reply.state_matches = reply.state === sessionStorage.getItem("state");
  history.replaceState(null, "", location.pathname);  // the token leaves the address bar
  document.getElementById("result").textContent = JSON.stringify(reply);
}
</script></body></html>
"""


def spa_app(settings: dict[str, str]) -> Flask:
    app = Flask("issuer_browser_spa")

    @app.get("/start")
    @app.get("/callback")
    def page() -> str:
        return SPA_PAGE.replace("__ISSUER__", json.dumps(settings["issuer"])).replace(
            "__CLIENT_ID__", json.dumps(CLIENT_ID)
        )

    return app


@pytest.fixture
def stack(tmp_path: Path, serve: Callable[[Any], str]) -> Iterator[dict[str, str]]:
    """The SPA's origin first (its callback goes in the tenant), then the issuer."""
    settings: dict[str, str] = {}
    spa = serve(spa_app(settings))
    tenant = tmp_path / "tenant.toml"
    tenant.write_text(
        DEFAULT_TENANT_FILE.read_text()
        + f'\n[[clients]]\nclient_id = "{CLIENT_ID}"\nname = "Browser test app"\ntype = "spa"\n'
        f'grants = ["implicit"]\ncallbacks = ["{spa}/callback"]\n'
    )
    issuer_app = create_app(
        {"DEV_ISSUER_TENANT": str(tenant), "DEV_ISSUER_KEYS_DIR": str(tmp_path / "keys")}
    )
    issuer = serve(issuer_app) + "/"
    issuer_app.config["DEV_ISSUER_URL"] = issuer
    settings["issuer"] = issuer
    yield {"spa": spa, "issuer": issuer}


def start(page: Any, spa: str, audience: str, scope: str) -> None:
    page.goto(f"{spa}/start?" + urlencode({"audience": audience, "scope": scope}))


def result(page: Any) -> dict[str, Any]:
    page.wait_for_function("document.getElementById('result')?.textContent !== 'waiting'")
    return json.loads(page.text_content("#result"))


def test_implicit_flow_sign_in_consent_memory_increase_and_deny(
    stack: dict[str, str], browser_page: Any
) -> None:
    page, spa, issuer = browser_page, stack["spa"], stack["issuer"]
    verifier = TokenVerifier(AuthSettings(issuer=issuer, audiences=(CALENDAR,)))

    # 1. First run: sign in, consent, token in the fragment.
    start(page, spa, CALENDAR, "read")
    sign_in(page, "usr_123")
    page.wait_for_selector("#consent")
    assert "Browser test app" in page.text_content("main")
    assert "Read your calendar events" in page.text_content("#scopes")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dev_issuer_consent.png"), full_page=True)
    page.click("#allow")
    first = result(page)
    assert first["state_matches"] is True
    assert first["token_type"] == "Bearer" and first["scope"] == "read"
    principal = verifier.verify(first["access_token"])
    assert principal.subject == "usr_123" and principal.client_id == CLIENT_ID
    assert page.url == f"{spa}/callback"

    # 2. Second run: consent remembered, the browser never stops at a page of the issuer.
    pages_shown: list[str] = []
    page.on(
        "response",
        lambda r: pages_shown.append(r.url) if "/authorize" in r.url and r.status == 200 else None,
    )
    start(page, spa, CALENDAR, "read")
    second = result(page)
    assert second["scope"] == "read" and second["state_matches"] is True
    assert pages_shown == []
    assert verifier.verify(second["access_token"]).scopes == {"read"}

    # 3. More scope: the consent page again, with the increase marked.
    start(page, spa, CALENDAR, "read write")
    page.wait_for_selector("#consent")
    assert page.is_visible("li[data-scope=write] .badge")
    assert not page.is_visible("li[data-scope=read] .badge")
    page.screenshot(path=str(ARTIFACTS / "dev_issuer_consent_increase.png"), full_page=True)
    page.click("#allow")
    third = result(page)
    assert third["scope"] == "read write"
    assert verifier.verify(third["access_token"]).scopes == {"read", "write"}

    # 4. Deny (another API, so consent is asked): access_denied with the state.
    start(page, spa, GEOCODING, "geocode")
    page.wait_for_selector("#consent")
    page.click("#deny")
    denied = result(page)
    assert denied["error"] == "access_denied"
    assert denied["state_matches"] is True
    assert "access_token" not in denied
