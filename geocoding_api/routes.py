"""HTTP routes: ``/geocoding/v1/{reverse, reverse/batch, search}`` plus health probes.

The blueprints are built by a function because ``@auth.required`` needs the app's
``BearerAuth``; each view is a few lines over ``Geocoder``, the decorators carry the rules.
Auth sits above the flask-smorest decorators, so a caller without a valid token learns nothing
about the parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NoReturn

from flask import Request, Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.error_handler import ErrorSchema
from marshmallow import Schema, ValidationError
from webargs.flaskparser import FlaskParser

from shared_auth import BearerAuth

from .config import Settings
from .schemas import (
    BatchRequestSchema,
    BatchResultSchema,
    HealthSchema,
    ReadinessSchema,
    ReverseQuerySchema,
    ReverseResultSchema,
    SearchResultSchema,
    point_or_error,
    search_query_schema,
)
from .service import (
    ATTRIBUTION,
    ATTRIBUTION_HEADER,
    ATTRIBUTION_HEADER_VALUE,
    LICENSE_LINKS,
    Geocoder,
)

API_PREFIX = "/geocoding/v1"
_HEADERS_DOC = {
    ATTRIBUTION_HEADER: {
        "description": "Data attribution the GeoNames licence (CC BY 4.0) requires",
        "schema": {"type": "string"},
    },
    "Link": {"description": "The data licences, rel=license", "schema": {"type": "string"}},
}


class _StrictParser(FlaskParser):
    """webargs' parser, closing three gaps that would otherwise reach clients.

    * A query parameter given twice (``lat=1&lat=95``) is refused: webargs would silently use
      the first value, and a caller who meant the second would get a wrong answer.
    * JSON that parses but Python cannot hold (``[[[[...`` nested past the recursion limit,
      integers over 4,300 digits) is a 400 like any invalid JSON, not a 500.
    * Invalid JSON answers are ``{code, status, message}``: on these routes the OpenAPI 400 is
      shared_auth's ``AuthError`` shape (``invalid_request``), which has no ``errors`` field.
    """

    def load_querystring(self, req: Request, schema: Schema) -> Any:
        repeated = {
            name: [f"{name} must be given once; it appears {len(req.args.getlist(name))} times"]
            for name in schema.fields
            if len(req.args.getlist(name)) > 1
        }
        if repeated:
            raise ValidationError(repeated)
        return super().load_querystring(req, schema)

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise  # webargs answers these itself, through the method below
        except (RecursionError, ValueError):
            self._invalid_json("Invalid JSON body: nested too deeply or a number too long.")

    def _handle_invalid_json_error(self, error: Exception, req: Request, *args: Any, **kw: Any):
        self._invalid_json("Invalid JSON body.")

    @staticmethod
    def _invalid_json(message: str) -> NoReturn:
        abort(400, message=message)


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _StrictParser()


def geocoder() -> Geocoder:
    return current_app.extensions["geocoding"].geocoder


def make_api_blueprint(
    auth: BearerAuth, settings: Settings, country_codes: Iterable[str]
) -> Blueprint:
    """The geocoding routes, guarded by ``settings.scope``; ``country_codes`` the data knows."""
    search_schema = search_query_schema(country_codes)
    blp = _Blueprint(
        "geocoding",
        __name__,
        url_prefix=API_PREFIX,
        description="Reverse and forward geocoding. " + ATTRIBUTION,
    )

    @blp.after_request
    def _attribution(response: Response) -> Response:
        response.headers[ATTRIBUTION_HEADER] = ATTRIBUTION_HEADER_VALUE
        response.headers["Link"] = LICENSE_LINKS
        return response

    @blp.route("/reverse")
    class Reverse(MethodView):
        @auth.required(settings.scope)
        @blp.doc(
            description=(
                "The nearest place by great-circle distance, its distance and the IANA time zone "
                "of the point. When the nearest place is farther than `max_distance_km` the "
                "answer is still 200 (a valid question with no place nearby): `place` is null, "
                "`distance_km` tells how far the nearest one is, and `explanation` says so."
            )
        )
        @blp.arguments(ReverseQuerySchema, location="query", as_kwargs=True)
        @blp.response(200, ReverseResultSchema, headers=_HEADERS_DOC)
        def get(self, lat: float, lon: float, max_distance_km: float | None = None) -> Any:
            """Name the place nearest to a point"""
            return geocoder().reverse(lat, lon, max_distance_km or settings.max_distance_km)

    @blp.route("/reverse/batch")
    class ReverseBatch(MethodView):
        @auth.required(settings.scope)
        @blp.doc(
            description=(
                "Up to the service's batch limit (`GEOCODING_BATCH_LIMIT`, 1000 by default) "
                "points. Answers come in request order, each with its `index`; an invalid point "
                "gets an `error` entry of its own and the others are answered normally."
            )
        )
        @blp.arguments(BatchRequestSchema)
        @blp.response(200, BatchResultSchema, headers=_HEADERS_DOC)
        @blp.alt_response(413, schema=ErrorSchema, description="Request body too large")
        def post(self, body: dict[str, Any]) -> Any:
            """Reverse-geocode many points at once"""
            points = body["points"]
            if len(points) > settings.batch_limit:
                message = (
                    f"points holds {len(points)} points; at most {settings.batch_limit} are "
                    "allowed per request, so split the batch"
                )
                abort(422, message=message, errors={"json": {"points": [message]}})
            max_km = body.get("max_distance_km") or settings.max_distance_km
            results = geocoder().reverse_many([point_or_error(p) for p in points], max_km)
            return {"max_distance_km": max_km, "results": results, "attribution": ATTRIBUTION}

    @blp.route("/search")
    class Search(MethodView):
        @auth.required(settings.scope)
        @blp.doc(
            description=(
                "Case-, accent-, apostrophe- and dash-insensitive prefix match on the place name "
                "(`sao pa` finds São Paulo, `zurich` finds Zürich), most populous first."
            )
        )
        @blp.arguments(search_schema, location="query", as_kwargs=True)
        @blp.response(200, SearchResultSchema, headers=_HEADERS_DOC)
        def get(self, q: str, limit: int, country: str | None = None) -> Any:
            """Find places by the start of their name"""
            return {
                "query": {"q": q, "limit": limit, "country": country},
                "results": geocoder().search(q, limit, country),
                "attribution": ATTRIBUTION,
            }

    return blp


def make_health_blueprint(auth: BearerAuth) -> Blueprint:
    """``/healthz`` (the process answers) and ``/readyz`` (it can verify tokens and geocode)."""
    blp = Blueprint("health", __name__, description="Liveness and readiness probes (no token)")

    @blp.route("/healthz")
    class Health(MethodView):
        @blp.response(200, HealthSchema)
        def get(self) -> Any:
            """Liveness: the process is up"""
            return {"status": "ok"}

    @blp.route("/readyz")
    class Ready(MethodView):
        @blp.response(200, ReadinessSchema)
        @blp.alt_response(503, schema=ReadinessSchema, description="A check failed")
        def get(self) -> Any:
            """Readiness: the issuer's signing keys are loaded and so is the place index"""
            keys = auth.verifier.keys
            keys_ok = keys.has_keys or keys.refresh()
            places = len(geocoder().index)
            checks = {
                "signing_keys": "ok"
                if keys_ok
                else "unavailable: the issuer's JWKS cannot be fetched",
                "places": f"ok: {places} places" if places else "empty",
            }
            ready = keys_ok and places > 0
            return {"status": "ready" if ready else "unavailable", "checks": checks}, (
                200 if ready else 503
            )

    return blp
