"""Lost answers at every step of a visit's send and of a correction, under retries: the real
worker against the simulator over HTTP. Whatever was lost, SATUSEHAT ends with exactly one
Encounter, one live Condition per diagnosis and one live Observation per measurement, and
the visit is marked sent only with every one of their ids stored."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from klinikita.integrations.satusehat import fhir
from klinikita.integrations.satusehat.reconcile import is_withdrawn
from klinikita.models import Diagnosis, Examination, Procedure, Room, SyncJob, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import examination as exam
from klinikita.services import outbox
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from tests.factories import make_clinic, make_user, make_visit

ENCOUNTER_SYSTEM = "http://sys-ids.kemkes.go.id/encounter/10000004"
BUNDLE = "/fhir-r4/v1"  # the transaction endpoint (the FHIR base)
ENCOUNTERS = "/fhir-r4/v1/Encounter"
CONDITIONS = "/fhir-r4/v1/Condition"
OBSERVATIONS = "/fhir-r4/v1/Observation"

# (fault kind, how many requests it hits, method, path), switched on in this order.
LOST = ("drop_after", 1, "POST", BUNDLE)  # stored by SATUSEHAT, the answer never came
SEND_FAULTS = {
    "answer-lost": [LOST],
    "answer-lost-twice": [("drop_after", 2, "POST", BUNDLE)],
    "not-received": [("drop_before", 1, "POST", BUNDLE)],
    "encounter-search-fails": [LOST, ("http_503", 2, "GET", ENCOUNTERS)],
    "encounter-search-answer-lost": [LOST, ("drop_after", 1, "GET", ENCOUNTERS)],
    "condition-search-fails-once": [LOST, ("http_503", 1, "GET", CONDITIONS)],
    "condition-search-fails-3x": [LOST, ("http_504", 3, "GET", CONDITIONS)],
    "observation-search-fails-once": [LOST, ("http_503", 1, "GET", OBSERVATIONS)],
    "observation-search-answer-lost-2x": [LOST, ("drop_after", 2, "GET", OBSERVATIONS)],
    "every-step": [
        ("drop_after", 2, "POST", BUNDLE),
        ("http_503", 1, "GET", ENCOUNTERS),
        ("http_503", 2, "GET", CONDITIONS),
        ("drop_after", 1, "GET", OBSERVATIONS),
    ],
}
CORRECTION_FAULTS = {
    "answer-lost": [LOST],
    "answer-lost-twice": [("drop_after", 2, "POST", BUNDLE)],
    "condition-search-fails-before-sending": [("http_503", 2, "GET", CONDITIONS)],
    "observation-search-fails-before-sending": [("drop_after", 1, "GET", OBSERVATIONS)],
    "every-step": [
        ("drop_after", 2, "POST", BUNDLE),
        ("http_503", 3, "GET", CONDITIONS),
        ("http_504", 1, "GET", OBSERVATIONS),
    ],
}


def _worker(sim) -> OutboxWorker:
    return OutboxWorker(
        simulator_base=sim.base_url,
        backoff_base=0.01,
        backoff_cap=0.05,
        poll_interval=0.02,
        wait_delay=0.0,
    )


def _switch_on(sim, faults) -> None:
    for kind, count, method, path in faults:
        sim.simulator.faults.fail_next(kind, count, method=method, path=path)


def _on_encounter(sim, kind: str, encounter_id: str) -> list[dict]:
    return [
        r
        for r in sim.simulator.list_resources(kind)
        if r.get("encounter", {}).get("reference") == f"Encounter/{encounter_id}"
    ]


def _assert_held_once(db, sim, visit_id: int) -> dict:
    """Exactly one Encounter, one live Condition per diagnosis, one live Observation per
    recorded vital in SATUSEHAT, and every one of their ids stored on the visit."""
    db.expire_all()
    visit = db.get(Visit, visit_id)
    jobs = db.exec(select(SyncJob).where(SyncJob.subject_id == visit_id)).all()
    assert [j.status for j in jobs if j.kind == JobKind.VISIT_SEND][-1] == JobStatus.DONE
    assert visit.sync_status == SyncStatus.SENT and visit.sent_revision == visit.sync_revision
    [encounter] = sim.simulator.list_resources("Encounter", (ENCOUNTER_SYSTEM, visit.uid))
    assert visit.encounter_id == encounter["id"]

    diagnoses = db.exec(select(Diagnosis).where(Diagnosis.visit_id == visit_id)).all()
    live = [r for r in _on_encounter(sim, "Condition", encounter["id"]) if not is_withdrawn(r)]
    assert sorted(r["code"]["coding"][0]["code"] for r in live) == sorted(
        d.icd10_code for d in diagnoses
    )
    assert {d.condition_id for d in diagnoses} == {r["id"] for r in live}
    by_id = {r["id"]: r for r in live}
    for d in diagnoses:
        assert by_id[d.condition_id]["code"]["coding"][0]["code"] == d.icd10_code
    referenced = {d["condition"]["reference"] for d in encounter["diagnosis"]}
    assert referenced == {f"Condition/{d.condition_id}" for d in diagnoses}

    examination = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    measured = {v.loinc for v, _ in fhir.filled_vitals(examination)}
    live = [r for r in _on_encounter(sim, "Observation", encounter["id"]) if not is_withdrawn(r)]
    codes = [r["code"]["coding"][-1]["code"] for r in live]
    assert sorted(codes) == sorted(measured)  # one per measurement
    assert examination.observation_ids == {r["code"]["coding"][-1]["code"]: r["id"] for r in live}
    db.rollback()
    return {"encounter": encounter, "diagnoses": diagnoses, "observations": live}


@pytest.fixture
def people(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    user = make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    user.employee_id = doctor.id  # the doctor's login, so the vitals name who measured them
    db.add(user)
    db.commit()
    admin = make_user(db, "admin1", branches=[branch], main_duty=Duty.ADMIN)
    return {
        "clinic": (branch, unit, room, doctor, patient),
        "doctor": Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id),
        "admin": Actor(admin.id, admin.username, admin.full_name, Duty.ADMIN, branch.id),
    }


async def _complete(db, sim, people) -> tuple[OutboxWorker, int]:
    """A visit the doctor completes: vitals (3), J06.9 primary and R05; its room is sent
    first, so the faults meet the visit's own requests only."""
    branch, unit, room, doctor, patient = people["clinic"]
    visit = make_visit(db, branch, unit, room, doctor, patient)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    outbox.enqueue(db, JobKind.PATIENT_LOOKUP, branch.id, patient.id)
    outbox.enqueue(db, JobKind.PRACTITIONER_LOOKUP, branch.id, doctor.id)
    db.commit()
    worker = _worker(sim)
    await worker.drain()
    db.expire_all()
    assert db.get(Room, room.id).ihs_id
    actor = people["doctor"]
    exam.save_vitals(db, actor, visit.id, {"systolic": "120", "diastolic": "80", "spo2": "98"})
    exam.add_diagnosis(db, actor, visit.id, "J06.9")
    exam.add_diagnosis(db, actor, visit.id, "R05")
    db.commit()
    completion.complete_visit(db, actor, visit.id)
    db.commit()
    db.rollback()  # on SQLite an open transaction holds the write lock the worker needs
    return worker, visit.id


