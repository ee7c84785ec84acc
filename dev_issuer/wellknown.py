"""Discovery and the JWK Set: what an API reads to trust this issuer's tokens.

Built from the configured issuer URL at each request, so the documents always agree with the
``iss`` the tokens carry.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from .context import issuer_context, issuer_url

DPOP_ALGORITHMS = ("ES256", "EdDSA", "RS256", "PS256")

bp = Blueprint("wellknown", __name__)

PUBLIC_CACHE = "public, max-age=60"


def metadata() -> dict[str, Any]:
    issuer = issuer_url()
    tenant = issuer_context().tenant
    scopes = sorted({scope for api in tenant.apis.values() for scope in api.scopes})
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}authorize",
        "token_endpoint": f"{issuer}oauth/token",
        "jwks_uri": f"{issuer}.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "implicit", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
        "prompt_values_supported": ["none", "login", "consent"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
    }


def _public_json(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    return _public_json(metadata())


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    """RFC 8414 clients look here; the document is the same."""
    return _public_json(metadata())


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    return _public_json(issuer_context().keys.jwks())
