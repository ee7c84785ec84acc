"""PlaceIndex: exact nearest place by great-circle distance, and name search."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from geocoding_api.index import EARTH_RADIUS_KM, PlaceIndex, normalize_name

SEED = 20240605


def brute_force_haversine(
    index: PlaceIndex, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest place by the haversine formula against every place: slow, but no tree.

    ``sin((a - b) / 2)`` is expanded as ``sin(a/2)cos(b/2) - cos(a/2)sin(b/2)`` so the
    per-place sines are computed once; it is the same haversine, only ~4x faster in numpy.
    """
    places = index.places
    phi, lam = np.radians(places.lat), np.radians(places.lon)
    sin_phi2, cos_phi2 = np.sin(phi / 2), np.cos(phi / 2)
    sin_lam2, cos_lam2 = np.sin(lam / 2), np.cos(lam / 2)
    cos_phi = np.cos(phi)
    q_phi, q_lam = np.radians(lat), np.radians(lon)
    best = np.empty(lat.shape[0], dtype=np.int64)
    best_km = np.empty(lat.shape[0])
    chunk = 8
    for start in range(0, lat.shape[0], chunk):
        qp = q_phi[start : start + chunk, None]
        ql = q_lam[start : start + chunk, None]
        half_dphi = np.sin(qp / 2) * cos_phi2 - np.cos(qp / 2) * sin_phi2
        half_dlam = np.sin(ql / 2) * cos_lam2 - np.cos(ql / 2) * sin_lam2
        a = half_dphi * half_dphi + np.cos(qp) * cos_phi * (half_dlam * half_dlam)
        nearest = np.argmin(a, axis=1)
        best[start : start + chunk] = nearest
        a_min = a[np.arange(nearest.shape[0]), nearest]
        best_km[start : start + chunk] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a_min))
    return best, best_km


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def hard_points(rng: np.random.Generator, index: PlaceIndex) -> tuple[np.ndarray, np.ndarray]:
    """Uniform on the sphere, near towns, near the poles, near ±180°, and the exact corners."""
    uniform = 1000
    lat = [np.degrees(np.arcsin(rng.uniform(-1, 1, uniform)))]
    lon = [rng.uniform(-180, 180, uniform)]
    towns = rng.integers(0, len(index), 600)
    lat.append(np.clip(index.places.lat[towns] + rng.uniform(-0.2, 0.2, 600), -90, 90))
    lon.append(np.clip(index.places.lon[towns] + rng.uniform(-0.2, 0.2, 600), -180, 180))
    polar = rng.uniform(80, 90, 200) * rng.choice([-1, 1], 200)
    lat.append(polar)
    lon.append(rng.uniform(-180, 180, 200))
    lat.append(np.concatenate([rng.uniform(-25, -10, 100), rng.uniform(50, 72, 100)]))
    lon.append(rng.uniform(179, 180, 200) * rng.choice([-1, 1], 200))
    lat.append(np.array([90, -90, 0, 0, 65.5, 65.5, -16.5, -16.5, 78.2, 89.9999]))
    lon.append(np.array([0, 0, 180, -180, 180, -180, 180, -180, 15.6, 179.9999]))
    return np.concatenate(lat), np.concatenate(lon)


def test_nearest_agrees_with_brute_force_haversine_on_every_point(
    bundled_index: PlaceIndex,
) -> None:
    rng = np.random.default_rng(SEED)
    lat, lon = hard_points(rng, bundled_index)
    assert lat.shape[0] > 2000 and np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)
    ids, km = bundled_index.nearest_many(lat, lon)
    truth_ids, truth_km = brute_force_haversine(bundled_index, lat, lon)
    places = bundled_index.places
    # distances agree everywhere; where two places tie, either may be named, so the named
    # place is checked by its own haversine distance rather than by id
    np.testing.assert_allclose(km, truth_km, rtol=0, atol=1e-6)
    named_km = haversine_km(lat, lon, places.lat[ids], places.lon[ids])
    np.testing.assert_allclose(named_km, truth_km, rtol=0, atol=1e-6)
    assert np.mean(ids == truth_ids) > 0.999


