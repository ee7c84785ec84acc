"""The HTTP API with real tokens checked against the real JWKS server from tests/conftest.py."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from geocoding_api.index import PlaceIndex

REVERSE = "/geocoding/v1/reverse"
BATCH = "/geocoding/v1/reverse/batch"
SEARCH = "/geocoding/v1/search"


def get_json(client: FlaskClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(url, query_string=params, headers=headers)
    return response.status_code, response.get_json()


def query_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    """flask-smorest's 422 format: {"code": 422, "status": ..., "errors": {"query": {...}}}."""
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    return body["errors"]["query"]


# -- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", f"{REVERSE}?lat=1&lon=2"), ("post", BATCH), ("get", f"{SEARCH}?q=san")],
)
def test_every_data_route_needs_a_token(client: FlaskClient, method: str, url: str) -> None:
    response = getattr(client, method)(url, json={"points": [{"lat": 1, "lon": 2}]})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="geocoding", scope="geocode", resource_metadata="')
    assert "error=" not in challenge


def test_token_is_checked_before_parameters(client: FlaskClient) -> None:
    response = client.get(f"{REVERSE}?lat=100")
    assert response.status_code == 401


def test_calendar_token_is_refused_as_invalid_token(client: FlaskClient, tokens: Any) -> None:
    calendar_token = tokens.mint()  # audience https://api.example.com/calendar/v1/
    response = client.get(
        f"{REVERSE}?lat=1&lon=2", headers={"Authorization": f"Bearer {calendar_token}"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_without_geocode_scope_is_forbidden(client: FlaskClient, tokens: Any) -> None:
    token = tokens.client_credentials(scope="read")
    response = client.get(f"{SEARCH}?q=san", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"
    assert 'scope="geocode"' in response.headers["WWW-Authenticate"]


def test_user_token_with_audience_and_scope_is_accepted(client: FlaskClient, tokens: Any) -> None:
    token = tokens.mint(aud="https://api.example.com/geocoding/v1/", scope="openid geocode")
    response = client.get(
        f"{REVERSE}?lat=37.3861&lon=-122.0839", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.get_json()["place"]["name"] == "Mountain View"


def test_token_in_the_url_is_refused(client: FlaskClient, geo_token: str) -> None:
    response = client.get(f"{REVERSE}?lat=1&lon=2&access_token={geo_token}")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


# -- GET /reverse --------------------------------------------------------------------------------


def test_reverse_names_the_nearest_place(
    client: FlaskClient, auth_header: dict[str, str], fixture_index: PlaceIndex
) -> None:
    response = client.get(f"{REVERSE}?lat=37.3861&lon=-122.0839", headers=auth_header)
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == {"lat": 37.3861, "lon": -122.0839, "max_distance_km": 50.0}
    assert body["place"] == {
        "name": "Mountain View",
        "admin1": "California",
        "admin2": "Santa Clara County",
        "country_code": "US",
        "country": "United States",
        "display_name": "Mountain View, California, United States",
        "lat": 37.38605,
        "lon": -122.08385,
        "population": 80435,
    }
    expected_km = fixture_index.nearest(37.3861, -122.0839).distance_km
    assert body["distance_km"] == round(expected_km, 3)
    assert 0 < body["distance_km"] < 0.1
    assert body["time_zone"] == "America/Los_Angeles"
    assert body["explanation"] is None
    assert "GeoNames" in body["attribution"] and "CC BY 4.0" in body["attribution"]
    assert "GeoNames" in response.headers["X-Data-Attribution"]
    assert "CC BY 4.0" in response.headers["X-Data-Attribution"]
    assert (
        '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
        in (response.headers["Link"])
    )


def test_ocean_point_has_no_place_but_a_distance_and_explanation(
    client: FlaskClient, auth_header: dict[str, str], fixture_index: PlaceIndex
) -> None:
    status, body = get_json(client, REVERSE, auth_header, lat=0, lon=-140)
    assert status == 200
    assert body["place"] is None
    nearest = fixture_index.nearest(0.0, -140.0).distance_km
    assert body["distance_km"] == round(nearest, 3) and nearest > 1000
    assert body["explanation"] == (
        f"No place within 50 km of this point; the nearest is {nearest:.1f} km away"
    )
    assert body["time_zone"] == "Etc/GMT+9"


def test_max_distance_parameter(client: FlaskClient, auth_header: dict[str, str]) -> None:
    # London Village, Kiritimati, is ~226 km from (0, -157)
    status, body = get_json(client, REVERSE, auth_header, lat=0, lon=-157)
    assert status == 200 and body["place"] is None and 200 < body["distance_km"] < 250
    assert body["explanation"].startswith("No place within 50 km")
    status, body = get_json(client, REVERSE, auth_header, lat=0, lon=-157, max_distance_km=250)
    assert status == 200 and body["place"]["name"] == "London Village"
    assert body["explanation"] is None and body["query"]["max_distance_km"] == 250
    status, body = get_json(client, REVERSE, auth_header, lat=0, lon=-157, max_distance_km=2.5)
    assert body["explanation"].startswith("No place within 2.5 km of this point")


def test_service_default_max_distance(
    make_app: Callable[..., Flask], auth_header: dict[str, str]
) -> None:
    client = make_app(GEOCODING_MAX_DISTANCE_KM="300").test_client()
    _, body = get_json(client, REVERSE, auth_header, lat=0, lon=-157)
    assert body["place"]["name"] == "London Village"
    assert body["query"]["max_distance_km"] == 300


def test_poles(client: FlaskClient, auth_header: dict[str, str]) -> None:
    status, south = get_json(client, REVERSE, auth_header, lat=-90, lon=0)
    assert status == 200
    assert south["place"]["name"] == "Amundsen-Scott South Pole Station"
    assert south["distance_km"] == 0.0
    assert south["time_zone"] == "Antarctica/McMurdo"
    status, north = get_json(client, REVERSE, auth_header, lat=90, lon=-180)
    assert status == 200 and north["place"] is None
    # Alert (82.5018°N), the northernmost place, is 7.4982° of latitude from the pole
    assert north["distance_km"] == pytest.approx(math.radians(90 - 82.5018) * 6371.0088, abs=1e-3)
    status, north_500 = get_json(client, REVERSE, auth_header, lat=90, lon=0, max_distance_km=500)
    assert north_500["place"] is None and north_500["distance_km"] == north["distance_km"]


@pytest.mark.parametrize("lon", [179.95, 180, -180, -179.95])
def test_antimeridian(client: FlaskClient, auth_header: dict[str, str], lon: float) -> None:
    status, body = get_json(client, REVERSE, auth_header, lat=-16.95, lon=lon)
    assert status == 200
    assert body["place"]["name"] == "Vuna"
    assert body["place"]["display_name"] == "Vuna, Northern, Fiji"
    assert body["time_zone"] == "Pacific/Fiji"


def test_antimeridian_sides_are_the_same_point(
    client: FlaskClient, auth_header: dict[str, str]
) -> None:
    _, east = get_json(client, REVERSE, auth_header, lat=66.0, lon=180, max_distance_km=100)
    _, west = get_json(client, REVERSE, auth_header, lat=66.0, lon=-180, max_distance_km=100)
    assert east["place"]["name"] == west["place"]["name"] == "Egvekinot"
    assert east["distance_km"] == west["distance_km"]


LAT_TEXT = "lat must be a finite number from -90 to 90 (the latitude in degrees)"
LON_TEXT = "lon must be a finite number from -180 to 180 (the longitude in degrees)"
DIST_TEXT = "max_distance_km must be a number of kilometres above 0 and at most 500"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"lon": "2"}, "lat", "lat is required: a number from -90 to 90 (the latitude in degrees)"),
        ({"lat": "2"}, "lon", "lon is required: a number from -180 to 180"),
        ({"lat": "100", "lon": "0"}, "lat", LAT_TEXT + "; got 100.0"),
        ({"lat": "-90.0001", "lon": "0"}, "lat", LAT_TEXT + "; got -90.0001"),
        ({"lat": "0", "lon": "400"}, "lon", LON_TEXT + "; got 400.0"),
        ({"lat": "0", "lon": "-180.5"}, "lon", LON_TEXT + "; got -180.5"),
        ({"lat": "0", "lon": "1e999"}, "lon", LON_TEXT + "; got nan or infinity"),
        ({"lat": "0", "lon": "0", "max_distance_km": "0"}, "max_distance_km", DIST_TEXT),
        ({"lat": "0", "lon": "0", "max_distance_km": "-3"}, "max_distance_km", DIST_TEXT),
        ({"lat": "0", "lon": "0", "max_distance_km": "500.1"}, "max_distance_km", DIST_TEXT),
    ],
)
def test_reverse_validation(
    client: FlaskClient,
    auth_header: dict[str, str],
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    status, body = get_json(client, REVERSE, auth_header, **params)
    assert status == 422
    errors = query_errors(body)
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"lat": "nan", "lon": "0"}, "lat", LAT_TEXT + " in plain ASCII digits; got 'nan'"),
        ({"lat": "inf", "lon": "0"}, "lat", LAT_TEXT + " in plain ASCII digits; got 'inf'"),
        ({"lat": "0", "lon": "-Infinity"}, "lon", LON_TEXT),
        ({"lat": "north", "lon": "0"}, "lat", LAT_TEXT),
        ({"lat": "", "lon": "0"}, "lat", LAT_TEXT),
        ({"lat": "1_0", "lon": "0"}, "lat", LAT_TEXT),
        ({"lat": "\u0661\u0662", "lon": "0"}, "lat", LAT_TEXT),  # Arabic-Indic digits
        ({"lat": "\uff11\uff12", "lon": "0"}, "lat", LAT_TEXT),  # fullwidth digits
        ({"lat": "12 ", "lon": "0"}, "lat", LAT_TEXT),
        ({"lat": "0", "lon": "0", "max_distance_km": "nan"}, "max_distance_km", DIST_TEXT),
        ({"lat": "0", "lon": "0", "max_distance_km": "far"}, "max_distance_km", DIST_TEXT),
    ],
)
def test_numbers_that_are_not_plain_decimal_are_400(
    client: FlaskClient,
    auth_header: dict[str, str],
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    """Python's float() accepts nan, 1_0 and non-ASCII digits; the API does not."""
    status, body = get_json(client, REVERSE, auth_header, **params)
    assert status == 400
    assert body["message"].startswith(message)
    assert list(body["errors"]["query"]) == [field]


def test_repeated_parameter_is_refused(client: FlaskClient, auth_header: dict[str, str]) -> None:
    response = client.get(f"{REVERSE}?lat=1&lat=95&lon=2", headers=auth_header)
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"] == "lat must be given once; it appears 2 times"
    assert body["errors"] == {"query": {"lat": ["lat must be given once; it appears 2 times"]}}
    response = client.get(f"{SEARCH}?q=a&q=b", headers=auth_header)
    assert response.get_json()["message"] == "q must be given once; it appears 2 times"


def test_reverse_reports_every_bad_parameter(
    client: FlaskClient, auth_header: dict[str, str]
) -> None:
    status, body = get_json(client, REVERSE, auth_header, lat="91", lon="181")
    assert status == 422
    assert set(query_errors(body)) == {"lat", "lon"}


def test_reverse_on_the_bundled_data(
    bundled_client: FlaskClient, auth_header: dict[str, str]
) -> None:
    status, body = get_json(bundled_client, REVERSE, auth_header, lat=37.3861, lon=-122.0839)
    assert status == 200
    assert body["place"]["display_name"] == "Mountain View, California, United States"
    assert body["place"]["admin2"] == "Santa Clara County"
    status, body = get_json(bundled_client, REVERSE, auth_header, lat=0, lon=-150)
    assert status == 200 and body["place"] is None and body["distance_km"] > 500
    assert body["time_zone"] == "Etc/GMT+10"


# -- POST /reverse/batch -------------------------------------------------------------------------


def test_batch_answers_in_order(client: FlaskClient, auth_header: dict[str, str]) -> None:
    points = [
        {"lat": 47.37, "lon": 8.55},
        {"lat": 0, "lon": -140},
        {"lat": -23.55, "lon": -46.64},
        {"lat": 47.37, "lon": 8.55},
    ]
    response = client.post(BATCH, json={"points": points}, headers=auth_header)
    assert response.status_code == 200
    body = response.get_json()
    assert body["max_distance_km"] == 50.0
    results = body["results"]
    assert [item["index"] for item in results] == [0, 1, 2, 3]
    assert results[0]["place"]["display_name"] == "Zürich, Zurich, Switzerland"
    assert results[0]["time_zone"] == "Europe/Zurich"
    assert results[0]["query"] == {"lat": 47.37, "lon": 8.55}
    assert results[1]["place"] is None and results[1]["explanation"].startswith("No place")
    assert results[1]["time_zone"] == "Etc/GMT+9"
    assert results[2]["place"]["name"] == "São Paulo"
    assert results[2]["time_zone"] == "America/Sao_Paulo"
    assert {**results[3], "index": 0} == results[0]
    assert "CC BY 4.0" in body["attribution"]
    assert "GeoNames" in response.headers["X-Data-Attribution"]


def test_batch_items_match_single_lookups(client: FlaskClient, auth_header: dict[str, str]) -> None:
    points = [
        {"lat": lat, "lon": lon}
        for lat, lon in [(-16.95, 180), (90, 0), (-90, 10), (70.7, 23.5), (64.1, -21.9)]
    ]
    body = client.post(BATCH, json={"points": points}, headers=auth_header).get_json()
    for point, item in zip(points, body["results"], strict=True):
        _, single = get_json(client, REVERSE, auth_header, **point)
        assert {k: item[k] for k in ("place", "distance_km", "time_zone", "explanation")} == {
            k: single[k] for k in ("place", "distance_km", "time_zone", "explanation")
        }


def test_batch_invalid_items_fail_alone(client: FlaskClient, auth_header: dict[str, str]) -> None:
    body = (
        '{"points": ['
        '{"lat": 37.3861, "lon": -122.0839},'
        '{"lat": 100, "lon": 0},'
        '"Paris",'
        "null,"
        '{"lat": 1},'
        '{"lat": 1, "lon": 2, "name": "x"},'
        '{"lat": true, "lon": 0},'
        '{"lat": "1", "lon": 2},'
        '{"lat": 1e308, "lon": 0},'
        '{"lat": 0, "lon": -1e308},'
        "[1, 2],"
        '{"lat": -90, "lon": 180}'
        "]}"
    )
    response = client.post(BATCH, data=body, content_type="application/json", headers=auth_header)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [item["index"] for item in results] == list(range(12))
    assert results[0]["place"]["name"] == "Mountain View"
    assert results[11]["place"]["name"] == "Amundsen-Scott South Pole Station"
    errors = {item["index"]: item["error"] for item in results if "error" in item}
    assert sorted(errors) == list(range(1, 11))
    assert errors[1] == LAT_TEXT + "; got 100.0"
    assert errors[2].startswith("each point must be a JSON object")
    assert errors[3].startswith("each point must be a JSON object")
    assert errors[4] == "lon is required: a number from -180 to 180 (the longitude in degrees)"
    assert errors[5] == "unknown field 'name': a point holds only lat and lon"
    assert errors[6] == LAT_TEXT + "; got true/false"
    assert errors[7] == LAT_TEXT + "; got a string"
    assert errors[8] == LAT_TEXT + "; got 1e+308"
    assert errors[9] == LON_TEXT + "; got -1e+308"
    assert errors[10].startswith("each point must be a JSON object")
    for index in errors:
        assert set(results[index]) == {"index", "error"}


def test_batch_max_distance(client: FlaskClient, auth_header: dict[str, str]) -> None:
    points = [{"lat": 0, "lon": -157}]
    near = client.post(BATCH, json={"points": points}, headers=auth_header).get_json()
    assert near["results"][0]["place"] is None
    far = client.post(
        BATCH, json={"points": points, "max_distance_km": 300}, headers=auth_header
    ).get_json()
    assert far["max_distance_km"] == 300
    assert far["results"][0]["place"]["name"] == "London Village"


def test_batch_limit(make_app: Callable[..., Flask], auth_header: dict[str, str]) -> None:
    client = make_app(GEOCODING_BATCH_LIMIT="5").test_client()
    five = {"points": [{"lat": 1, "lon": i} for i in range(5)]}
    assert client.post(BATCH, json=five, headers=auth_header).status_code == 200
    six = {"points": [{"lat": 1, "lon": i} for i in range(6)]}
    response = client.post(BATCH, json=six, headers=auth_header)
    assert response.status_code == 422
    message = "points holds 6 points; at most 5 are allowed per request, so split the batch"
    assert response.get_json()["errors"] == {"json": {"points": [message]}}
    assert response.get_json()["message"] == message


def test_default_batch_limit_is_1000(client: FlaskClient, auth_header: dict[str, str]) -> None:
    points = [{"lat": (i % 180) - 89.5, "lon": (i % 360) - 179.5} for i in range(1001)]
    too_many = client.post(BATCH, json={"points": points}, headers=auth_header)
    assert too_many.status_code == 422
    assert "at most 1000" in too_many.get_json()["message"]
    response = client.post(BATCH, json={"points": points[:1000]}, headers=auth_header)
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 1000


def test_batch_body_too_large(client: FlaskClient, auth_header: dict[str, str]) -> None:
    padding = " " * 300_000
    response = client.post(
        BATCH,
        data='{"points": [{"lat": 1, "lon": 2}]' + padding + "}",
        content_type="application/json",
        headers=auth_header,
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


@pytest.mark.parametrize(
    ("body", "status", "location", "message"),
    [
        ("{}", 422, ("json", "points"), "points is required"),
        ('{"points": []}', 422, ("json", "points"), "points must hold at least one point"),
        ('{"points": {"lat": 1}}', 422, ("json", "points"), "points must be a list"),
        ('{"points": null}', 422, ("json", "points"), "points must be a list"),
        ('{"points": [], "limit": 3}', 422, ("json", "limit"), "Unknown field."),
        (
            '{"points": [{"lat": 1, "lon": 1}], "max_distance_km": 0}',
            422,
            ("json", "max_distance_km"),
            DIST_TEXT,
        ),
        ('{"points": [', 400, (), "The request body is not valid JSON: Expecting value"),
        ("\x00", 400, (), "The request body is not valid JSON: Expecting value"),
        ('{"points": [{"lat": NaN, "lon": 0}]}', 400, (), "The request body is not valid JSON"),
        ("[1, 2]", 422, ("json", "_schema"), "Invalid input type."),
    ],
)
def test_batch_envelope_validation(
    client: FlaskClient,
    auth_header: dict[str, str],
    body: str,
    status: int,
    location: tuple[str, ...],
    message: str,
) -> None:
    response = client.post(BATCH, data=body, content_type="application/json", headers=auth_header)
    assert response.status_code == status
    assert response.get_json()["code"] == status and response.get_json()["status"]
    if status == 400:
        body = response.get_json()
        assert (body["code"], body["status"]) == (400, "Bad Request")
        assert body["message"].startswith(message)
        return
    errors: Any = response.get_json()["errors"]
    for key in location:
        errors = errors[key]
    assert errors[0].startswith(message)


def test_batch_number_too_long_for_python_is_a_client_error(
    client: FlaskClient, auth_header: dict[str, str]
) -> None:
    body = '{"points": [{"lat": ' + "1" * 5000 + ', "lon": 0}]}'
    response = client.post(BATCH, data=body, content_type="application/json", headers=auth_header)
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "The request body is not valid JSON: a number in it has more than 100 digits"
    )


def test_batch_deeply_nested_json_is_a_client_error(
    client: FlaskClient, auth_header: dict[str, str]
) -> None:
    body = '{"points": [' + "[" * 50_000 + "]" * 50_000 + "]}"
    response = client.post(BATCH, data=body, content_type="application/json", headers=auth_header)
    assert response.status_code == 400


# -- GET /search ---------------------------------------------------------------------------------


def result_names(body: dict[str, Any]) -> list[str]:
    return [place["name"] for place in body["results"]]


def test_search_accents_and_ranking(client: FlaskClient, auth_header: dict[str, str]) -> None:
    status, body = get_json(client, SEARCH, auth_header, q="sao pa")
    assert status == 200
    assert result_names(body) == ["São Paulo", "São Paulo de Olivença"]
    assert body["results"][0]["display_name"] == "São Paulo, Brazil"
    assert body["query"] == {"q": "sao pa", "limit": 10, "country": None}
    assert "CC BY 4.0" in body["attribution"]
    for q, expected in [("ZÜRICH", "Zürich"), ("montreal", "Montréal"), ("AERO", "Ærøskøbing")]:
        _, body = get_json(client, SEARCH, auth_header, q=q)
        assert result_names(body)[0] == expected
    _, body = get_json(client, SEARCH, auth_header, q="s", limit=4)
    assert result_names(body) == ["São Paulo", "Singapore", "San Jose", "San Francisco"]
    _, body = get_json(client, SEARCH, auth_header, q="s", country="us")
    assert result_names(body) == ["San Jose", "San Francisco", "Sunnyvale"]
    assert body["query"]["country"] == "US"
    _, body = get_json(client, SEARCH, auth_header, q="xyzzy")
    assert body["results"] == []
    status, body = get_json(client, SEARCH, auth_header, q=" -' ")  # nothing left to match
    assert status == 200 and body["results"] == []


def test_search_on_the_bundled_data(
    bundled_client: FlaskClient, auth_header: dict[str, str]
) -> None:
    status, body = get_json(bundled_client, SEARCH, auth_header, q="sao pa", limit=3)
    assert status == 200
    assert body["results"][0]["display_name"] == "São Paulo, Brazil"
    assert len(body["results"]) == 3
    _, body = get_json(bundled_client, SEARCH, auth_header, q="mountain view", country="US")
    assert body["results"][0]["display_name"] == "Mountain View, California, United States"
    assert all(place["country_code"] == "US" for place in body["results"])


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "q", "q is required"),
        ({"q": ""}, "q", "q must be 1 to 100 characters long"),
        ({"q": "a" * 101}, "q", "q must be 1 to 100 characters long"),
        ({"q": "san", "limit": "0"}, "limit", "limit must be a whole number from 1 to 50"),
        ({"q": "san", "limit": "51"}, "limit", "limit must be a whole number from 1 to 50"),
        ({"q": "san", "country": "USA"}, "country", "country must be an ISO 3166-1 alpha-2"),
        ({"q": "san", "country": "U1"}, "country", "country must be an ISO 3166-1 alpha-2"),
        ({"q": "san", "country": "xx"}, "country", "country XX is not a country code in the data"),
    ],
)
def test_search_validation(
    client: FlaskClient,
    auth_header: dict[str, str],
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    status, body = get_json(client, SEARCH, auth_header, **params)
    assert status == 422
    errors = query_errors(body)
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)


