"""Geocoding API: exact offline reverse geocoding for machine-to-machine callers.

``create_app`` loads the place data once per process (shared read-only by every thread and
every app built in that process) and refuses to build an app when the data is missing or
malformed (``DataError``) or a setting is invalid (``ConfigError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify
from flask_smorest import Api
from werkzeug.exceptions import MethodNotAllowed

from shared_auth import BearerAuth, oauth2_flows
from shared_auth.docs import docs_config, init_docs_assets
from shared_auth.request_log import init_request_logging

from .config import MAX_DISTANCE_LIMIT_KM, Settings, load_settings
from .data import DataError
from .routes import make_api_blueprint, make_health_blueprint
from .service import ATTRIBUTION, ATTRIBUTION_HEADER, Geocoder, shared_geocoder

__all__ = ["DataError", "GeocodingState", "create_app"]

DESCRIPTION = f"""\
Exact offline reverse geocoding for backends holding a client-credentials access token
(audience `https://api.example.com/geocoding/v1/`, scope `geocode` by default).

* Nearest place by **great-circle distance**, exactly (places are unit vectors in a KD-tree).
* Every answer carries `distance_km`. When the nearest place is farther than `max_distance_km`
  (default 50 km, at most {MAX_DISTANCE_LIMIT_KM:g}) the answer is still **200** with
  `place: null` and an `explanation`: the question was valid, there is just no place nearby.
* Latitude in [-90, 90], longitude in [-180, 180], finite numbers only, else 422.

**Data attribution.** {ATTRIBUTION} Every data response repeats this in its `attribution`
field and in the `{ATTRIBUTION_HEADER}` and `Link: rel="license"` headers.
"""


@dataclass(frozen=True, slots=True)
class GeocodingState:
    """What the views need, kept in ``app.extensions["geocoding"]``."""

    settings: Settings
    geocoder: Geocoder


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides settings named like their environment variables."""
    settings = load_settings(config)
    geocoder = shared_geocoder(settings.data)
    app = Flask(__name__)
    app.config.update(docs_config("Geocoding API", "1.0.0"))
    app.config.update(
        API_SPEC_OPTIONS={"info": {"description": DESCRIPTION}},
        # a batch item is ~40 bytes of JSON; leave room for whitespace, refuse the absurd
        MAX_CONTENT_LENGTH=max(64 * 1024, settings.batch_limit * 256),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # "São Paulo", not "S\u00e3o"
    app.config.update(dict(config or {}))
    app.extensions["geocoding"] = GeocodingState(settings=settings, geocoder=geocoder)
    api = Api(app)
    init_docs_assets(app)
    init_request_logging(app, "geocoding_api")
    app.register_error_handler(MethodNotAllowed, _method_not_allowed)
    auth = BearerAuth(settings.auth)
    auth.init_app(
        app,
        api,
        flows=oauth2_flows(
            settings.auth.issuer,
            {settings.scope: "Geocode points and search places"},
            ["client_credentials"],
        ),
    )
    api.register_blueprint(make_api_blueprint(auth, settings, geocoder.index.places.countries))
    api.register_blueprint(make_health_blueprint(auth))
    return app


def _method_not_allowed(exc: MethodNotAllowed) -> Response:
    """405 with the ``Allow`` header RFC 9110 requires (flask-smorest's handler drops it)."""
    allowed = ", ".join(sorted(exc.valid_methods or ()))
    response = jsonify(
        code=405, status="Method Not Allowed", message=f"This resource allows: {allowed}"
    )
    response.status_code = 405
    response.headers["Allow"] = allowed
    return response
