"""The verified-token cache: a repeated token is answered from memory, and only while the
full checks would give the same answer (on time, on the key, on the key set's freshness).

The rest of the shared_auth suite runs with the cache on and off (``token_cache`` in
``conftest.py``); these tests are about the cache itself, so they run with it on.
"""

from __future__ import annotations

from typing import Any

import pytest
from shared_auth_helpers import NOW, FakeClock, rejected

from shared_auth import AuthSettings, JWKSCache, TokenVerifier

LEEWAY = 30.0
pytestmark = pytest.mark.parametrize("token_cache", ["token-cache-on"], indirect=True)


def mint(tokens: Any, **claims: Any) -> str:
    """A token valid at ``NOW`` for five minutes (unless ``claims`` say otherwise)."""
    return tokens.mint(**{"iat": NOW, "exp": NOW + 300, **claims})


@pytest.fixture
def wall() -> FakeClock:
    """The claims clock (``exp``, ``iat``), moved by hand."""
    return FakeClock(NOW)


@pytest.fixture
def caching(make_settings: Any, clock: FakeClock, wall: FakeClock) -> Any:
    def build(**overrides: Any) -> TokenVerifier:
        settings = make_settings(leeway=LEEWAY, **overrides)
        return TokenVerifier(settings, JWKSCache(settings, clock=clock), clock=wall)

    return build


def test_a_repeated_token_is_answered_from_memory(caching: Any, tokens: Any) -> None:
    verifier = caching()
    token = mint(tokens)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # the remembered principal, no second check
    assert len(verifier.cache) == 1
    other = verifier.verify(mint(tokens, sub="usr_456"))
    assert other.subject == "usr_456" and len(verifier.cache) == 2


def test_an_entry_ends_at_exp_and_the_full_checks_decide_after(
    caching: Any, tokens: Any, wall: FakeClock
) -> None:
    verifier = caching()
    token = mint(tokens)
    first = verifier.verify(token)
    wall.now = NOW + 299.999
    assert verifier.verify(token) is first
    wall.now = NOW + 300  # exp: no longer remembered; within the leeway, still valid
    again = verifier.verify(token)
    assert again is not first and again.subject == first.subject
    wall.now = NOW + 300 + LEEWAY + 0.001
    rejected(lambda: verifier.verify(token), "expired")


def test_an_entry_ends_with_the_maximum_token_age(
    caching: Any, tokens: Any, wall: FakeClock
) -> None:
    verifier = caching(max_token_age=60)
    token = mint(tokens, exp=NOW + 3600)
    first = verifier.verify(token)
    wall.now = NOW + 60 + LEEWAY - 0.001
    assert verifier.verify(token) is first
    wall.now = NOW + 60 + LEEWAY + 0.001
    rejected(lambda: verifier.verify(token), "too_old")


def test_a_key_that_leaves_the_set_takes_its_tokens_with_it(
    caching: Any, tokens: Any, jwks_server: Any, new_key: Any, clock: FakeClock
) -> None:
    verifier = caching(jwks_refetch_cooldown=30)
    token = mint(tokens)
    verifier.verify(token)
    rotated = new_key("rotated-key")
    jwks_server.keys = [rotated.jwk()]  # the old key is withdrawn (compromised, say)
    clock.advance(30)
    assert verifier.verify(mint(tokens, key=rotated)).subject == "usr_123"  # refetches
    rejected(lambda: verifier.verify(token), "unknown_kid")
    assert verifier.verify(mint(tokens, key=rotated)).subject == "usr_123"


def test_keys_too_stale_to_trust_are_not_trusted_from_memory(
    caching: Any, tokens: Any, jwks_server: Any, clock: FakeClock
) -> None:
    verifier = caching(jwks_cache_lifetime=600, jwks_max_stale=3600)
    token = mint(tokens, exp=NOW + 10_000)
    verifier.verify(token)
    jwks_server.mode = "fail"
    clock.advance(3600)
    rejected(lambda: verifier.verify(token), "jwks_unavailable", 503)


def test_failures_are_never_remembered(
    caching: Any, tokens: Any, attacker_key: Any, signing_key: Any
) -> None:
    verifier = caching()
    forged = mint(tokens, key=attacker_key, headers={"kid": signing_key.kid})
    for _ in range(2):
        rejected(lambda: verifier.verify(forged), "bad_signature")
    assert len(verifier.cache) == 0


def test_the_cache_is_bounded_least_recently_used_first_out(caching: Any, tokens: Any) -> None:
    verifier = caching(token_cache_size=3)
    minted = [mint(tokens, sub=f"usr_{i}") for i in range(4)]
    principals = [verifier.verify(token) for token in minted[:3]]
    verifier.verify(minted[0])  # used again: now the most recent
    verifier.verify(minted[3])  # evicts usr_1, the least recently used
    assert len(verifier.cache) == 3
    assert verifier.verify(minted[0]) is principals[0]
    assert verifier.verify(minted[1]) is not principals[1]


def test_tokens_are_kept_only_as_digests(caching: Any, tokens: Any) -> None:
    verifier = caching()
    token = mint(tokens)
    verifier.verify(token)
    assert all(token.encode() not in key for key in verifier.cache._entries)
    assert token not in repr(verifier.cache._entries)


def test_size_zero_turns_the_cache_off(make_settings: Any) -> None:
    assert TokenVerifier(make_settings(token_cache_size=0)).cache is None
    assert (
        AuthSettings.from_env(
            {"AUTH_TOKEN_CACHE_SIZE": "0"}, issuer="http://x/", audiences=("a",)
        ).token_cache_size
        == 0
    )
