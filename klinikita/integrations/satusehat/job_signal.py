"""The signal that a worker finished jobs a tab asked for, and the wait for it.

A worker in its own process writes job outcomes to the database; the app's backend must learn
of them to push the encounter id to the tab. On PostgreSQL the worker sends a NOTIFY in the
transaction that writes the outcomes (delivered at its commit, dropped with a rollback) and
the backend LISTENs: it looks at the jobs when told, instead of twenty times a second, and the
tab hears of the result as soon as it is committed. SQLite has no such signal: the backend
looks every `interval` seconds, as it always did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("klinikita.satusehat")

CHANNEL = "klinikita_jobs_ended"  # NOTIFY channels belong to one database: no prefix needed
# While listening, look anyway after this long without a signal: a worker of an older
# version sends none.
SAFETY_SECONDS = 2.0
# After the listening connection failed, look every `interval` for this long, then listen
# again.
RELISTEN_SECONDS = 5.0

_NOTIFY = text("SELECT pg_notify(:channel, '')")


def signal_jobs_ended(conn: Connection) -> None:
    """Tell the listening backends, at this transaction's commit, that jobs ended."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY, {"channel": CHANNEL})


def _conninfo(engine: Engine) -> str:
    """The engine's database as a libpq URL (without SQLAlchemy's driver name)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def times_to_look(
    engine: Engine, interval: float, *, safety: float = SAFETY_SECONDS
) -> AsyncIterator[None]:
    """Yields each time the finished jobs should be read: at once, then on every signal
    (PostgreSQL; at least every `safety` seconds) or every `interval` seconds (SQLite, or
    while the listening connection is down). Close it with `aclose()`."""
    if engine.dialect.name != "postgresql":
        while True:
            yield
            await asyncio.sleep(interval)
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(_conninfo(engine), autocommit=True)
        except (psycopg.Error, OSError):
            log.warning("Cannot listen for finished SATUSEHAT jobs; looking instead", exc_info=True)
        else:
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
                yield  # what ended before the listening began
                while True:
                    async for _ in conn.notifies(timeout=safety, stop_after=1):
                        pass
                    yield
            except (psycopg.Error, OSError):
                log.warning("Listening for finished SATUSEHAT jobs failed", exc_info=True)
            finally:
                await conn.close()
        deadline = asyncio.get_running_loop().time() + RELISTEN_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            yield
            await asyncio.sleep(interval)