@pytest.mark.parametrize("limit", ["ten", "2.5", "1e1", "\u0661"])
def test_search_limit_must_be_plain_digits(
    client: FlaskClient, auth_header: dict[str, str], limit: str
) -> None:
    status, body = get_json(client, SEARCH, auth_header, q="san", limit=limit)
    assert status == 400
    assert body["message"].startswith(
        "limit must be a whole number from 1 to 50 in plain ASCII digits"
    )


# -- health, docs, concurrency -------------------------------------------------------------------


def test_health_and_readiness(make_app: Callable[..., Flask], jwks_server: Any) -> None:
    client = make_app().test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ready",
        "checks": {"signing_keys": "ok", "places": "ok"},
    }
    jwks_server.mode = "fail"
    down = make_app().test_client().get("/readyz")
    assert down.status_code == 503
    assert down.get_json()["status"] == "unavailable"
    assert down.get_json()["checks"]["signing_keys"] == (
        "failed: no usable signing key from the issuer"
    )


def test_unsupported_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.delete(f"{REVERSE}?lat=1&lon=2")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.get_json()["code"] == 405


FIXTURE_COUNTRIES = ["AQ", "BR", "CA", "CH", "DK", "EC", "FJ", "GB", "GL", "IS", "KI", "NO"]
FIXTURE_COUNTRIES += ["RU", "SG", "SJ", "TO", "US"]


