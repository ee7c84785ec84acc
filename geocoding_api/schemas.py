"""Request and response schemas; every validation message names the parameter and its range.

Batch items are deliberately *not* validated by a schema: one bad point must become a
per-item error, not a 422 for the whole request. ``point_or_error`` applies the same rules and
the same wording as the query-string schema.
"""

from __future__ import annotations

import math
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, post_load, validate

from .config import MAX_DISTANCE_LIMIT_KM

SEARCH_LIMIT_MAX = 50
SEARCH_LIMIT_DEFAULT = 10
QUERY_MAX_LENGTH = 100

_RANGES = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}
_WHAT = {"lat": "latitude", "lon": "longitude"}


def _range_text(name: str) -> str:
    low, high = _RANGES[name]
    return f"{name} must be a finite number from {low:g} to {high:g} (the {_WHAT[name]} in degrees)"


def _required_text(name: str) -> str:
    low, high = _RANGES[name]
    return f"{name} is required: a number from {low:g} to {high:g} (the {_WHAT[name]} in degrees)"


_JSON_TYPES = {str: "a string", list: "a list", dict: "an object", bool: "true/false"}


def _coordinate_field(name: str) -> fields.Float:
    low, high = _RANGES[name]
    text = _range_text(name)
    return fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(low, high, error=text + "; got {input}"),
        error_messages={
            "required": _required_text(name),
            "null": text,
            "invalid": text,
            "special": text + "; got nan or infinity",
        },
        metadata={"description": f"{_WHAT[name].capitalize()} in degrees, {low:g} to {high:g}"},
    )


_DISTANCE_TEXT = (
    f"max_distance_km must be a number of kilometres above 0 and at most {MAX_DISTANCE_LIMIT_KM:g}"
)


def _max_distance_field() -> fields.Float:
    return fields.Float(
        allow_nan=False,
        validate=validate.Range(
            0, MAX_DISTANCE_LIMIT_KM, min_inclusive=False, error=_DISTANCE_TEXT + "; got {input}"
        ),
        error_messages={
            "invalid": _DISTANCE_TEXT,
            "null": _DISTANCE_TEXT,
            "special": _DISTANCE_TEXT,
        },
        metadata={
            "description": "Farthest a place may be to be named (km); the service default "
            "applies when left out",
            "exclusiveMinimum": True,  # OpenAPI 3.0 form; apispec leaves it out
        },
    )


def point_or_error(item: Any) -> tuple[float, float] | str:
    """A batch item as ``(lat, lon)``, or the reason it is not a valid point."""
    if not isinstance(item, dict):
        return 'each point must be a JSON object like {"lat": 37.39, "lon": -122.08}'
    unknown = sorted(str(key) for key in item if key not in _RANGES)
    if unknown:
        return f"unknown field {unknown[0][:40]!r}: a point holds only lat and lon"
    values: list[float] = []
    for name, (low, high) in _RANGES.items():
        if name not in item:
            return _required_text(name)
        raw = item[name]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return _range_text(name) + f"; got {_JSON_TYPES.get(type(raw), 'null')}"
        try:
            value = float(raw)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            return _range_text(name) + "; got nan or infinity"
        if not low <= value <= high:
            return _range_text(name) + f"; got {value}"
        values.append(value)
    return values[0], values[1]


# -- requests -----------------------------------------------------------------------------------


class ReverseQuerySchema(Schema):
    lat = _coordinate_field("lat")
    lon = _coordinate_field("lon")
    max_distance_km = _max_distance_field()


class BatchRequestSchema(Schema):
    points = fields.List(
        # Any JSON value is accepted here and checked item by item by ``point_or_error``: a bad
        # item is answered with its own error entry, so the contract cannot reject it.
        fields.Raw(
            allow_none=True,
            metadata={
                "description": "A point {lat, lon}: lat a number from -90 to 90, lon from -180 "
                "to 180. Any other value gets an error entry of its own."
            },
        ),
        required=True,
        validate=validate.Length(min=1, error="points must hold at least one point"),
        error_messages={
            # marshmallow formats these messages: braces are doubled
            "required": 'points is required: a list of {{"lat": ..., "lon": ...}} objects',
            "invalid": 'points must be a list of {{"lat": ..., "lon": ...}} objects',
            "null": 'points must be a list of {{"lat": ..., "lon": ...}} objects',
        },
        metadata={
            "description": "Points to geocode, each {lat, lon}; an invalid point gets its own "
            "error entry and does not fail the others",
            "example": [{"lat": 37.386, "lon": -122.0838}, {"lat": 48.8566, "lon": 2.3522}],
        },
    )
    max_distance_km = _max_distance_field()


COUNTRY_CODES = "country_codes"
"""``kit.init_app(doc_choices=...)`` documents the data's codes as the enum of ``country``."""


def _known_country(value: str) -> None:
    """A code of a country the loaded data holds (the data decides, so it is read per app)."""
    countries = current_app.extensions["geocoding"].geocoder.index.places.countries
    if value.upper() not in countries:
        raise ValidationError(f"country {value.upper()} is not a country code in the data")


