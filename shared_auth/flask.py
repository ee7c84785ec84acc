"""The Flask integration: a decorator that runs the four steps and documents itself.

The Flask extension pattern: ``auth = BearerAuth()`` at module level, where routes can use
``@auth.required("read")``, and ``auth.init_app(app, settings)`` in the app factory. The state
(settings, verifier, key cache) lives in ``app.extensions``, so one module-level object serves
every app a process builds. Put ``@auth.required(...)`` above flask-smorest's
``arguments``/``response`` decorators so it runs first: an unauthenticated caller learns
nothing about the request schema. With a flask-smorest ``Api`` on the app, ``init_app`` also
documents the security schemes and every protected operation's 400/401/403/503 answers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, jsonify, request

from .authenticate import Authenticator, HttpRequest
from .config import AuthSettings, ConfigError
from .dpop import DPoPVerifier
from .errors import BEARER, DPOP, AuthError, Challenge, token_fingerprint
from .extract import FORM_CONTENT_TYPE
from .flask_openapi import document_auth, oauth2_flows, smorest_api, with_security
from .principal import Principal, require_scopes
from .replay import ReplayStore
from .replay import replay_store as make_replay_store
from .resource_metadata import CACHE_CONTROL, metadata, metadata_path, metadata_url, origin
from .signals import token_accepted, token_rejected
from .verify import TokenVerifier

log = logging.getLogger("shared_auth")
Admit = Callable[[Principal | None], None]
View = TypeVar("View", bound=Callable[..., Any])

EXTENSION = "shared_auth"
REPLAY_FILE = "dpop-replay.sqlite3"


@dataclass(frozen=True, slots=True)
class AuthState:
    """One app's authentication: its settings, its verifier and how it introduces itself."""

    settings: AuthSettings
    authenticator: Authenticator
    challenge: Challenge
    public_origin: str | None
    """``scheme://host[:port]`` of the configured resource URL: DPoP's ``htu`` is built on it."""
    metadata: dict[str, Any] | None = None
    """The RFC 9728 document, when the API has a resource identifier."""
    admit: Admit | None = None

    @property
    def verifier(self) -> TokenVerifier:
        return self.authenticator.verifier


