"""The Flask integration: a decorator that runs the four steps and documents itself.

The Flask extension pattern: ``auth = BearerAuth()`` at module level, where routes can use
``@auth.required("read")``, and ``auth.init_app(app, settings)`` in the app factory. The state
(settings, verifier, key cache) lives in ``app.extensions``, so one module-level object serves
every app a process builds. Put ``@auth.required(...)`` above flask-smorest's
``arguments``/``response`` decorators so it runs first: an unauthenticated caller learns
nothing about the request schema. With a flask-smorest ``Api`` on the app, ``init_app`` also
documents the security schemes and every protected operation's 400/401/403/503 answers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, jsonify, request
from marshmallow import Schema, fields

from .config import AuthSettings
from .errors import AuthError, Challenge, MissingToken, token_fingerprint
from .extract import FORM_CONTENT_TYPE, find_token
from .principal import Principal, require_scopes
from .signals import token_accepted, token_rejected
from .verify import TokenVerifier

log = logging.getLogger("shared_auth")
View = TypeVar("View", bound=Callable[..., Any])

EXTENSION = "shared_auth"
OAUTH2_SCHEME = "oauth2"
BEARER_SCHEME = "bearerAuth"


class AuthErrorSchema(Schema):
    """The JSON body of every 400/401/403/503 that authentication produces.

    It is the service-wide error shape plus the RFC 6750 fields, so one schema also describes
    the API's own 400s (which add ``errors``) documented under the same status.
    """

    code = fields.Integer(required=True, metadata={"example": 401})
    status = fields.String(required=True, metadata={"example": "Unauthorized"})
    message = fields.String(required=True)
    error = fields.String(
        metadata={"description": "RFC 6750 error code; absent when no token was sent"}
    )
    error_description = fields.String()
    scope = fields.String(metadata={"description": "Scopes the request needs (403 only)"})
    errors = fields.Dict(metadata={"description": "Per-location messages (request validation)"})


_AUTH_RESPONSES = {
    "400": ("AuthInvalidRequest", "The request carries its token wrongly (invalid_request)"),
    "401": (
        "AuthInvalidToken",
        "No token (or another scheme than Bearer), or the token is invalid or expired "
        "(invalid_token)",
    ),
    "403": ("AuthInsufficientScope", "The token lacks a scope this operation needs"),
    "503": ("AuthUnavailable", "The issuer's signing keys are unavailable; retry later"),
}


@dataclass(frozen=True, slots=True)
class AuthState:
    """One app's authentication: its settings, its verifier and how it introduces itself."""

    settings: AuthSettings
    verifier: TokenVerifier
    challenge: Challenge


class BearerAuth:
    """``auth = BearerAuth()`` at module level; ``auth.init_app(app, settings)`` per app."""

    def init_app(
        self,
        app: Flask,
        settings: AuthSettings,
        *,
        verifier: TokenVerifier | None = None,
        scopes: Mapping[str, str] | None = None,
        grants: Iterable[str] = (),
        resource_metadata: str | None = None,
    ) -> None:
        """Install authentication; ``scopes`` (name -> description) and ``grants`` (OAuth 2
        grant types) describe the API in its OpenAPI document, when it has one."""
        challenge = Challenge(realm=settings.realm, resource_metadata=resource_metadata)
        app.extensions[EXTENSION] = AuthState(
            settings, verifier or TokenVerifier(settings), challenge
        )
        app.register_error_handler(AuthError, _reject)
        api = _smorest_api(app)
        if api is not None:
            flows = oauth2_flows(settings.issuer, scopes or {}, grants, settings.audiences[0])
            _document(api, settings, flows)

    @staticmethod
    def state(app: Flask | None = None) -> AuthState:
        return (app or current_app).extensions[EXTENSION]

    def authenticate(self, scopes: tuple[str, ...] = ()) -> Principal:
        """Steps 0-3 for the current request; the caller is kept in ``flask.g.principal``.

        ``scopes`` (what the route needs) are named in the challenge when no token was sent.
        """
        state = self.state()
        form = None
        if request.mimetype == FORM_CONTENT_TYPE:
            form = {"access_token": request.form.getlist("access_token")}
        try:
            credentials = find_token(
                method=request.method,
                authorization=request.headers.get("Authorization"),
                query={"access_token": request.args.getlist("access_token")},
                form=form,
                allow_query=state.settings.allow_query_token,
            )
        except MissingToken as exc:
            exc.scope = scopes
            raise
        g.token_fingerprint = token_fingerprint(credentials.token)
        principal = state.verifier.verify(credentials.token)
        g.principal = principal
        token_accepted.send(current_app._get_current_object(), principal=principal)  # type: ignore[attr-defined]
        return principal

    def required(self, *scopes: str, any_of: Iterable[str] = ()) -> Callable[[View], View]:
        """Require a valid token holding every scope in ``scopes`` and one of ``any_of``."""
        alternatives = tuple(any_of)

        def decorator(view: View) -> View:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                principal = self.authenticate((*scopes, *alternatives))
                require_scopes(principal, scopes, alternatives)
                return view(*args, **kwargs)

            wrapper._apidoc = _with_security(  # type: ignore[attr-defined]
                getattr(view, "_apidoc", {}), scopes, alternatives
            )
            return wrapper  # type: ignore[return-value]

        return decorator

    def signing_keys_check(self) -> str | None:
        """A readiness check: None when a usable signing key is loaded or can be fetched now,
        else what is wrong (never the issuer's URL)."""
        keys = self.state().verifier.keys
        if keys.has_keys or keys.refresh():
            return None
        return "no usable signing key from the issuer"


