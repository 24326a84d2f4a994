"""The SATUSEHAT outbox: enqueue in the caller's transaction, resend what failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, null, or_, update
from sqlalchemy.sql.base import Executable
from sqlmodel import Session, SQLModel, select

from klinikita.db import (
    Statements,
    insert_new,
    insert_statement,
    insert_unless_open,
    new_values,
    statements,
    update_row,
)
from klinikita.models import Employee, Patient, Room, ServiceUnit, SyncJob, Visit
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import OPEN_JOB_WHERE, JobKind, JobStatus

ACTIVE = (JobStatus.PENDING, JobStatus.IN_PROGRESS)

# What each kind of job is about, and the row that shows its badge.
SUBJECTS: dict[str, tuple[str, type[SQLModel]]] = {
    JobKind.PATIENT_LOOKUP: ("patient", Patient),
    JobKind.PRACTITIONER_LOOKUP: ("employee", Employee),
    JobKind.ORGANIZATION_CREATE: ("service_unit", ServiceUnit),
    JobKind.LOCATION_CREATE: ("room", Room),
    JobKind.VISIT_SEND: ("visit", Visit),
}


def active_job(session: Session, kind: str, subject_id: int) -> SyncJob | None:
    return session.exec(
        select(SyncJob).where(
            SyncJob.kind == kind,
            SyncJob.subject_id == subject_id,
            SyncJob.status.in_(ACTIVE),
        )
    ).first()


_ACTIVE_JOB = select(SyncJob.id).where(
    SyncJob.kind == bindparam("kind"),
    SyncJob.subject_id == bindparam("subject_id"),
    # `in_` would need its list expanded at run time, which plain statements skip
    or_(*(SyncJob.status == s.value for s in ACTIVE)),
)

# The job, unless its subject already has an open one of that kind: the unique index
# uq_sync_job_open refuses it and nothing comes back (one statement where a lookup and an
# insert were two; a job queued by another transaction at the same moment is waited for).
_INSERT_UNLESS_OPEN = insert_unless_open(SyncJob.__table__, ("kind", "subject_id"), OPEN_JOB_WHERE)


# A subject's open job of a kind and, on PostgreSQL, an id for a new job taken from the
# table's sequence: read with the subject's own row, under its lock (`job_slot_read`).
_OPEN_JOB = _ACTIVE_JOB.limit(1).scalar_subquery()
_JOB_SLOT = {
    "postgresql": select(_OPEN_JOB, func.nextval(func.pg_get_serial_sequence("sync_job", "id"))),
    "sqlite": select(_OPEN_JOB, null()),  # no sequence; its round trips cost nothing
}


@dataclass(frozen=True)
class JobSlot:
    open_job: int | None  # the subject's open job of the kind, if any
    new_id: int | None  # an id for a new job (PostgreSQL), None elsewhere


def job_slot_read(st: Statements, kind: str, subject_id: int) -> tuple[Executable, dict]:
    """The read for `job_slot`, to go to the server with the caller's read of the subject
    (`rows_each`), after that read has locked the subject's row (FOR UPDATE)."""
    return _JOB_SLOT[st.dialect.name], {"kind": kind, "subject_id": subject_id}


def job_slot(rows: list[tuple]) -> JobSlot:
    return JobSlot(*rows[0])


def enqueue(
    session: Session,
    kind: str,
    branch_id: int,
    subject_id: int,
    *,
    client_token: str | None = None,
) -> SyncJob:
    """Add a job to the caller's transaction (nothing is sent here). An active job for the
    same subject is reused, so pressing a button twice never sends twice."""
    job_id = enqueue_row(
        statements(session), kind, branch_id, subject_id, client_token=client_token
    )
    return session.get(SyncJob, job_id)


