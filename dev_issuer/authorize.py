"""/authorize: sign the user in, ask for consent when needed, answer the application.

GET shows the next page the request needs; the pages' forms POST back to the same URL (the
authorization request stays in the query string and is checked again on every step, so no
server-side state is needed between pages). Consent is remembered per user, application and
API: a request the user already allowed is answered at once, a request for more scopes asks
again for the increase, a first-party application is never asked.
"""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .authorization_request import (
    AuthorizationRequest,
    ErrorPage,
    RedirectError,
    parse_authorization_request,
)
from .context import issuer_context, token_service
from .errors import OAuthError
from .security import SESSION_USER, allow_form_target, csrf_token, csrf_valid, sign_in
from .store import PendingCode
from .tenant import User
from .throttle import SignInThrottle
from .tokens import scopes_for_user

bp = Blueprint("authorize", __name__)

DEV_PASSWORD = "dev-password"  # noqa: S105 - the documented password of every dev user
CODE_LIFETIME = 60  # seconds an authorization code may wait for its exchange


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    try:
        auth = parse_authorization_request(
            request.args.to_dict(flat=False), issuer_context().tenant
        )
    except ErrorPage as exc:
        return error_page(exc.message, exc.status)
    except RedirectError as exc:
        return _redirect(exc.location)
    allow_form_target(auth.reply_to.origin)
    if request.method == "GET":
        return _proceed(auth, just_signed_in=False)
    if not csrf_valid(request.form.get("csrf")):
        return error_page(
            "This form has expired or did not come from this page. "
            "Start again from the application.",
            403,
        )
    action = request.form.get("action")
    if action == "sign_in":
        return _sign_in(auth)
    if action == "consent":
        return _consent(auth)
    return error_page("The form did not say what to do (sign in or consent).", 400)


def _proceed(auth: AuthorizationRequest, *, just_signed_in: bool) -> ResponseReturnValue:
    """The next step for this request: sign in, consent, or the answer."""
    user = _signed_in_user()
    if user is None or ("login" in auth.prompt and not just_signed_in):
        if "none" in auth.prompt:
            return _reply_error(auth, "login_required", "the user is not signed in")
        return _sign_in_page(auth)
    scopes = scopes_for_user(auth.api, user, auth.scopes)
    if not scopes:
        return _reply_error(
            auth, "access_denied", f"the user holds none of these permissions on {auth.api.name}"
        )
    if auth.client.first_party:
        return _answer(auth, user, scopes)
    granted = issuer_context().store.consented(
        user.user_id, auth.client.client_id, auth.api.identifier
    )
    if "consent" in auth.prompt or not granted.issuperset(scopes):
        if "none" in auth.prompt:
            return _reply_error(auth, "consent_required", "the user has not consented to this")
        return _consent_page(auth, user, scopes, granted)
    return _answer(auth, user, scopes)


def _sign_in(auth: AuthorizationRequest) -> ResponseReturnValue:
    user = issuer_context().tenant.users.get(request.form.get("user_id", ""))
    user_id, address = (user.user_id if user else None), request.remote_addr
    throttle = SignInThrottle(issuer_context().store)
    wait = throttle.retry_after(user_id, address)
    if wait is not None:
        message = f"Too many failed sign-ins; try again in {wait} seconds."
        return _sign_in_page(auth, message, 429, {"Retry-After": str(wait)})
    if user is None:
        throttle.failed(None, address)
        return _sign_in_page(auth, "Choose one of the dev users.", 400)
    password = request.form.get("password", "").encode("utf-8")
    if not hmac.compare_digest(password, DEV_PASSWORD.encode("utf-8")):
        throttle.failed(user.user_id, address)
        return _sign_in_page(
            auth, f"Wrong password. Every dev user's password is {DEV_PASSWORD}.", 401
        )
    throttle.succeeded(user.user_id)
    sign_in(user.user_id)
    return _proceed(auth, just_signed_in=True)


def _consent(auth: AuthorizationRequest) -> ResponseReturnValue:
    user = _signed_in_user()
    if user is None:
        return _sign_in_page(auth, "Your session has ended; sign in again.", 401)
    decision = request.form.get("decision")
    if decision == "deny":
        return _reply_error(auth, "access_denied", "the user denied access")
    if decision != "allow":
        return error_page("The consent form must say allow or deny.", 400)
    scopes = scopes_for_user(auth.api, user, auth.scopes)
    if not scopes:
        return _reply_error(auth, "access_denied", "the user holds none of these permissions")
    issuer_context().store.add_consent(
        user.user_id, auth.client.client_id, auth.api.identifier, scopes
    )
    return _answer(auth, user, scopes)


def _answer(auth: AuthorizationRequest, user: User, scopes: tuple[str, ...]) -> ResponseReturnValue:
    """Implicit: the token in the fragment. Code: a single-use code bound to PKCE."""
    if auth.response_type == "token":
        issued = token_service().for_user(user, auth.client, auth.target, scopes)
        return _redirect(auth.reply_to.url(issued.response()))
    code = secrets.token_urlsafe(32)
    assert auth.code_challenge is not None  # parse_authorization_request requires it for code
    pending = PendingCode(
        client_id=auth.client.client_id,
        redirect_uri=auth.reply_to.redirect_uri,
        user_id=user.user_id,
        audience=auth.target.audience,
        scopes=scopes,
        code_challenge=auth.code_challenge,
        expires_at=time.time() + CODE_LIFETIME,
    )
    issuer_context().store.save_code(code, pending)
    return _redirect(auth.reply_to.url({"code": code}))


def _signed_in_user() -> User | None:
    user_id = session.get(SESSION_USER)
    return issuer_context().tenant.users.get(user_id) if isinstance(user_id, str) else None


def _reply_error(auth: AuthorizationRequest, error: str, description: str) -> ResponseReturnValue:
    return _redirect(RedirectError(auth.reply_to, OAuthError(error, description)).location)


def _redirect(location: str) -> ResponseReturnValue:
    response = redirect(location, 302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: object
) -> ResponseReturnValue:
    response = render_template(template, csrf=csrf_token(), **context)
    return response, status, {"Cache-Control": "no-store", **(headers or {})}


def error_page(message: str, status: int = 400) -> ResponseReturnValue:
    return (
        render_template("error.html", message=message, status=status),
        status,
        {"Cache-Control": "no-store"},
    )


def _sign_in_page(
    auth: AuthorizationRequest,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:
    return _page(
        "sign_in.html",
        status,
        headers,
        auth=auth,
        users=list(issuer_context().tenant.users.values()),
        selected=request.form.get("user_id"),
        error=error,
        password_hint=DEV_PASSWORD,
    )


def _consent_page(
    auth: AuthorizationRequest, user: User, scopes: tuple[str, ...], granted: frozenset[str]
) -> ResponseReturnValue:
    switch_user = "?" + urlencode({**request.args.to_dict(), "prompt": "login"})
    return _page(
        "consent.html",
        auth=auth,
        user=user,
        scopes=[(s, auth.api.scopes[s], s not in granted) for s in scopes],
        increase=bool(granted),
        previously=[s for s in auth.api.scopes if s in granted],
        withheld=[s for s in auth.scopes if s not in scopes],
        switch_user=switch_user,
    )