def test_openapi_documents_security_errors_and_attribution(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.0.3"
    assert "GeoNames" in spec["info"]["description"]
    assert "CC BY 4.0" in spec["info"]["description"]
    operations = [
        spec["paths"][REVERSE]["get"],
        spec["paths"][BATCH]["post"],
        spec["paths"][SEARCH]["get"],
    ]
    for operation in operations:
        assert {"oauth2": ["geocode"]} in operation["security"]
        assert {"401", "403", "422"} <= set(operation["responses"])
        assert "X-Data-Attribution" in operation["responses"]["200"]["headers"]
        assert operation["summary"] and operation["description"]
    assert "413" in spec["paths"][BATCH]["post"]["responses"]
    country = next(p for p in spec["paths"][SEARCH]["get"]["parameters"] if p["name"] == "country")
    assert country["schema"]["enum"] == FIXTURE_COUNTRIES
    assert "choices" not in json.dumps(country)
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flows) == {"clientCredentials", "authorizationCode"}
    assert {"ReverseResult", "BatchResult", "SearchResult", "Place"} <= set(
        spec["components"]["schemas"]
    )


def test_concurrent_requests_over_real_http(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], geo_token: str
) -> None:
    """Threads share one index and one time-zone finder; answers must not mix."""
    base = serve(make_app())
    headers = {"Authorization": f"Bearer {geo_token}"}
    points = [(37.3861, -122.0839), (-16.95, 180), (78.3, 14.75), (0, -140), (-90, 0)]
    expected = [
        requests.get(
            f"{base}{REVERSE}", params={"lat": a, "lon": b}, headers=headers, timeout=10
        ).json()
        for a, b in points
    ]
    batch = {"points": [{"lat": a, "lon": b} for a, b in points] * 20}

    def one(i: int) -> bool:
        a, b = points[i % len(points)]
        single = requests.get(
            f"{base}{REVERSE}", params={"lat": a, "lon": b}, headers=headers, timeout=10
        ).json()
        many = requests.post(f"{base}{BATCH}", json=batch, headers=headers, timeout=10).json()
        zones = [item["time_zone"] for item in many["results"]]
        return (
            single == expected[i % len(points)] and zones == [e["time_zone"] for e in expected] * 20
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(one, range(40)))