def test_single_lookup_equals_batch(bundled_index: PlaceIndex) -> None:
    rng = np.random.default_rng(SEED + 1)
    lat, lon = rng.uniform(-90, 90, 50), rng.uniform(-180, 180, 50)
    ids, km = bundled_index.nearest_many(lat, lon)
    for i in range(50):
        hit = bundled_index.nearest(float(lat[i]), float(lon[i]))
        assert hit.index == ids[i]
        assert hit.distance_km == pytest.approx(km[i], abs=1e-9)


def test_degrees_would_be_wrong_but_we_are_not(fixture_index: PlaceIndex) -> None:
    """Points where a raw-degree nearest neighbour names the wrong place; we do not."""
    places = fixture_index.places
    cases = [
        # Taveuni, Fiji, just east of the antimeridian: Vuna is at -179.88, Labasa at +179.36
        ((-16.95, 179.95), "Vuna", "Labasa"),
        # Chukotka: Egvekinot lies on the other side of 180 from the point, Anadyr on the same
        ((66.0, 179.9), "Egvekinot", "Anadyr"),
        # Svalbard, 78°N: a degree of longitude is 23 km here, a degree of latitude 111 km
        ((78.3, 14.75), "Longyearbyen", "Barentsburg"),
        # Finnmark, 70.7°N: Hammerfest and Rypefjord are 2.5 km apart
        ((70.7, 23.5), "Hammerfest", "Rypefjord"),
        # the North Pole: the highest place, whatever the longitude
        ((90.0, 123.0), "Alert", "Anadyr"),
    ]
    for (lat, lon), expected, by_degrees in cases:
        degrees = np.hypot(places.lat - lat, places.lon - lon)
        assert places.name[np.argmin(degrees)] == by_degrees, "the case must be a hard one"
        hit = fixture_index.nearest(lat, lon)
        assert fixture_index.place(hit.index).name == expected, (lat, lon)
        every = haversine_km(np.full(len(places), lat), np.full(len(places), lon), *_coords(places))
        assert hit.distance_km == pytest.approx(every.min(), abs=1e-9)
    south = fixture_index.nearest(-90.0, -77.0)
    assert fixture_index.place(south.index).name == "Amundsen-Scott South Pole Station"


def _coords(places: object) -> tuple[np.ndarray, np.ndarray]:
    return places.lat, places.lon  # type: ignore[attr-defined]


def test_distance_is_zero_on_a_place_and_correct_around_the_globe(
    fixture_index: PlaceIndex,
) -> None:
    hit = fixture_index.nearest(-90.0, 45.0)
    assert hit.distance_km == pytest.approx(0.0, abs=1e-9)
    # Hammerfest and Rypefjord: 2.5 km apart at 70.6°N
    hammerfest = fixture_index.nearest(70.66313, 23.68092)
    assert fixture_index.place(hammerfest.index).name == "Hammerfest"
    rypefjord = fixture_index.nearest(70.6413, 23.6721)
    assert fixture_index.place(rypefjord.index).name == "Rypefjord"
    # a point 1° of latitude north of Quito is 111.2 km away on this sphere
    quito = fixture_index.nearest(0.77015, -78.52495)
    assert fixture_index.place(quito.index).name == "Quito"
    assert quito.distance_km == pytest.approx(np.radians(1.0) * EARTH_RADIUS_KM, abs=1e-6)


def test_batch_of_nothing(fixture_index: PlaceIndex) -> None:
    ids, km = fixture_index.nearest_many(np.empty(0), np.empty(0))
    assert ids.shape == km.shape == (0,)


