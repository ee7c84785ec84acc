"""POST /oauth/token: client credentials, and authorization codes redeemed with PKCE.

Parameters come as a form (RFC 6749) or as JSON (what Auth0's documentation shows), never in
the URL, where secrets end up in logs. Every answer carries ``Cache-Control: no-store``;
errors are RFC 6749 section 5.2 bodies with a sentence that says what to fix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from service_kit import request_json
from shared_auth import AuthError
from shared_auth.dpop import ProofRequest

from .client_auth import authenticate_client
from .context import issuer_context, issuer_url, token_service
from .errors import OAuthError, invalid_request
from .pkce import VERIFIER, verifier_matches
from .tokens import IssuedToken, Target, resolve_target

bp = Blueprint("token", __name__)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.route("/oauth/token", methods=["POST"])
def token() -> Response:
    try:
        params = _read_params()
        grant_type = params.get("grant_type")
        if not grant_type:
            raise invalid_request("grant_type is required")
        if grant_type == "client_credentials":
            issued = _client_credentials(params)
        elif grant_type == "authorization_code":
            issued = _authorization_code(params)
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "grant_type must be client_credentials or authorization_code",
            )
    except OAuthError as exc:
        return oauth_error_response(exc)
    response = jsonify(issued.response())
    response.headers.update(NO_STORE)
    return response


def oauth_error_response(error: OAuthError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update({**NO_STORE, **error.headers})
    return response


def _read_params() -> dict[str, str]:
    if request.args:
        raise invalid_request(
            "send the parameters in the request body, not in the URL (URLs end up in logs)"
        )
    if request.mimetype == JSON:
        body = _json_body()
        if not isinstance(body, dict):
            raise invalid_request("the JSON body must be an object of parameters")
        for name, value in body.items():
            if not isinstance(value, str):
                raise invalid_request(f"{name} must be a string")
        return {name: value for name, value in body.items() if value != ""}
    if request.mimetype == FORM:
        params: dict[str, str] = {}
        for name, values in request.form.lists():
            if len(values) > 1:
                raise invalid_request(f"{name} is given more than once")
            if values[0] != "":
                params[name] = values[0]
        return params
    raise invalid_request(f"send the parameters as {FORM} or {JSON}")


def _json_body() -> object:
    """The strictly parsed JSON body; its 400 becomes ``invalid_request`` like every other."""
    try:
        return request_json(request, what="the parameters")
    except HTTPException as exc:
        if exc.code != 400:
            raise
        raise invalid_request(getattr(exc, "data", {}).get("message", "invalid JSON")) from None


def _proof_key() -> str | None:
    """The thumbprint of the key a valid DPoP proof names, or None without a proof."""
    proofs = request.headers.getlist("DPoP")
    if not proofs:
        return None
    endpoint = issuer_url() + "oauth/token"
    try:
        return issuer_context().dpop.check(ProofRequest("POST", endpoint, tuple(proofs)))
    except AuthError as exc:
        raise OAuthError("invalid_dpop_proof", exc.description) from None


def _client_credentials(params: Mapping[str, str]) -> IssuedToken:
    context = issuer_context()
    client = authenticate_client(context.tenant, params, request.headers.get("Authorization"))
    target = resolve_target(context.tenant, params.get("audience"), params.get("resource"))
    return token_service().client_credentials(client, target, params.get("scope"), jkt=_proof_key())


def _authorization_code(params: Mapping[str, str]) -> IssuedToken:
    context = issuer_context()
    client = authenticate_client(context.tenant, params, request.headers.get("Authorization"))
    if "authorization_code" not in client.grants:
        raise OAuthError("unauthorized_client", f"{client.client_id} may not use codes")
    missing = [n for n in ("code", "redirect_uri", "code_verifier") if n not in params]
    if missing:
        raise invalid_request(f"{missing[0]} is required")
    verifier = params["code_verifier"]
    if not VERIFIER.fullmatch(verifier):
        raise invalid_request("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
    pending = context.store.take_code(params["code"])  # taken now: a code works once at most
    if (
        pending is None
        or pending.expires_at < time.time()
        or pending.client_id != client.client_id
        or pending.redirect_uri != params["redirect_uri"]
    ):
        raise OAuthError(
            "invalid_grant",
            "the code is unknown, expired, already used, or was issued to another client "
            "or redirect_uri",
        )
    if not verifier_matches(verifier, pending.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    user = context.tenant.users.get(pending.user_id)
    api = context.tenant.api_for(pending.audience)
    if user is None or api is None:
        raise OAuthError("invalid_grant", "the code's user or API no longer exists")
    for name in ("resource", "audience"):  # RFC 8707 2.2: a resource the code was not for
        if params.get(name, pending.audience) != pending.audience:
            raise OAuthError("invalid_target", f"the code was issued for {pending.audience}")
    target = Target(api, pending.audience)
    return token_service().for_user(user, client, target, pending.scopes, jkt=_proof_key())
