"""The outbox worker against the simulator: nothing lost, nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from klinikita.models import (
    Diagnosis,
    Examination,
    Patient,
    Room,
    ServiceUnit,
    SyncJob,
    SyncLog,
    Visit,
)
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import outbox
from tests.factories import make_clinic, make_completed_visit

ENCOUNTER_SYSTEM = "http://sys-ids.kemkes.go.id/encounter/10000004"


def fast_worker(sim, **kw) -> OutboxWorker:
    options = dict(backoff_base=0.01, backoff_cap=0.05, poll_interval=0.02, wait_delay=0.0)
    options.update(kw)
    return OutboxWorker(simulator_base=sim.base_url, **options)


@pytest.fixture
def clinic(db):
    return make_clinic(db)


def _send_visit(db, clinic, **kw) -> Visit:
    visit = make_completed_visit(db, *clinic, **kw)
    outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id, client_token="tab-1")
    db.commit()
    return visit


def _job(db, kind, subject_id) -> SyncJob:
    db.expire_all()
    return db.exec(
        select(SyncJob).where(SyncJob.kind == kind, SyncJob.subject_id == subject_id)
    ).one()


def _encounters(sim, visit) -> int:
    return sim.simulator.count_resources("Encounter", (ENCOUNTER_SYSTEM, visit.uid))


async def test_a_visit_waits_for_its_lookups_and_location_then_is_sent_once(db, sim, clinic):
    branch, unit, room, doctor, patient = clinic
    visit = _send_visit(db, clinic, codes=("J06.9", "E11.9"))
    notices = []

    async def notifier(notice):
        notices.append(notice)

    await fast_worker(sim, notifier=notifier).drain()

    db.expire_all()
    visit = db.get(Visit, visit.id)
    assert visit.sync_status == SyncStatus.SENT and visit.encounter_id
    assert db.get(Patient, patient.id).ihs_number == "P02478375538"
    assert db.get(ServiceUnit, unit.id).ihs_id and db.get(Room, room.id).ihs_id
    conditions = db.exec(select(Diagnosis).where(Diagnosis.visit_id == visit.id)).all()
    assert all(d.condition_id for d in conditions) and len(conditions) == 2
    exam = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert set(exam.observation_ids) >= {"8480-6", "8462-4", "8867-4", "8310-5"}
    assert _encounters(sim, visit) == 1
    stored = sim.simulator.get_resource("Encounter", visit.encounter_id)
    assert stored["status"] == "finished"
    # The worker enqueued the lookups and the Organization/Location itself (a visit without
    # a prescription has nothing for the pharmacy to send afterwards).
    kinds = {j.kind for j in db.exec(select(SyncJob)).all()}
    assert kinds == set(JobKind) - {JobKind.DISPENSE_SEND}
    assert all(j.status == JobStatus.DONE for j in db.exec(select(SyncJob)).all())
    visit_notice = [n for n in notices if n.subject_type == "visit" and n.status == "done"]
    assert visit_notice and visit_notice[0].client_token == "tab-1"


async def test_every_exchange_is_logged_without_secrets(db, sim, clinic):
    visit = _send_visit(db, clinic)
    await fast_worker(sim).drain()
    logs = db.exec(select(SyncLog)).all()
    assert {entry.resource_type for entry in logs} >= {
        "token",
        "Patient",
        "Practitioner",
        "Organization",
        "Location",
        "Bundle",
    }
    bundle = next(entry for entry in logs if entry.resource_type == "Bundle")
    assert bundle.status_code == 200 and bundle.ok and bundle.patient_id == visit.patient_id
    assert visit.uid in bundle.request_body and "transaction-response" in bundle.response_body
    text = " ".join(e.request_body + e.response_body + e.url for e in logs)
    assert "demo-klinik-secret" not in text


async def test_transient_failures_retry_with_backoff_then_succeed(db, sim, clinic):
    visit = _send_visit(db, clinic)
    sim.simulator.faults.fail_next("http_503", 2, path="/fhir-r4/v1", method="POST")
    await fast_worker(sim).drain()
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    assert job.status == JobStatus.DONE and job.attempts == 3
    assert _encounters(sim, visit) == 1


async def test_429_retry_after_is_honoured(db, sim, clinic):
    visit = _send_visit(db, clinic)
    sim.simulator.faults.fail_next("http_429", 1, path="/fhir-r4/v1", method="POST", retry_after=30)
    worker = fast_worker(sim)
    for _ in range(20):
        await worker.run_once()
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.next_attempt_at - utcnow() > timedelta(seconds=25)


async def test_past_the_retry_limit_the_job_is_dead_visible_and_resendable(db, sim, clinic):
    visit = _send_visit(db, clinic)
    rule = sim.simulator.faults.fail_next("http_504", 100, path="/fhir-r4/v1", method="POST")
    await fast_worker(sim, max_attempts=3).drain()
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    assert job.status == JobStatus.DEAD and job.attempts == 3
    assert "3 percobaan" in job.last_error and "504" in job.last_error
    assert db.get(Visit, visit.id).sync_status == SyncStatus.FAILED
    sim.simulator.faults.remove(rule.id)
    outbox.resend(db, job.id)
    db.commit()
    await fast_worker(sim).drain()
    assert _job(db, JobKind.VISIT_SEND, visit.id).status == JobStatus.DONE
    assert _encounters(sim, visit) == 1


async def test_a_rejection_stops_at_once_with_satusehat_message(db, sim, clinic):
    branch, unit, room, doctor, patient = clinic
    patient.ihs_number = "P99999999999"  # unknown to SATUSEHAT: the reference cannot resolve
    patient.sync_status = SyncStatus.SENT
    db.add(patient)
    db.commit()
    visit = _send_visit(db, clinic)
    await fast_worker(sim).drain()
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert "P99999999999" in job.last_error
    assert db.get(Visit, visit.id).sync_error == job.last_error
    assert _encounters(sim, visit) == 0


async def test_a_broken_connection_after_saving_recovers_the_id_without_a_second_encounter(
    db, sim, clinic
):
    visit = _send_visit(db, clinic)
    sim.simulator.faults.fail_next("drop_after", 1, path="/fhir-r4/v1", method="POST")
    await fast_worker(sim).drain()
    db.expire_all()
    visit = db.get(Visit, visit.id)
    assert _encounters(sim, visit) == 1
    stored = sim.simulator.list_resources("Encounter")
    assert visit.encounter_id == stored[0]["id"]
    assert all(d.condition_id for d in db.exec(select(Diagnosis)).all())
    assert _job(db, JobKind.VISIT_SEND, visit.id).attempts == 2


async def test_a_duplicate_answer_recovers_the_existing_encounter(db, sim, clinic):
    visit = _send_visit(db, clinic)
    await fast_worker(sim).drain()
    db.expire_all()
    first = db.get(Visit, visit.id).encounter_id
    assert first
    # The id was lost locally (say, a restore from an old backup); sending again must not
    # create a second encounter.
    row = db.get(Visit, visit.id)
    row.encounter_id = None
    db.add(row)
    db.commit()
    job = outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
    db.commit()
    await fast_worker(sim).drain()
    db.expire_all()
    assert db.get(Visit, visit.id).encounter_id == first
    assert _encounters(sim, visit) == 1
    assert db.get(SyncJob, job.id).status == JobStatus.DONE


async def test_unknown_patient_nik_fails_the_visit_with_guidance(db, sim, clinic):
    branch, unit, room, doctor, patient = clinic
    patient.nik = "3171000000000099"
    db.add(patient)
    db.commit()
    visit = _send_visit(db, clinic)
    await fast_worker(sim).drain()
    db.expire_all()
    assert db.get(Patient, patient.id).sync_status == SyncStatus.NOT_FOUND
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    assert job.status == JobStatus.FAILED and "tidak ditemukan" in job.last_error


async def test_bad_local_data_fails_before_anything_is_sent(db, sim, clinic):
    visit = _send_visit(db, clinic, codes=("XYZ.9",))
    await fast_worker(sim).drain()
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    assert job.status == JobStatus.FAILED and "XYZ" in job.last_error
    assert job.attempts == 0
    assert not db.exec(select(SyncLog).where(SyncLog.resource_type == "Bundle")).all()


async def test_a_job_left_in_progress_by_a_dead_worker_is_taken_again_after_its_lease(
    db, sim, clinic
):
    visit = _send_visit(db, clinic)
    crashed = fast_worker(sim, lease_seconds=0.2)
    claimed = crashed.claim(10)
    assert claimed  # ...and then the process died without finishing
    other = fast_worker(sim)
    assert other.claim(10) == []  # still leased
    db.expire_all()
    job = _job(db, JobKind.VISIT_SEND, visit.id)
    job.lease_until = utcnow() - timedelta(seconds=1)
    db.add(job)
    db.commit()
    await other.drain()
    assert _job(db, JobKind.VISIT_SEND, visit.id).status == JobStatus.DONE
    assert _encounters(sim, visit) == 1


async def test_enqueue_twice_is_one_job(db, clinic):
    visit = make_completed_visit(db, *clinic)
    a = outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
    b = outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id, client_token="t2")
    db.commit()
    assert a.id == b.id and b.client_token == "t2"
    assert db.get(Visit, visit.id).sync_status == SyncStatus.SENDING


async def test_a_renamed_or_deactivated_unit_and_room_are_updated_in_satusehat(db, sim, clinic):
    branch, unit, room, doctor, patient = clinic
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    db.commit()
    await fast_worker(sim).drain()
    db.expire_all()
    unit, room = db.get(ServiceUnit, unit.id), db.get(Room, room.id)
    unit.name, room.is_active = "Poli Umum Lantai 2", False
    db.add_all([unit, room])
    outbox.enqueue(db, JobKind.ORGANIZATION_CREATE, branch.id, unit.id)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    db.commit()
    await fast_worker(sim).drain()
    assert sim.simulator.get_resource("Organization", unit.ihs_id)["name"] == "Poli Umum Lantai 2"
    assert sim.simulator.get_resource("Location", room.ihs_id)["status"] == "inactive"
    # Updated, not created again.
    assert sim.simulator.count_resources("Organization") == 1
    assert sim.simulator.count_resources("Location") == 1
    db.expire_all()
    assert db.get(Room, room.id).sync_status == SyncStatus.SENT
