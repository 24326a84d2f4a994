"""A visit with a prescription, end to end: Selesai queues its Dispense, the real worker
sends the visit's Bundle to the simulator over HTTP with a MedicationRequest per line (a
single item and a racikan, each with its Medication contained) and writes their ids back."""

from __future__ import annotations

from sqlmodel import select

from klinikita.models import Room, Visit
from klinikita.models.clinical import Prescription
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.pharmacy import Dispense, DispenseStatus
from klinikita.models.satusehat import JobKind
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import examination as exam
from klinikita.services import outbox, prescribing
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from tests.factories import make_clinic, make_user, make_visit
from tests.prescribing_support import compound, make_items, single_line


async def test_two_lines_one_racikan_are_accepted_and_their_ids_stored(db, sim):
    branch, unit, room, doctor, patient = make_clinic(db)
    user = make_user(
        db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=doctor.id
    )
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    visit = make_visit(db, branch, unit, room, doctor, patient)
    items = make_items(db, branch)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    db.commit()
    worker = OutboxWorker(
        simulator_base=sim.base_url, backoff_base=0.01, backoff_cap=0.05, poll_interval=0.02,
        wait_delay=0.0,
    )  # fmt: skip
    await worker.drain()
    db.expire_all()
    assert db.get(Room, room.id).ihs_id

    exam.add_diagnosis(db, actor, visit.id, "J06.9")
    prescribing.add_line(db, actor, visit.id, single_line(items["paracetamol"]))
    prescribing.add_compound(db, actor, visit.id, compound([items["paracetamol"], items["ctm"]]))
    db.commit()
    assert completion.completion_blockers(db, visit.id) == []
    completion.complete_visit(db, actor, visit.id)
    db.commit()
    dispense = db.exec(select(Dispense).where(Dispense.visit_id == visit.id)).one()
    assert dispense.status == DispenseStatus.WAITING
    db.rollback()  # end the read: the worker writes next

    await worker.drain()

    db.expire_all()
    sent = db.get(Visit, visit.id)
    assert sent.sync_status == SyncStatus.SENT, sent.sync_error
    lines = db.exec(
        select(Prescription).where(Prescription.visit_id == visit.id).order_by(Prescription.line_no)
    ).all()
    assert len(lines) == 2 and all(line.medication_request_id for line in lines)
    single, racikan = (
        sim.simulator.get_resource("MedicationRequest", line.medication_request_id)
        for line in lines
    )
    assert single["contained"][0]["code"]["coding"][0]["code"] == items["paracetamol"].kfa_code
    assert (
        racikan["contained"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "EP"
    )
    assert single["encounter"]["reference"] == f"Encounter/{sent.encounter_id}"
    assert [i["value"] for i in racikan["identifier"]] == [
        f"RX-{sent.uid}",
        f"RX-{sent.uid}-2",
    ]
    assert racikan["reasonReference"][0]["reference"].startswith("Condition/")
