"""Selesai end to end: the examination services complete a visit, the real worker sends it
to the simulator over HTTP and writes the encounter and condition ids back."""

from __future__ import annotations

from sqlmodel import select

from klinikita.models import Diagnosis, Examination, Room, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import examination as exam
from klinikita.services import outbox
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from tests.factories import make_clinic, make_user, make_visit


async def test_a_completed_visit_is_sent_and_its_ids_written_back(db, sim):
    branch, unit, room, doctor, patient = make_clinic(db)
    user = make_user(
        db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=doctor.id
    )
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    visit = make_visit(db, branch, unit, room, doctor, patient)
    # The readiness check wants the room's Location first: send it like Referensi would.
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    db.commit()
    worker = OutboxWorker(
        simulator_base=sim.base_url, backoff_base=0.01, backoff_cap=0.05, poll_interval=0.02,
        wait_delay=0.0,
    )  # fmt: skip
    await worker.drain()
    db.expire_all()
    assert db.get(Room, room.id).ihs_id

    exam.save_vitals(db, actor, visit.id, {"systolic": "120", "diastolic": "80", "spo2": "98"})
    exam.save_soap(db, actor, visit.id, {"subjective": "Batuk", "assessment": "ISPA"})
    exam.add_diagnosis(db, actor, visit.id, "J06.9")
    exam.add_diagnosis(db, actor, visit.id, "R05")
    db.commit()
    assert completion.completion_blockers(db, visit.id) == []
    completion.complete_visit(db, actor, visit.id, client_token="tab-exam")
    db.commit()

    notices = []

    async def notifier(notice):
        notices.append(notice)

    worker.notifier = notifier
    await worker.drain()

    db.expire_all()
    sent = db.get(Visit, visit.id)
    assert sent.sync_status == SyncStatus.SENT and sent.encounter_id
    diagnoses = db.exec(select(Diagnosis).where(Diagnosis.visit_id == visit.id)).all()
    assert len(diagnoses) == 2 and all(d.condition_id for d in diagnoses)
    observations = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert set(observations.observation_ids) == {"8480-6", "8462-4", "59408-5"}
    stored = sim.simulator.get_resource("Encounter", sent.encounter_id)
    assert [h["status"] for h in stored["statusHistory"]] == ["arrived", "in-progress", "finished"]
    done = [n for n in notices if n.subject_type == "visit" and n.status == "done"]
    assert done and done[0].subject_id == visit.id and done[0].client_token == "tab-exam"
