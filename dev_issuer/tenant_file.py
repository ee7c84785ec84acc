"""Reading the tenant file: every entry checked, once, at start.

A dev issuer is only useful if it refuses what a real tenant would refuse, so a bad file
stops the process with a message that names the file, the entry and the problem
(``tenant.toml: clients[2] 'x': unknown grant 'foo'``) instead of turning into a puzzling
400 halfway through a sign-in.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .tenant import (
    CLIENT_TYPES,
    DEFAULT_TENANT_FILE,
    DEFAULT_TOKEN_LIFETIME,
    GRANTS,
    MAX_TOKEN_LIFETIME,
    USER_GRANTS,
    Api,
    Client,
    ClientGrant,
    Tenant,
    TenantError,
    User,
)

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 section 3.3
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._|~-]*")
_REQUIRED: Any = object()
T = TypeVar("T")


class _Entry:
    """One table of the file, read key by key; keys left unread at the end are typos."""

    def __init__(self, source: str, where: str, table: object) -> None:
        self.source = source
        self.where = where
        if not isinstance(table, dict):
            raise self.fail("must be a table")
        self._table = dict(table)

    def fail(self, problem: str) -> TenantError:
        return TenantError(f"{self.source}: {self.where}: {problem}")

    def take(self, key: str, default: Any) -> Any:
        if key in self._table:
            return self._table.pop(key)
        if default is _REQUIRED:
            raise self.fail(f"'{key}' is required")
        return default

    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.take(key, default)
        if value is not default and (not isinstance(value, str) or not value.strip()):
            raise self.fail(f"'{key}' must be a non-empty string")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.take(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false")
        return value

    def number(self, key: str, default: int, low: int, high: int) -> int:
        value = self.take(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"'{key}' must be a whole number from {low} to {high}")
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        value = self.take(key, default)
        if not isinstance(value, list | tuple) or not all(
            isinstance(item, str) and item for item in value
        ):
            raise self.fail(f"'{key}' must be a list of non-empty strings")
        if len(set(value)) != len(value):
            raise self.fail(f"'{key}' lists an entry twice")
        return tuple(value)

    def table(self, key: str) -> dict[str, Any]:
        value = self.take(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"'{key}' must be a table")
        return value

    def identifier(self, key: str) -> str:
        value = self.text(key)
        if not _IDENTIFIER.fullmatch(value):
            raise self.fail(f"'{key}' {value!r} may only hold letters, digits and . _ | ~ -")
        self.where += f" {value!r}"
        return value

    def finish(self) -> None:
        if self._table:
            raise self.fail(f"unknown key {next(iter(self._table))!r}")


def load_tenant(path: str | Path = DEFAULT_TENANT_FILE) -> Tenant:
    """Read and check a tenant file; raise ``TenantError`` naming the entry at fault."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise TenantError(f"{source}: file not found (check DEV_ISSUER_TENANT)") from None
    except OSError as exc:
        raise TenantError(f"{source}: cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TenantError(f"{source}: not valid TOML: {exc}") from None
    return parse_tenant(document, source)


def parse_tenant(document: Mapping[str, Any], source: str) -> Tenant:
    """Build the tenant from a parsed document (``source`` names it in error messages)."""
    top = _Entry(source, "top level", document)
    sections = {name: top.take(name, []) for name in ("apis", "clients", "client_grants", "users")}
    top.finish()
    for name, entries in sections.items():
        if not isinstance(entries, list):
            raise TenantError(f"{source}: '{name}' must be an array of tables ([[{name}]])")
    if not sections["apis"]:
        raise TenantError(f"{source}: at least one [[apis]] entry is required")

    apis = _unique(
        source,
        "apis",
        [_api(_Entry(source, f"apis[{i}]", e)) for i, e in enumerate(sections["apis"])],
        key=lambda api: api.identifier,
    )
    named: dict[str, str] = {}
    for api in apis.values():
        for identifier in api.identifiers:
            if named.setdefault(identifier, api.identifier) != api.identifier:
                raise TenantError(
                    f"{source}: {identifier!r} names two APIs: {named[identifier]!r} and "
                    f"{api.identifier!r}"
                )
    clients = _unique(
        source,
        "clients",
        [_client(_Entry(source, f"clients[{i}]", e)) for i, e in enumerate(sections["clients"])],
        key=lambda client: client.client_id,
    )
    grants: dict[tuple[str, str], ClientGrant] = {}
    for index, entry in enumerate(sections["client_grants"]):
        grant = _client_grant(_Entry(source, f"client_grants[{index}]", entry), apis, clients)
        key = (grant.client_id, grant.audience)
        if key in grants:
            raise TenantError(
                f"{source}: client_grants[{index}]: a second grant for {key[0]!r} and {key[1]!r}"
            )
        grants[key] = grant
    users = _unique(
        source,
        "users",
        [_user(_Entry(source, f"users[{i}]", e), apis) for i, e in enumerate(sections["users"])],
        key=lambda user: user.user_id,
    )
    return Tenant(
        source=source,
        apis=MappingProxyType(apis),
        clients=MappingProxyType(clients),
        client_grants=MappingProxyType(grants),
        users=MappingProxyType(users),
    )


def _unique(source: str, section: str, items: list[T], key: Callable[[T], str]) -> dict[str, T]:
    found: dict[str, T] = {}
    for index, item in enumerate(items):
        name = key(item)
        if name in found:
            raise TenantError(f"{source}: {section}[{index}] {name!r}: defined twice")
        found[name] = item
    return found


def _api(entry: _Entry) -> Api:
    identifier = entry.text("identifier")
    if any(c.isspace() for c in identifier):
        raise entry.fail("'identifier' must not contain spaces")
    entry.where += f" {identifier!r}"
    name = entry.text("name")
    scopes = entry.table("scopes")
    if not scopes:
        raise entry.fail("'scopes' must define at least one scope")
    for scope, description in scopes.items():
        if not _SCOPE_TOKEN.fullmatch(scope):
            raise entry.fail(f"scope {scope!r} has characters a scope may not hold")
        if not isinstance(description, str) or not description.strip():
            raise entry.fail(f"scope {scope!r} needs a description (shown on the consent page)")
    api = Api(
        identifier=identifier,
        name=name,
        scopes=MappingProxyType(dict(scopes)),
        token_lifetime=entry.number(
            "token_lifetime", DEFAULT_TOKEN_LIFETIME, 1, MAX_TOKEN_LIFETIME
        ),
        rbac=entry.flag("rbac", False),
        resource_indicators=entry.strings("resource_indicators", ()),
    )
    entry.finish()
    for indicator in api.resource_indicators:
        problem = _resource_problem(indicator)
        if problem:
            raise entry.fail(f"resource indicator {indicator!r} {problem}")
    return api


def _resource_problem(uri: str) -> str | None:
    """RFC 8707 section 2: an absolute URI without a fragment."""
    problem = _callback_problem(uri)
    if problem:
        return problem
    return "must not have a query" if urlsplit(uri).query else None


def _client(entry: _Entry) -> Client:
    client_id = entry.identifier("client_id")
    name = entry.text("name", client_id)
    kind = entry.text("type")
    if kind not in CLIENT_TYPES:
        raise entry.fail(f"unknown type {kind!r} (use one of {', '.join(CLIENT_TYPES)})")
    secret = entry.text("client_secret", None)
    grants = entry.strings("grants")
    for grant in grants:
        if grant not in GRANTS:
            raise entry.fail(f"unknown grant {grant!r} (use {', '.join(GRANTS)})")
    callbacks = entry.strings("callbacks", ())
    first_party = entry.flag("first_party", False)
    entry.finish()

    if kind == "spa" and secret is not None:
        raise entry.fail("a spa is a public client and must not have a client_secret")
    if kind != "spa" and secret is None:
        raise entry.fail(f"a {kind} client is confidential and needs a client_secret")
    if kind == "spa" and "client_credentials" in grants:
        raise entry.fail("a spa cannot use client_credentials (it cannot keep a secret)")
    if kind == "m2m" and USER_GRANTS.intersection(grants):
        raise entry.fail("an m2m client signs no users in: its only grant is client_credentials")
    if not grants:
        raise entry.fail("'grants' must list at least one grant")
    if USER_GRANTS.intersection(grants) and not callbacks:
        raise entry.fail("'callbacks' must list at least one URL for user sign-in grants")
    for callback in callbacks:
        problem = _callback_problem(callback)
        if problem:
            raise entry.fail(f"callback {callback!r} {problem}")
    return Client(
        client_id=client_id,
        name=name,
        type=kind,
        secret=secret,
        grants=frozenset(grants),
        callbacks=callbacks,
        first_party=first_party,
    )


def _callback_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    if parts.fragment or url.endswith("#"):
        return "must not have a #fragment (RFC 6749 section 3.1.2)"
    return None


def _client_grant(
    entry: _Entry, apis: Mapping[str, Api], clients: Mapping[str, Client]
) -> ClientGrant:
    client_id = entry.text("client_id")
    audience = entry.text("audience")
    entry.where += f" {client_id!r} -> {audience!r}"
    scopes = entry.strings("scopes")
    entry.finish()
    client = clients.get(client_id)
    if client is None:
        raise entry.fail(f"unknown client {client_id!r}")
    if "client_credentials" not in client.grants:
        raise entry.fail(f"client {client_id!r} does not have the client_credentials grant")
    api = apis.get(audience)
    if api is None:
        raise entry.fail(f"unknown API {audience!r}")
    _check_scopes(entry, api, scopes)
    return ClientGrant(client_id=client_id, audience=audience, scopes=scopes)


def _user(entry: _Entry, apis: Mapping[str, Api]) -> User:
    user_id = entry.identifier("user_id")
    name = entry.text("name")
    email = entry.text("email")
    if "@" not in email:
        raise entry.fail(f"'email' {email!r} is not an email address")
    permissions: dict[str, tuple[str, ...]] = {}
    for audience, scopes in entry.table("permissions").items():
        api = apis.get(audience)
        if api is None:
            raise entry.fail(f"permissions for unknown API {audience!r}")
        if not api.rbac:
            raise entry.fail(f"permissions for {audience!r}, which does not enable rbac")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise entry.fail(f"permissions for {audience!r} must be a list of scopes")
        _check_scopes(entry, api, tuple(scopes))
        permissions[audience] = tuple(scopes)
    entry.finish()
    return User(user_id=user_id, name=name, email=email, permissions=MappingProxyType(permissions))


def _check_scopes(entry: _Entry, api: Api, scopes: tuple[str, ...]) -> None:
    unknown = [scope for scope in scopes if scope not in api.scopes]
    if unknown:
        raise entry.fail(
            f"scope {unknown[0]!r} is not defined by {api.identifier!r} "
            f"(it defines {' '.join(api.scopes)})"
        )
