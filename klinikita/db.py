"""The database: one engine per database URL, and the two kinds of session the code uses.

- `session_scope()`: a transaction that commits on success and rolls back on any error.
- `read_scope()`: reads that need no transaction of their own. On PostgreSQL they run in
  autocommit (each statement sees what was committed when it ran); on SQLite they share one
  snapshot that never waits for a writer nor makes one wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from klinikita.private_files import private_file, private_folder, restrict
from klinikita.settings import get_settings

# Execution option of `read_scope`'s SQLite engine: its transactions begin without the
# write lock.
READ_ONLY = "klinikita_read_only"


def _ensure_sqlite_folder(url: str) -> None:
    """The database's folder (0700) and file (0600) exist, the owner's only: SQLite gives
    the -wal and -shm files it makes beside the database the database file's mode."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        private_folder(Path(path).parent)
        private_file(Path(path))
        for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if leftover.exists():
                restrict(leftover)


def _sqlite_engine(url: str) -> Engine:
    _ensure_sqlite_folder(url)
    synchronous = get_settings().sqlite_synchronous
    # isolation_level=None: the driver leaves transactions to SQLAlchemy and `_begin` below.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        # WAL: readers of other connections go on while one writes.
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL (the default): a commit is on the disk when it returns, so a power cut loses
        # no committed visit. NORMAL never corrupts the file either, but may lose the last
        # commits (KLINIKITA_SQLITE_SYNCHRONOUS, docs/performance.md has the cost).
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        # A write transaction takes the write lock at BEGIN, so a transaction that reads and
        # then writes waits its turn (busy_timeout) instead of failing when another
        # connection wrote in between. A read scope takes no lock.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_engine(url: str) -> Engine:
    """An engine for `url` (SQLite or PostgreSQL through psycopg) set up as the app needs."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # psycopg's own prepared statements (`prepare_threshold`), off by a setting for a
    # pooler that does not keep them per client (KLINIKITA_PG_PREPARED_STATEMENTS).
    # No ping before each checkout (a round trip per session): connections are replaced
    # after half an hour, and one found dead is dropped with the whole pool on first use.
    return create_engine(
        url,
        pool_recycle=1800,
        connect_args={"prepare_threshold": get_settings().pg_prepare_threshold},
    )


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """The process's one engine for `url` (default: the configured database)."""
    return make_engine(url or get_settings().db_url)


def _bound(where: str | Engine | None) -> Engine:
    return where if isinstance(where, Engine) else get_engine(where)


def reading(engine: Engine) -> Engine:
    """`engine` as `read_scope` reads through it (same pool, see the module's docstring)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def read_scope(where: str | Engine | None = None) -> Iterator[Session]:
    """A session for reads (see the module's docstring) on the configured database, or on
    the URL or engine given. It is rolled back at the end, so a write made through it by
    mistake is not kept on SQLite; on PostgreSQL it would be: write only in `session_scope`."""
    with Session(reading(_bound(where)), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


@contextmanager
def session_scope(where: str | Engine | None = None) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error, on the
    configured database, or on the URL or engine given."""
    with Session(_bound(where), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