def _correct(db, admin, visit_id: int) -> None:
    """Systolic changed, pulse added, SpO2 cleared; R05 replaced by J20.9 as the primary."""
    exam.save_vitals(
        db, admin, visit_id, {"systolic": "130", "diastolic": "80", "pulse": "88", "spo2": ""}
    )
    added = exam.add_diagnosis(db, admin, visit_id, "J20.9")
    r05 = db.exec(
        select(Diagnosis).where(Diagnosis.visit_id == visit_id, Diagnosis.icd10_code == "R05")
    ).one()
    exam.remove_diagnosis(db, admin, visit_id, r05.id)
    exam.set_primary(db, admin, visit_id, added.id)
    db.commit()
    db.rollback()


@pytest.mark.parametrize("faults", SEND_FAULTS.values(), ids=SEND_FAULTS.keys())
async def test_a_visit_lost_at_any_step_of_its_send_is_held_once_with_every_id(
    db, sim, people, faults
):
    worker, visit_id = await _complete(db, sim, people)
    _switch_on(sim, faults)
    await worker.drain()
    assert sim.simulator.faults.rules() == []  # every fault was met
    _assert_held_once(db, sim, visit_id)


@pytest.mark.parametrize("faults", CORRECTION_FAULTS.values(), ids=CORRECTION_FAULTS.keys())
async def test_a_correction_lost_at_any_step_updates_in_place_and_creates_nothing_twice(
    db, sim, people, faults
):
    worker, visit_id = await _complete(db, sim, people)
    await worker.drain()
    before = _assert_held_once(db, sim, visit_id)
    kept = {d.icd10_code: d.condition_id for d in before["diagnoses"]}

    _correct(db, people["admin"], visit_id)
    _switch_on(sim, faults)
    await worker.drain()
    assert sim.simulator.faults.rules() == []
    after = _assert_held_once(db, sim, visit_id)
    assert after["encounter"]["id"] == before["encounter"]["id"]
    ids = {d.icd10_code: d.condition_id for d in after["diagnoses"]}
    assert ids["J06.9"] == kept["J06.9"]  # updated in place
    withdrawn = sim.simulator.get_resource("Condition", kept["R05"])
    assert is_withdrawn(withdrawn)
    [systolic] = [r for r in after["observations"] if r["code"]["coding"][0]["code"] == "8480-6"]
    assert systolic["valueQuantity"]["value"] == 130


