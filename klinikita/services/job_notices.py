"""What pages and the worker tell each other about outbox jobs.

- A `JobNotice` says a job ended (or waits); the worker hands it to a `Notifier`, which the
  app uses to update the tab that asked.
- `wake_workers()`, after a page committed a job, wakes the workers running in this process
  (they register with `running_worker`); workers also look by themselves.
- On PostgreSQL, `signal_jobs_ended` tells a backend in another process, at the commit of the
  worker's outcomes, that jobs ended (`JOBS_ENDED`, a NOTIFY channel it listens on).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

# NOTIFY channels belong to one database: no prefix needed.
JOBS_ENDED = "klinikita_jobs_ended"


@dataclass(frozen=True)
class JobNotice:
    """What a page needs to know when a job ends (or waits)."""

    job_id: int
    kind: str
    branch_id: int
    subject_type: str
    subject_id: int
    status: str
    message: str
    client_token: str | None
    # When the job ended, as the relay of a worker in another process read it (ISO time; ""
    # from the worker in this process): tells two endings of the same job apart.
    ended_at: str = ""


Notifier = Callable[[JobNotice], Awaitable[None]]

_wakers: set[Callable[[], None]] = set()


@contextlib.contextmanager
def running_worker(wake: Callable[[], None]) -> Iterator[None]:
    """While the block runs, `wake_workers()` calls `wake` (thread-safe on its side)."""
    _wakers.add(wake)
    try:
        yield
    finally:
        _wakers.discard(wake)


def wake_workers() -> None:
    """Tell the in-process workers that a job was just committed (they also poll)."""
    for wake in list(_wakers):
        wake()


def signal_jobs_ended(session: Session) -> None:
    """Tell the listening backends, at the commit of the caller's transaction, that jobs
    ended (PostgreSQL; nothing on SQLite, where the backends look by themselves)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": JOBS_ENDED})
