"""A newborn registered without a NIK gets its IHS number from the worker: the patient
lookup job creates its SATUSEHAT record by the mother's NIK (API.md 4.3) in the simulator
over HTTP; a mother Dukcapil does not know leaves a clear message; a visit of the baby waits
for the record, then goes out naming it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from klinikita.integrations.satusehat import fhir
from klinikita.models import Diagnosis, Patient, SyncJob, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import examination as exam
from klinikita.services import outbox
from klinikita.services import patient_records as records
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from tests.factories import make_clinic, make_user, make_visit
from tests.patients_support import actor_for, add_regions, patient_form

MOTHER = "3171015208859901"


def _baby_form(**changes):
    values = dict(
        name="Bayi Ny. Siti",
        birth_date=(date.today() - timedelta(days=5)).isoformat(),
        sex="female",
        nik="",
        phone="",
        is_newborn=True,
        mother_nik=MOTHER,
        kk_number="3171010101260001",
        province_code="31",
        city_code="31.71",
        district_code="31.71.01",
        village_code="31.71.01.1002",
    )
    values.update(changes)
    return patient_form(**values)


def _worker(sim, notices=None) -> OutboxWorker:
    async def notifier(notice):
        if notices is not None:
            notices.append(notice)

    return OutboxWorker(
        simulator_base=sim.base_url, notifier=notifier, backoff_base=0.01, backoff_cap=0.05,
        poll_interval=0.02, wait_delay=0.0,
    )  # fmt: skip


async def test_a_newborn_without_a_nik_gets_its_ihs_number(db, sim):
    branch, *_ = make_clinic(db)
    add_regions(db)
    desk = actor_for(db, branch, Duty.PENDAFTARAN)
    baby = records.create_patient(db, desk, _baby_form(), client_token="tab-3")
    twin = records.create_patient(
        db, desk, _baby_form(name="Bayi Ny. Siti II", birth_order="2"), client_token="tab-3"
    )
    db.commit()
    notices = []
    await _worker(sim, notices).drain()

    db.expire_all()
    got = db.get(Patient, baby.id)
    assert got.sync_status == SyncStatus.SENT and got.sync_error is None
    assert got.ihs_number.startswith("P") and len(got.ihs_number) == 12
    other = db.get(Patient, twin.id)
    assert other.ihs_number and other.ihs_number != got.ihs_number
    stored = sim.simulator.get_resource("Patient", got.ihs_number)
    identifiers = {i["system"]: i["value"] for i in stored["identifier"]}
    assert identifiers[fhir.NIK_IBU_SYSTEM] == MOTHER
    assert stored["birthDate"] == got.birth_date.isoformat()
    assert {j.status for j in db.exec(select(SyncJob)).all()} == {JobStatus.DONE}
    assert ("patient", baby.id, "tab-3") in {
        (n.subject_type, n.subject_id, n.client_token) for n in notices
    }
    assert sim.simulator.stats.requests_for("Patient", "POST") == 2

    # Sent again (Kirim ulang after a lost answer): the same record, not a second one.
    admin = actor_for(db, branch, Duty.ADMIN)
    got.ihs_number, got.sync_status = None, SyncStatus.FAILED
    db.add(got)
    db.commit()
    records.resend_lookup(db, admin, baby.id)
    db.commit()
    await _worker(sim).drain()
    db.expire_all()
    assert db.get(Patient, baby.id).ihs_number == stored["id"]

    # The baby's NIK comes later: the IHS number stays, SATUSEHAT is not asked again.
    posts = sim.simulator.stats.requests_for("Patient", "POST")
    records.update_patient(db, admin, baby.id, _baby_form(nik="3171014512260001"))
    db.commit()
    await _worker(sim).drain()
    db.expire_all()
    assert db.get(Patient, baby.id).ihs_number == stored["id"]
    assert sim.simulator.stats.requests_for("Patient", "POST") == posts


async def test_a_mother_dukcapil_does_not_know_leaves_a_clear_message(db, sim):
    branch, *_ = make_clinic(db)
    add_regions(db)
    sim.simulator.config.dukcapil_accepts_any_valid_nik = False
    desk = actor_for(db, branch, Duty.PENDAFTARAN)
    baby = records.create_patient(db, desk, _baby_form())
    db.commit()
    await _worker(sim).drain()
    db.expire_all()
    got = db.get(Patient, baby.id)
    assert got.sync_status == SyncStatus.NOT_FOUND and got.ihs_number is None
    assert "NIK ibu tidak dikenal" in got.sync_error
    # Corrected to a mother the MPI knows (a sandbox patient): created.
    admin = actor_for(db, branch, Duty.ADMIN)
    records.update_patient(db, admin, baby.id, _baby_form(mother_nik="9204014804000002"))
    db.commit()
    await _worker(sim).drain()
    db.expire_all()
    assert db.get(Patient, baby.id).ihs_number


async def test_a_visit_of_a_newborn_waits_for_its_record_then_names_it(db, sim):
    branch, unit, room, doctor, patient = make_clinic(db)
    add_regions(db)
    for key, value in dict(
        nik=None,
        name="Bayi Ny. Siti",
        sex="female",
        birth_date=date.today() - timedelta(days=5),
        is_newborn=True,
        mother_nik=MOTHER,
        kk_number="3171010101260001",
        province_code="31",
        city_code="31.71",
        district_code="31.71.01",
        village_code="31.71.01.1002",
    ).items():
        setattr(patient, key, value)
    db.add(patient)
    user = make_user(
        db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=doctor.id
    )
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    visit = make_visit(db, branch, unit, room, doctor, patient)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    db.commit()
    worker = _worker(sim)
    await worker.drain()

    exam.save_vitals(db, actor, visit.id, {"systolic": "80", "diastolic": "50"})
    exam.save_soap(db, actor, visit.id, {"subjective": "Demam", "assessment": "Demam"})
    exam.add_diagnosis(db, actor, visit.id, "R50.9")
    db.commit()
    # No IHS number yet, but the worker can create it: Selesai is not blocked.
    assert db.get(Patient, patient.id).ihs_number is None
    assert [b for b in completion.completion_blockers(db, visit.id) if b.key == "patient"] == []
    completion.complete_visit(db, actor, visit.id)
    db.commit()
    await worker.drain()

    db.expire_all()
    baby = db.get(Patient, patient.id)
    sent = db.get(Visit, visit.id)
    assert baby.ihs_number and sent.sync_status == SyncStatus.SENT
    encounter = sim.simulator.get_resource("Encounter", sent.encounter_id)
    assert encounter["subject"]["reference"] == f"Patient/{baby.ihs_number}"
    assert db.exec(select(Diagnosis).where(Diagnosis.visit_id == visit.id)).one().condition_id