def _reject(exc: AuthError) -> Response:
    g.auth_rejection = exc.reason
    token_rejected.send(current_app._get_current_object(), error=exc)  # type: ignore[attr-defined]
    log.warning(
        "request rejected",
        extra={
            "reason": exc.reason,
            "status": exc.status,
            "token_fp": g.get("token_fingerprint"),
            "path": request.path,
        },
    )
    response = jsonify(exc.body())
    response.status_code = exc.status
    response.headers.update(exc.headers(BearerAuth.state().challenge))
    response.headers["Cache-Control"] = "no-store"
    return response


def current_principal() -> Principal:
    """The caller of the current request; only valid inside a view behind ``required``."""
    principal = g.get("principal")
    if principal is None:
        raise RuntimeError("current_principal() used in a view without @auth.required")
    return principal


def oauth2_flows(
    issuer: str, scopes: Mapping[str, str], grants: Iterable[str], audience: str | None = None
) -> dict[str, dict[str, Any]]:
    """OpenAPI OAuth2 flows at an Auth0-style issuer (``/authorize``, ``/oauth/token``).

    ``audience`` goes into the authorization URL, as Auth0 needs it to issue a JWT for this
    API: every OpenAPI tool then asks for the right token, and Swagger UI keeps the token
    request itself free of query parameters (its ``additionalQueryStringParams`` would
    land on the token URL too, which the issuer refuses).
    """
    base = issuer.rstrip("/")
    authorize = f"{base}/authorize"
    if audience:
        authorize += "?" + urlencode({"audience": audience})
    token = f"{base}/oauth/token"
    shapes = {
        "authorization_code": (
            "authorizationCode",
            {"authorizationUrl": authorize, "tokenUrl": token},
        ),
        "implicit": ("implicit", {"authorizationUrl": authorize}),
        "client_credentials": ("clientCredentials", {"tokenUrl": token}),
    }
    return {shapes[g][0]: {**shapes[g][1], "scopes": dict(scopes)} for g in grants}


def _smorest_api(app: Flask) -> Any | None:
    apis = app.extensions.get("flask-smorest", {}).get("apis", {})
    return apis[""]["ext_obj"] if "" in apis else None


def _document(api: Any, settings: AuthSettings, flows: dict[str, Any]) -> None:
    components = api.spec.components
    components.security_scheme(
        BEARER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": f"An access token from {settings.issuer} for audience "
            f"{', '.join(settings.audiences)}",
        },
    )
    if flows:
        components.security_scheme(OAUTH2_SCHEME, {"type": "oauth2", "flows": flows})
    components.schema("AuthError", schema=AuthErrorSchema)
    for name, description in _AUTH_RESPONSES.values():
        components.response(
            name,
            {"description": description, "content": {"application/json": {"schema": "AuthError"}}},
        )


def _with_security(apidoc: dict, scopes: tuple[str, ...], any_of: tuple[str, ...]) -> dict:
    apidoc = deepcopy(apidoc)
    requirements = [{OAUTH2_SCHEME: [*scopes, s]} for s in any_of] or [{OAUTH2_SCHEME: [*scopes]}]
    manual = apidoc.setdefault("manual_doc", {})
    manual["security"] = [*requirements, {BEARER_SCHEME: []}]
    # A status the view documents itself (say its own 400) keeps the view's description.
    own = {str(code) for code in apidoc.get("response", {}).get("responses", {})}
    manual.setdefault("responses", {}).update(
        {code: name for code, (name, _) in _AUTH_RESPONSES.items() if code not in own}
    )
    return apidoc
