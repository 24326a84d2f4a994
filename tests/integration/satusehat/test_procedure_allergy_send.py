"""A visit with a procedure and allergies, sent by the worker to the simulator: the
Procedure and AllergyIntolerances are accepted in the visit's Bundle and their ids written
back; a lost answer finds them again instead of creating them twice; a nurse performing a
procedure is looked up first."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from klinikita.models import Visit
from klinikita.models.allergies import PatientAllergy
from klinikita.models.clinical import Procedure
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import outbox
from tests.factories import make_clinic, make_completed_visit, make_nurse

from .test_worker import fast_worker


def _visit_with_extras(db, clinic, *, performer_id=None) -> Visit:
    branch, unit, room, doctor, patient = clinic
    visit = make_completed_visit(db, *clinic)
    done = visit.completed_at - timedelta(minutes=10)
    db.add(
        Procedure(
            visit_id=visit.id,
            code="93.94",
            description="Nebulisasi",
            performed_by_id=performer_id or doctor.id,
            performed_at=done,
        )  # fmt: skip
    )
    db.add(Procedure(visit_id=visit.id, code="", description="Kompres hangat"))
    db.add(
        PatientAllergy(
            patient_id=patient.id,
            branch_id=branch.id,
            kind="substance",
            category="medication",
            code="764146007",
            display="Penisilin",
            reaction="gatal",
            severity="moderate",
            recorded_visit_id=visit.id,
            recorded_at=done,
        )  # fmt: skip
    )
    outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
    db.commit()
    return visit


def _ids(db, visit):
    db.expire_all()
    procedures = db.exec(select(Procedure).where(Procedure.visit_id == visit.id)).all()
    allergies = db.exec(
        select(PatientAllergy).where(PatientAllergy.recorded_visit_id == visit.id)
    ).all()
    return (
        {p.code: p.resource_id for p in procedures},
        [a.resource_id for a in allergies],
    )


async def test_procedure_and_allergy_are_accepted_and_their_ids_stored(db, sim):
    clinic = make_clinic(db)
    visit = _visit_with_extras(db, clinic)
    await fast_worker(sim).drain()
    db.expire_all()
    sent = db.get(Visit, visit.id)
    assert sent.sync_status == SyncStatus.SENT, sent.sync_error
    procedures, allergies = _ids(db, visit)
    assert procedures["93.94"] and procedures[""] is None  # the uncoded one stays local
    stored = sim.simulator.get_resource("Procedure", procedures["93.94"])
    assert stored["code"]["coding"][0]["code"] == "93.94"
    assert stored["encounter"]["reference"] == f"Encounter/{db.get(Visit, visit.id).encounter_id}"
    (allergy_id,) = allergies
    stored = sim.simulator.get_resource("AllergyIntolerance", allergy_id)
    assert stored["code"]["coding"][0]["code"] == "764146007"
    assert sim.simulator.count_resources("Procedure") == 1
    assert sim.simulator.count_resources("AllergyIntolerance") == 1


async def test_a_lost_answer_finds_them_again_without_creating_them_twice(db, sim):
    clinic = make_clinic(db)
    visit = _visit_with_extras(db, clinic)
    sim.simulator.faults.fail_next("drop_after", 1, path="/fhir-r4/v1", method="POST")
    await fast_worker(sim).drain()
    procedures, allergies = _ids(db, visit)
    assert procedures["93.94"] and all(allergies)
    assert sim.simulator.count_resources("Procedure") == 1
    assert sim.simulator.count_resources("AllergyIntolerance") == 1


async def test_a_nurse_performer_is_looked_up_and_named(db, sim):
    clinic = make_clinic(db)
    nurse, _ = make_nurse(db, clinic[0])
    visit = _visit_with_extras(db, clinic, performer_id=nurse.id)
    await fast_worker(sim).drain()
    procedures, _ = _ids(db, visit)
    stored = sim.simulator.get_resource("Procedure", procedures["93.94"])
    db.refresh(nurse)
    assert nurse.ihs_number
    assert stored["performer"][0]["actor"]["reference"] == f"Practitioner/{nurse.ihs_number}"
