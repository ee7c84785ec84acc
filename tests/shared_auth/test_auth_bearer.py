"""Finding the one token a request carries (RFC 6750 section 2), framework-free."""

from __future__ import annotations

from typing import Any

import pytest
from shared_auth_helpers import rejected

from shared_auth import MissingToken, find_token

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


def find(
    authorization: str | None = None,
    *,
    method: str = "GET",
    query: list[str] | None = None,
    form: list[str] | None = None,
    **options: Any,
) -> str:
    return find_token(
        method=method,
        authorization=authorization,
        query={"access_token": query or []},
        form=None if form is None else {"access_token": form},
        **options,
    ).token


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}",
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"bEaReR {TOKEN}",
        f"Bearer  {TOKEN}",
    ],
)
def test_bearer_scheme_matches_in_any_case(authorization: str):
    assert find(authorization) == TOKEN


@pytest.mark.parametrize("token", ["abc", "a-b_c.d~e+f/g", "abc==", "a.b.c="])
def test_every_token68_shape_is_accepted(token: str):
    assert find(f"Bearer {token}") == token


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {TOKEN}", f"Token {TOKEN}", f"Bearer:{TOKEN}", TOKEN, "", f"DPoP {TOKEN}"],
)
def test_another_scheme_is_no_credentials_at_all(authorization: str):
    """RFC 6750 3.1: a request without Bearer credentials gets a bare challenge (401, no error),
    which tells the client the scheme to use; DPoP counts only where the API accepts it."""
    error = rejected(lambda: find(authorization), "unsupported_scheme", status=401)
    assert isinstance(error, MissingToken) and error.error is None


def test_dpop_scheme_where_accepted():
    found = find_token(
        method="GET", authorization=f"DPoP {TOKEN}", query={}, form=None, schemes=("Bearer", "DPoP")
    )
    assert (found.token, found.scheme) == (TOKEN, "DPoP")


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer", "empty_token"),
        ("Bearer   ", "empty_token"),
        (f"Bearer {TOKEN} {TOKEN}", "malformed_header"),
        ("Bearer abc def", "malformed_header"),
        ("Bearer abc\tdef", "malformed_header"),
        ("Bearer a=b", "malformed_header"),
        ("Bearer abc,def", "malformed_header"),
        ('Bearer "abc"', "malformed_header"),
        ("Bearer tökén", "malformed_header"),
        ("Bearer abc;", "malformed_header"),
    ],
)
def test_bad_authorization_header_is_invalid_request(authorization: str, reason: str):
    error = rejected(lambda: find(authorization), reason, status=400)
    assert error.error == "invalid_request"


def test_no_token_anywhere_is_missing_token_without_error_code():
    error = rejected(lambda: find(), "missing_token", status=401)
    assert isinstance(error, MissingToken)
    assert error.error is None


def test_query_token_is_refused_by_default_and_accepted_when_enabled():
    rejected(lambda: find(query=[TOKEN]), "token_in_query", status=400)
    assert find(query=[TOKEN], allow_query=True) == TOKEN


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "post"])
def test_form_body_token_is_accepted_with_a_body_method(method: str):
    assert find(method=method, form=[TOKEN]) == TOKEN


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "OPTIONS"])
def test_form_body_token_is_refused_without_a_body_method(method: str):
    rejected(lambda: find(method=method, form=[TOKEN]), "token_in_form_without_body", status=400)


@pytest.mark.parametrize(
    "places",
    [
        {"authorization": f"Bearer {TOKEN}", "method": "POST", "form": [TOKEN]},
        {"authorization": f"Bearer {TOKEN}", "query": [TOKEN], "allow_query": True},
        {"method": "POST", "query": [TOKEN], "form": [TOKEN], "allow_query": True},
        {"method": "POST", "form": [TOKEN, TOKEN]},
        {"query": [TOKEN, "other"], "allow_query": True},
    ],
)
def test_token_in_more_than_one_place_is_invalid_request(places: dict[str, Any]):
    rejected(lambda: find(**places), "multiple_tokens", status=400)


def test_header_plus_query_token_is_invalid_request_even_when_query_is_refused():
    error = rejected(lambda: find(f"Bearer {TOKEN}", query=[TOKEN]), "token_in_query", 400)
    assert error.error == "invalid_request"


@pytest.mark.parametrize("source", ["query", "form"])
def test_empty_parameter_token_is_invalid_request(source: str):
    options: dict[str, Any] = {source: [""], "method": "POST", "allow_query": True}
    rejected(lambda: find(**options), "empty_token", status=400)
