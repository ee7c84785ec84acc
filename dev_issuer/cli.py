"""``dev-issuer`` (or ``python -m dev_issuer``): serve, mint tokens, rotate keys, forget consent.

``token`` prints the token and a newline, nothing else, so ``TOKEN=$(dev-issuer token ...)``
works; notes and errors go to stderr. Minting builds the app exactly as the server does and
goes through the same ``TokenService``, so it uses the same tenant, issuer URL and key folder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from flask import Flask

from .app import create_app
from .context import issuer_context, issuer_url, token_service
from .errors import OAuthError
from .keys import KeyStoreError
from .settings import ConfigError
from .tenant import MAX_TOKEN_LIFETIME, Client, TenantError
from .tokens import requested_scopes, resolve_target, scopes_for_user


class UsageError(ValueError):
    """A command-line value that names nothing in the tenant."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except OAuthError as exc:
        print(f"dev-issuer: {exc.error}: {exc.description}", file=sys.stderr)
    except (UsageError, TenantError, KeyStoreError, ConfigError) as exc:
        print(f"dev-issuer: {exc}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dev-issuer", description="A local authorization server that behaves like Auth0."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the issuer (development server)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (DEV_ISSUER_PORT, else 8000)")
    serve.set_defaults(handler=_serve)

    token = commands.add_parser("token", help="print an access token, without HTTP")
    kinds = token.add_subparsers(dest="kind", required=True, metavar="KIND")
    client = kinds.add_parser("client", help="a client-credentials (machine) token")
    client.add_argument("--client-id", required=True)
    client.add_argument("--audience", required=True)
    client.add_argument("--scope", help="a subset of the client grant (default: all of it)")
    client.add_argument("--expires-in", type=_lifetime, help="seconds (default: the API's)")
    client.set_defaults(handler=_token_client)
    user = kinds.add_parser("user", help="a token for a dev user, as if consented")
    user.add_argument("--user", required=True, help="user id, e.g. usr_123")
    user.add_argument("--audience", required=True)
    user.add_argument("--scope", required=True, help='space-separated, e.g. "read write"')
    user.add_argument("--client-id", default="demo-spa", help="the azp claim (demo-spa)")
    user.add_argument(
        "--expires-in", type=_lifetime, help="seconds (default: the API's; negative: expired)"
    )
    user.set_defaults(handler=_token_user)

    rotate = commands.add_parser("rotate-keys", help="make a new signing key")
    rotate.add_argument(
        "--grace",
        type=int,
        help="seconds the old public key stays in the JWKS "
        "(default: the longest token lifetime in the tenant)",
    )
    rotate.set_defaults(handler=_rotate_keys)

    forget = commands.add_parser("forget-consent", help="make users see the consent page again")
    forget.add_argument("--user", help="only this user's consent (default: everyone's)")
    forget.set_defaults(handler=_forget_consent)
    return parser


def _lifetime(raw: str) -> int:
    value = int(raw)
    if abs(value) > MAX_TOKEN_LIFETIME:
        raise argparse.ArgumentTypeError(f"must be within +-{MAX_TOKEN_LIFETIME} seconds")
    return value


def _serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    config = {} if args.port is None else {"DEV_ISSUER_PORT": args.port}
    app = create_app(config)
    port = app.config["DEV_ISSUER_PORT"]
    print(
        f"dev issuer {issuer_url(app)} on http://{args.host}:{port}/ "
        f"(tenant {issuer_context(app).tenant.source}, keys {issuer_context(app).keys.directory})",
        file=sys.stderr,
    )
    run_simple(args.host, port, app, threaded=True)
    return 0


def _token_client(args: argparse.Namespace) -> int:
    app = create_app()
    client = _client(app, args.client_id)
    target = resolve_target(issuer_context(app).tenant, args.audience, None)
    issued = token_service(app).client_credentials(client, target, args.scope, args.expires_in)
    print(issued.access_token)
    return 0


def _token_user(args: argparse.Namespace) -> int:
    app = create_app()
    tenant = issuer_context(app).tenant
    user = tenant.users.get(args.user)
    if user is None:
        raise UsageError(f"unknown user {args.user!r}; users: {', '.join(tenant.users)}")
    client = _client(app, args.client_id)
    if not {"implicit", "authorization_code"} & client.grants:
        raise UsageError(f"{client.client_id} signs no users in; use e.g. --client-id demo-spa")
    service = token_service(app)
    target = resolve_target(tenant, args.audience, None)
    api = target.api
    wanted = requested_scopes(api, args.scope)
    scopes = scopes_for_user(api, user, wanted)
    if scopes != wanted:
        dropped = " ".join(s for s in wanted if s not in scopes)
        print(f"dev-issuer: note: {user.user_id} lacks permission for {dropped}", file=sys.stderr)
    print(service.for_user(user, client, target, scopes, args.expires_in).access_token)
    return 0


def _client(app: Flask, client_id: str) -> Client:
    clients = issuer_context(app).tenant.clients
    if client_id not in clients:
        raise UsageError(f"unknown client {client_id!r}; clients: {', '.join(clients)}")
    return clients[client_id]


def _rotate_keys(args: argparse.Namespace) -> int:
    app = create_app()
    context = issuer_context(app)
    grace = args.grace
    if grace is None:
        grace = max(api.token_lifetime for api in context.tenant.apis.values())
    if grace < 0:
        raise UsageError("--grace cannot be negative")
    new, old = context.keys.rotate(grace)
    until = datetime.fromtimestamp(old.drop_after, UTC).isoformat(timespec="seconds")
    print(f"new signing key {new.kid}")
    print(f"old key {old.kid} stays in the JWKS until {until}")
    return 0


def _forget_consent(args: argparse.Namespace) -> int:
    app = create_app()
    removed = issuer_context(app).store.forget_consent(args.user)
    print(f"forgot {removed} consent record(s)")
    return 0