def test_index_is_read_only_and_thread_safe(bundled_index: PlaceIndex) -> None:
    rng = np.random.default_rng(SEED + 2)
    lat, lon = rng.uniform(-90, 90, 400), rng.uniform(-180, 180, 400)
    expected = bundled_index.nearest_many(lat, lon)[0]
    results: list[bool] = []

    def worker() -> None:
        for _ in range(5):
            results.append(bool(np.array_equal(bundled_index.nearest_many(lat, lon)[0], expected)))
            bundled_index.search("san", limit=5)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 30
    with pytest.raises(ValueError, match="read-only"):
        bundled_index.places.lat[0] = 0.0


# -- forward search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("São Paulo", "sao paulo"),
        ("  SAO   paulo ", "sao paulo"),
        ("Zürich", "zurich"),
        ("Montréal-Est", "montreal est"),
        ("Ærøskøbing", "aeroskobing"),
        ("Nuku\u2018alofa", "nukualofa"),
        ("Reykjavík", "reykjavik"),
        ("Straße", "strasse"),
    ],
)
def test_normalize_name(raw: str, key: str) -> None:
    assert normalize_name(raw) == key


def names(index: PlaceIndex, ids: list[int]) -> list[str]:
    return [index.place(i).name for i in ids]


def test_search_is_prefix_accent_and_case_insensitive(fixture_index: PlaceIndex) -> None:
    assert names(fixture_index, fixture_index.search("sao pa", limit=10)) == [
        "São Paulo",
        "São Paulo de Olivença",
    ]
    assert names(fixture_index, fixture_index.search("ZÜR", limit=10)) == ["Zürich"]
    assert names(fixture_index, fixture_index.search("zur", limit=10)) == ["Zürich"]
    assert names(fixture_index, fixture_index.search("aero", limit=10)) == ["Ærøskøbing"]
    assert names(fixture_index, fixture_index.search("ærø", limit=10)) == ["Ærøskøbing"]
    assert names(fixture_index, fixture_index.search("nuku'alofa", limit=10)) == ["Nuku\u2018alofa"]
    assert names(fixture_index, fixture_index.search("montreal", limit=10)) == [
        "Montréal",
        "Montréal-Est",
    ]
    assert names(fixture_index, fixture_index.search("paulo", limit=10)) == []
    assert fixture_index.search("   ", limit=10) == []


def test_search_ranks_by_population_then_name(fixture_index: PlaceIndex) -> None:
    found = fixture_index.search("s", limit=50)
    assert names(fixture_index, found) == [
        "São Paulo",
        "Singapore",
        "San Jose",
        "San Francisco",
        "Santos",
        "Sunnyvale",
        "Suva",
        "São Pedro da Aldeia",
        "São Paulo de Olivença",
    ]
    populations = [fixture_index.place(i).population for i in found]
    assert populations == sorted(populations, reverse=True)


def test_search_limit_and_country_filter(fixture_index: PlaceIndex) -> None:
    assert names(fixture_index, fixture_index.search("s", limit=2)) == ["São Paulo", "Singapore"]
    assert names(fixture_index, fixture_index.search("s", limit=3, country="US")) == [
        "San Jose",
        "San Francisco",
        "Sunnyvale",
    ]
    assert fixture_index.search("s", limit=5, country="FR") == []


def test_search_on_the_full_data_is_ranked(bundled_index: PlaceIndex) -> None:
    found = bundled_index.search("sao pa", limit=5)
    assert bundled_index.place(found[0]).display_name == "São Paulo, Brazil"
    assert all(normalize_name(bundled_index.place(i).name).startswith("sao pa") for i in found)
    populations = [bundled_index.place(i).population for i in found]
    assert populations == sorted(populations, reverse=True)
    big = bundled_index.search("a", limit=50)
    assert len(big) == 50
    everything = [
        i
        for i in range(len(bundled_index))
        if normalize_name(bundled_index.place(i).name).startswith("a")
    ]
    top = sorted(everything, key=lambda i: -bundled_index.places.population[i])[:50]
    assert sorted(bundled_index.places.population[big]) == sorted(
        bundled_index.places.population[top]
    )
