"""Flask glue: a decorator that runs the four steps and documents itself in flask-smorest.

Put ``@auth.required(...)`` above flask-smorest's ``arguments``/``response`` decorators so it
runs first: an unauthenticated caller learns nothing about the request schema.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any, TypeVar

from flask import Flask, Response, g, jsonify, request
from marshmallow import Schema, fields

from .bearer import FORM_CONTENT_TYPE, find_token
from .config import AuthSettings
from .errors import AuthError, token_fingerprint
from .principal import Principal, require_scopes
from .verify import TokenVerifier

log = logging.getLogger("shared_auth")
View = TypeVar("View", bound=Callable[..., Any])

OAUTH2_SCHEME = "oauth2"
BEARER_SCHEME = "bearerAuth"


class AuthErrorSchema(Schema):
    """The JSON body of every 400/401/403/503 that authentication produces.

    It is flask-smorest's error shape plus the RFC 6750 fields, so one schema also describes
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
    "401": ("AuthInvalidToken", "No token, or the token is invalid or expired (invalid_token)"),
    "403": ("AuthInsufficientScope", "The token lacks a scope this operation needs"),
    "503": ("AuthUnavailable", "The issuer's signing keys are unavailable; retry later"),
}


class BearerAuth:
    """One per app: ``auth = BearerAuth(settings); auth.init_app(app, api)``."""

    def __init__(self, settings: AuthSettings, verifier: TokenVerifier | None = None) -> None:
        self.settings = settings
        self.verifier = verifier or TokenVerifier(settings)
        self.challenge_params: dict[str, str] = {}
        """Extra ``WWW-Authenticate`` parameters, e.g. RFC 9728 ``resource_metadata``."""

    def init_app(self, app: Flask, api: Any | None = None, *, flows: dict | None = None) -> None:
        """Register the error handler and, given a flask-smorest ``Api``, the security schemes."""
        app.extensions["shared_auth"] = self
        app.register_error_handler(AuthError, self._reject)
        if api is not None:
            self._document(api, flows)

    def authenticate(self) -> Principal:
        """Steps 0-3 for the current request; the caller is kept in ``flask.g.principal``."""
        form = None
        if request.mimetype == FORM_CONTENT_TYPE:
            form = {"access_token": request.form.getlist("access_token")}
        token = find_token(
            method=request.method,
            headers=request.headers,
            query={"access_token": request.args.getlist("access_token")},
            form=form,
            allow_query=self.settings.allow_query_token,
        )
        g.token_fingerprint = token_fingerprint(token)
        principal = self.verifier.verify(token)
        g.principal = principal
        return principal

    def required(self, *scopes: str, any_of: Iterable[str] = ()) -> Callable[[View], View]:
        """Require a valid token holding every scope in ``scopes`` and one of ``any_of``."""
        alternatives = tuple(any_of)

        def decorator(view: View) -> View:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                require_scopes(self.authenticate(), scopes, alternatives)
                return view(*args, **kwargs)

            wrapper._apidoc = _with_security(  # type: ignore[attr-defined]
                getattr(view, "_apidoc", {}), scopes, alternatives
            )
            return wrapper  # type: ignore[return-value]

        return decorator

    def _reject(self, exc: AuthError) -> Response:
        g.auth_rejection = exc.reason
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
        response.headers.update(exc.headers(self.settings.realm, self.challenge_params))
        response.headers["Cache-Control"] = "no-store"
        return response

    def _document(self, api: Any, flows: dict | None) -> None:
        components = api.spec.components
        components.security_scheme(
            BEARER_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": f"An access token from {self.settings.issuer} for audience "
                f"{', '.join(self.settings.audiences)}",
            },
        )
        if flows:
            components.security_scheme(OAUTH2_SCHEME, {"type": "oauth2", "flows": flows})
        components.schema("AuthError", schema=AuthErrorSchema)
        for name, description in _AUTH_RESPONSES.values():
            components.response(
                name,
                {
                    "description": description,
                    "content": {"application/json": {"schema": "AuthError"}},
                },
            )


def oauth2_flows(
    issuer: str, scopes: dict[str, str], grants: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """OpenAPI OAuth2 flows at an Auth0-style issuer (``/authorize``, ``/oauth/token``)."""
    authorize, token = f"{issuer.rstrip('/')}/authorize", f"{issuer.rstrip('/')}/oauth/token"
    shapes = {
        "authorization_code": (
            "authorizationCode",
            {"authorizationUrl": authorize, "tokenUrl": token},
        ),
        "implicit": ("implicit", {"authorizationUrl": authorize}),
        "client_credentials": ("clientCredentials", {"tokenUrl": token}),
    }
    return {shapes[g][0]: {**shapes[g][1], "scopes": dict(scopes)} for g in grants}


def current_principal() -> Principal:
    """The caller of the current request; only valid inside a view behind ``required``."""
    principal = g.get("principal")
    if principal is None:
        raise RuntimeError("current_principal() used in a view without @auth.required")
    return principal


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
