"""Helpers for the dev issuer's tests: constants, a form-filling driver, token decoding.

The driver plays the browser's part against Flask's test client: it follows the issuer's
pages by reading the real HTML (the CSRF token included) and posting the real forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from dev_issuer.tenant import DEFAULT_TENANT_FILE

ISSUER = "http://127.0.0.1:8000/"
CALENDAR = "https://api.example.com/calendar/v1/"
GEOCODING = "https://api.example.com/geocoding/v1/"
DEMO_CALLBACK = "http://127.0.0.1:8000/demo/"
PASSWORD = "dev-password"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # its S256 challenge

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def authorize_params(**overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_id": "demo-spa",
        "redirect_uri": DEMO_CALLBACK,
        "response_type": "token",
        "audience": CALENDAR,
        "scope": "read",
        "state": "state-123",
        "nonce": "nonce-123",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def reply(location: str) -> dict[str, str]:
    """The parameters of a redirect back to the application (fragment, else query)."""
    parts = urlsplit(location)
    raw = parts.fragment or parts.query
    return {name: values[0] for name, values in parse_qs(raw).items()}


@dataclass(frozen=True)
class LiveIssuer:
    """An issuer app served over real HTTP; ``url`` has the trailing slash (its ``iss``)."""

    app: Flask
    url: str


@dataclass
class Page:
    url: str
    response: TestResponse

    @property
    def html(self) -> str:
        return self.response.get_data(as_text=True)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def location(self) -> str | None:
        return self.response.headers.get("Location")

    @property
    def kind(self) -> str:
        """``sign_in``, ``consent``, ``redirect`` or ``error``."""
        if self.location:
            return "redirect"
        if 'id="sign-in"' in self.html:
            return "sign_in"
        if 'id="consent"' in self.html:
            return "consent"
        return "error"

    @property
    def csrf(self) -> str:
        match = _CSRF.search(self.html)
        assert match, f"no CSRF field on the page:\n{self.html}"
        return match.group(1)

    def scopes(self) -> dict[str, bool]:
        """On a consent page: scope -> whether it is marked new."""
        items = re.findall(r'<li data-scope="([^"]+)">(.*?)</li>', self.html, re.DOTALL)
        return {scope: 'class="badge"' in body for scope, body in items}


class Driver:
    """Walks /authorize like a browser: GET the URL, then post its forms back to it."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def start(self, **overrides: str | None) -> Page:
        url = "/authorize?" + urlencode(authorize_params(**overrides))
        return Page(url, self.client.get(url))

    def post(self, page: Page, **form: str) -> Page:
        return Page(page.url, self.client.post(page.url, data=form))

    def sign_in(self, page: Page, user_id: str = "usr_123", password: str = PASSWORD) -> Page:
        assert page.kind == "sign_in", page.html
        return self.post(page, csrf=page.csrf, action="sign_in", user_id=user_id, password=password)

    def decide(self, page: Page, decision: str) -> Page:
        assert page.kind == "consent", page.html
        return self.post(page, csrf=page.csrf, action="consent", decision=decision)

    def token(self, user_id: str = "usr_123", **overrides: str | None) -> dict[str, str]:
        """Run the whole flow, allowing consent when asked; return the reply's parameters."""
        page = self.start(**overrides)
        if page.kind == "sign_in":
            page = self.sign_in(page, user_id)
        if page.kind == "consent":
            page = self.decide(page, "allow")
        assert page.location, page.html
        return reply(page.location)


def jwks_of(client: FlaskClient) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())


def decode(client: FlaskClient, token: str, audience: str, issuer: str = ISSUER) -> dict[str, Any]:
    """Verify ``token`` with the issuer's published JWKS (PyJWT, every claim required)."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwks_of(client)[kid].key
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


def tenant_with(tmp_path: Path, extra_toml: str) -> Path:
    """The default tenant plus ``extra_toml`` appended, written to a file in ``tmp_path``."""
    path = tmp_path / "tenant.toml"
    path.write_text(DEFAULT_TENANT_FILE.read_text() + "\n" + extra_toml)
    return path
