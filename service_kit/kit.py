"""``ServiceKit``: the house every service lives in, installed by one ``init_app`` call.

``kit = ServiceKit("Calendar API", "v1")`` at module level, then in the app factory
``kit.init_app(app, settings, checks=...)`` installs, in this order: the size cap, JSON error
bodies, the OpenAPI document and ``/docs``, CORS, security headers, request ids and the JSON
access log, metrics, per-caller rate limits, and ``/healthz`` + ``/readyz``.
``kit.register(app, blp)`` adds a service's flask-smorest blueprints, so each lands in the
OpenAPI document. Each behaviour is written once in its own module here and tested once for
every service (``tests/service_kit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Flask
from flask_smorest import Api

from shared_auth.resource_metadata import origin

from . import health
from .auth_events import track_auth
from .cors import init_cors
from .docs import DocsSignIn, init_docs, openapi_config
from .errors import ErrorFields, HtmlPage, init_errors
from .headers import init_security_headers
from .limits import CallerKey, RateLimits, by_subject
from .logs import init_request_logging
from .metrics import init_metrics
from .parsing import refuse_oversized_streams
from .settings import ServiceSettings

EXTENSION = "service_kit"
DEFAULT_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class ServiceKit:
    """One per service: its title and version, the rest per app in ``init_app``."""

    def __init__(self, title: str, version: str, *, description: str | None = None) -> None:
        self.title = title
        self.version = version
        self.description = description

    def init_app(
        self,
        app: Flask,
        settings: ServiceSettings,
        *,
        checks: Mapping[str, health.Check] | None = None,
        openapi: bool = True,
        sign_in: DocsSignIn | None = None,
        cors_paths: Mapping[str, Iterable[str]] | None = None,
        cors_methods: Iterable[str] = DEFAULT_METHODS,
        cors_allow_headers: Iterable[str] = ("Authorization", "Content-Type", "DPoP"),
        cors_expose_headers: Iterable[str] = (),
        html_page: HtmlPage | None = None,
        error_fields: ErrorFields | None = None,
        doc_choices: Mapping[str, Sequence[str]] | None = None,
        rate_limit_by: CallerKey = by_subject,
    ) -> None:
        """Install every shared behaviour on ``app``.

        ``openapi=False`` is for a service without an API document (the issuer). CORS applies
        ``settings.cors_origins`` to every path unless ``cors_paths`` maps path patterns to
        origins itself. ``doc_choices`` documents, as an OpenAPI ``enum``, the fields marked
        ``metadata={"choices": key}`` whose allowed values only the app knows (its data).
        With ``{PREFIX}_RATE_LIMIT`` set, each caller (``rate_limit_by(principal)``, the
        token's subject by default) gets that budget; ``BearerAuth(admit=service_kit.admit)``
        counts it.
        """
        app.extensions[EXTENSION] = settings
        app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
        app.before_request(refuse_oversized_streams)
        app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented order
        app.json.ensure_ascii = False  # type: ignore[attr-defined]  # "São Paulo", not "\u00e3"
        track_auth(app)
        api = self._init_openapi(app, settings, sign_in) if openapi else None
        for key, choices in (doc_choices or {}).items():
            _document_choices(api, key, choices)
        init_errors(app, html_page, error_fields)
        init_cors(
            app,
            cors_paths if cors_paths is not None else {r"/*": settings.cors_origins},
            methods=cors_methods,
            allow_headers=cors_allow_headers,
            expose_headers=cors_expose_headers,
        )
        init_security_headers(app)
        init_request_logging(app, settings.prefix.lower())
        if settings.metrics:
            init_metrics(app, settings.prefix.lower())
        rate_limit = getattr(settings, "rate_limit", None)
        if rate_limit:
            RateLimits(
                app,
                rate_limit,
                storage_url=settings.redis_url,
                prefix=settings.prefix.lower(),
                caller=rate_limit_by,
            )
        app.extensions[health.CHECKS] = dict(checks or {})
        self._register(app, api, health.blp)

    def register(self, app: Flask, *blueprints: Any) -> None:
        """Register blueprints on the app (and in its OpenAPI document, when it has one)."""
        api = _api(app)
        for blueprint in blueprints:
            self._register(app, api, blueprint)

    def _init_openapi(
        self, app: Flask, settings: ServiceSettings, sign_in: DocsSignIn | None
    ) -> Api:
        app.config.update(openapi_config(self.title, self.version))
        if self.description:
            app.config.setdefault("API_SPEC_OPTIONS", {})["info"] = {
                "description": self.description
            }
        api = Api(app)
        public_url = getattr(settings, "public_url", None)
        public = origin(public_url) if public_url else None
        init_docs(app, self.title, public_origin=public, sign_in=sign_in)
        return api

    @staticmethod
    def _register(app: Flask, api: Api | None, blueprint: Any) -> None:
        if api is not None:
            api.register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)


def _document_choices(api: Api | None, key: str, choices: Sequence[str]) -> None:
    """An apispec attribute function: the enum of a field whose values the data decides."""
    if api is None:
        return
    values = list(choices)

    def choices_enum(self: Any, field: Any, **_: Any) -> dict[str, Any]:
        return {"enum": values} if field.metadata.get("choices") == key else {}

    api.ma_plugin.converter.add_attribute_function(choices_enum)


def _api(app: Flask) -> Api | None:
    apis = app.extensions.get("flask-smorest", {}).get("apis", {})
    return apis[""]["ext_obj"] if "" in apis else None
