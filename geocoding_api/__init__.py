"""Geocoding API: exact offline reverse geocoding for machine-to-machine callers.

``create_app`` loads the place data once per process (shared read-only by every thread and
every app built in that process) and refuses to build an app when the data is missing or
malformed (``DataError``) or a setting is invalid (``ConfigError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from service_kit import DocsSignIn, ServiceKit, admit, by_client, merged_env

from .auth import SCOPES, auth
from .config import (
    MAX_DISTANCE_LIMIT_KM,
    GeocodingSettings,
    auth_settings,
    service_settings,
)
from .data import DataError
from .routes import blp
from .schemas import COUNTRY_CODES
from .service import ATTRIBUTION, ATTRIBUTION_HEADER, Geocoder, shared_geocoder

__all__ = ["DataError", "GeocodingState", "create_app"]

DESCRIPTION = f"""\
Exact offline reverse geocoding for backends holding a client-credentials access token
(audience `https://api.example.com/geocoding/v1/`, scope `geocode`).

* Nearest place by **great-circle distance**, exactly (places are unit vectors in a KD-tree).
* Every answer carries `distance_km`. When the nearest place is farther than `max_distance_km`
  (default 50 km, at most {MAX_DISTANCE_LIMIT_KM:g}) the answer is still **200** with
  `place: null` and an `explanation`: the question was valid, there is just no place nearby.
* Latitude in [-90, 90], longitude in [-180, 180]: a value that is not a plain decimal number
  is a 400, a number out of range a 422.

**Data attribution.** {ATTRIBUTION} Every data response repeats this in its `attribution`
field and in the `{ATTRIBUTION_HEADER}` and `Link: rel="license"` headers.
"""
kit = ServiceKit("Geocoding API", "1.0.0", description=DESCRIPTION)


@dataclass(frozen=True, slots=True)
class GeocodingState:
    """What the views need, kept in ``app.extensions["geocoding"]``."""

    settings: GeocodingSettings
    geocoder: Geocoder


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides settings named like their environment variables."""
    env = merged_env(config, os.environ)
    settings = GeocodingSettings.from_env(env)
    service = service_settings(env, settings.batch_limit)
    authn = auth_settings(env, service.public_url)
    geocoder = shared_geocoder(settings.data)
    app = Flask(__name__, instance_path=service.instance_path)
    app.config.update(config or {})  # e.g. TESTING
    app.extensions["geocoding"] = GeocodingState(settings=settings, geocoder=geocoder)
    kit.init_app(
        app,
        service,
        checks={"signing_keys": auth.signing_keys_check, "places": geocoder.check},
        sign_in=DocsSignIn(authn.issuer, "api-docs", tuple(SCOPES)),
        doc_choices={COUNTRY_CODES: sorted(geocoder.index.places.countries)},
        rate_limit_by=by_client,
    )
    auth.init_app(
        app,
        authn,
        scopes=SCOPES,
        grants=("client_credentials", "authorization_code"),
        resource=service.public_url,
        redis_url=service.redis_url,
        admit=admit,
    )
    kit.register(app, blp)
    return app