def test_json_field_order_is_stable(client: FlaskClient, auth_header: dict[str, str]) -> None:
    raw = client.get(f"{REVERSE}?lat=1&lon=2", headers=auth_header).get_data(as_text=True)
    assert list(json.loads(raw)) == [
        "query",
        "place",
        "distance_km",
        "time_zone",
        "explanation",
        "attribution",
    ]


def test_the_rate_limit_counts_clients_not_tokens(make_app: Any, tokens: Any) -> None:
    """GEOCODING_RATE_LIMIT is per client: new tokens of one client share its budget (a
    client cannot reset it by fetching another token), another client has its own."""
    client = make_app(GEOCODING_RATE_LIMIT="2/minute").test_client()

    def reverse(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return client.get("/geocoding/v1/reverse?lat=1&lon=2", headers=headers).status_code

    first, second = tokens.client_credentials(), tokens.client_credentials(jti="another")
    assert [reverse(first), reverse(second), reverse(tokens.client_credentials())] == [
        200,
        200,
        429,
    ]
    assert reverse(tokens.client_credentials("other-client")) == 200
    batch = client.post(
        "/geocoding/v1/reverse/batch",
        json={"points": [{"lat": 1, "lon": 2}]},
        headers={"Authorization": f"Bearer {first}"},
    )
    assert batch.status_code == 429  # one budget across every route
