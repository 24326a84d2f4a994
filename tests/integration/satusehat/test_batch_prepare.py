"""The worker prepares visits from plain rows (Core): the same bundle as from ORM objects."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from klinikita.models import Branch, Diagnosis, Employee, Examination, Patient, Room, Visit
from klinikita.models.base import utcnow
from klinikita.models.satusehat import JobKind
from klinikita.services import job_preparation, job_results, outbox, satusehat_rules
from tests.factories import make_clinic, make_completed_visit


def _orm_bundle(db, visit_id: int, now) -> dict:  # noqa: ANN001
    visit = db.get(Visit, visit_id)
    return satusehat_rules.checked_visit_bundle(
        visit=visit,
        patient=db.get(Patient, visit.patient_id),
        doctor=db.get(Employee, visit.doctor_id),
        room=db.get(Room, visit.room_id),
        examination=db.exec(select(Examination).where(Examination.visit_id == visit_id)).first(),
        diagnoses=list(
            db.exec(
                select(Diagnosis)
                .where(Diagnosis.visit_id == visit_id)
                .order_by(Diagnosis.rank, Diagnosis.id)
            ).all()
        ),
        branch=db.get(Branch, visit.branch_id),
        now=now,
    ).bundle


def test_a_batch_of_visits_is_prepared_from_rows_into_the_orm_bundles(db, monkeypatch):
    branch, unit, room, doctor, patient = make_clinic(db)
    # Everything a visit needs is already in SATUSEHAT: the visits are ready to send.
    room.ihs_id, doctor.ihs_number, patient.ihs_number = "L-1", "P-1", "P-2"
    db.add_all([room, doctor, patient])
    db.commit()
    visits = [
        make_completed_visit(db, branch, unit, room, doctor, patient, queue_number=n, codes=c)
        for n, c in ((1, ("J06.9",)), (2, ("I10", "E11.9")), (3, ("K30",)))
    ]
    job_rows = [outbox.enqueue(db, JobKind.VISIT_SEND, branch.id, v.id) for v in visits]
    db.commit()
    now = utcnow()
    monkeypatch.setattr(job_preparation, "utcnow", lambda: now)
    sent_bundles = []

    class Recorder:
        async def send_transaction(self, bundle):  # noqa: ANN001, ANN202
            sent_bundles.append(bundle)
            return object()  # not Ok: the job would retry; only the bundle matters here

    prepared = job_preparation.prepare_visits(db, job_rows)
    assert set(prepared) == {j.id for j in job_rows}
    for job in job_rows:
        assert isinstance(prepared[job.id], job_results.Send)
        asyncio.run(prepared[job.id].run(Recorder()))
    db.rollback()
    assert sent_bundles == [_orm_bundle(db, v.id, now) for v in visits]


async def test_a_first_send_posts_the_bundle_without_looking_first(db, sim):
    """attempts is counted before the send, but only a job that was sent before looks for
    an existing Encounter: the first send is one exchange."""
    from klinikita.models import SyncJob, SyncLog
    from klinikita.outbox_worker.worker import OutboxWorker

    clinic = make_clinic(db)
    visit = make_completed_visit(db, *clinic)
    job = outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
    db.commit()
    await OutboxWorker(simulator_base=sim.base_url, poll_interval=0.02, wait_delay=0.0).drain()
    db.expire_all()
    job = db.get(SyncJob, job.id)
    assert job.status == "done" and job.attempts == 1
    logged = db.exec(select(SyncLog).where(SyncLog.job_id == job.id)).all()
    assert [(r.method, r.resource_type) for r in logged] == [("POST", "Bundle")]
