"""The SATUSEHAT outbox: enqueue in the caller's transaction, resend what failed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, select

from klinikita.models import Dispense, Employee, Patient, Room, ServiceUnit, SyncJob, Visit
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
    JobKind.DISPENSE_SEND: ("dispense", Dispense),
}


def active_job(session: Session, kind: str, subject_id: int) -> SyncJob | None:
    return session.exec(
        select(SyncJob).where(
            SyncJob.kind == kind,
            SyncJob.subject_id == subject_id,
            SyncJob.status.in_(ACTIVE),
        )
    ).first()


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert_job(session: Session, job: SyncJob) -> int | None:
    """Insert `job` unless its subject already has an open job of its kind (the partial
    unique index uq_sync_job_open refuses it: ON CONFLICT DO NOTHING); the new job's id, or
    None. A job queued by another transaction that has not committed yet is waited for."""
    table = SyncJob.__table__
    insert = _INSERTS[session.get_bind().dialect.name]
    stmt = (
        insert(table)
        .values(job.model_dump(exclude={"id"}))
        .on_conflict_do_nothing(
            index_elements=[table.c.kind, table.c.subject_id], index_where=text(OPEN_JOB_WHERE)
        )
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar()


def queue_job(
    session: Session,
    kind: str,
    branch_id: int,
    subject_id: int,
    *,
    client_token: str | None = None,
) -> int:
    """The id of the subject's open job of `kind`, added to the caller's transaction unless
    one is open already (then it is reused, and taken over by `client_token`'s tab): a
    subject never has two open jobs of a kind, even when two transactions queue it at once.
    The subject's badge is the caller's (`enqueue` sets it)."""
    subject_type, _ = SUBJECTS[kind]
    # The open job that refused the insert can end before it is looked up (another
    # transaction's, finished by a worker at once): then the insert is tried again.
    for _ in range(3):
        job = SyncJob(
            kind=kind,
            branch_id=branch_id,
            subject_type=subject_type,
            subject_id=subject_id,
            client_token=client_token or None,
        )
        job_id = _insert_job(session, job)
        if job_id is not None:
            return job_id
        job_id = session.scalar(
            select(SyncJob.id).where(
                SyncJob.kind == kind,
                SyncJob.subject_id == subject_id,
                SyncJob.status.in_(ACTIVE),
            )
        )
        if job_id is not None:
            if client_token:
                session.execute(
                    update(SyncJob).where(SyncJob.id == job_id).values(client_token=client_token)
                )
            return job_id
    raise RuntimeError(f"no open {kind} job for subject {subject_id} after three tries")


def enqueue(
    session: Session,
    kind: str,
    branch_id: int,
    subject_id: int,
    *,
    client_token: str | None = None,
) -> SyncJob:
    """Add a job to the caller's transaction (nothing is sent here) and mark its subject as
    sending. An open job for the same subject is reused, so pressing a button twice never
    sends twice. The subject's version stays (its badge is bookkeeping)."""
    job_id = queue_job(session, kind, branch_id, subject_id, client_token=client_token)
    _, model = SUBJECTS[kind]
    session.execute(
        update(model)
        .where(model.id == subject_id)
        .values(sync_status=SyncStatus.SENDING, sync_error=None)
    )
    return session.get(SyncJob, job_id)


def ensure_job(session: Session, kind: str, branch_id: int, subject_id: int) -> None:
    """Enqueue unless an open job exists; safe when another worker does the same at once
    (`queue_job`'s insert waits for it and then reuses its job)."""
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


def resend_last_failed(session: Session, kind: str, subject_id: int, now: datetime) -> None:
    """The subject's latest job of `kind`, if it failed or died, back in the queue with a
    fresh retry budget (the subject's badge is the caller's)."""
    last_job = (
        select(func.max(SyncJob.id))
        .where(SyncJob.kind == kind, SyncJob.subject_id == subject_id)
        .scalar_subquery()
    )
    session.execute(
        update(SyncJob)
        .where(
            SyncJob.id == last_job,
            SyncJob.status.in_((JobStatus.FAILED, JobStatus.DEAD)),
        )
        .values(
            status=JobStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            waiting_for=None,
            updated_at=now,
        )
    )


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
