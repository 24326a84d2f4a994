"""The database engine and sessions shared by the app, the worker and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from klinikita.settings import get_settings


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        # isolation_level=None: the driver leaves transactions to us (see _begin_immediate).
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # WAL lets readers of other connections go on while one writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the file; only a power cut can undo the last
            # commits, and an fsync per commit would make every click wait for the disk.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # noqa: ANN001
            # A deferred transaction that reads and then writes fails at once ("database is
            # locked") when another connection wrote in between; taking the write lock at
            # BEGIN makes it wait its turn instead (busy_timeout). A read-only scope
            # (`read_scope`) takes no lock: in WAL mode it reads the last commit at once,
            # even while another connection writes.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


READ_ONLY = "klinikita_read_only"


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    return make_engine(url or get_settings().db_url)


@lru_cache(maxsize=4)
def _read_engine(url: str | None = None) -> Engine:
    return get_engine(url).execution_options(**{READ_ONLY: True})


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A session for reading only: on SQLite it never waits for a writer (nor makes one
    wait). Whatever it reads is one consistent snapshot; it is rolled back at the end, so
    a write made through it by mistake is never kept."""
    with Session(_read_engine(url), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
