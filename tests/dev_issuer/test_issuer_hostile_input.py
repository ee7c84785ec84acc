"""The token endpoint and /authorize answer any input with a 4xx, never a 500.

The four inputs that used to be 500s are pinned first, over real HTTP (raw bytes in a Basic
header cannot be written through a client library that encodes for us). Then hypothesis
generates arbitrary strings (lone surrogates included), bytes and JSON types for every
parameter of JSON and form bodies, Basic headers and /authorize queries.
"""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from issuer_testkit import DEMO_CALLBACK, GEOCODING, VERIFIER

TOKEN_PARAMS = (
    "grant_type",
    "client_id",
    "client_secret",
    "audience",
    "resource",
    "scope",
    "code",
    "redirect_uri",
    "code_verifier",
)
AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "audience",
    "resource",
    "scope",
    "state",
    "nonce",
    "prompt",
    "code_challenge",
    "code_challenge_method",
)
GOOD_BASIC = base64.b64encode(b"geo-backend:geo-backend-secret").decode()


def raw_post(base: str, headers: dict[str, bytes], body: bytes) -> tuple[int, dict[str, Any]]:
    """POST /oauth/token with header values sent as the exact bytes given."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", "/oauth/token")
    for name, value in {**headers, "Content-Length": str(len(body)).encode()}.items():
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


CLIENT_CREDENTIALS = urlencode({"grant_type": "client_credentials", "audience": GEOCODING})


@pytest.mark.parametrize(
    "authorization",
    [b"Basic \xc3\xa9\xff\xfe", f"Basic {GOOD_BASIC}".encode() + "é".encode("latin-1")],
    ids=["raw-non-ascii-bytes", "non-ascii-after-valid-base64"],
)
def test_a_basic_header_that_is_not_ascii_is_invalid_client(
    live_issuer: Any, authorization: bytes
) -> None:
    form = {"Content-Type": b"application/x-www-form-urlencoded", "Authorization": authorization}
    status, body = raw_post(live_issuer.url, form, CLIENT_CREDENTIALS.encode())
    assert (status, body["error"]) == (401, "invalid_client")
    assert body["message"] == "the Basic credentials are not valid base64"


@pytest.mark.parametrize(
    "params",
    [
        {
            "grant_type": "client_credentials",
            "client_id": "geo-backend",
            "client_secret": "\ud800",
            "audience": GEOCODING,
        },
        {
            "grant_type": "authorization_code",
            "client_id": "demo-spa",
            "code": "\ud800",
            "redirect_uri": DEMO_CALLBACK,
            "code_verifier": VERIFIER,
        },
    ],
    ids=["surrogate-client-secret", "surrogate-code"],
)
def test_a_lone_surrogate_in_json_is_invalid_request(
    live_issuer: Any, params: dict[str, str]
) -> None:
    body = json.dumps(params).encode()  # ensure_ascii: the surrogate travels as \ud800
    status, answer = raw_post(live_issuer.url, {"Content-Type": b"application/json"}, body)
    assert (status, answer["error"]) == (400, "invalid_request")
    assert "lone surrogate" in answer["message"]


# -- property-based: nothing makes the issuer fail ----------------------------------------------

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)
# Valid requests of each grant, then some parameters replaced by anything: the checks deep in
# each grant (client authentication, the code store) are reached, not only the first one.
BASES = st.sampled_from(
    [
        {"grant_type": "client_credentials", "audience": GEOCODING},
        {
            "grant_type": "client_credentials",
            "client_id": "geo-backend",
            "client_secret": "geo-backend-secret",
            "audience": GEOCODING,
        },
        {
            "grant_type": "authorization_code",
            "client_id": "demo-spa",
            "code": "x" * 43,
            "redirect_uri": DEMO_CALLBACK,
            "code_verifier": VERIFIER,
        },
    ]
)
CHANGES = st.dictionaries(st.sampled_from(TOKEN_PARAMS) | ANY_TEXT, JSON_VALUES, max_size=3)
BASIC = st.one_of(
    st.none(),
    st.just(f"Basic {GOOD_BASIC}"),
    st.binary(max_size=40).map(lambda raw: "Basic " + base64.b64encode(raw).decode()),
    st.binary(max_size=40).map(lambda raw: "Basic " + raw.decode("latin-1")),
    st.binary(max_size=8).map(lambda raw: f"Basic {GOOD_BASIC}" + raw.decode("latin-1")),
    ANY_TEXT,
)
SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _headers(basic: str | None) -> dict[str, str]:
    """The header as the bytes a client could send (no line breaks: HTTP has none in values)."""
    if basic is None:
        return {}
    value = basic.encode("utf-8", "surrogatepass").decode("latin-1")
    return {"Authorization": value.replace("\r", "").replace("\n", "")}


def _assert_handled(response: Any) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data())
    body = response.get_json()
    assert body["error"] and body["message"] and body["code"] == response.status_code


@SETTINGS
@given(base=BASES, changes=CHANGES, basic=BASIC)
def test_any_json_body_gets_a_4xx(
    client: FlaskClient, base: dict, changes: dict, basic: str | None
) -> None:
    body = json.dumps({**base, **changes})  # ensure_ascii: surrogates become \udXXX escapes
    response = client.post(
        "/oauth/token", data=body, content_type="application/json", headers=_headers(basic)
    )
    if response.status_code != 200:
        _assert_handled(response)


@SETTINGS
@given(
    base=BASES,
    pairs=st.lists(
        st.tuples(st.sampled_from(TOKEN_PARAMS) | st.binary(max_size=12), st.binary(max_size=40)),
        max_size=4,
    ),
    basic=BASIC,
)
def test_any_form_body_gets_a_4xx(
    client: FlaskClient, base: dict, pairs: list, basic: str | None
) -> None:
    changed = {key.encode() if isinstance(key, str) else key for key, _ in pairs}
    kept = [(k, v) for k, v in base.items() if k.encode() not in changed]
    body = urlencode([*kept, *pairs])  # raw bytes, percent-encoded: not necessarily UTF-8
    response = client.post(
        "/oauth/token",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=_headers(basic),
    )
    if response.status_code != 200:
        _assert_handled(response)


@SETTINGS
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(AUTHORIZE_PARAMS) | st.binary(max_size=12),
            st.sampled_from(["demo-spa", DEMO_CALLBACK, "code", "token", "read", ""])
            | st.binary(max_size=40),
        ),
        max_size=10,
    ),
    method=st.sampled_from(["GET", "POST"]),
    form=st.dictionaries(st.sampled_from(["csrf", "action", "user_id", "password"]), ANY_TEXT),
)
def test_any_authorize_request_gets_a_page_not_a_500(
    client: FlaskClient, pairs: list, method: str, form: dict
) -> None:
    form = {
        k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in form.items()
    }
    response = client.open(f"/authorize?{urlencode(pairs)}", method=method, data=form)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
