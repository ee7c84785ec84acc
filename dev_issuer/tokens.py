"""Access tokens shaped like Auth0's: the scope rules, the claims and the RS256 signature.

The token endpoint, the authorization endpoint and ``dev-issuer token`` all mint through
``TokenService``, so a token from the command line is the same token the HTTP flows give:
same claims, same key, same rules for which scopes a caller may have.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt

from .errors import OAuthError, invalid_scope
from .keys import ALGORITHM, KeyStore
from .tenant import Api, Client, Tenant, User


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret
    """``DPoP`` when the token is bound to the client's key (RFC 9449 section 5)."""

    def response(self) -> dict[str, Any]:
        """The RFC 6749 section 5.1 body."""
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


@dataclass(frozen=True, slots=True)
class Target:
    """The API a token is for, and the identifier the client named it by (the ``aud``)."""

    api: Api
    audience: str


def resolve_target(tenant: Tenant, audience: str | None, resource: str | None) -> Target:
    """The API named by Auth0's ``audience`` or RFC 8707's ``resource`` (either, or both equal).

    Unknown or conflicting resources are RFC 8707's ``invalid_target``.
    """
    if audience and resource and audience != resource:
        raise OAuthError(
            "invalid_target", "audience and resource name different APIs; send one of them"
        )
    identifier = resource or audience
    if not identifier:
        raise OAuthError(
            "invalid_request", "audience is required (or resource): the API's identifier"
        )
    api = tenant.api_for(identifier)
    if api is None:
        known = ", ".join(i for a in tenant.apis.values() for i in a.identifiers)
        error = "invalid_target" if resource else "invalid_request"
        name = "resource" if resource else "audience"
        raise OAuthError(error, f"unknown {name} {identifier!r}; APIs: {known}")
    return Target(api, identifier)


def requested_scopes(api: Api, raw: str | None) -> tuple[str, ...]:
    """Split a ``scope`` parameter, refusing scopes the API does not define.

    Returned in the API's own order without repeats, so ``write read read`` and
    ``read write`` give the same token and the same consent question.
    """
    wanted = set((raw or "").split())
    unknown = sorted(wanted.difference(api.scopes))
    if unknown:
        raise invalid_scope(
            f"{api.identifier} does not define the scope {unknown[0]}; "
            f"it defines: {' '.join(api.scopes)}"
        )
    return tuple(scope for scope in api.scopes if scope in wanted)


def scopes_for_user(api: Api, user: User, scopes: Iterable[str]) -> tuple[str, ...]:
    """Auth0 RBAC: with ``rbac`` on, a user only gets the requested scopes they hold."""
    scopes = tuple(scopes)
    if not api.rbac:
        return scopes
    held = set(user.permissions.get(api.identifier, ()))
    return tuple(scope for scope in scopes if scope in held)


class TokenService:
    """Mints access tokens for one issuer URL with the key store's current key."""

    def __init__(
        self,
        tenant: Tenant,
        keys: KeyStore,
        issuer: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenant = tenant
        self.keys = keys
        self.issuer = issuer
        self._clock = clock

    def client_credentials(
        self,
        client: Client,
        target: Target,
        scope: str | None,
        expires_in: int | None = None,
        *,
        jkt: str | None = None,
    ) -> IssuedToken:
        """A machine-to-machine token: the client grant's scopes, or the asked-for subset."""
        if "client_credentials" not in client.grants:
            raise OAuthError(
                "unauthorized_client", f"{client.client_id} may not use client_credentials"
            )
        api = target.api
        grant = self.tenant.client_grants.get((client.client_id, api.identifier))
        if grant is None:
            raise OAuthError(
                "access_denied",
                f"{client.client_id} has no client grant for {api.identifier}",
                status=403,
            )
        scopes = requested_scopes(api, scope) if scope and scope.strip() else grant.scopes
        beyond = [s for s in scopes if s not in grant.scopes]
        if beyond:
            raise invalid_scope(
                f"{client.client_id} is granted only {' '.join(grant.scopes)} "
                f"on {api.identifier}; {beyond[0]} is not included"
            )
        return self._issue(
            target,
            client,
            subject=f"{client.client_id}@clients",
            scopes=scopes,
            permissions=scopes,
            expires_in=expires_in,
            machine=True,
            jkt=jkt,
        )

    def for_user(
        self,
        user: User,
        client: Client,
        target: Target,
        scopes: Iterable[str],
        expires_in: int | None = None,
        *,
        jkt: str | None = None,
    ) -> IssuedToken:
        """A token for ``user`` via ``client``; ``scopes`` were consented (or minted by hand).

        The token carries exactly the consented scopes, in ``scope`` and in ``permissions``:
        listing every permission the user holds (as Auth0's RBAC option does) would let a
        token consented for ``read`` write wherever an API also reads ``permissions``.
        """
        consented = scopes_for_user(target.api, user, scopes)
        return self._issue(
            target,
            client,
            subject=user.user_id,
            scopes=consented,
            permissions=consented,
            expires_in=expires_in,
            jkt=jkt,
        )

    def _issue(
        self,
        target: Target,
        client: Client,
        *,
        subject: str,
        scopes: tuple[str, ...],
        permissions: tuple[str, ...],
        expires_in: int | None,
        machine: bool = False,
        jkt: str | None = None,
    ) -> IssuedToken:
        api = target.api
        now = int(self._clock())
        lifetime = api.token_lifetime if expires_in is None else expires_in
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": target.audience,
            "iat": now,
            "exp": now + lifetime,
            "scope": " ".join(scopes),
            "azp": client.client_id,
            "jti": secrets.token_urlsafe(16),  # RFC 9068 2.2: every access token has its own
        }
        if machine:
            claims["gty"] = "client-credentials"
        if api.rbac:
            # Auth0's "Add Permissions in the Access Token", limited to what was granted:
            # a user's token lists the consented scopes, a client's its granted ones.
            claims["permissions"] = list(permissions)
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}  # RFC 9449 section 6: bound to the client's key
        key = self.keys.current()
        token = jwt.encode(
            claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"}
        )
        return IssuedToken(token, lifetime, claims["scope"], "DPoP" if jkt else "Bearer")
