"""Over real HTTP: tokens the issuer hands out pass shared_auth's verification for the right API.

``shared_auth.TokenVerifier`` fetches discovery and the JWKS from the running issuer with
``requests``, exactly as the calendar and geocoding APIs do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from issuer_testkit import (
    CALENDAR,
    CHALLENGE,
    DEMO_CALLBACK,
    GEOCODING,
    VERIFIER,
    LiveIssuer,
    authorize_params,
)

from dev_issuer.keys import KeyStore
from shared_auth import AuthSettings, InvalidToken, TokenVerifier


def verifier(issuer: str, audience: str, **settings: float) -> TokenVerifier:
    return TokenVerifier(AuthSettings(issuer=issuer, audiences=(audience,), **settings))


def machine_token(issuer: str, client_id: str, audience: str) -> str:
    response = requests.post(
        issuer + "oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": f"{client_id}-secret",
            "audience": audience,
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def user_token_by_code_flow(issuer: str) -> str:
    """Sign in, consent and redeem the code, as a browser and a SPA would, over HTTP."""
    session = requests.Session()
    params = authorize_params(
        response_type="code",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
        scope="read write",
    )
    url = requests.Request("GET", issuer + "authorize", params=params).prepare().url or ""
    page = session.get(url, timeout=5)
    form = {"csrf": csrf_of(page.text), "action": "sign_in", "user_id": "usr_123"}
    page = session.post(url, data={**form, "password": "dev-password"}, timeout=5)
    assert 'id="consent"' in page.text
    # Signing in starts a new session, with a new CSRF token: read it from the consent page.
    decision = {"csrf": csrf_of(page.text), "action": "consent", "decision": "allow"}
    done = session.post(url, data=decision, allow_redirects=False, timeout=5)
    location = done.headers["Location"]
    assert location.startswith(DEMO_CALLBACK + "?code=")
    code = re.search(r"code=([^&]+)", location)
    assert code
    response = requests.post(
        issuer + "oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": "demo-spa",
            "code": code.group(1),
            "redirect_uri": DEMO_CALLBACK,
            "code_verifier": VERIFIER,
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_client_credentials_tokens_verify_for_their_api_only(live_issuer: LiveIssuer) -> None:
    url = live_issuer.url
    calendar, geocoding = verifier(url, CALENDAR), verifier(url, GEOCODING)

    batch = machine_token(url, "calendar-batch", CALENDAR)
    principal = calendar.verify(batch)
    assert principal.subject == "calendar-batch@clients"
    assert principal.is_client_credentials
    assert principal.scopes == {"read"}

    geo = machine_token(url, "geo-backend", GEOCODING)
    assert geocoding.verify(geo).scopes == {"geocode"}
    with pytest.raises(InvalidToken) as caught:
        calendar.verify(geo)
    assert caught.value.reason == "bad_aud"


def test_user_token_from_the_code_flow_verifies_for_the_calendar_only(
    live_issuer: LiveIssuer,
) -> None:
    token = user_token_by_code_flow(live_issuer.url)
    principal = verifier(live_issuer.url, CALENDAR).verify(token)
    assert principal.subject == "usr_123"
    assert principal.client_id == "demo-spa"
    assert principal.scopes == {"read", "write"}
    assert not principal.is_client_credentials
    with pytest.raises(InvalidToken) as caught:
        verifier(live_issuer.url, GEOCODING).verify(token)
    assert caught.value.reason == "bad_aud"


def test_a_verifier_keeps_accepting_old_tokens_across_a_rotation(
    live_issuer: LiveIssuer, issuer_dir: Path
) -> None:
    url = live_issuer.url
    calendar = verifier(url, CALENDAR, jwks_refetch_cooldown=0)
    old = machine_token(url, "calendar-batch", CALENDAR)
    assert calendar.verify(old)

    KeyStore(issuer_dir).rotate(grace=3600)

    new = machine_token(url, "calendar-batch", CALENDAR)
    assert calendar.verify(new), "unknown kid -> the verifier refetches the JWKS"
    assert calendar.verify(old), "the old key is still published"
    fresh = verifier(url, CALENDAR)
    assert fresh.verify(old) and fresh.verify(new)
