"""With REFLEX_REDIS_URL the login limits are kept in Redis, shared by every backend process,
under hashed keys (no username or address in Redis)."""

from __future__ import annotations

import pytest

from klinikita.services import auth, rate_limits
from klinikita.settings import get_settings
from tests.factories import GOOD_PASSWORD, make_branch, make_user
from tests.support.redis_server import redis_or_skip

REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own, emptied afterwards


@pytest.fixture
def limits_in_redis(monkeypatch):
    client = redis_or_skip(REDIS_URL)
    monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    rate_limits.reset()
    try:
        yield client
    finally:
        rate_limits.reset()
        client.flushdb()
        monkeypatch.undo()
        get_settings.cache_clear()
        rate_limits.reset()


def _answer(db, username, password, address):
    try:
        auth.login(db, username, password, client_address=address)
        return None
    except auth.LoginRefused as refused:
        return refused.message
    finally:
        db.commit()


def test_login_tries_are_counted_in_redis_under_hashed_keys(db, limits_in_redis):
    make_user(db, "sari", branches=[make_branch(db)])
    answers = [_answer(db, "sari", "Salah#2026", "10.0.0.1") for _ in range(5)]
    assert answers == [auth.WRONG_CREDENTIALS] * 5
    keys = [k.decode() for k in limits_in_redis.keys("*")]
    assert keys and all(k.startswith("klinikita-limits") for k in keys)
    assert not any("sari" in k or "10.0.0.1" in k for k in keys)
    assert _answer(db, "sari", GOOD_PASSWORD, "10.0.0.1") == auth.throttled_message()
    assert _answer(db, "sari", GOOD_PASSWORD, "10.0.0.2") is None
    rate_limits.reset()  # clears only this app's keys
    assert limits_in_redis.keys("*") == []