class SearchQuerySchema(Schema):
    q = fields.String(
        required=True,
        validate=[
            validate.Length(
                min=1,
                max=QUERY_MAX_LENGTH,
                error=f"q must be 1 to {QUERY_MAX_LENGTH} characters long",
            ),
        ],
        error_messages={
            "required": f"q is required: the start of a place name, 1 to {QUERY_MAX_LENGTH} "
            "characters"
        },
        metadata={
            "description": "Start of a place name; case, accents, apostrophes and dashes are "
            "ignored (sao pa finds São Paulo)"
        },
    )
    limit = fields.Integer(
        load_default=SEARCH_LIMIT_DEFAULT,
        validate=validate.Range(
            1,
            SEARCH_LIMIT_MAX,
            error=f"limit must be a whole number from 1 to {SEARCH_LIMIT_MAX}; got {{input}}",
        ),
        error_messages={"invalid": f"limit must be a whole number from 1 to {SEARCH_LIMIT_MAX}"},
        metadata={"description": f"Most results to return, 1 to {SEARCH_LIMIT_MAX}"},
    )
    country = fields.String(
        validate=[
            validate.Regexp(
                r"^[A-Za-z]{2}$",
                error="country must be an ISO 3166-1 alpha-2 code such as US or BR",
            ),
            _known_country,
        ],
        metadata={
            "description": "Only places in this country (ISO 3166-1 alpha-2 code, any case)",
            "choices": COUNTRY_CODES,
        },
    )

    @post_load
    def _upper_country(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "country" in data:
            data["country"] = data["country"].upper()
        return data


# -- responses ----------------------------------------------------------------------------------


class PlaceSchema(Schema):
    """A place as the API shows it; ``PLACE_FIELDS`` (its field names) builds every answer."""

    name = fields.String(required=True, metadata={"example": "Mountain View"})
    admin1 = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "State or region", "example": "California"},
    )
    admin2 = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "County or district", "example": "Santa Clara County"},
    )
    country_code = fields.String(required=True, metadata={"example": "US"})
    country = fields.String(allow_none=True, required=True, metadata={"example": "United States"})
    display_name = fields.String(
        required=True, metadata={"example": "Mountain View, California, United States"}
    )
    lat = fields.Float(required=True, metadata={"description": "The place's own latitude"})
    lon = fields.Float(required=True, metadata={"description": "The place's own longitude"})
    population = fields.Integer(required=True)


PLACE_FIELDS = tuple(PlaceSchema._declared_fields)


class ReverseEchoSchema(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    max_distance_km = fields.Float(required=True)


_PLACE_DOC = "The nearest place, or null when it is farther than max_distance_km (see explanation)"
_DISTANCE_DOC = (
    "Great-circle distance in km from the queried point to the nearest place in the data, "
    "given even when that place is beyond max_distance_km"
)
_TIME_ZONE_DOC = (
    "IANA time zone of the queried point; at sea the nautical zone, e.g. Etc/GMT+10 (UTC-10)"
)


def _answer_fields(*, required: bool) -> dict[str, fields.Field]:
    """What every reverse answer says, single or batch (a batch error item says none of it)."""
    return {
        "place": fields.Nested(
            PlaceSchema, allow_none=True, required=required, metadata={"description": _PLACE_DOC}
        ),
        "distance_km": fields.Float(required=required, metadata={"description": _DISTANCE_DOC}),
        "time_zone": fields.String(
            allow_none=True, required=required, metadata={"description": _TIME_ZONE_DOC}
        ),
        "explanation": fields.String(
            allow_none=True,
            required=required,
            metadata={"description": "Why place is null; null when a place is given"},
        ),
    }


ReverseResultSchema = Schema.from_dict(
    {
        "query": fields.Nested(ReverseEchoSchema, required=True),
        **_answer_fields(required=True),
        "attribution": fields.String(required=True),
    },
    name="ReverseResultSchema",
)


class BatchPointSchema(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


BatchItemSchema = Schema.from_dict(
    {
        "index": fields.Integer(required=True, metadata={"description": "Position in the request"}),
        "query": fields.Nested(BatchPointSchema),
        **_answer_fields(required=False),
        "error": fields.String(metadata={"description": "Why this point was not geocoded"}),
    },
    name="BatchItemSchema",
)
"""One answer of a batch: either the reverse fields or ``error``, never both."""


class BatchResultSchema(Schema):
    max_distance_km = fields.Float(required=True)
    results = fields.List(
        fields.Nested(BatchItemSchema),
        required=True,
        metadata={"description": "One entry per point, in request order"},
    )
    attribution = fields.String(required=True)


class SearchEchoSchema(Schema):
    q = fields.String(required=True)
    limit = fields.Integer(required=True)
    country = fields.String(allow_none=True, required=True)


class SearchResultSchema(Schema):
    query = fields.Nested(SearchEchoSchema, required=True)
    results = fields.List(
        fields.Nested(PlaceSchema),
        required=True,
        metadata={"description": "Matches, most populous first"},
    )
    attribution = fields.String(required=True)
