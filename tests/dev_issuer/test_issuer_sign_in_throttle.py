"""Repeated wrong passwords get 429 with Retry-After, per user and per address, for a while."""

from __future__ import annotations

import pytest
from flask import Flask
from issuer_testkit import Driver, Page

from dev_issuer.context import issuer_context
from dev_issuer.throttle import ADDRESS_LIMIT, USER_LIMIT, WINDOW


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Flask) -> Clock:
    clock = Clock()
    issuer_context(app).store.clock = clock
    return clock


def attempt(app: Flask, user: str, password: str, address: str = "203.0.113.7") -> Page:
    """One sign-in from a fresh browser (a guesser need not keep its cookies)."""
    driver = Driver(app.test_client())
    driver.client.environ_base["REMOTE_ADDR"] = address
    return driver.sign_in(driver.start(), user, password)


SIGNED_IN = "consent"  # demo-spa asks for consent once the user is signed in


def test_a_user_with_too_many_wrong_passwords_waits_even_with_the_right_one(
    app: Flask, clock: Clock
) -> None:
    for _ in range(USER_LIMIT):
        assert attempt(app, "usr_123", "wrong").status == 401
        clock.now += 10
    locked = attempt(app, "usr_123", "dev-password")
    assert locked.status == 429
    retry_after = int(locked.response.headers["Retry-After"])
    assert retry_after == WINDOW - 10 * USER_LIMIT
    assert f"try again in {retry_after} seconds" in locked.html
    assert attempt(app, "usr_456", "dev-password", "198.51.100.9").kind == SIGNED_IN
    clock.now += retry_after  # the oldest failure leaves the window
    assert attempt(app, "usr_123", "dev-password").kind == SIGNED_IN


def test_a_success_clears_the_users_count(app: Flask, clock: Clock) -> None:
    for _ in range(USER_LIMIT - 1):
        attempt(app, "usr_123", "wrong")
    assert attempt(app, "usr_123", "dev-password").kind == SIGNED_IN
    for _ in range(USER_LIMIT - 1):
        assert attempt(app, "usr_123", "wrong").status == 401


def test_one_address_guessing_across_users_is_slowed_down(app: Flask, clock: Clock) -> None:
    for number in range(ADDRESS_LIMIT):  # user names that do not exist count too
        assert attempt(app, f"guess_{number}", "wrong").status == 400
        clock.now += 1
    blocked = attempt(app, "usr_456", "dev-password")
    assert blocked.status == 429 and int(blocked.response.headers["Retry-After"]) > 0
    assert attempt(app, "usr_456", "dev-password", "198.51.100.9").kind == SIGNED_IN
