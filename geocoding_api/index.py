"""Nearest place by great-circle distance, exactly, and forward search by name prefix.

Reverse: every place becomes a 3-D unit vector. On the unit sphere the straight-line (chord)
distance ``c`` between two points and their central angle ``θ`` satisfy ``c = 2 sin(θ/2)``,
which increases with ``θ`` on [0, π]; so the nearest point by chord, which a KD-tree finds
exactly, is also the nearest by great-circle distance, and ``2 asin(c/2) R`` converts the chord
to kilometres without approximation. Raw latitude/longitude degrees have no such property:
a degree of longitude shrinks towards the poles and ±180° are far apart in degrees though
adjacent on the globe, which is why degree-based geocoders pick the wrong town.

Forward: names are normalised once (accents, case, apostrophes, dashes folded) and kept in a
sorted list, so a prefix is two ``bisect`` calls; the matches are ranked by a precomputed
(population, name) rank so a broad prefix like "s" stays cheap.

A ``PlaceIndex`` is never modified after construction (its arrays are read-only), so one
instance is shared by every thread of a process without locks.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from math import asin, cos, pi, sin
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from .data import Place, PlaceTable

PARALLEL_BATCH = 2048
"""Points from which a batch query runs on all cores (scipy's C threads, no GIL)."""
_RADIANS = pi / 180.0
EARTH_RADIUS_KM = 6371.0088
"""The IUGG mean Earth radius (2R+r)/3, the usual choice for a spherical model."""

# Letters NFKD leaves whole, spelled the way people type them without the key.
_LETTERS = {"æ": "ae", "ø": "o", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "þ": "th", "ł": "l"}
_LETTERS |= {"\u0131": "i", "ħ": "h", "ŧ": "t"}  # dotless i
# Apostrophes and okinas vanish ("Nuku\u2018alofa" == "nukualofa"); dashes become spaces.
_APOSTROPHES = "'`\u2018\u2019\u02bb\u02bc"
_DASHES = "-\u2010\u2011\u2013\u2014"
_FOLD = str.maketrans(
    {**_LETTERS, **dict.fromkeys(_APOSTROPHES, None), **dict.fromkeys(_DASHES, " ")}
)
_LAST_CHAR = "\U0010ffff"


def normalize_name(text: str) -> str:
    """The search key of a name or query: ``"São Paulo"`` and ``"sao  PAULO"`` are equal."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        text = text.casefold().translate(_FOLD)
    else:  # most names: skip the (slow) general translation
        text = text.lower()
        if "-" in text or "'" in text or "`" in text:
            text = text.replace("-", " ").replace("'", "").replace("`", "")
    return " ".join(text.split())


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, shape (n, 3), from degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle kilometres from unit-sphere chord lengths (clipped against rounding)."""
    return 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) * EARTH_RADIUS_KM


class Nearest(NamedTuple):
    """The nearest place to one query point and its great-circle distance."""

    index: int
    distance_km: float


class PlaceIndex:
    """Read-only spatial and name index over a ``PlaceTable``."""

    def __init__(self, places: PlaceTable) -> None:
        self.places = places
        # Sliding-midpoint splits (not median, not shrunk to the data) measured ~2x faster to
        # query for far-from-land points, the slow case, and no slower near towns; leaves of
        # 32 points another ~10% (bench/geocode.py). A KD-tree answer is exact whatever the
        # split rule and leaf size, so this is speed only.
        self._tree = cKDTree(
            unit_vectors(places.lat, places.lon),
            leafsize=32,
            balanced_tree=False,
            compact_nodes=False,
        )
        keys = [normalize_name(name) for name in places.name]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._sorted_keys = [keys[i] for i in order]
        self._sorted_ids = _frozen(np.array(order, dtype=np.int64))
        # rank 0 is the most populous place; equal populations fall back to the name order
        position = np.empty(len(keys), dtype=np.int64)
        position[self._sorted_ids] = np.arange(len(keys))
        by_rank = np.lexsort((position, -places.population))
        rank = np.empty(len(keys), dtype=np.int64)
        rank[by_rank] = np.arange(len(keys))
        self._rank = _frozen(rank)

    def __len__(self) -> int:
        return len(self.places)

    def place(self, i: int) -> Place:
        return self.places.place(i)

    def places_at(self, ids: np.ndarray | list[int]) -> list[Place]:
        return self.places.places(ids)

    def nearest(self, lat: float, lon: float) -> Nearest:
        """The nearest place to one point (degrees, already validated).

        Same formulas as ``nearest_many`` in scalar ``math``: for one point, numpy's per-call
        overhead would cost more than the tree query itself (which is mostly scipy's own
        per-call overhead: keep everything around it lean).
        """
        phi, lam = lat * _RADIANS, lon * _RADIANS
        cos_phi = cos(phi)
        chord, i = self._tree.query((cos_phi * cos(lam), cos_phi * sin(lam), sin(phi)))
        return Nearest(int(i), 2.0 * asin(min(float(chord) * 0.5, 1.0)) * EARTH_RADIUS_KM)

    def nearest_place(self, lat: float, lon: float) -> tuple[Place, float]:
        """``nearest`` and ``place`` in one call: the single-lookup path, kept lean."""
        i, distance_km = self.nearest(lat, lon)
        return self.places.place(i), distance_km

    def nearest_many(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest place ids and great-circle km for a whole batch, in one tree query (on
        every core for a batch big enough to repay starting the threads)."""
        if lat.shape[0] == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        workers = -1 if lat.shape[0] >= PARALLEL_BATCH else 1
        chord, ids = self._tree.query(unit_vectors(lat, lon), k=1, workers=workers)
        return ids.astype(np.int64), chord_to_km(chord)

    def search(self, query: str, *, limit: int, country: str | None = None) -> list[int]:
        """Ids of places whose normalised name starts with the normalised ``query``.

        Ranked by population (largest first), then name; at most ``limit`` ids.
        """
        key = normalize_name(query)
        if not key or limit <= 0:
            return []
        lo = bisect_left(self._sorted_keys, key)
        hi = bisect_left(self._sorted_keys, key + _LAST_CHAR, lo)
        ids = self._sorted_ids[lo:hi]
        if country is not None:
            ids = ids[self.places.country_code[ids] == country]
        ranks = self._rank[ids]
        if ids.shape[0] > limit:
            keep = np.argpartition(ranks, limit - 1)[:limit]
            ids, ranks = ids[keep], ranks[keep]
        return [int(i) for i in ids[np.argsort(ranks)]]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
