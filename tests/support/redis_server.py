"""The local Redis server the cross-process tests use."""

from __future__ import annotations

import os

import pytest
import redis


def redis_or_skip(url: str) -> redis.Redis:
    """A client of the Redis database at `url`; the test is skipped when no server answers
    (failed instead with KLINIKITA_REQUIRE_REDIS=1)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("KLINIKITA_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required but not reachable at {url}")
        pytest.skip("Redis is not running")
    return client
