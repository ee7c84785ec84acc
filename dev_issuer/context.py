"""The objects one issuer app shares between its routes and the command line.

The issuer URL is read from ``app.config`` at each use, not fixed at start: a test may serve
the app on a free port first and then tell it its URL, and every token and discovery
document follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from shared_auth.dpop import DPoPVerifier

from .keys import KeyStore
from .settings import normalize_issuer
from .store import StateStore
from .tenant import Tenant
from .tokens import TokenService

EXTENSION = "dev_issuer"


@dataclass(frozen=True, slots=True)
class IssuerContext:
    tenant: Tenant
    keys: KeyStore
    store: StateStore
    dpop: DPoPVerifier
    """Checks DPoP proofs sent to the token endpoint (jti replays shared by every worker)."""


def issuer_context(app: Flask | None = None) -> IssuerContext:
    return (app or current_app).extensions[EXTENSION]


def issuer_url(app: Flask | None = None) -> str:
    return normalize_issuer(str((app or current_app).config["DEV_ISSUER_URL"]))


def token_service(app: Flask | None = None) -> TokenService:
    context = issuer_context(app)
    return TokenService(context.tenant, context.keys, issuer_url(app))
