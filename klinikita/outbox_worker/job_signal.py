"""Signals between the app and a worker in its own process, and the wait for them.

- Jobs ended: the app's backend must learn of a worker's outcomes to push the encounter id
  to the tab. On PostgreSQL the worker sends a NOTIFY in the transaction that writes the
  outcomes (`services.job_notices.signal_jobs_ended`: delivered at its commit, dropped with
  a rollback) and the backend LISTENs: it reads the jobs when told, instead of twenty times
  a second, and the tab hears of the result as soon as it is committed.
- Jobs queued: a job that becomes due (Selesai, Kirim ulang) wakes the listening workers at
  once; a trigger on sync_job sends it (models/satusehat.py), so the click pays nothing.

SQLite has no such signal: the backend and the worker look every `interval` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import Engine

from klinikita.models.satusehat import JOBS_QUEUED_CHANNEL
from klinikita.services.job_notices import JOBS_ENDED

log = logging.getLogger("klinikita.satusehat")

JOBS_QUEUED = JOBS_QUEUED_CHANNEL
__all__ = ["JOBS_ENDED", "JOBS_QUEUED", "RELISTEN_SECONDS", "SAFETY_SECONDS", "times_to_look"]
# While listening, look anyway after this long without a signal: a worker of an older
# version sends none.
SAFETY_SECONDS = 2.0
# After the listening connection failed, look every `interval` for this long, then listen
# again.
RELISTEN_SECONDS = 5.0


def _conninfo(engine: Engine) -> str:
    """The engine's database as a libpq URL (without SQLAlchemy's driver name)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def times_to_look(
    engine: Engine,
    interval: float,
    *,
    channel: str = JOBS_ENDED,
    safety: float = SAFETY_SECONDS,
) -> AsyncIterator[None]:
    """Yields each time the jobs should be looked at: at once, then on every signal on
    `channel` (PostgreSQL; at least every `safety` seconds) or every `interval` seconds
    (SQLite, or while the listening connection is down). Close it with `aclose()`."""
    if engine.dialect.name != "postgresql":
        while True:
            yield
            await asyncio.sleep(interval)
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(_conninfo(engine), autocommit=True)
        except (psycopg.Error, OSError):
            log.warning("Cannot listen on %s; looking instead", channel, exc_info=True)
        else:
            try:
                await conn.execute(f"LISTEN {channel}")
                yield  # what happened before the listening began
                while True:
                    async for _ in conn.notifies(timeout=safety, stop_after=1):
                        pass
                    yield
            except (psycopg.Error, OSError):
                log.warning("Listening on %s failed", channel, exc_info=True)
            finally:
                await conn.close()
        deadline = asyncio.get_running_loop().time() + RELISTEN_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            yield
            await asyncio.sleep(interval)
