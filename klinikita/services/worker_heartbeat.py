"""The outbox workers' signs of life: each running worker renews its row every few seconds
and removes it when it stops; /ready reads the freshest. Every function works in the
caller's transaction (the caller commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session

from klinikita.models import WorkerHeartbeat

_BEAT = WorkerHeartbeat.__table__


def beat(session: Session, worker_id: str, now: datetime) -> None:
    """Record that `worker_id` is alive at `now` (its row is made on its first beat)."""
    done = session.connection().execute(
        update(_BEAT).where(_BEAT.c.worker_id == worker_id).values(beat_at=now)
    )
    if done.rowcount == 0:
        session.connection().execute(
            insert(_BEAT).values(worker_id=worker_id, started_at=now, beat_at=now)
        )


def stopped(session: Session, worker_id: str) -> None:
    """`worker_id` stopped: its row goes."""
    session.connection().execute(delete(_BEAT).where(_BEAT.c.worker_id == worker_id))


def latest_beat(session: Session) -> datetime | None:
    """The newest beat of any worker, None when no worker ever beat (or all stopped)."""
    return session.connection().execute(select(func.max(_BEAT.c.beat_at))).scalar()
