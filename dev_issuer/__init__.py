"""A local authorization server that behaves like an Auth0 tenant.

It issues the same RS256 access tokens through the same flows (client credentials, the
implicit flow, authorization code with PKCE), with sign-in and remembered consent, so APIs
developed against it need only their issuer and audience settings changed to trust a real
tenant. Start it with ``dev-issuer serve``; mint tokens with ``dev-issuer token``.
"""

from .app import create_app

__all__ = ["create_app"]
