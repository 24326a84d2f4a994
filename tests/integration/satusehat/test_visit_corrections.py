"""An admin's correction of a completed visit reaches SATUSEHAT: the real worker updates the
Encounter, Conditions and Observations the simulator holds (same ids, over HTTP), creates
what is new and withdraws what was removed; a change made while the visit was on its way
is sent again."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from klinikita.models import Diagnosis, Examination, Procedure, Room, SyncJob, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import examination as exam
from klinikita.services import outbox
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ServiceError
from tests.factories import make_clinic, make_user, make_visit
from tests.pg import sqlite_and_postgresql

# PostgreSQL too: there the correction and the worker's outcome lock the visit's row.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _worker(sim, db) -> OutboxWorker:
    return OutboxWorker(
        simulator_base=sim.base_url, backoff_base=0.01, backoff_cap=0.05, poll_interval=0.02,
        wait_delay=0.0, db_url=db.get_bind().url.render_as_string(hide_password=False),
    )  # fmt: skip


async def _sent_visit(db, sim, procedures=()):
    """A visit completed by the doctor and sent: vitals (3), J06.9 primary and R05, and
    `procedures` (the procedure form's data)."""
    branch, unit, room, doctor, patient = make_clinic(db)
    user = make_user(
        db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=doctor.id
    )
    doctor_actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    admin = make_user(db, "admin1", branches=[branch], main_duty=Duty.ADMIN)
    admin_actor = Actor(admin.id, admin.username, admin.full_name, Duty.ADMIN, branch.id)
    visit = make_visit(db, branch, unit, room, doctor, patient)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    db.commit()
    worker = _worker(sim, db)
    await worker.drain()
    db.expire_all()
    assert db.get(Room, room.id).ihs_id
    exam.save_vitals(
        db, doctor_actor, visit.id, {"systolic": "120", "diastolic": "80", "spo2": "98"}
    )
    exam.add_diagnosis(db, doctor_actor, visit.id, "J06.9")
    exam.add_diagnosis(db, doctor_actor, visit.id, "R05")
    for data in procedures:
        exam.add_procedure(db, doctor_actor, visit.id, data)
    db.commit()
    completion.complete_visit(db, doctor_actor, visit.id)
    db.commit()
    await worker.drain()
    db.expire_all()
    sent = db.get(Visit, visit.id)
    assert sent.sync_status == SyncStatus.SENT and sent.encounter_id
    db.rollback()  # on SQLite an open transaction holds the write lock the worker needs
    return worker, visit.id, doctor_actor, admin_actor


def _diagnoses(db, visit_id: int) -> list[Diagnosis]:
    return list(
        db.exec(
            select(Diagnosis).where(Diagnosis.visit_id == visit_id).order_by(Diagnosis.rank)
        ).all()
    )


def _visit_jobs(db, visit_id: int) -> list[SyncJob]:
    return list(
        db.exec(
            select(SyncJob).where(
                SyncJob.kind == JobKind.VISIT_SEND, SyncJob.subject_id == visit_id
            )
        ).all()
    )


async def test_an_admins_correction_updates_what_satusehat_holds(db, sim):
    worker, visit_id, _, admin = await _sent_visit(db, sim)
    before = db.get(Visit, visit_id)
    encounter_id = before.encounter_id
    old = {d.icd10_code: d.condition_id for d in _diagnoses(db, visit_id)}
    observations = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    old_obs = dict(observations.observation_ids)

    # The admin: systolic 120 -> 130, SpO2 cleared, R05 replaced by J20.9 as the primary.
    exam.save_vitals(db, admin, visit_id, {"systolic": "130", "diastolic": "80", "spo2": ""})
    added = exam.add_diagnosis(db, admin, visit_id, "J20.9")
    r05 = next(d for d in _diagnoses(db, visit_id) if d.icd10_code == "R05")
    exam.remove_diagnosis(db, admin, visit_id, r05.id)
    exam.set_primary(db, admin, visit_id, added.id)
    db.commit()

    db.expire_all()
    queued = db.get(Visit, visit_id)
    assert queued.sync_status == SyncStatus.SENDING
    assert queued.sync_revision > queued.sent_revision
    assert {(r["type"], r["id"]) for r in queued.retracted} == {
        ("Condition", old["R05"]),
        ("Observation", old_obs["59408-5"]),
    }
    assert [j.status for j in _visit_jobs(db, visit_id)].count(JobStatus.PENDING) == 1
    db.rollback()

    await worker.drain()
    db.expire_all()
    after = db.get(Visit, visit_id)
    assert after.sync_status == SyncStatus.SENT and after.sync_error is None
    assert after.encounter_id == encounter_id  # updated in place, never a second Encounter
    assert after.sent_revision == after.sync_revision
    diagnoses = _diagnoses(db, visit_id)
    assert [d.icd10_code for d in diagnoses] == ["J20.9", "J06.9"]
    assert diagnoses[1].condition_id == old["J06.9"]  # the same Condition, updated
    assert diagnoses[0].condition_id and diagnoses[0].condition_id not in old.values()

    store = sim.simulator
    encounter = store.get_resource("Encounter", encounter_id)
    assert [(d["condition"]["reference"], d["rank"]) for d in encounter["diagnosis"]] == [
        (f"Condition/{diagnoses[0].condition_id}", 1),
        (f"Condition/{old['J06.9']}", 2),
    ]
    withdrawn = store.get_resource("Condition", old["R05"])
    assert withdrawn["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in withdrawn
    new_condition = store.get_resource("Condition", diagnoses[0].condition_id)
    assert new_condition["code"]["coding"][0]["code"] == "J20.9"
    assert new_condition["encounter"]["reference"] == f"Encounter/{encounter_id}"

    systolic = store.get_resource("Observation", old_obs["8480-6"])
    assert systolic["valueQuantity"]["value"] == 130 and systolic["status"] == "final"
    spo2 = store.get_resource("Observation", old_obs["59408-5"])
    assert spo2["status"] == "entered-in-error"
    exam_row = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    assert exam_row.observation_ids == {
        "8480-6": old_obs["8480-6"],
        "8462-4": old_obs["8462-4"],
    }


async def test_a_change_made_while_the_visit_is_on_its_way_is_sent_again(db, sim):
    worker, visit_id, _, admin = await _sent_visit(db, sim)
    sim.simulator.faults.add_latency(600, path="/fhir-r4/v1", method="POST")
    exam.save_vitals(db, admin, visit_id, {"systolic": "125", "diastolic": "80", "spo2": "98"})
    db.commit()

    sending = asyncio.create_task(worker.drain())
    for _ in range(200):  # until the worker holds the job (its bundle already built)
        db.expire_all()
        taken = any(j.status == JobStatus.IN_PROGRESS for j in _visit_jobs(db, visit_id))
        db.rollback()
        if taken:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the worker never took the correction")
    # While the 125 is on its way, the admin corrects it again.
    exam.save_vitals(db, admin, visit_id, {"systolic": "135", "diastolic": "80", "spo2": "98"})
    db.commit()
    await sending

    db.expire_all()
    after = db.get(Visit, visit_id)
    assert after.sync_status == SyncStatus.SENT
    assert after.sent_revision == after.sync_revision
    observation_id = (
        db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    ).observation_ids["8480-6"]
    stored = sim.simulator.get_resource("Observation", observation_id)
    assert stored["valueQuantity"]["value"] == 135
    # One job carried both corrections: it went back to the queue instead of a second one.
    jobs = _visit_jobs(db, visit_id)
    assert len(jobs) == 2 and all(j.status == JobStatus.DONE for j in jobs)


def _procedures(db, visit_id: int) -> dict[str, Procedure]:
    rows = db.exec(select(Procedure).where(Procedure.visit_id == visit_id)).all()
    return {p.code: p for p in rows}


async def test_a_removed_procedure_is_withdrawn_and_an_added_one_created(db, sim):
    """Procedures follow the diagnoses' path: the removed one's Procedure is PUT again as
    entered-in-error (same id), the kept one updated in place, the added one created; each
    carries the official ICD-9-CM title and the clinic's name as text."""
    worker, visit_id, _, admin = await _sent_visit(
        db,
        sim,
        procedures=[
            {"code": "86.59", "description": "Hecting luka kecil"},
            {"code": "93.94"},
        ],
    )
    sent = _procedures(db, visit_id)
    hecting, nebulizer = sent["86.59"].resource_id, sent["93.94"].resource_id
    assert hecting and nebulizer
    store = sim.simulator
    held = store.get_resource("Procedure", hecting)
    assert held["code"]["coding"][0]["display"] == (
        "Closure of skin and subcutaneous tissue of other sites"
    )
    assert held["code"]["text"] == "Hecting luka kecil"
    db.rollback()

    exam.remove_procedure(db, admin, visit_id, sent["93.94"].id)
    exam.add_procedure(db, admin, visit_id, {"code": "89.52", "description": "EKG"})
    db.commit()
    db.expire_all()
    queued = db.get(Visit, visit_id)
    assert queued.sync_status == SyncStatus.SENDING
    assert [(r["type"], r["id"]) for r in queued.retracted] == [("Procedure", nebulizer)]
    db.rollback()

    await worker.drain()
    db.expire_all()
    after = db.get(Visit, visit_id)
    assert after.sync_status == SyncStatus.SENT and after.sync_error is None
    assert after.sent_revision == after.sync_revision
    now = _procedures(db, visit_id)
    assert set(now) == {"86.59", "89.52"} and now["86.59"].resource_id == hecting
    ecg = now["89.52"].resource_id
    assert ecg and ecg not in (hecting, nebulizer)
    db.rollback()

    withdrawn = store.get_resource("Procedure", nebulizer)
    assert withdrawn["status"] == "entered-in-error"
    assert withdrawn["code"]["coding"][0]["code"] == "93.94"
    assert withdrawn["encounter"]["reference"] == f"Encounter/{after.encounter_id}"
    assert store.get_resource("Procedure", hecting)["status"] == "completed"
    created = store.get_resource("Procedure", ecg)
    assert created["status"] == "completed" and created["code"]["text"] == "EKG"
    assert created["code"]["coding"][0]["display"] == "Electrocardiogram"
    assert created["encounter"]["reference"] == f"Encounter/{after.encounter_id}"

    # Sent again (another correction): the withdrawn one stays withdrawn, nothing doubles.
    exam.remove_procedure(db, admin, visit_id, now["89.52"].id)
    db.commit()
    await worker.drain()
    db.expire_all()
    assert db.get(Visit, visit_id).sync_status == SyncStatus.SENT
    db.rollback()
    assert store.get_resource("Procedure", ecg)["status"] == "entered-in-error"
    assert store.get_resource("Procedure", nebulizer)["status"] == "entered-in-error"
    assert store.get_resource("Procedure", hecting)["status"] == "completed"


async def test_what_satusehat_does_not_carry_needs_no_correction(db, sim):
    worker, visit_id, _, admin = await _sent_visit(db, sim)
    revision = db.get(Visit, visit_id).sync_revision
    exam.save_soap(db, admin, visit_id, {"subjective": "Batuk 3 hari", "assessment": "ISPA"})
    # The same vitals again: nothing SATUSEHAT holds changes.
    exam.save_vitals(db, admin, visit_id, {"systolic": "120", "diastolic": "80", "spo2": "98"})
    db.commit()
    db.expire_all()
    visit = db.get(Visit, visit_id)
    assert visit.sync_status == SyncStatus.SENT and visit.sync_revision == revision
    assert len(_visit_jobs(db, visit_id)) == 1


async def test_a_completed_visit_keeps_one_diagnosis_and_only_admin_corrects_it(db, sim):
    _, visit_id, doctor, admin = await _sent_visit(db, sim)
    with pytest.raises(PermissionDenied):
        exam.add_diagnosis(db, doctor, visit_id, "J20.9")
    db.rollback()
    first, second = _diagnoses(db, visit_id)
    exam.remove_diagnosis(db, admin, visit_id, second.id)
    db.commit()
    with pytest.raises(ServiceError, match="minimal satu diagnosis"):
        exam.remove_diagnosis(db, admin, visit_id, first.id)
    db.rollback()
    assert [d.icd10_code for d in _diagnoses(db, visit_id)] == ["J06.9"]


async def test_a_visit_whose_send_failed_is_not_queued_by_an_edit(db, sim):
    """Its "Kirim ulang" sends it as it is by then; an edit alone sends nothing."""
    _, visit_id, _, admin = await _sent_visit(db, sim)
    visit = db.get(Visit, visit_id)
    visit.encounter_id, visit.sync_status = None, SyncStatus.FAILED
    db.add(visit)
    db.commit()
    exam.add_diagnosis(db, admin, visit_id, "J20.9")
    db.commit()
    db.expire_all()
    assert db.get(Visit, visit_id).sync_status == SyncStatus.FAILED
    assert all(j.status == JobStatus.DONE for j in _visit_jobs(db, visit_id))


async def test_a_refused_correction_goes_out_again_as_the_same_job_after_the_next_edit(db, sim):
    worker, visit_id, _, admin = await _sent_visit(db, sim)
    sim.simulator.faults.fail_next("http_error", status=400, method="POST", path="/fhir-r4/v1")
    exam.add_diagnosis(db, admin, visit_id, "J20.9")
    db.commit()
    await worker.drain()
    db.expire_all()
    refused = db.get(Visit, visit_id)
    assert refused.sync_status == SyncStatus.FAILED and refused.encounter_id
    [failed] = [j for j in _visit_jobs(db, visit_id) if j.status == JobStatus.FAILED]
    db.rollback()

    # The admin fixes what was refused: the same job goes out again, and succeeds.
    added = next(d for d in _diagnoses(db, visit_id) if d.icd10_code == "J20.9")
    exam.set_primary(db, admin, visit_id, added.id)
    db.commit()
    db.expire_all()
    assert db.get(SyncJob, failed.id).status == JobStatus.PENDING
    db.rollback()
    await worker.drain()
    db.expire_all()
    after = db.get(Visit, visit_id)
    assert after.sync_status == SyncStatus.SENT and after.sent_revision == after.sync_revision
    jobs = _visit_jobs(db, visit_id)
    assert len(jobs) == 2 and all(j.status == JobStatus.DONE for j in jobs)
    encounter = sim.simulator.get_resource("Encounter", after.encounter_id)
    assert [d["rank"] for d in encounter["diagnosis"]] == [1, 2, 3]
    primary = sim.simulator.get_resource(
        "Condition", encounter["diagnosis"][0]["condition"]["reference"].split("/")[1]
    )
    assert primary["code"]["coding"][0]["code"] == "J20.9"
