"""Asking for a SATUSEHAT send from a page: the "Kirim ulang" button of any master row."""

from __future__ import annotations

from sqlmodel import Session, select

from klinikita.models import SyncJob
from klinikita.models.satusehat import JobStatus
from klinikita.services import audit, outbox
from klinikita.services.errors import NotFound
from klinikita.services.permissions import Action, require

RESENDABLE = (JobStatus.FAILED, JobStatus.DEAD)


def latest_job(session: Session, kind: str, subject_id: int) -> SyncJob | None:
    return session.exec(
        select(SyncJob)
        .where(SyncJob.kind == kind, SyncJob.subject_id == subject_id)
        .order_by(SyncJob.id.desc())
    ).first()


def resend_subject(
    session: Session,
    actor: audit.Actor,
    kind: str,
    subject_id: int,
    *,
    client_token: str | None = None,
) -> SyncJob:
    """Queue `kind` for the row again: a failed or dead job goes back to the queue (fresh
    retry budget); otherwise (never sent, or looked up and not found) a new job is queued.
    The row must belong to the actor's active branch."""
    require(actor.duty, Action.SATUSEHAT_RESEND)
    subject_type, model = outbox.SUBJECTS[kind]
    row = session.get(model, subject_id)
    if row is None or row.branch_id != actor.branch_id:
        raise NotFound("Data tidak ditemukan di cabang aktif.")
    job = latest_job(session, kind, subject_id)
    if job is not None and job.status in RESENDABLE:
        job = outbox.resend(session, job.id, client_token=client_token)
    else:
        job = outbox.enqueue(session, kind, row.branch_id, subject_id, client_token=client_token)
    audit.record(
        session, actor, "satusehat_resend", subject_type, subject_id, after={"job": job.id}
    )
    return job
