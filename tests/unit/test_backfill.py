"""Kirim kunjungan yang belum terkirim: exactly the completed, unsent visits of the range,
without an open send, are queued; a failed send is queued again, not doubled."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, SyncJob, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import backfill, outbox
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ValidationFailed
from tests.factories import make_clinic, make_completed_visit, make_user


def _actor(db, branch, duty: str = Duty.ADMIN) -> Actor:
    user = make_user(db, f"u-{duty}", branches=[branch], main_duty=duty)
    return Actor(user.id, user.username, user.username, duty, branch.id)


def _visit(db, clinic, number: int, at: datetime, **fields) -> Visit:
    branch, unit, room, doctor, patient = clinic
    visit = make_completed_visit(db, branch, unit, room, doctor, patient, queue_number=number)
    visit.completed_at, visit.visit_date = at, at.date()
    for name, value in fields.items():
        setattr(visit, name, value)
    db.add(visit)
    db.commit()
    return visit


@pytest.fixture
def clinic(db):
    return make_clinic(db)


def test_only_unsent_completed_visits_of_the_range_without_an_open_send_are_queued(db, clinic):
    branch = clinic[0]
    # 1 Dec 2026 09:00 WIB and 7 Dec 23:30 WIB (16:30 UTC): both inside 1..7 Dec.
    unsent = _visit(db, clinic, 1, datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    late = _visit(db, clinic, 2, datetime(2026, 12, 7, 16, 30, tzinfo=UTC))
    _visit(db, clinic, 3, datetime(2026, 12, 2, 2, 0, tzinfo=UTC), encounter_id="enc-3")
    _visit(db, clinic, 4, datetime(2026, 12, 2, 3, 0, tzinfo=UTC), status=VisitStatus.CANCELLED)
    on_its_way = _visit(db, clinic, 5, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    open_job = outbox.enqueue(db, JobKind.VISIT_SEND, branch.id, on_its_way.id)
    # 30 Nov 23:00 WIB (before the range) and 8 Dec 00:30 WIB (after it).
    _visit(db, clinic, 6, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    _visit(db, clinic, 7, datetime(2026, 12, 7, 17, 30, tzinfo=UTC))
    refused = _visit(db, clinic, 8, datetime(2026, 12, 4, 2, 0, tzinfo=UTC))
    failed_job = outbox.enqueue(db, JobKind.VISIT_SEND, branch.id, refused.id)
    failed_job.status, failed_job.last_error = JobStatus.FAILED, "HTTP 400: x"
    refused.sync_status = SyncStatus.FAILED
    db.add_all([failed_job, refused])
    db.commit()
    admin = _actor(db, branch)

    done = backfill.send_unsent_visits(
        db, admin, date(2026, 12, 1), date(2026, 12, 7), client_token="tab-1"
    )
    db.commit()

    jobs = {job.subject_id: job for job in db.exec(select(SyncJob)).all()}
    queued = {jobs[v].subject_id for v in jobs if jobs[v].id in done.job_ids}
    assert queued == {unsent.id, late.id, refused.id}
    assert not done.capped
    # The failed send went again as itself (one job per visit), for this tab.
    assert jobs[refused.id].id == failed_job.id
    assert (jobs[refused.id].status, jobs[refused.id].client_token) == (JobStatus.PENDING, "tab-1")
    assert jobs[on_its_way.id].id == open_job.id and jobs[on_its_way.id].client_token is None
    assert {db.get(Visit, v).sync_status for v in queued} == {SyncStatus.SENDING}
    audit = db.exec(select(AuditLog).where(AuditLog.action == "satusehat_backfill")).one()
    assert audit.after == {"date_from": "2026-12-01", "date_to": "2026-12-07", "count": 3}

    # Pressed again: nothing is left to queue (all three are on their way).
    again = backfill.send_unsent_visits(db, admin, date(2026, 12, 1), date(2026, 12, 7))
    assert again.job_ids == []


def test_progress_counts_sent_and_failed_jobs_of_the_batch(db, clinic):
    branch = clinic[0]
    visits = [_visit(db, clinic, n, datetime(2026, 12, 1, n, 0, tzinfo=UTC)) for n in (1, 2, 3)]
    done = backfill.send_unsent_visits(db, _actor(db, branch), date(2026, 12, 1), date(2026, 12, 1))
    db.commit()
    assert backfill.backfill_progress(db, branch.id, done.job_ids) == backfill.Progress(3, 0, 0)
    first, second, _ = (db.get(SyncJob, j) for j in done.job_ids)
    first.status, second.status = JobStatus.DONE, JobStatus.DEAD
    db.add_all([first, second])
    db.commit()
    progress = backfill.backfill_progress(db, branch.id, done.job_ids)
    assert progress == backfill.Progress(3, 1, 1) and not progress.finished
    assert len(visits) == 3
    # Another branch's job ids count for nothing.
    assert backfill.backfill_progress(db, branch.id + 1, done.job_ids) == backfill.Progress(3, 0, 0)


def test_only_admin_backfills_and_a_refusal_queues_nothing(db, clinic):
    branch = clinic[0]
    _visit(db, clinic, 1, datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    doctor = _actor(db, branch, Duty.DOKTER_UMUM)
    with pytest.raises(PermissionDenied):
        backfill.send_unsent_visits(db, doctor, date(2026, 12, 1), date(2026, 12, 7))
    admin = _actor(db, branch)
    with pytest.raises(ValidationFailed) as missing:
        backfill.send_unsent_visits(db, admin, None, date(2026, 12, 7))
    assert "date_from" in missing.value.errors
    with pytest.raises(ValidationFailed) as backwards:
        backfill.send_unsent_visits(db, admin, date(2026, 12, 7), date(2026, 12, 1))
    assert "date_to" in backwards.value.errors
    with pytest.raises(ValidationFailed):
        backfill.send_unsent_visits(db, admin, date(2025, 1, 1), date(2026, 12, 7))
    assert db.exec(select(SyncJob)).all() == []
