"""The tenant: APIs, applications, client grants and users, as an Auth0 dashboard holds them.

Plain frozen data; ``tenant_file`` reads and checks the TOML file it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared_auth.resource_metadata import origin

DEFAULT_TENANT_FILE = Path(__file__).with_name("tenant.toml")
GRANTS = ("authorization_code", "implicit", "client_credentials")
CLIENT_TYPES = ("spa", "m2m", "web")
USER_GRANTS = frozenset({"authorization_code", "implicit"})
DEFAULT_TOKEN_LIFETIME = 86400
MAX_TOKEN_LIFETIME = 30 * 86400  # Auth0's ceiling for API token lifetimes


class TenantError(ValueError):
    """The tenant file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Api:
    """A resource server; ``identifier`` is the ``audience`` clients ask for."""

    identifier: str
    name: str
    scopes: Mapping[str, str]
    """Scope name -> description shown on the consent page, in file order."""
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    rbac: bool = False
    resource_indicators: tuple[str, ...] = ()
    """More identifiers of the same API (RFC 8707 ``resource`` values, e.g. its public URL):
    a token asked for by one of them carries that one as its ``aud``."""

    @property
    def identifiers(self) -> tuple[str, ...]:
        return (self.identifier, *self.resource_indicators)


@dataclass(frozen=True, slots=True)
class Client:
    """An application; a ``secret`` of None marks a public client (single-page app)."""

    client_id: str
    name: str
    type: str
    secret: str | None
    grants: frozenset[str]
    callbacks: tuple[str, ...]
    first_party: bool = False

    @property
    def is_public(self) -> bool:
        return self.secret is None


@dataclass(frozen=True, slots=True)
class ClientGrant:
    """Permission for a machine-to-machine client to get tokens for one API."""

    client_id: str
    audience: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    name: str
    email: str
    permissions: Mapping[str, tuple[str, ...]]
    """API identifier -> scopes the user holds there (RBAC)."""


@dataclass(frozen=True, slots=True)
class Tenant:
    source: str
    apis: Mapping[str, Api]
    clients: Mapping[str, Client]
    client_grants: Mapping[tuple[str, str], ClientGrant]
    users: Mapping[str, User]

    def api_for(self, identifier: str) -> Api | None:
        """The API an ``audience`` or ``resource`` names, by any of its identifiers."""
        api = self.apis.get(identifier)
        if api is not None:
            return api
        return next((a for a in self.apis.values() if identifier in a.resource_indicators), None)

    @property
    def web_origins(self) -> frozenset[str]:
        """Origins of every registered callback: browsers there may call the token endpoint."""
        origins = set()
        for client in self.clients.values():
            origins.update(origin(callback) for callback in client.callbacks)
        return frozenset(origins)
