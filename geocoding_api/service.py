"""Turn index hits into the answers the API returns; no Flask in here.

Kept apart from the routes so the answer rules (distance cut-off, explanation, display name,
attribution) are in one place and the same for a single lookup and for a batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .data import Place, load_places
from .index import PlaceIndex
from .schemas import PLACE_FIELDS
from .timezones import TimeZoneLookup

log = logging.getLogger("geocoding_api")

ATTRIBUTION = (
    "Place data © GeoNames (https://www.geonames.org/), licensed under CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/). Time zones: timezone-boundary-builder, "
    "© OpenStreetMap contributors, ODbL 1.0 (https://opendatacommons.org/licenses/odbl/1-0/)."
)
ATTRIBUTION_HEADER = "X-Data-Attribution"
ATTRIBUTION_HEADER_VALUE = (
    "Place data (c) GeoNames https://www.geonames.org/ CC BY 4.0; "
    "time zones (c) OpenStreetMap contributors ODbL 1.0"
)
"""HTTP header values should be ASCII, hence ``(c)`` here and ``©`` in the JSON field."""
LICENSE_LINKS = (
    '<https://creativecommons.org/licenses/by/4.0/>; rel="license"; title="GeoNames place data", '
    '<https://opendatacommons.org/licenses/odbl/1-0/>; rel="license"; title="time zone data"'
)

DISTANCE_DECIMALS = 3
"""Distances are rounded to the metre: more digits would claim a precision the data lacks."""


def place_json(place: Place) -> dict[str, Any]:
    """The place's answer fields, as ``PlaceSchema`` declares them (in its order)."""
    return {name: getattr(place, name) for name in PLACE_FIELDS}


def explain(distance_km: float, max_distance_km: float) -> str:
    return (
        f"No place within {max_distance_km:g} km of this point; "
        f"the nearest is {distance_km:.1f} km away"
    )


class Geocoder:
    """Reverse and forward geocoding over one shared, read-only index."""

    def __init__(self, index: PlaceIndex, time_zones: TimeZoneLookup) -> None:
        self.index = index
        self.time_zones = time_zones

    @staticmethod
    def _answer(
        place: Place | None, distance_km: float, time_zone: str | None, max_distance_km: float
    ) -> dict[str, Any]:
        """``place`` is the nearest place when within ``max_distance_km``, else None."""
        return {
            "place": None if place is None else place_json(place),
            "distance_km": round(distance_km, DISTANCE_DECIMALS),
            "time_zone": time_zone,
            "explanation": None if place is not None else explain(distance_km, max_distance_km),
        }

    def reverse(self, lat: float, lon: float, max_distance_km: float) -> dict[str, Any]:
        """The answer for one validated point."""
        nearest, distance_km = self.index.nearest_place(lat, lon)
        place = nearest if distance_km <= max_distance_km else None
        return {
            "query": {"lat": lat, "lon": lon, "max_distance_km": max_distance_km},
            **self._answer(place, distance_km, self.time_zones.at(lat, lon), max_distance_km),
            "attribution": ATTRIBUTION,
        }

    def reverse_many(
        self, points: Sequence[tuple[float, float] | str], max_distance_km: float
    ) -> list[dict[str, Any]]:
        """Answers in input order; an item given as a string is that item's error.

        Vectorised end to end: one KD-tree query and one time-zone call for all valid points,
        places built only for the answers that name one, then one loop writing the answers.
        """
        valid = [i for i, point in enumerate(points) if not isinstance(point, str)]
        coords = np.array([points[i] for i in valid], dtype=np.float64).reshape(-1, 2)
        lat, lon = coords[:, 0], coords[:, 1]
        ids, km = self.index.nearest_many(lat, lon)
        within = km <= max_distance_km
        near = iter(self.index.places_at(ids[within]))
        zones = self.time_zones.many(lat, lon)
        results: list[dict[str, Any]] = [{} for _ in points]
        for i in set(range(len(points))).difference(valid):
            results[i] = {"index": i, "error": points[i]}
        rows = zip(
            valid, lat.tolist(), lon.tolist(), within.tolist(), km.tolist(), zones, strict=True
        )
        for i, a, b, inside, distance_km, zone in rows:
            place = next(near) if inside else None
            results[i] = {
                "index": i,
                "query": {"lat": a, "lon": b},
                "place": None if place is None else place_json(place),
                "distance_km": round(distance_km, DISTANCE_DECIMALS),
                "time_zone": zone,
                "explanation": None if inside else explain(distance_km, max_distance_km),
            }
        return results

    def check(self) -> str | None:
        """Readiness: the index holds places."""
        return None if len(self.index) else "the place index is empty"

    def search(self, q: str, limit: int, country: str | None) -> list[dict[str, Any]]:
        ids = self.index.search(q, limit=limit, country=country)
        return [place_json(place) for place in self.index.places_at(ids)]


_shared: dict[str, Geocoder] = {}
_shared_lock = threading.Lock()


def shared_geocoder(source: str) -> Geocoder:
    """The process's geocoder for a data source, loaded on first use and then reused.

    Loading the bundled data takes about a second and ~120 MB, so every app built in one
    process (gunicorn worker, test session) shares one read-only index, and all of them one
    time-zone finder. A load that fails raises ``DataError`` and caches nothing.
    """
    with _shared_lock:
        if source not in _shared:
            started = time.perf_counter()
            index = PlaceIndex(load_places(source))
            _shared[source] = Geocoder(index, _time_zones())
            seconds = time.perf_counter() - started
            log.info(
                "place index loaded: %d places from %s in %.2f s",
                len(index),
                index.places.source,
                seconds,
                extra={
                    "places": len(index),
                    "source": index.places.source,
                    "seconds": round(seconds, 3),
                },
            )
        return _shared[source]


_zones: list[TimeZoneLookup] = []


def _time_zones() -> TimeZoneLookup:
    """The one time-zone finder of the process (call with ``_shared_lock`` held)."""
    if not _zones:
        _zones.append(TimeZoneLookup())
    return _zones[0]
