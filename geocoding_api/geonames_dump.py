"""GeoNames' own dump files, for fresher or denser data than the bundled extract.

A folder holding ``cities*.txt`` (the ``geoname`` table), ``admin1CodesASCII.txt``,
``countryInfo.txt`` and, when present, ``admin2Codes.txt``; ``GEOCODING_DATA`` names it.
"""

from __future__ import annotations

from pathlib import Path

from .places import COUNTRY_CODE, Columns, DataError, PlaceTable, check_place, text_lines

CITIES_GLOB = "cities*.txt"
ADMIN1_FILE = "admin1CodesASCII.txt"
ADMIN2_FILE = "admin2Codes.txt"
COUNTRY_FILE = "countryInfo.txt"
CITY_COLUMNS = 19
"""A GeoNames ``geoname`` row: id, name, asciiname, alternatenames, latitude, longitude,
feature class, feature code, country code, cc2, admin1..admin4, population, elevation, dem,
timezone, modification date."""


def load_geonames_dump(directory: Path) -> PlaceTable:
    """Load ``cities*.txt`` with its code tables; duplicate geoname ids are read once."""
    if not directory.is_dir():
        raise DataError(directory, "is not a directory (GEOCODING_DATA)")
    city_files = sorted(directory.glob(CITIES_GLOB))
    if not city_files:
        raise DataError(directory, f"holds no {CITIES_GLOB} file")
    countries = _load_country_info(directory / COUNTRY_FILE)
    admin1 = _load_admin_codes(directory / ADMIN1_FILE, parts=2)
    admin2_path = directory / ADMIN2_FILE
    admin2 = _load_admin_codes(admin2_path, parts=3) if admin2_path.exists() else {}
    columns = Columns()
    seen: set[str] = set()
    for path in city_files:
        for number, text in text_lines(path):
            if not text.strip():
                continue
            row = text.split("\t")
            if len(row) != CITY_COLUMNS:
                raise DataError(
                    path, f"expected {CITY_COLUMNS} tab-separated columns, got {len(row)}", number
                )
            geoname_id = row[0]
            if not geoname_id.isdecimal():
                raise DataError(path, f"geoname id {geoname_id!r} is not a number", number)
            if geoname_id in seen:
                continue
            seen.add(geoname_id)
            name, code = row[1], row[8]
            checked = check_place(name, row[4], row[5], code, row[14] or "0")
            if isinstance(checked, str):
                raise DataError(path, checked, number)
            lat, lon, population = checked
            state = admin1.get(f"{code}.{row[10]}")
            county = admin2.get(f"{code}.{row[10]}.{row[11]}")
            columns.add(name, lat, lon, code, population, state, county)
    return columns.table(countries, f"GeoNames dump ({directory})", city_files[0])


def _load_country_info(path: Path) -> dict[str, str]:
    """``countryInfo.txt``: ``#`` comments, then ISO, ISO3, numeric, fips, Country, ..."""
    countries: dict[str, str] = {}
    for number, text in text_lines(path):
        if not text.strip() or text.startswith("#"):
            continue
        row = text.split("\t")
        if len(row) < 5 or not COUNTRY_CODE.fullmatch(row[0]) or not row[4].strip():
            raise DataError(
                path, "expected tab-separated ISO code, ISO3, numeric, fips, country name", number
            )
        countries[row[0]] = row[4].strip()
    if not countries:
        raise DataError(path, "holds no countries")
    return countries


def _load_admin_codes(path: Path, parts: int) -> dict[str, str]:
    """``admin1CodesASCII.txt`` / ``admin2Codes.txt``: ``CC.A1[.A2]``, name, ascii name, id."""
    codes: dict[str, str] = {}
    for number, text in text_lines(path):
        if not text.strip():
            continue
        row = text.split("\t")
        if len(row) < 2 or len(row[0].split(".")) != parts:
            shape = "CC.ADMIN1" if parts == 2 else "CC.ADMIN1.ADMIN2"
            raise DataError(path, f"expected tab-separated {shape} code and name", number)
        if row[1].strip():  # a code without a name leaves the region unnamed
            codes[row[0]] = row[1].strip()
    return codes
