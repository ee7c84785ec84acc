"""HTTP routes: ``/geocoding/v1/{reverse, reverse/batch, search}``.

Each view is a few lines over ``Geocoder``; the decorators carry the rules. Auth sits above
the flask-smorest decorators, so a caller without a valid token learns nothing about the
parameters.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from service_kit import Blueprint, Unprocessable

from .auth import SCOPE, auth
from .config import GeocodingSettings
from .schemas import (
    BatchRequestSchema,
    BatchResultSchema,
    ReverseQuerySchema,
    ReverseResultSchema,
    SearchQuerySchema,
    SearchResultSchema,
    point_or_error,
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

blp = Blueprint(
    "geocoding",
    __name__,
    url_prefix=API_PREFIX,
    description="Reverse and forward geocoding. " + ATTRIBUTION,
)


def geocoder() -> Geocoder:
    return current_app.extensions["geocoding"].geocoder


def settings() -> GeocodingSettings:
    return current_app.extensions["geocoding"].settings


@blp.after_request
def _attribution(response: Response) -> Response:
    response.headers[ATTRIBUTION_HEADER] = ATTRIBUTION_HEADER_VALUE
    response.headers["Link"] = LICENSE_LINKS
    return response


@blp.route("/reverse")
class Reverse(MethodView):
    @auth.required(SCOPE)
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
    @blp.errors(400)
    def get(self, lat: float, lon: float, max_distance_km: float | None = None) -> Any:
        """Name the place nearest to a point"""
        return geocoder().reverse(lat, lon, max_distance_km or settings().max_distance_km)


@blp.route("/reverse/batch")
class ReverseBatch(MethodView):
    @auth.required(SCOPE)
    @blp.doc(
        description=(
            "Up to the service's batch limit (`GEOCODING_BATCH_LIMIT`, 1000 by default) "
            "points. Answers come in request order, each with its `index`; an invalid point "
            "gets an `error` entry of its own and the others are answered normally."
        )
    )
    @blp.arguments(BatchRequestSchema)
    @blp.response(200, BatchResultSchema, headers=_HEADERS_DOC)
    @blp.errors(400, 413, 415)
    def post(self, body: dict[str, Any]) -> Any:
        """Reverse-geocode many points at once"""
        points, limit = body["points"], settings().batch_limit
        if len(points) > limit:
            message = (
                f"points holds {len(points)} points; at most {limit} are allowed per "
                "request, so split the batch"
            )
            raise Unprocessable(message, errors={"json": {"points": [message]}})
        max_km = body.get("max_distance_km") or settings().max_distance_km
        results = geocoder().reverse_many([point_or_error(p) for p in points], max_km)
        return {"max_distance_km": max_km, "results": results, "attribution": ATTRIBUTION}


@blp.route("/search")
class Search(MethodView):
    @auth.required(SCOPE)
    @blp.doc(
        description=(
            "Case-, accent-, apostrophe- and dash-insensitive prefix match on the place name "
            "(`sao pa` finds São Paulo, `zurich` finds Zürich), most populous first."
        )
    )
    @blp.arguments(SearchQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, SearchResultSchema, headers=_HEADERS_DOC)
    @blp.errors(400)
    def get(self, q: str, limit: int, country: str | None = None) -> Any:
        """Find places by the start of their name"""
        return {
            "query": {"q": q, "limit": limit, "country": country},
            "results": geocoder().search(q, limit, country),
            "attribution": ATTRIBUTION,
        }
