"""Everything the app sends passes every rule of API.md the simulator checks, with its
optional strict-UTC switch on: the master data (Organization, Location, lookups), a visit
with every vital sign (measured by a nurse) and a category diagnosis, then an admin's
correction (updates in place, a withdrawn Condition and Observation, a renamed unit, a room
given its own coordinates)."""

from __future__ import annotations

from sqlmodel import select

from klinikita.integrations.satusehat.simulator.seed import SANDBOX_PRACTITIONERS
from klinikita.models import Diagnosis, Employee, Room, SyncJob, SyncLog, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import examination as exam
from klinikita.services import facility, outbox
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from tests.factories import NURSE_NIK, make_clinic, make_nurse, make_user, make_visit

ALL_VITALS = {
    "systolic": "120",
    "diastolic": "80",
    "pulse": "88",
    "respiratory_rate": "20",
    "temperature": "37.5",
    "height": "165",
    "weight": "61.5",
    "spo2": "97",
}


def _worker(sim, db) -> OutboxWorker:
    return OutboxWorker(
        simulator_base=sim.base_url, backoff_base=0.01, backoff_cap=0.05, poll_interval=0.02,
        wait_delay=0.0, db_url=db.get_bind().url.render_as_string(hide_password=False),
    )  # fmt: skip


def _actor(db, branch, username: str, duty: Duty, employee_id: int | None = None) -> Actor:
    user = make_user(db, username, branches=[branch], main_duty=duty, employee_id=employee_id)
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


def _performers(sim, encounter_id: str) -> set[tuple[str, str]]:
    """(status, performer reference) of the visit's Observations the simulator holds."""
    return {
        (o["status"], p["reference"])
        for o in sim.simulator.list_resources("Observation")
        if o["encounter"]["reference"] == f"Encounter/{encounter_id}"
        for p in o["performer"]
    }


async def test_every_payload_the_app_sends_is_accepted_by_the_strict_simulator(db, sim):
    sim.simulator.config.strict_utc = True
    branch, unit, room, doctor, patient = make_clinic(db)
    doctor_actor = _actor(db, branch, "dokter", Duty.DOKTER_UMUM, doctor.id)
    nurse, nurse_user = make_nurse(db, branch, username="perawat")
    nurse_actor = Actor(nurse_user.id, "perawat", nurse_user.full_name, Duty.PERAWAT, branch.id)
    admin = _actor(db, branch, "admin1", Duty.ADMIN)
    outbox.enqueue(db, JobKind.ORGANIZATION_CREATE, branch.id, unit.id)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    visit = make_visit(db, branch, unit, room, doctor, patient)
    db.commit()
    worker = _worker(sim, db)
    await worker.drain()

    exam.save_vitals(db, nurse_actor, visit.id, ALL_VITALS)
    for code in ("J06.9", "R05", "E11"):  # E11: a category, kept after the picker's warning
        exam.add_diagnosis(db, doctor_actor, visit.id, code)
    db.commit()
    completion.complete_visit(db, doctor_actor, visit.id)
    db.commit()
    await worker.drain()
    db.expire_all()
    sent_visit = db.get(Visit, visit.id)
    assert sent_visit.sync_status == SyncStatus.SENT
    # The nurse, looked up by her NIK as the visit was sent, performed every vital sign.
    [known] = [p.ihs for p in SANDBOX_PRACTITIONERS if p.nik == NURSE_NIK]
    assert db.get(Employee, nurse.id).ihs_number == known
    assert _performers(sim, sent_visit.encounter_id) == {("final", f"Practitioner/{known}")}
    db.rollback()

    # The admin corrects the visit and the master data.
    changed = dict(ALL_VITALS, systolic="130", spo2="")
    exam.save_vitals(db, admin, visit.id, changed)
    r05 = db.exec(
        select(Diagnosis).where(Diagnosis.visit_id == visit.id, Diagnosis.icd10_code == "R05")
    ).one()
    exam.remove_diagnosis(db, admin, visit.id, r05.id)
    facility.update_unit(db, admin, unit.id, facility.UnitInput("Poli Umum Baru"))
    own = facility.RoomInput(room.name, unit.id, latitude="-6.9175", longitude="107.6191")
    facility.update_room(db, admin, room.id, own)
    db.commit()
    await worker.drain()

    db.expire_all()
    jobs = db.exec(select(SyncJob)).all()
    assert {j.kind for j in jobs} >= {
        JobKind.ORGANIZATION_CREATE,
        JobKind.LOCATION_CREATE,
        JobKind.PATIENT_LOOKUP,
        JobKind.PRACTITIONER_LOOKUP,
        JobKind.VISIT_SEND,
    }
    assert all(j.status == JobStatus.DONE for j in jobs), [(j.kind, j.last_error) for j in jobs]
    writes = db.exec(select(SyncLog).where(SyncLog.method.in_(["POST", "PUT"]))).all()
    refused = [(w.method, w.url, w.response_body[:300]) for w in writes if not w.ok]
    assert refused == []
    sent = {(w.method, w.resource_type) for w in writes}
    assert {("POST", "Organization"), ("PUT", "Organization")} <= sent
    assert {("POST", "Location"), ("PUT", "Location")} <= sent
    assert sum(1 for w in writes if w.url.rstrip("/").endswith("/fhir-r4/v1")) == 2  # bundles
    location = sim.simulator.get_resource("Location", db.get(Room, room.id).ihs_id)
    assert location["position"] == {"latitude": -6.9175, "longitude": 107.6191}
    # The admin corrected the nurse's measurement: she is still its performer, withdrawn too.
    assert _performers(sim, sent_visit.encounter_id) == {
        ("final", f"Practitioner/{known}"),
        ("entered-in-error", f"Practitioner/{known}"),
    }
