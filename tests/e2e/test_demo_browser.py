"""The browser demo, end to end in headless Chromium against the suite `make run` starts.

The story of the access-token guide: sign in with scope read, consent, the page checks
`state`, lists the user's events from the calendar API across origins (CORS); "Allow editing"
asks for read and write and so shows the consent page again; the new token can create.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_steps import ARTIFACTS, sign_in

pytestmark = pytest.mark.browser


def wait_status(page: Any, text: str) -> str:
    page.wait_for_function(
        "t => document.getElementById('status').textContent.includes(t)", arg=text
    )
    return page.text_content("#status")


@pytest.mark.parametrize("flow", ["token", "code"])
def test_demo_signs_in_lists_events_and_asks_again_for_editing(
    suite, browser_page: Any, flow: str
) -> None:
    page = browser_page
    user = "usr_123" if flow == "token" else "usr_456"
    page.goto(f"{suite.issuer}/demo/")
    page.select_option("#flow", flow)
    page.click("#sign-in")
    sign_in(page, user)
    page.wait_for_selector("#consent")
    page.click("#allow")

    status = wait_status(page, "the calendar API returned")
    assert f"Signed in as {user}" in status
    assert page.text_content("#token-scope") == "read"
    assert page.is_disabled("#add-event")
    assert "#access_token" not in page.url and "code=" not in page.url

    assert page.input_value("#flow") == flow  # the page remembers the flow across the redirect
    page.click("#allow-editing")
    page.wait_for_selector("#consent")
    assert page.is_visible("li[data-scope=write] .badge")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"demo_consent_increase_{flow}.png"), full_page=True)
    page.click("#allow")
    wait_status(page, "the calendar API returned")
    assert page.text_content("#token-scope") == "read write"

    page.click("#add-event")
    wait_status(page, "Event created")
    assert "Planning meeting" in page.text_content("#events")
    page.screenshot(path=str(ARTIFACTS / f"demo_events_{flow}.png"), full_page=True)


def test_demo_refuses_an_answer_whose_state_does_not_match(suite, browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{suite.issuer}/demo/#access_token=forged&token_type=Bearer&state=attacker")
    status = wait_status(page, "state")
    assert "does not match" in status
    assert page.is_hidden("#events-section")
