"""Swagger UI's "Authorize" on each API's ``/docs``, end to end in headless Chromium.

The docs page signs in at the dev issuer with the authorization code flow and PKCE, as the
``api-docs`` client (pre-filled, with the API's audience), in a popup that returns to
``/docs/oauth2-redirect.html``; Swagger UI redeems the code across origins and then calls
an operation with the token it got.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_steps import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser

OPERATIONS = {
    "calendar": ("#operations-events-get_calendar_v1_events", 200),
    "geocoding": ("#operations-geocoding-get_geocoding_v1_reverse", 200),
}


@pytest.mark.parametrize("api", ["calendar", "geocoding"])
def test_authorize_in_docs_then_call_an_operation(suite: Any, browser_page: Any, api: str) -> None:
    page = browser_page
    page.goto(f"{getattr(suite, api)}/docs")
    page.click("button.authorize")
    section = page.locator(".auth-container", has_text="authorizationCode")
    assert section.locator("input#client_id").input_value() == "api-docs"
    with page.expect_popup() as popup_info:
        section.locator("button.authorize").click()
    popup = popup_info.value
    sign_in(popup, "usr_123")
    popup.wait_for_selector("#consent")
    popup.click("#allow")
    popup.wait_for_event("close")
    section.get_by_role("button", name="Logout").wait_for()  # Swagger UI now holds a token
    page.click("button.close-modal")

    selector, status = OPERATIONS[api]
    operation = page.locator(selector)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    if api == "geocoding":
        operation.locator("tr[data-param-name=lat] input").fill("48.8566")
        operation.locator("tr[data-param-name=lon] input").fill("2.3522")
    operation.locator("button.execute").click()
    code = operation.locator(".live-responses-table tbody .response-col_status").first
    code.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"docs_sign_in_{api}.png"), full_page=True)
    assert code.text_content().strip() == str(status)