def enqueue_row(
    st: Statements,
    kind: str,
    branch_id: int,
    subject_id: int,
    *,
    client_token: str | None = None,
    subject_changes: dict[str, object] | None = None,
    slot: JobSlot | None = None,
) -> int:
    """`enqueue` with plain statements (a click's write); the job's id. `subject_changes`
    are set on the subject's row in the same update that marks it as sending. `slot`:
    `job_slot` as read under the subject's row lock (Selesai)."""
    subject_type, model = SUBJECTS[kind]
    job = {
        "kind": kind,
        "branch_id": branch_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "client_token": client_token or None,
    }
    job_id = None
    if slot is not None and slot.open_job is None and slot.new_id is not None:
        # No open job, and none can appear while the subject's row is locked: the insert
        # cannot be refused, so its answer is not waited for. With its id known, it goes to
        # the server with the scope's next statement (on PostgreSQL, the COMMIT).
        job_id = slot.new_id
        st.send(
            insert_statement(SyncJob.__table__, given_id=True),
            {**new_values(SyncJob, job), "id": job_id},
        )
    # An open job is reused, so nothing is ever sent twice. The one that refused the insert
    # can end before it is looked up (another transaction's, finished by a worker at once):
    # then the insert is tried again.
    for _ in range(0 if job_id is not None else 3):
        inserted = insert_new(st, SyncJob, job, _INSERT_UNLESS_OPEN[st.dialect.name])
        if inserted is not None:
            job_id = inserted.id
            break
        job_id = st.scalar(_ACTIVE_JOB, {"kind": kind, "subject_id": subject_id})
        if job_id is not None:
            if client_token:
                update_row(st, SyncJob, job_id, {"client_token": client_token})
            break
    if job_id is None:
        raise RuntimeError(f"no open {kind} job for subject {subject_id} after three tries")
    update_row(
        st,
        model,
        subject_id,
        {**(subject_changes or {}), "sync_status": SyncStatus.SENDING, "sync_error": None},
    )
    return job_id


def ensure_job(session: Session, kind: str, branch_id: int, subject_id: int) -> None:
    """Enqueue unless an open job exists; safe when another worker does the same at once
    (`enqueue_row`'s insert waits for it and then reuses its job)."""
    if active_job(session, kind, subject_id) is None:
        enqueue(session, kind, branch_id, subject_id)


def resend(session: Session, job_id: int, *, client_token: str | None = None) -> SyncJob:
    """Kirim ulang: a failed or dead job goes back to the queue with a fresh retry budget."""
    job = session.get(SyncJob, job_id)
    if job is None:
        raise LookupError(job_id)
    if job.status in (JobStatus.FAILED, JobStatus.DEAD):
        newer = active_job(session, job.kind, job.subject_id)
        if newer is not None:  # already queued again: one open job per subject
            return newer
        job.status = JobStatus.PENDING
        job.attempts = 0
        job.next_attempt_at = utcnow()
        job.last_error = None
        job.waiting_for = None
        job.updated_at = utcnow()
    if client_token:
        job.client_token = client_token
    session.add(job)
    _, model = SUBJECTS[job.kind]
    row = session.get(model, job.subject_id)
    if row is not None and job.status == JobStatus.PENDING:
        row.sync_status = SyncStatus.SENDING
        row.sync_error = None
        session.add(row)
    session.flush()
    return job


# `resend` for a click's plain statements: the subject's latest job of a kind, if it failed
# or died, back in the queue with a fresh retry budget (its row's badge is the caller's).
_LAST_JOB = (
    select(func.max(SyncJob.id))
    .where(SyncJob.kind == bindparam("kind"), SyncJob.subject_id == bindparam("subject_id"))
    .scalar_subquery()
)
_RESEND_LAST_FAILED = (
    update(SyncJob)
    .where(
        SyncJob.id == _LAST_JOB,
        or_(*(SyncJob.status == s.value for s in (JobStatus.FAILED, JobStatus.DEAD))),
    )
    .values(
        status=JobStatus.PENDING.value,
        attempts=0,
        next_attempt_at=bindparam("now"),
        last_error=None,
        waiting_for=None,
        updated_at=bindparam("now"),
    )
)


def resend_last_failed(st: Statements, kind: str, subject_id: int, now: datetime) -> None:
    st.execute(_RESEND_LAST_FAILED, {"kind": kind, "subject_id": subject_id, "now": now})


def resend_all_failed(session: Session, branch_id: int) -> int:
    jobs = session.exec(
        select(SyncJob).where(
            SyncJob.branch_id == branch_id,
            SyncJob.status.in_((JobStatus.FAILED, JobStatus.DEAD)),
        )
    ).all()
    for job in jobs:
        resend(session, job.id)
    return len(jobs)
