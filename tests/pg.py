"""Throw-away PostgreSQL databases on the local server, for tests that need the real thing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_ADMIN_URL = os.environ.get("KLINIKITA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def require_pg() -> None:
    """Skip when PostgreSQL is not running; CI sets KLINIKITA_REQUIRE_PG=1 to fail instead."""
    import pytest

    if pg_available():
        return
    if os.environ.get("KLINIKITA_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required but not reachable at {PG_ADMIN_URL}")
    pytest.skip("PostgreSQL is not running")


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def temporary_pg_database(prefix: str = "klinikita_test") -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_and_postgresql(request, db):  # noqa: ANN001, ANN201
    """A `db` fixture body running a module's tests on SQLite and on PostgreSQL
    (production): `db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)`."""
    from sqlmodel import Session, SQLModel

    from klinikita.db import make_engine

    if request.param == "sqlite":
        yield db
        return
    require_pg()
    with temporary_pg_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as session:
            yield session
        engine.dispose()
