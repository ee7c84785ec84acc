"""Checking an /authorize request, in the order RFC 6749 sections 4.1.2.1 and 4.2.2.1 demand.

Until ``client_id`` and ``redirect_uri`` are known good, every problem is an ``ErrorPage``
shown by the issuer itself: redirecting to an unverified URL would make the issuer an open
redirector (and could hand a token to whoever wrote the link). After that, problems are
``RedirectError`` sent back to the application, which is waiting for an answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from shared_auth.resource_metadata import origin

from .errors import OAuthError
from .pkce import CHALLENGE
from .tenant import Api, Client, Tenant
from .tokens import Target, requested_scopes, resolve_target

RESPONSE_TYPES = {"token": "implicit", "code": "authorization_code"}
PROMPTS = frozenset({"none", "login", "consent"})
MAX_PARAMETER_LENGTH = 2048


class ErrorPage(Exception):
    """A request the issuer answers itself, with an HTML page and no redirect."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where and how answers go: the verified ``redirect_uri``, ``state``, query or fragment."""

    redirect_uri: str
    state: str | None
    fragment: bool

    def url(self, params: Mapping[str, str | int]) -> str:
        values = dict(params)
        if self.state is not None:
            values["state"] = self.state
        encoded = urlencode(values)
        if self.fragment:
            return f"{self.redirect_uri}#{encoded}"
        separator = "&" if urlsplit(self.redirect_uri).query else "?"
        return f"{self.redirect_uri}{separator}{encoded}"

    @property
    def origin(self) -> str:
        return origin(self.redirect_uri)


class RedirectError(Exception):
    """An RFC 6749 error delivered to the application's ``redirect_uri``."""

    def __init__(self, reply_to: ReplyTo, error: OAuthError) -> None:
        super().__init__(error.description)
        self.reply_to = reply_to
        self.error = error

    @property
    def location(self) -> str:
        return self.reply_to.url(self.error.params())


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client: Client
    target: Target
    scopes: tuple[str, ...]
    response_type: str
    reply_to: ReplyTo
    prompt: frozenset[str]
    code_challenge: str | None

    @property
    def api(self) -> Api:
        return self.target.api


class _Query:
    """The query's parameters, each allowed once (RFC 6749 section 3.1) and of sane length."""

    def __init__(self, args: Mapping[str, Sequence[str]]) -> None:
        self._args = args

    def first(self, name: str) -> str:
        values = self._args.get(name) or [""]
        return values[0]

    def get(self, name: str) -> str | None:
        values = self._args.get(name) or []
        if len(values) > 1:
            raise OAuthError("invalid_request", f"{name} is given more than once")
        if values and len(values[0]) > MAX_PARAMETER_LENGTH:
            raise OAuthError(
                "invalid_request", f"{name} is longer than {MAX_PARAMETER_LENGTH} characters"
            )
        return values[0] if values and values[0] else None


def parse_authorization_request(
    args: Mapping[str, Sequence[str]], tenant: Tenant
) -> AuthorizationRequest:
    """Validate the query of an /authorize request (``args``: name -> all its values)."""
    query = _Query(args)
    client, redirect_uri = _client_and_callback(query, tenant)
    fragment = query.first("response_type") == "token"
    try:
        state = query.get("state")
    except OAuthError as exc:
        raise RedirectError(ReplyTo(redirect_uri, None, fragment), exc) from None
    reply_to = ReplyTo(redirect_uri, state, fragment)
    try:
        return _validated(query, client, reply_to, tenant)
    except OAuthError as exc:
        raise RedirectError(reply_to, exc) from None


def _client_and_callback(query: _Query, tenant: Tenant) -> tuple[Client, str]:
    try:
        client_id, redirect_uri = query.get("client_id"), query.get("redirect_uri")
    except OAuthError as exc:
        raise ErrorPage(exc.description) from None
    if client_id is None:
        raise ErrorPage("The request has no client_id, so the application is unknown.")
    client = tenant.clients.get(client_id)
    if client is None:
        raise ErrorPage(f"There is no application with client_id {client_id!r} in this tenant.")
    if redirect_uri is None:
        raise ErrorPage(f"The request has no redirect_uri; {client_id} must send one.")
    if redirect_uri not in client.callbacks:
        raise ErrorPage(
            f"The redirect_uri {redirect_uri!r} is not a registered callback of {client_id}. "
            f"Registered: {', '.join(client.callbacks) or 'none'}. It must match exactly."
        )
    return client, redirect_uri


def _validated(
    query: _Query, client: Client, reply_to: ReplyTo, tenant: Tenant
) -> AuthorizationRequest:
    response_type = query.get("response_type")
    if response_type not in RESPONSE_TYPES:
        raise OAuthError(
            "unsupported_response_type", "response_type must be token (implicit) or code"
        )
    if RESPONSE_TYPES[response_type] not in client.grants:
        raise OAuthError(
            "unauthorized_client", f"{client.client_id} may not use response_type={response_type}"
        )
    target = resolve_target(tenant, query.get("audience"), query.get("resource"))
    api = target.api
    scopes = requested_scopes(api, query.get("scope"))
    if not scopes:
        raise OAuthError(
            "invalid_scope",
            f"ask for at least one scope of {api.identifier}: {' '.join(api.scopes)}",
        )
    prompt = frozenset((query.get("prompt") or "").split())
    if not prompt <= PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise OAuthError("invalid_request", "prompt must be none, or login and/or consent")
    challenge = None
    if response_type == "code":
        challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
        if challenge is None:
            raise OAuthError("invalid_request", "code_challenge is required (PKCE with S256)")
        if method != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not CHALLENGE.fullmatch(challenge):
            raise OAuthError(
                "invalid_request", "code_challenge must be the base64url SHA-256 of the verifier"
            )
    query.get("nonce")  # accepted (and length-checked); access tokens do not carry it
    return AuthorizationRequest(
        client=client,
        target=target,
        scopes=scopes,
        response_type=response_type,
        reply_to=reply_to,
        prompt=prompt,
        code_challenge=challenge,
    )
