"""/authorize: error pages versus redirects, sign-in, consent memory, CSRF and framing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from issuer_testkit import (
    CALENDAR,
    DEMO_CALLBACK,
    GEOCODING,
    ISSUER,
    Driver,
    Page,
    authorize_params,
    decode,
    reply,
    tenant_with,
)

from dev_issuer import create_app
from shared_auth import InsufficientScope, Principal, require_scopes


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "nobody"}, "no application with client_id"),
        ({"client_id": None}, "has no client_id"),
        ({"redirect_uri": None}, "has no redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:8000/demo"}, "not a registered callback"),
        ({"redirect_uri": "http://127.0.0.1:8000/demo/?next=x"}, "not a registered callback"),
        ({"redirect_uri": "http://127.0.0.1:8000/DEMO/"}, "not a registered callback"),
        ({"redirect_uri": "https://evil.example/demo/"}, "not a registered callback"),
        ({"redirect_uri": "http://127.0.0.1:8000/demo/#x"}, "not a registered callback"),
    ],
)
def test_unverifiable_requests_get_an_error_page_never_a_redirect(
    driver: Driver, overrides: dict[str, str | None], message: str
) -> None:
    page = driver.start(**overrides)
    assert page.status == 400
    assert page.location is None
    assert page.kind == "error"
    assert message in page.html


def test_repeated_redirect_uri_is_an_error_page(client: FlaskClient) -> None:
    query = urlencode(authorize_params()) + "&" + urlencode({"redirect_uri": DEMO_CALLBACK})
    response = client.get(f"/authorize?{query}")
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error", "description", "in_fragment"),
    [
        ({"response_type": "id_token"}, "unsupported_response_type", "must be token", False),
        ({"response_type": None}, "unsupported_response_type", "must be token", False),
        (
            {"audience": "https://api.example.com/mail/"},
            "invalid_request",
            "unknown audience",
            True,
        ),
        ({"audience": None}, "invalid_request", "audience is required", True),
        ({"scope": "read delete"}, "invalid_scope", "does not define the scope delete", True),
        ({"scope": "openid"}, "invalid_scope", "does not define the scope openid", True),
        ({"scope": None}, "invalid_scope", "at least one scope", True),
        ({"prompt": "select_account"}, "invalid_request", "prompt must be", True),
        ({"prompt": "none login"}, "invalid_request", "prompt must be", True),
        ({"response_type": "code"}, "invalid_request", "code_challenge is required", False),
        (
            {
                "response_type": "code",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            },
            "invalid_request",
            "code_challenge_method must be S256",
            False,
        ),
        (
            {
                "response_type": "code",
                "code_challenge": "short",
                "code_challenge_method": "S256",
            },
            "invalid_request",
            "base64url SHA-256",
            False,
        ),
    ],
)
def test_errors_after_a_verified_redirect_uri_go_back_to_the_application(
    driver: Driver,
    overrides: dict[str, str | None],
    error: str,
    description: str,
    in_fragment: bool,
) -> None:
    page = driver.start(**overrides)
    assert page.status == 302
    assert page.location is not None
    assert page.location.startswith(DEMO_CALLBACK)
    assert bool(urlsplit(page.location).fragment) is in_fragment
    params = reply(page.location)
    assert params["error"] == error
    assert description in params["error_description"]
    assert params["state"] == "state-123"


def test_unauthorized_client_for_a_response_type(tmp_path: Path, issuer_dir: Path) -> None:
    tenant = tenant_with(
        tmp_path,
        '[[clients]]\nclient_id = "code-only"\ntype = "spa"\n'
        'grants = ["authorization_code"]\ncallbacks = ["http://127.0.0.1:8000/demo/"]\n',
    )
    app = create_app({"DEV_ISSUER_TENANT": str(tenant), "DEV_ISSUER_KEYS_DIR": str(issuer_dir)})
    page = Driver(app.test_client()).start(client_id="code-only")
    params = reply(page.location or "")
    assert params["error"] == "unauthorized_client"
    assert params["state"] == "state-123"


def test_sign_in_page_has_csrf_session_cookie_and_anti_framing_headers(driver: Driver) -> None:
    page = driver.start()
    assert page.status == 200 and page.kind == "sign_in"
    assert "Calendar demo (single-page app)" in page.html and "Calendar API" in page.html
    assert "usr_123" in page.html and "usr_456" in page.html and "dev-password" in page.html
    headers = page.response.headers
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "form-action 'self' http://127.0.0.1:8000" in csp
    assert headers["Cache-Control"] == "no-store"
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("dev_issuer_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "http" not in page.html.split("<body>")[1].split("</main>")[0].replace(
        DEMO_CALLBACK, ""
    ), "pages load nothing from elsewhere"


def test_wrong_password_and_unknown_user_are_refused(driver: Driver) -> None:
    page = driver.start()
    wrong = driver.sign_in(page, password="password")
    assert wrong.status == 401 and wrong.kind == "sign_in"
    assert "Wrong password" in wrong.html
    nobody = driver.sign_in(page, user_id="usr_999")
    assert nobody.status == 400 and nobody.kind == "sign_in"
    assert driver.start().kind == "sign_in", "a failed sign-in must not sign anyone in"


def test_implicit_flow_signs_in_asks_consent_and_returns_the_token_in_the_fragment(
    driver: Driver, client: FlaskClient
) -> None:
    consent = driver.sign_in(driver.start(scope="read write"))
    assert consent.kind == "consent"
    assert "Calendar API" in consent.html and CALENDAR in consent.html
    assert "Read your calendar events" in consent.html
    assert "Create, change and delete your calendar events" in consent.html
    assert consent.scopes() == {"read": False, "write": False}  # first time: nothing is "new"
    assert consent.response.headers["X-Frame-Options"] == "DENY"

    done = driver.decide(consent, "allow")
    assert done.status == 302 and done.location is not None
    assert done.location.startswith(DEMO_CALLBACK + "#")
    assert done.response.headers["Cache-Control"] == "no-store"
    params = reply(done.location)
    assert params["token_type"] == "Bearer"
    assert params["expires_in"] == "86400"
    assert params["scope"] == "read write"
    assert params["state"] == "state-123"
    claims = decode(client, params["access_token"], CALENDAR)
    assert claims["iss"] == ISSUER
    assert claims["sub"] == "usr_123"
    assert claims["azp"] == "demo-spa"
    assert claims["scope"] == "read write"
    assert claims["permissions"] == ["read", "write"]
    assert "gty" not in claims


def test_consent_is_remembered_per_user_application_and_api(driver: Driver) -> None:
    driver.token(scope="read")
    again = driver.start(scope="read", state="second")
    assert again.status == 302, "consent already given: no page"
    assert reply(again.location or "")["state"] == "second"
    assert reply(again.location or "")["scope"] == "read"

    assert driver.start(scope="geocode", audience=GEOCODING).kind == "consent"
    first_party = driver.start(client_id="first-party-spa")
    assert first_party.status == 302  # another application, but first-party
    other_user = driver.sign_in(driver.start(prompt="login"), user_id="usr_456")
    assert other_user.kind == "consent"


def test_consent_survives_a_restart(driver: Driver, make_app: Callable[..., Flask]) -> None:
    driver.token(scope="read")
    restarted = Driver(make_app().test_client())
    page = restarted.sign_in(restarted.start(scope="read"))
    assert page.status == 302 and "access_token" in reply(page.location or "")


def test_asking_for_more_shows_consent_again_for_the_increase(driver: Driver) -> None:
    driver.token(scope="read")
    page = driver.start(scope="read write")
    assert page.kind == "consent"
    assert page.scopes() == {"read": False, "write": True}
    assert "You already allowed: read" in page.html
    params = reply(driver.decide(page, "allow").location or "")
    assert params["scope"] == "read write"
    assert driver.start(scope="write").status == 302
    assert driver.start(scope="read write").status == 302


def test_first_party_application_is_never_asked(driver: Driver, client: FlaskClient) -> None:
    page = driver.sign_in(driver.start(client_id="first-party-spa", scope="read write"))
    assert page.status == 302
    params = reply(page.location or "")
    assert decode(client, params["access_token"], CALENDAR)["azp"] == "first-party-spa"
    assert driver.start(client_id="first-party-spa", prompt="consent").status == 302


def test_deny_returns_access_denied_with_state_and_remembers_nothing(driver: Driver) -> None:
    page = driver.decide(driver.sign_in(driver.start(state="deny-me")), "deny")
    assert page.status == 302
    params = reply(page.location or "")
    assert params == {
        "error": "access_denied",
        "error_description": "the user denied access",
        "state": "deny-me",
    }
    assert driver.start().kind == "consent"


def test_code_flow_deny_uses_the_query(driver: Driver) -> None:
    page = driver.start(
        response_type="code",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
    )
    denied = driver.decide(driver.sign_in(page), "deny")
    location = denied.location or ""
    assert location.startswith(DEMO_CALLBACK + "?") and "#" not in location
    assert reply(location)["error"] == "access_denied"


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_consent_without_the_sessions_csrf_token_is_refused(
    driver: Driver, csrf: str | None
) -> None:
    consent = driver.sign_in(driver.start())
    form = {"action": "consent", "decision": "allow"}
    if csrf is not None:
        form["csrf"] = csrf
    refused = driver.post(consent, **form)
    assert refused.status == 403 and refused.location is None
    assert "expired or did not come from this page" in refused.html
    assert driver.start().kind == "consent", "nothing was consented"


def test_csrf_token_of_another_session_is_refused(app: Flask, driver: Driver) -> None:
    attacker = Driver(app.test_client())
    stolen = attacker.start().csrf
    victim_page = driver.start()
    refused = driver.post(
        victim_page, csrf=stolen, action="sign_in", user_id="usr_456", password="dev-password"
    )
    assert refused.status == 403


def test_prompt_none_never_shows_a_page(driver: Driver) -> None:
    assert reply(driver.start(prompt="none").location or "")["error"] == "login_required"
    driver.token(scope="read")
    assert reply(driver.start(prompt="none").location or "")["access_token"]
    needs_more = reply(driver.start(prompt="none", scope="read write").location or "")
    assert needs_more["error"] == "consent_required"


def test_prompt_login_and_consent_force_their_pages(driver: Driver) -> None:
    driver.token(scope="read")
    login = driver.start(prompt="login")
    assert login.kind == "sign_in"
    assert driver.sign_in(login, user_id="usr_123").status == 302
    assert driver.start(prompt="consent").kind == "consent"


def test_rbac_limits_scopes_to_the_users_permissions(tmp_path: Path, issuer_dir: Path) -> None:
    tenant = tenant_with(
        tmp_path,
        '[[users]]\nuser_id = "usr_reader"\nname = "Read Only"\nemail = "ro@example.com"\n'
        '[users.permissions]\n"https://api.example.com/calendar/v1/" = ["read"]\n'
        '[[users]]\nuser_id = "usr_none"\nname = "No Rights"\nemail = "none@example.com"\n',
    )
    app = create_app({"DEV_ISSUER_TENANT": str(tenant), "DEV_ISSUER_KEYS_DIR": str(issuer_dir)})
    client = app.test_client()
    driver = Driver(client)
    consent = driver.sign_in(driver.start(scope="read write"), user_id="usr_reader")
    assert consent.scopes() == {"read": False}
    assert "Not available to your account: write" in consent.html
    params = reply(driver.decide(consent, "allow").location or "")
    assert params["scope"] == "read"
    claims = decode(client, params["access_token"], CALENDAR)
    assert claims["permissions"] == ["read"]

    nobody = Driver(app.test_client())
    refused = nobody.sign_in(nobody.start(), user_id="usr_none")
    assert reply(refused.location or "")["error"] == "access_denied"


def test_no_state_sent_means_no_state_returned(driver: Driver) -> None:
    params = driver.token(state=None)
    assert "state" not in params and "access_token" in params


def test_state_is_returned_exactly(driver: Driver) -> None:
    state = "a b&c=d/é"
    assert driver.token(state=state)["state"] == state


def test_unknown_form_action_is_a_400_page(driver: Driver) -> None:
    page: Page = driver.start()
    response = driver.post(page, csrf=page.csrf, action="launch")
    assert response.status == 400 and response.location is None


def test_a_token_carries_only_what_was_consented(client: FlaskClient, driver: Driver) -> None:
    """usr_123 holds read and write, consents to read: the token may not write anywhere, even
    at an API that reads scopes from ``permissions`` too (AUTH_SCOPE_CLAIMS="scope permissions")."""
    params = driver.token(scope="read")
    claims = decode(client, params["access_token"], CALENDAR)
    assert (claims["scope"], claims["permissions"]) == ("read", ["read"])
    principal = Principal.from_claims(claims, ("scope", "permissions"))
    assert principal.scopes == {"read"}
    with pytest.raises(InsufficientScope):
        require_scopes(principal, ("write",))
