"""The key cache against a real JWKS server: discovery, lifetime, rotation, floods, outages.

Fetches are counted on the server. The cache runs on a ``FakeClock`` (its ``clock`` input),
so "31 s later" is a line of code; the hanging and dripping endpoints use real time.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from jwt.algorithms import RSAAlgorithm
from shared_auth_helpers import AUD, rejected

from shared_auth import (
    AuthError,
    AuthSettings,
    Challenge,
    JWKSCache,
    KeysUnavailable,
    TokenVerifier,
)

LIFETIME, COOLDOWN, MAX_STALE = 600.0, 30.0, 3600.0


@pytest.fixture
def cached(make_verifier) -> TokenVerifier:
    return make_verifier(
        jwks_cache_lifetime=LIFETIME, jwks_refetch_cooldown=COOLDOWN, jwks_max_stale=MAX_STALE
    )


def test_discovery_is_used_once_then_keys_are_cached(cached, tokens, jwks_server):
    for _ in range(5):
        assert cached.verify(tokens.mint()).subject == "usr_123"
    assert (jwks_server.discovery_fetches, jwks_server.jwks_fetches) == (1, 1)
    assert cached.keys.has_keys


def test_discovery_names_the_jwks_uri(cached, tokens, jwks_server, route_server, signing_key):
    route_server.routes["/elsewhere/keys"] = (200, {"keys": [signing_key.jwk()]})
    jwks_server.discovery = {
        "issuer": jwks_server.issuer,
        "jwks_uri": f"{route_server.url}elsewhere/keys",
    }
    assert cached.verify(tokens.mint()).subject == "usr_123"
    assert route_server.requests == ["/elsewhere/keys"]
    assert jwks_server.jwks_fetches == 0


def test_configured_jwks_uri_skips_discovery(make_verifier, tokens, jwks_server):
    verifier = make_verifier(jwks_uri=jwks_server.jwks_uri)
    assert verifier.verify(tokens.mint()).subject == "usr_123"
    assert (jwks_server.discovery_fetches, jwks_server.jwks_fetches) == (0, 1)


@pytest.mark.parametrize(
    "discovery",
    [
        None,  # 404
        (200, ["not", "an", "object"]),
        (200, {"issuer": "{issuer}"}),  # no jwks_uri
        (200, {"issuer": "{issuer}", "jwks_uri": "file:///etc/passwd"}),
    ],
)
def test_fallback_to_the_well_known_jwks_path(route_server, tokens, signing_key, discovery):
    issuer = route_server.url
    if discovery is not None:
        status, body = discovery
        if isinstance(body, dict):
            body = {k: v.replace("{issuer}", issuer) for k, v in body.items()}
        route_server.routes["/.well-known/openid-configuration"] = (status, body)
    route_server.routes["/.well-known/jwks.json"] = (200, {"keys": [signing_key.jwk()]})
    verifier = TokenVerifier(AuthSettings(issuer=issuer, audiences=(AUD,)))
    assert verifier.verify(tokens.mint(iss=issuer)).subject == "usr_123"
    assert route_server.requests == [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ]


def test_discovery_error_is_not_a_reason_to_guess(route_server, tokens, signing_key):
    """A 500 from discovery says "down", not "absent": no fallback, a 503."""
    route_server.routes["/.well-known/openid-configuration"] = (500, {"error": "down"})
    route_server.routes["/.well-known/jwks.json"] = (200, {"keys": [signing_key.jwk()]})
    verifier = TokenVerifier(AuthSettings(issuer=route_server.url, audiences=(AUD,)))
    rejected(lambda: verifier.verify(tokens.mint(iss=route_server.url)), "jwks_unavailable", 503)
    assert route_server.requests == ["/.well-known/openid-configuration"]


def test_discovery_for_another_issuer_gives_no_keys(cached, tokens, jwks_server):
    jwks_server.discovery = {"issuer": "https://evil.example/", "jwks_uri": jwks_server.jwks_uri}
    rejected(lambda: cached.verify(tokens.mint()), "jwks_unavailable", 503)
    assert jwks_server.jwks_fetches == 0
    assert not cached.keys.has_keys


@pytest.mark.parametrize(
    "document",
    [{"nokeys": []}, {"keys": {}}, {"keys": []}, {"keys": ["x", 1, None, {"kty": "RSA"}]}, [1]],
)
def test_a_document_without_usable_keys_is_an_outage(route_server, tokens, document):
    route_server.routes["/keys"] = (200, document)
    settings = AuthSettings(
        issuer=tokens.issuer, audiences=(AUD,), jwks_uri=f"{route_server.url}keys"
    )
    rejected(lambda: TokenVerifier(settings).verify(tokens.mint()), "jwks_unavailable", 503)
    assert route_server.requests == ["/keys"]


def test_broken_and_private_entries_are_skipped_not_fatal(make_verifier, tokens, jwks_server):
    """One bad entry must neither crash verification (500) nor take the good keys with it."""
    private = json.loads(RSAAlgorithm.to_jwk(tokens.key.private_key))
    jwks_server.keys = [
        {"kty": "RSA", "kid": "no-modulus"},
        {"kty": "RSA", "kid": "junk", "n": "!!", "e": "AQAB"},
        {"kty": "EC", "kid": "ec-junk", "crv": "P-256", "x": 1, "y": 2, "alg": "ES256"},
        {**private, "kid": "leaked", "alg": "RS256"},
        tokens.key.jwk(),
    ]
    verifier = make_verifier(algorithms=("RS256", "ES256"))
    assert verifier.verify(tokens.mint()).subject == "usr_123"
    for kid in ("no-modulus", "junk", "leaked"):
        rejected(lambda kid=kid: verifier.verify(tokens.mint(headers={"kid": kid})), "unknown_kid")


def test_a_set_holding_only_a_private_key_is_an_outage(make_verifier, tokens, jwks_server):
    private = json.loads(RSAAlgorithm.to_jwk(tokens.key.private_key))
    jwks_server.keys = [{**private, "kid": tokens.key.kid, "alg": "RS256"}]
    rejected(lambda: make_verifier().verify(tokens.mint()), "jwks_unavailable", 503)


def test_cache_lifetime_is_respected(cached, tokens, jwks_server, clock):
    """From 80% of its lifetime the set is refreshed in the background, once."""
    token = tokens.mint()
    cached.verify(token)
    clock.advance(LIFETIME * 0.8 - 1)
    cached.verify(token)
    cached.keys.wait_for_refresh()
    assert jwks_server.jwks_fetches == 1
    clock.advance(1)
    cached.verify(token)
    cached.keys.wait_for_refresh()
    assert jwks_server.jwks_fetches == 2
    clock.advance(LIFETIME / 2)
    cached.verify(cached_token := tokens.mint())
    cached.verify(cached_token)
    cached.keys.wait_for_refresh()
    assert jwks_server.jwks_fetches == 2


def test_rotation_new_kid_triggers_exactly_one_refetch(
    cached, tokens, jwks_server, signing_key, new_key, clock
):
    cached.verify(tokens.mint())
    rotated = new_key("rotated-key")
    jwks_server.keys = [signing_key.jwk(), rotated.jwk()]
    clock.advance(COOLDOWN)
    for _ in range(3):
        assert cached.verify(tokens.mint(key=rotated)).subject == "usr_123"
        assert cached.verify(tokens.mint()).subject == "usr_123"
    assert jwks_server.jwks_fetches == 2


def test_rotation_within_the_cooldown_is_refused_without_a_fetch(
    cached, tokens, jwks_server, signing_key, new_key, clock
):
    cached.verify(tokens.mint())
    rotated = new_key("rotated-key")
    jwks_server.keys = [rotated.jwk()]
    clock.advance(COOLDOWN - 1)
    rejected(lambda: cached.verify(tokens.mint(key=rotated)), "unknown_kid")
    assert jwks_server.jwks_fetches == 1
    clock.advance(1)  # cooldown over: one fetch, the retired key is gone
    assert cached.verify(tokens.mint(key=rotated)).subject == "usr_123"
    rejected(lambda: cached.verify(tokens.mint()), "unknown_kid")
    assert jwks_server.jwks_fetches == 2


@pytest.mark.parametrize("advance", [0.0, COOLDOWN])
def test_a_flood_of_random_kids_costs_at_most_one_fetch(
    cached, tokens, jwks_server, clock, advance
):
    cached.verify(tokens.mint())
    clock.advance(advance)
    for _ in range(200):
        token = tokens.mint(headers={"kid": uuid.uuid4().hex})
        rejected(lambda token=token: cached.verify(token), "unknown_kid")
    assert jwks_server.jwks_fetches == (2 if advance else 1)
    assert cached.verify(tokens.mint()).subject == "usr_123"


@pytest.mark.parametrize("cooldown", [COOLDOWN, 0.0])
def test_threads_on_a_cold_cache_share_one_fetch(make_verifier, tokens, jwks_server, cooldown):
    verifier = make_verifier(jwks_refetch_cooldown=cooldown)
    token = tokens.mint()
    barrier = threading.Barrier(32)
    subjects: list[str | None] = []

    def call() -> None:
        barrier.wait()
        subjects.append(verifier.verify(token).subject)

    threads = [threading.Thread(target=call) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert subjects == ["usr_123"] * 32
    assert (jwks_server.discovery_fetches, jwks_server.jwks_fetches) == (1, 1)


def test_outage_keeps_cached_keys_until_max_stale(cached, tokens, jwks_server, clock):
    token = tokens.mint()
    cached.verify(token)
    jwks_server.mode = "fail"
    clock.advance(LIFETIME)  # expired: refetch fails, the stale keys serve
    assert cached.verify(token).subject == "usr_123"
    cached.keys.wait_for_refresh()
    assert jwks_server.jwks_fetches == 2
    clock.advance(MAX_STALE - LIFETIME - 1)
    assert cached.verify(token).subject == "usr_123"
    assert cached.keys.has_keys
    clock.advance(1)
    error = rejected(lambda: cached.verify(token), "jwks_unavailable", 503)
    assert isinstance(error, KeysUnavailable)
    assert not cached.keys.has_keys
    jwks_server.mode = "ok"  # the issuer is back: the next fetch after the cooldown heals
    clock.advance(COOLDOWN)
    assert cached.verify(token).subject == "usr_123"
    assert cached.keys.has_keys


def test_outage_with_cached_keys_refuses_unknown_kids_with_503(cached, tokens, jwks_server, clock):
    cached.verify(tokens.mint())
    jwks_server.mode = "fail"
    clock.advance(COOLDOWN)
    rejected(lambda: cached.verify(tokens.mint(headers={"kid": "new"})), "jwks_unavailable", 503)
    assert cached.verify(tokens.mint()).subject == "usr_123"


def test_outage_without_keys_is_503_and_the_cooldown_answers_at_once(
    cached, tokens, jwks_server, clock
):
    jwks_server.mode = "fail"
    token = tokens.mint()
    first = rejected(lambda: cached.verify(token), "jwks_unavailable", 503)
    assert first.headers(Challenge("api")) == {"Retry-After": str(int(COOLDOWN) + 1)}
    assert jwks_server.jwks_fetches == 1
    clock.advance(COOLDOWN - 10)
    started = time.monotonic()
    second = rejected(lambda: cached.verify(token), "jwks_unavailable", 503)
    assert time.monotonic() - started < 0.5
    assert second.retry_after == 11
    assert jwks_server.jwks_fetches == 1
    clock.advance(10)
    rejected(lambda: cached.verify(token), "jwks_unavailable", 503)
    assert jwks_server.jwks_fetches == 2


def _timed(call: Any) -> tuple[float, Any]:
    """(seconds taken, result or the KeysUnavailable raised)."""
    started = time.monotonic()
    try:
        outcome = call()
    except KeysUnavailable as exc:
        outcome = exc
    return time.monotonic() - started, outcome


def test_hanging_jwks_endpoint_gives_503_within_the_timeout(
    make_settings, tokens, jwks_server, monkeypatch
):
    monkeypatch.setattr(jwks_server, "hang_seconds", 6.0)
    jwks_server.mode = "hang"
    verifier = TokenVerifier(make_settings(http_timeout=0.5))  # real clock
    elapsed, outcome = _timed(lambda: verifier.verify(tokens.mint()))
    assert isinstance(outcome, KeysUnavailable)
    assert elapsed < 3.0  # bounded by http_timeout, far from the 6 s hang
    elapsed, outcome = _timed(lambda: verifier.verify(tokens.mint()))
    assert isinstance(outcome, KeysUnavailable)
    assert elapsed < 0.5  # within the cooldown: no second wait
    assert jwks_server.jwks_fetches == 1


def test_hanging_refresh_still_serves_cached_keys(
    make_settings, tokens, jwks_server, clock, monkeypatch
):
    """The refresh runs beside the request: even the request that starts it does not wait."""
    settings = make_settings(http_timeout=2.0, jwks_cache_lifetime=60)
    verifier = TokenVerifier(settings, JWKSCache(settings, clock=clock))
    token = tokens.mint()
    verifier.verify(token)
    monkeypatch.setattr(jwks_server, "hang_seconds", 4.0)
    jwks_server.mode = "hang"
    clock.advance(60)  # the cached set is due for a refresh, which hangs
    for fresh in (token, tokens.mint()):  # remembered, and verified in full
        elapsed, principal = _timed(lambda: verifier.verify(fresh))  # noqa: B023
        assert principal.subject == "usr_123"
        assert elapsed < 1.0, elapsed  # far from the 2 s timeout
    verifier.keys.wait_for_refresh(10)
    assert jwks_server.jwks_fetches == 2


def test_requests_holding_a_cached_key_do_not_queue_behind_a_slow_refresh(
    make_settings, tokens, jwks_server, clock, monkeypatch
):
    settings = make_settings(http_timeout=2.0, jwks_cache_lifetime=60)
    verifier = TokenVerifier(settings, JWKSCache(settings, clock=clock))
    token = tokens.mint()
    verifier.verify(token)
    monkeypatch.setattr(jwks_server, "hang_seconds", 4.0)
    jwks_server.mode = "hang"
    clock.advance(60)
    refresher = threading.Thread(target=verifier.verify, args=(token,))
    refresher.start()  # this request refetches and waits up to http_timeout
    deadline = time.monotonic() + 2
    while jwks_server.jwks_fetches < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jwks_server.jwks_fetches == 2
    elapsed, principal = _timed(lambda: verifier.verify(token))
    assert principal.subject == "usr_123"
    assert elapsed < 0.5  # served from the cache at once, not after the 2 s fetch
    refresher.join(timeout=10)


def test_slow_drip_jwks_endpoint_cannot_outlast_the_deadline(route_server, tokens, signing_key):
    """Every byte arrives within the read timeout; only a total deadline stops this."""
    route_server.routes["/.well-known/jwks.json"] = (200, {"keys": [signing_key.jwk()] * 4})
    route_server.drip = 0.05  # ~7 KB at 20 bytes/s: over five minutes
    settings = AuthSettings(
        issuer=route_server.url,
        audiences=(AUD,),
        jwks_uri=f"{route_server.url}.well-known/jwks.json",
        http_timeout=0.5,
    )
    elapsed, outcome = _timed(lambda: TokenVerifier(settings).verify(tokens.mint()))
    assert isinstance(outcome, KeysUnavailable)
    assert elapsed < 3.0


def test_unknown_kids_do_not_queue_behind_a_fetch_in_flight(
    make_settings, tokens, jwks_server, clock, monkeypatch
):
    """With keys in hand, a made-up kid is answered at once while another thread's fetch
    hangs: a flood of them cannot tie up every worker thread for a whole timeout."""
    settings = make_settings(http_timeout=2.0, jwks_refetch_cooldown=30)
    verifier = TokenVerifier(settings, JWKSCache(settings, clock=clock))
    verifier.verify(tokens.mint())
    monkeypatch.setattr(jwks_server, "hang_seconds", 4.0)
    jwks_server.mode = "hang"
    clock.advance(30)
    first = tokens.mint(headers={"kid": "new-1"})
    fetching = threading.Thread(target=lambda: _refused(verifier, first))
    fetching.start()
    deadline = time.monotonic() + 2
    while jwks_server.jwks_fetches < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jwks_server.jwks_fetches == 2  # the first unknown kid is fetching (and hangs)
    elapsed, error = _timed(lambda: _refused(verifier, tokens.mint(headers={"kid": "new-2"})))
    assert elapsed < 0.5, elapsed
    assert error.reason == "unknown_kid"
    assert verifier.verify(tokens.mint()).subject == "usr_123"  # known kids, at once too
    fetching.join(timeout=10)


def _refused(verifier, token):
    try:
        verifier.verify(token)
    except AuthError as exc:
        return exc
    raise AssertionError("accepted")