class BearerAuth:
    """``auth = BearerAuth()`` at module level; ``auth.init_app(app, settings)`` per app."""

    def init_app(
        self,
        app: Flask,
        settings: AuthSettings,
        *,
        verifier: TokenVerifier | None = None,
        scopes: Mapping[str, str] | None = None,
        grants: Iterable[str] = (),
        resource: str | None = None,
        replay_store: ReplayStore | None = None,
        redis_url: str | None = None,
        admit: Admit | None = None,
    ) -> None:
        """Install authentication.

        ``scopes`` (name -> description) and ``grants`` (OAuth 2 grant types) describe the
        API in its OpenAPI document and its metadata. ``resource`` is the API's identifier,
        its public base URL (RFC 8707): with it, the API serves RFC 9728 metadata, names it in
        every challenge, and accepts DPoP (whose ``htu`` is checked against it); the proofs'
        ``jti`` go to ``replay_store``, by default Redis at ``redis_url`` or a SQLite file in
        the instance folder, shared by every worker. ``admit(principal)`` runs once the
        request's caller is known (None when its token was refused), before any scope check
        or view: rate limits count there, and may refuse.
        """
        verifier = verifier or TokenVerifier(settings)
        dpop = None
        if settings.dpop != "disabled":
            if resource is None and settings.dpop == "required":
                raise ConfigError("AUTH_DPOP=required needs the API's public URL to check htu")
            if resource is not None:
                store = replay_store or make_replay_store(
                    redis_url, Path(app.instance_path) / REPLAY_FILE
                )
                dpop = DPoPVerifier(
                    store,
                    algorithms=settings.dpop_algorithms,
                    max_age=settings.dpop_max_age,
                    leeway=settings.leeway,
                    nonces=settings.dpop_nonce,
                )
        authenticator = Authenticator(verifier, dpop)
        challenge = Challenge(
            realm=settings.realm,
            resource_metadata=metadata_url(resource) if resource else None,
            bearer=BEARER in authenticator.schemes,
            dpop_algs=settings.dpop_algorithms if DPOP in authenticator.schemes else (),
        )
        document = None
        if resource is not None:
            docs = f"{origin(resource)}/docs" if smorest_api(app) is not None else None
            document = metadata(
                settings, resource, scopes or {}, documentation=docs, dpop=dpop is not None
            )
            for path in {metadata_path(resource), metadata_path(resource).rstrip("/")}:
                app.add_url_rule(path, f"protected_resource{len(path)}", _resource_metadata)
        app.extensions[EXTENSION] = AuthState(
            settings,
            authenticator,
            challenge,
            origin(resource) if resource else None,
            document,
            admit,
        )
        app.register_error_handler(AuthError, _reject)
        app.after_request(_dpop_nonce)
        api = smorest_api(app)
        if api is not None:
            flows = oauth2_flows(settings.issuer, scopes or {}, grants, settings.audiences[0])
            document_auth(api, settings, flows)

    @staticmethod
    def state(app: Flask | None = None) -> AuthState:
        return (app or current_app).extensions[EXTENSION]

    def authenticate(self, scopes: tuple[str, ...] = ()) -> Principal:
        """Steps 0-3 (and DPoP) for the current request; the caller is ``flask.g.principal``.

        ``scopes`` (what the route needs) are named in the challenge when no token was sent.
        """
        state = self.state()
        form = None
        if request.mimetype == FORM_CONTENT_TYPE:
            form = {"access_token": request.form.getlist("access_token")}
        described = HttpRequest(
            method=request.method,
            url=(state.public_origin + request.path) if state.public_origin else request.base_url,
            authorization=request.headers.get("Authorization"),
            dpop=_dpop_headers(),
            query={"access_token": request.args.getlist("access_token")},
            form=form,
        )
        g.token_fingerprint = token_fingerprint(_token_in(described))
        try:
            _credentials, principal = state.authenticator.authenticate(described, scopes)
        except AuthError:
            if state.admit is not None:
                state.admit(None)
            raise
        if state.admit is not None:
            state.admit(principal)
        g.principal = principal
        token_accepted.send(current_app._get_current_object(), principal=principal)  # type: ignore[attr-defined]
        return principal

    def required(self, *scopes: str, any_of: Iterable[str] = ()) -> Callable[[View], View]:
        """Require a valid token holding every scope in ``scopes`` and one of ``any_of``."""
        alternatives = tuple(any_of)

        def decorator(view: View) -> View:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                principal = self.authenticate((*scopes, *alternatives))
                require_scopes(principal, scopes, alternatives)
                return view(*args, **kwargs)

            wrapper._apidoc = with_security(  # type: ignore[attr-defined]
                getattr(view, "_apidoc", {}), scopes, alternatives
            )
            return wrapper  # type: ignore[return-value]

        return decorator

    def signing_keys_check(self) -> str | None:
        """A readiness check: None when a usable signing key is loaded or can be fetched now,
        else what is wrong (never the issuer's URL)."""
        keys = self.state().verifier.keys
        if keys.has_keys or keys.refresh():
            return None
        return "no usable signing key from the issuer"


def _dpop_headers() -> tuple[str, ...]:
    """Every DPoP header value. WSGI servers join repeated headers with commas, and a JWS holds
    no comma, so a comma means two headers (refused: section 4.3 allows exactly one)."""
    return tuple(
        part.strip() for value in request.headers.getlist("DPoP") for part in value.split(",")
    )


def _token_in(described: HttpRequest) -> str | None:
    """The credential part of the Authorization header, for the log's fingerprint only."""
    value = (described.authorization or "").strip().partition(" ")[2].strip()
    return value or None


def _resource_metadata() -> Response:
    response = jsonify(BearerAuth.state().metadata)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _dpop_nonce(response: Response) -> Response:
    """Section 8.2: with nonces on, every answer to a DPoP request carries the current one."""
    state = app_state()
    dpop = state.authenticator.dpop if state else None
    if dpop is not None and dpop.nonces and "DPoP" in request.headers:
        response.headers.setdefault("DPoP-Nonce", dpop.current_nonce())
    return response


def app_state() -> AuthState | None:
    return current_app.extensions.get(EXTENSION)


def _reject(exc: AuthError) -> Response:
    g.auth_rejection = exc.reason
    token_rejected.send(current_app._get_current_object(), error=exc)  # type: ignore[attr-defined]
    log.warning(
        "request rejected",
        extra={
            "reason": exc.reason,
            "status": exc.status,
            "token_fp": g.get("token_fingerprint"),
            "path": request.path,
        },
    )
    response = jsonify(exc.body())
    response.status_code = exc.status
    response.headers.update(exc.headers(BearerAuth.state().challenge))
    response.headers["Cache-Control"] = "no-store"
    return response


def current_principal() -> Principal:
    """The caller of the current request; only valid inside a view behind ``required``."""
    principal = g.get("principal")
    if principal is None:
        raise RuntimeError("current_principal() used in a view without @auth.required")
    return principal
