"""A private Redis database for a test: the server on 127.0.0.1:6379, flushed before use.

Required when ``CI=true`` (a missing server fails the test); elsewhere a test without it is
skipped with the reason.
"""

from __future__ import annotations

import pytest

from .constants import CI

HOST, PORT = "127.0.0.1", 6379
DATABASES = {"dpop": 11, "rate_limits": 12, "rate_limits_shared": 13}


def redis_url(purpose: str) -> str:
    """``redis://127.0.0.1:6379/N`` for ``purpose``, its database emptied."""
    import redis

    url = f"redis://{HOST}:{PORT}/{DATABASES[purpose]}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        message = f"Redis at {HOST}:{PORT} is unreachable ({exc})"
        if CI:
            pytest.fail(f"{message}; it is required because CI=true")
        pytest.skip(message)
    return url
