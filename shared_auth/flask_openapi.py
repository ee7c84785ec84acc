"""How authentication appears in a flask-smorest OpenAPI document: the security schemes,
the OAuth 2 flows of an Auth0-style issuer, the shared error schema and responses, and the
security requirement of each protected operation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from marshmallow import Schema, fields

from .config import AuthSettings

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


def smorest_api(app: Flask) -> Any | None:
    apis = app.extensions.get("flask-smorest", {}).get("apis", {})
    return apis[""]["ext_obj"] if "" in apis else None


def document_auth(api: Any, settings: AuthSettings, flows: dict[str, Any]) -> None:
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


def with_security(apidoc: dict, scopes: tuple[str, ...], any_of: tuple[str, ...]) -> dict:
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
