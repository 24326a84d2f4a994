"""Test-wide setup: one throw-away SQLite database and key per run, reset per test.

The environment is set before anything from klinikita is imported, so the app's settings
(cached once per process) point at the test database and never at the developer's own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="klinikita-tests-"))
os.environ["REFLEX_DB_URL"] = f"sqlite:///{_TMP / 'test.db'}"
os.environ["KLINIKITA_SECRET_KEY_FILE"] = str(_TMP / "test.key")
os.environ["KLINIKITA_BCRYPT_ROUNDS"] = "4"
os.environ["KLINIKITA_RUN_WORKER"] = "0"
os.environ["KLINIKITA_SIMULATOR_DATA"] = "none"
os.environ.pop("REFLEX_REDIS_URL", None)
os.environ.pop("KLINIKITA_SECRET_KEY", None)
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import pytest  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import klinikita.models  # noqa: E402, F401
from klinikita.db import get_engine  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no login, reset or password-change tries counted."""
    from klinikita.services import rate_limits

    rate_limits.reset()
    yield
    rate_limits.reset()


@pytest.fixture
def db() -> Session:
    """An empty schema for this test, and a session on it."""
    engine = get_engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ARG001
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which the async tests cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture
def mail_server(monkeypatch):
    """A real SMTP server on a free local port, with the app's settings pointing at it."""
    from klinikita.settings import get_settings
    from tests.support.smtp import smtp_server

    with smtp_server() as (inbox, port):
        monkeypatch.setenv("KLINIKITA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("KLINIKITA_SMTP_PORT", str(port))
        monkeypatch.setenv("KLINIKITA_SMTP_SENDER", "Klinikita Uji <uji@klinikita.test>")
        monkeypatch.setenv("KLINIKITA_PUBLIC_URL", "https://rme.klinik.test/")
        get_settings.cache_clear()
        try:
            yield inbox
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