async def test_a_diagnosis_removed_before_its_condition_was_confirmed_is_withdrawn(db, sim, people):
    """The correction's answer is lost, and before the next try the admin removes the very
    diagnosis whose Condition it created: that Condition must not stay active."""
    worker, visit_id = await _complete(db, sim, people)
    await worker.drain()
    admin = people["admin"]
    added = exam.add_diagnosis(db, admin, visit_id, "J20.9")
    db.commit()
    db.rollback()
    _switch_on(sim, [LOST])
    await worker.run_once()  # stored by SATUSEHAT; the answer is lost
    db.expire_all()
    assert db.get(Diagnosis, added.id).condition_id is None
    assert db.get(Visit, visit_id).sync_status == SyncStatus.SENDING
    exam.remove_diagnosis(db, admin, visit_id, added.id)
    db.commit()
    db.rollback()
    await worker.drain()
    held = _assert_held_once(db, sim, visit_id)
    orphans = [
        r
        for r in _on_encounter(sim, "Condition", held["encounter"]["id"])
        if r["code"]["coding"][0]["code"] == "J20.9"
    ]
    assert len(orphans) == 1 and is_withdrawn(orphans[0])


async def test_a_procedure_removed_before_its_creation_was_confirmed_is_withdrawn(db, sim, people):
    """As for a diagnosis: the correction that created the Procedure lost its answer, and the
    admin removed that procedure before the next try; SATUSEHAT must not keep it active."""
    worker, visit_id = await _complete(db, sim, people)
    await worker.drain()
    admin = people["admin"]
    added = exam.add_procedure(db, admin, visit_id, {"code": "93.94", "description": "Nebu"})
    db.commit()
    db.rollback()
    _switch_on(sim, [LOST])
    await worker.run_once()  # stored by SATUSEHAT; the answer is lost
    db.expire_all()
    assert db.get(Procedure, added.id).resource_id is None
    exam.remove_procedure(db, admin, visit_id, added.id)
    db.commit()
    db.rollback()
    await worker.drain()
    held = _assert_held_once(db, sim, visit_id)
    stored = _on_encounter(sim, "Procedure", held["encounter"]["id"])
    assert len(stored) == 1 and is_withdrawn(stored[0])
    assert stored[0]["code"]["coding"][0]["code"] == "93.94"


async def test_a_visit_recorded_without_some_ids_is_corrected_without_a_second_condition(
    db, sim, people
):
    """Recorded as sent while a Condition's and an Observation's ids were missing (as an
    earlier version did when its searches failed), from before resources carried our
    identifier: a correction finds them by code and updates them in place."""
    worker, visit_id = await _complete(db, sim, people)
    await worker.drain()
    held = _assert_held_once(db, sim, visit_id)
    j069 = next(d for d in held["diagnoses"] if d.icd10_code == "J06.9")
    store = sim.simulator.store
    for kind, rid in (("Condition", j069.condition_id), ("Observation", None)):
        if rid is None:  # the diastolic Observation
            rid = next(
                r["id"] for r in held["observations"] if r["code"]["coding"][0]["code"] == "8462-4"
            )
        item = store.get(kind, rid)
        legacy = {k: v for k, v in item.resource.items() if k != "identifier"}
        store.put(replace(item, resource=legacy))
    diagnosis = db.get(Diagnosis, j069.id)
    diagnosis.condition_id = None
    examination = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    examination.observation_ids = {
        k: v for k, v in examination.observation_ids.items() if k != "8462-4"
    }
    db.add_all([diagnosis, examination])
    db.commit()

    exam.save_vitals(
        db, people["admin"], visit_id, {"systolic": "120", "diastolic": "85", "spo2": "98"}
    )
    exam.add_diagnosis(db, people["admin"], visit_id, "J20.9")
    db.commit()
    db.rollback()
    await worker.drain()
    after = _assert_held_once(db, sim, visit_id)
    assert next(d for d in after["diagnoses"] if d.icd10_code == "J06.9").condition_id == (
        j069.condition_id
    )
    [diastolic] = [r for r in after["observations"] if r["code"]["coding"][0]["code"] == "8462-4"]
    assert diastolic["valueQuantity"]["value"] == 85
