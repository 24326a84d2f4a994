"""Which outbox jobs a worker holds: claiming due jobs, keeping their leases, counting sends.

A claim marks a job in progress with a lease; a job whose lease ran out (its worker died) is
due again. On PostgreSQL the claim locks the rows it picks with `FOR UPDATE SKIP LOCKED`, so
several workers claim side by side and never take the same job. Every function works in the
caller's transaction (the caller commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlmodel import Session

from klinikita.models import SyncJob
from klinikita.models.satusehat import JobStatus

_JOB = SyncJob.__table__
_JOB_COLUMNS = (
    _JOB.c.id,
    _JOB.c.kind,
    _JOB.c.branch_id,
    _JOB.c.subject_type,
    _JOB.c.subject_id,
    _JOB.c.client_token,
    _JOB.c.attempts,
)


class ClaimedJob(NamedTuple):
    """A claimed job: the columns preparing and sending it need. `attempts` counts the sends
    made so far (once prepared for a send, that send too)."""

    id: int
    kind: str
    branch_id: int
    subject_type: str
    subject_id: int
    client_token: str | None
    attempts: int


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or in progress with an expired lease (a crashed worker's)."""
    return or_(
        and_(_JOB.c.status == JobStatus.PENDING, _JOB.c.next_attempt_at <= now),
        and_(_JOB.c.status == JobStatus.IN_PROGRESS, _JOB.c.lease_until < now),
    )


def _ours(worker_id: str) -> ColumnElement[bool]:
    return and_(_JOB.c.status == JobStatus.IN_PROGRESS, _JOB.c.worker_id == worker_id)


def _claimed(rows: Sequence) -> list[ClaimedJob]:
    return sorted((ClaimedJob(*r) for r in rows), key=lambda r: r.id)


def any_due(session: Session, now: datetime) -> bool:
    """Is any job due at `now`? A plain read: an idle worker asks this before it claims, so
    it never takes SQLite's write lock for nothing."""
    return session.execute(select(_JOB.c.id).where(_due(now)).limit(1)).first() is not None


def claim_due(
    session: Session, *, worker_id: str, limit: int, now: datetime, lease_until: datetime
) -> list[ClaimedJob]:
    """Mark up to `limit` due jobs, oldest due first, in progress for `worker_id` until
    `lease_until`, in one UPDATE ... RETURNING; they are returned by id. No send is counted."""
    picked = (
        select(_JOB.c.id).where(_due(now)).order_by(_JOB.c.next_attempt_at, _JOB.c.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":  # several workers claim side by side
        picked = picked.with_for_update(skip_locked=True)
    taken = session.execute(
        update(_JOB)
        .where(_JOB.c.id.in_(picked.scalar_subquery()))
        .values(
            status=JobStatus.IN_PROGRESS,
            lease_until=lease_until,
            worker_id=worker_id,
            updated_at=now,
        )
        .returning(*_JOB_COLUMNS)
    ).all()
    return _claimed(taken)


def take_own(
    session: Session, *, worker_id: str, ids: Sequence[int], now: datetime
) -> list[ClaimedJob]:
    """Those of `ids` that `worker_id` still holds (another worker may have taken a job whose
    lease ran out), by id."""
    taken = session.execute(
        update(_JOB)
        .where(_JOB.c.id.in_(ids), _ours(worker_id))
        .values(updated_at=now)
        .returning(*_JOB_COLUMNS)
    ).all()
    return _claimed(taken)


def renew_leases(
    session: Session, *, worker_id: str, ids: Sequence[int], lease_until: datetime
) -> None:
    """Extend the leases of these jobs to `lease_until`, as far as `worker_id` still holds
    them."""
    session.execute(
        update(_JOB).where(_JOB.c.id.in_(ids), _ours(worker_id)).values(lease_until=lease_until)
    )


def count_sends(session: Session, ids: Sequence[int]) -> None:
    """Count one send for each of these jobs, before it is made: after a crash the next worker
    knows a send may have reached SATUSEHAT and looks before creating again."""
    if ids:
        session.execute(
            update(_JOB)
            .where(_JOB.c.id.in_(ids))
            .values(attempts=_JOB.c.attempts + 1, waiting_for=None)
        )


def lock_own(session: Session, *, worker_id: str, ids: Sequence[int]) -> set[int]:
    """Those of `ids` that `worker_id` still holds, locked (on PostgreSQL) until the caller
    commits, so no other worker claims them while their outcomes are written."""
    if not ids:
        return set()
    rows = session.execute(
        select(_JOB.c.id).where(_JOB.c.id.in_(ids), _ours(worker_id)).with_for_update()
    )
    return set(rows.scalars())


def has_open_jobs(session: Session) -> bool:
    """Is any job pending or in progress?"""
    open_job = select(_JOB.c.id).where(
        _JOB.c.status.in_((JobStatus.PENDING, JobStatus.IN_PROGRESS))
    )
    return session.execute(open_job.limit(1)).first() is not None
