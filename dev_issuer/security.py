"""Browser-facing defences: the sign-in session, CSRF tokens and response headers.

* The session is Flask's signed cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` on https)
  holding only the signed-in user id and a CSRF token.
* Every form carries the session's CSRF token; a POST without the same token is refused, so
  another site cannot sign a user in or click "Allow" for them.
* Pages cannot be framed (``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``), so
  the consent button cannot be clickjacked, and the CSP allows nothing but our own stylesheet.
  ``form-action`` also names the application's origin, because Chromium applies it to the
  redirect that follows the consent form.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, g, request, session

SESSION_USER = "user"
SESSION_CSRF = "csrf"

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'{extra}"
)
# The /demo/ hook: a same-origin single-page app may run its own scripts and call the APIs
# on any local port; it is still never framed.
DEMO_CSP = (
    "default-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:*; "
    "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    if SESSION_CSRF not in session:
        session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return session[SESSION_CSRF]


def csrf_valid(sent: str | None) -> bool:
    expected = session.get(SESSION_CSRF)
    return bool(expected and sent) and hmac.compare_digest(expected, sent)


def sign_in(user_id: str) -> None:
    """Start a fresh session for ``user_id`` (new CSRF token: nothing carries over)."""
    session.clear()
    session[SESSION_USER] = user_id
    session[SESSION_CSRF] = secrets.token_urlsafe(32)


def allow_form_target(origin: str) -> None:
    """Let this page's forms end in a redirect to ``origin`` (the verified redirect_uri's)."""
    g.form_action_origin = origin


def add_page_headers(response: Response) -> Response:
    """The issuer's pages: a strict CSP and no referrer (``service_kit`` adds the rest)."""
    headers = response.headers
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/demo/"):
        headers.setdefault("Content-Security-Policy", DEMO_CSP)
    else:
        origin = g.get("form_action_origin")
        extra = f" {origin}" if origin else ""
        headers.setdefault("Content-Security-Policy", PAGE_CSP.format(extra=extra))
    return response
