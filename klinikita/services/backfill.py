"""Kirim kunjungan yang belum terkirim: every completed visit of a date range that SATUSEHAT
does not have yet (no Encounter id) and that is not on its way, queued at once.

For a clinic that starts sending, or whose keys were wrong for a while. The visits are
queued in the caller's transaction (`outbox`), with the asking tab's client token, so the
tab hears of each one as it ends and shows "n dari m terkirim".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.models import Branch, SyncJob, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import audit, outbox
from klinikita.services.errors import ValidationFailed
from klinikita.services.permissions import Action, require
from klinikita.services.reports.days import check_range, day_start_utc

# One press queues at most this many visits (a year of a busy clinic); the rest go with
# the next press.
BACKFILL_LIMIT = 20_000
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Backfill:
    job_ids: list[int]  # the jobs queued, in visit order
    capped: bool  # more visits were waiting than BACKFILL_LIMIT


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int  # done: the Encounter id came back
    failed: int  # failed or given up: shown in the list below, resend from there

    @property
    def finished(self) -> bool:
        return self.sent + self.failed >= self.total


def _open_send():  # noqa: ANN202
    return (
        select(SyncJob.id)
        .where(
            SyncJob.kind == JobKind.VISIT_SEND,
            SyncJob.subject_id == Visit.id,
            SyncJob.status.in_(outbox.ACTIVE),
        )
        .exists()
    )


def unsent_visits(
    session: Session, branch_id: int, date_from: date, date_to: date, *, limit: int | None = None
) -> list[int]:
    """Completed visits of the branch completed in [date_from, date_to] (its local days)
    without an Encounter id and without an open send, oldest first."""
    branch = session.get(Branch, branch_id)
    stmt = (
        select(Visit.id)
        .where(
            Visit.branch_id == branch_id,
            Visit.status == VisitStatus.COMPLETE,
            Visit.encounter_id.is_(None),
            Visit.completed_at >= day_start_utc(branch, date_from),
            Visit.completed_at < day_start_utc(branch, date_to + timedelta(days=1)),
            ~_open_send(),
        )
        .order_by(Visit.completed_at, Visit.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def _check_days(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    errors = {}
    if date_from is None:
        errors["date_from"] = "Isi tanggal awal."
    if date_to is None:
        errors["date_to"] = "Isi tanggal akhir."
    if errors:
        raise ValidationFailed(errors)
    check_range(date_from, date_to)
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise ValidationFailed({"date_to": f"Rentang paling panjang {MAX_RANGE_DAYS} hari."})
    return date_from, date_to


def _last_failed_sends(session: Session, visit_ids: list[int]) -> dict[int, int]:
    """visit id -> its latest send job, for the visits whose latest send failed or died."""
    if not visit_ids:
        return {}
    latest = (
        select(SyncJob.subject_id, func.max(SyncJob.id).label("job_id"))
        .where(SyncJob.kind == JobKind.VISIT_SEND, SyncJob.subject_id.in_(visit_ids))
        .group_by(SyncJob.subject_id)
        .subquery()
    )
    rows = session.exec(
        select(latest.c.subject_id, SyncJob.id)
        .join(SyncJob, SyncJob.id == latest.c.job_id)
        .where(SyncJob.status.in_((JobStatus.FAILED, JobStatus.DEAD)))
    ).all()
    return {visit_id: job_id for visit_id, job_id in rows}


def send_unsent_visits(
    session: Session,
    actor: audit.Actor,
    date_from: date | None,
    date_to: date | None,
    *,
    client_token: str | None = None,
) -> Backfill:
    """Queue every unsent completed visit of the actor's branch in the range, in the
    caller's transaction, audited. A visit whose last send failed has that job queued again
    (as Kirim ulang does) rather than a second one beside it. The caller wakes the workers
    after the commit."""
    require(actor.duty, Action.SATUSEHAT_BACKFILL)
    date_from, date_to = _check_days(date_from, date_to)
    visit_ids = unsent_visits(
        session, actor.branch_id, date_from, date_to, limit=BACKFILL_LIMIT + 1
    )
    capped = len(visit_ids) > BACKFILL_LIMIT
    visit_ids = visit_ids[:BACKFILL_LIMIT]
    failed = _last_failed_sends(session, visit_ids)
    job_ids = []
    for visit_id in visit_ids:
        if visit_id in failed:
            job = outbox.resend(session, failed[visit_id], client_token=client_token)
        else:
            job = outbox.enqueue(
                session, JobKind.VISIT_SEND, actor.branch_id, visit_id, client_token=client_token
            )
        job_ids.append(job.id)
    audit.record(
        session,
        actor,
        "satusehat_backfill",
        "visit",
        "",
        after={
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "count": len(job_ids),
        },
        branch_id=actor.branch_id,
    )
    return Backfill(job_ids, capped)


def backfill_progress(session: Session, branch_id: int, job_ids: list[int]) -> Progress:
    """How far the queued jobs (of this branch) are: one counting query."""
    if not job_ids:
        return Progress(0, 0, 0)
    counts = dict(
        session.exec(
            select(SyncJob.status, func.count())
            .where(SyncJob.branch_id == branch_id, SyncJob.id.in_(job_ids))
            .group_by(SyncJob.status)
        ).all()
    )
    failed = int(counts.get(JobStatus.FAILED, 0)) + int(counts.get(JobStatus.DEAD, 0))
    return Progress(len(job_ids), int(counts.get(JobStatus.DONE, 0)), failed)
