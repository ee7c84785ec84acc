"""The OpenAPI document is a contract: schemathesis sends generated valid and invalid requests.

Every answer must be below 500 and match what the document says (status codes, bodies,
content types). Examples are derandomised so a failure reproduces; the count keeps this test
to a few seconds. (``schemathesis.pytest.from_fixture`` does not work with this pytest, so the
operations are walked by hand with hypothesis.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth

EXAMPLES = 30
DATA_OPERATIONS = {
    "GET /geocoding/v1/reverse",
    "POST /geocoding/v1/reverse/batch",
    "GET /geocoding/v1/search",
}


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_api_honours_its_openapi_document(
    make_app: Callable[..., Flask], geo_token: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", make_app())
    headers = {"Authorization": f"Bearer {geo_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= DATA_OPERATIONS
    if mode is GenerationMode.NEGATIVE:  # the probes take no input: nothing to make invalid
        operations = [op for op in operations if op.label in DATA_OPERATIONS]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text)
            # ``ignored_auth`` replays the call expecting a refusal of our valid token; auth
            # refusals are tested with real tokens in test_api.py instead.
            case.validate_response(response, excluded_checks=[ignored_auth])

        check()
