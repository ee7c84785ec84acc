"""Per-caller rate limits (``{PREFIX}_RATE_LIMIT``), for every API in the house.

Counted once the caller is known: by the verified token's caller (the user for the calendar
and notes, the client for geocoding), by remote address when the token is refused. Over the
limit: 429 with the JSON error body, ``Retry-After`` and the RateLimit headers, and the view
never runs. Counts in this process, or in the real Redis on 127.0.0.1:6379 shared by two
instances.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from kit_profiles import Profile
from support.redis_db import redis_url

from service_kit import ConfigError

LIMIT = "3/minute"


@pytest.fixture
def api(service: Profile) -> Profile:
    if service.token is None:
        pytest.skip("the issuer verifies no tokens, so it has no callers to limit")
    return service


def _get(client: Any, api: Profile, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(api.protected, headers=headers)


def _other_caller(api: Profile) -> str:
    assert api.mint is not None
    return api.mint(sub="usr_other", azp="other-client")


def test_each_caller_has_its_own_budget_and_then_a_429(api: Profile) -> None:
    client = api.make(**{f"{api.prefix}_RATE_LIMIT": LIMIT}).test_client()
    answers = [_get(client, api, api.token) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"
    over = _get(client, api, api.token)
    assert over.status_code == 429
    body = over.get_json()
    assert (body["code"], body["status"]) == (429, "Too Many Requests")
    assert "3 per 1 minute" in body["message"] and "Retry-After" in body["message"]
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["RateLimit-Remaining"] == "0"
    assert _get(client, api, _other_caller(api)).status_code == 200


def test_refused_tokens_are_counted_by_address(api: Profile) -> None:
    client = api.make(**{f"{api.prefix}_RATE_LIMIT": LIMIT}).test_client()
    statuses = [_get(client, api, "not-a-token").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert _get(client, api, None).status_code == 429  # no token at all: the same address
    assert _get(client, api, api.token).status_code == 200  # a valid caller is not that address


def test_public_routes_are_never_limited(api: Profile) -> None:
    client = api.make(**{f"{api.prefix}_RATE_LIMIT": "1/minute"}).test_client()
    for _ in range(5):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


def test_without_a_limit_nothing_is_counted(api: Profile) -> None:
    client = api.make().test_client()
    for _ in range(10):
        response = _get(client, api, api.token)
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


def test_a_bad_limit_stops_the_service_at_start(api: Profile) -> None:
    with pytest.raises(ConfigError, match=f"{api.prefix}_RATE_LIMIT"):
        api.make(**{f"{api.prefix}_RATE_LIMIT": "lots"})


@pytest.mark.redis
def test_instances_sharing_redis_share_each_callers_count(
    api: Profile, serve: Callable[[Any], str]
) -> None:
    shared = {f"{api.prefix}_RATE_LIMIT": LIMIT, "REDIS_URL": redis_url("rate_limits_shared")}
    first, second = serve(api.make(**shared)), serve(api.make(**shared))
    alone = serve(api.make(**{f"{api.prefix}_RATE_LIMIT": LIMIT}))
    headers = {"Authorization": f"Bearer {api.token}"}

    def status(base: str) -> int:
        return requests.get(base + api.protected, headers=headers, timeout=10).status_code

    assert [status(first), status(second), status(first)] == [200, 200, 200]
    assert status(second) == 429  # the fourth request, whichever instance gets it
    assert status(first) == 429
    assert status(alone) == 200  # an instance counting in its own memory knows nothing of it


@pytest.mark.redis
def test_redis_counts_survive_a_new_instance(api: Profile) -> None:
    settings = {f"{api.prefix}_RATE_LIMIT": LIMIT, "REDIS_URL": redis_url("rate_limits")}
    for _ in range(3):
        assert _get(api.make(**settings).test_client(), api, api.token).status_code == 200
    assert _get(api.make(**settings).test_client(), api, api.token).status_code == 429


def test_an_unreachable_redis_falls_back_to_counting_in_memory(api: Profile) -> None:
    """A limit must not become an outage. (DPoP is off here: its replay store refuses to
    start without the Redis it was told to use, as a replay check must not fail open.)"""
    settings = {
        f"{api.prefix}_RATE_LIMIT": LIMIT,
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "AUTH_DPOP": "disabled",
    }
    client = api.make(**settings).test_client()
    statuses = [_get(client, api, api.token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
