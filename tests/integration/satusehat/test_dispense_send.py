"""The DISPENSE_SEND job against the simulator: it waits while the visit's
MedicationRequests have no ids, then posts one MedicationDispense per line and writes the
ids back; a hand-over later updates the same resources in place, and a return (retur obat)
sends them again as cancelled."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlmodel import select

from klinikita.models import Dispense, Prescription, SyncJob, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import dispensing, outbox
from klinikita.services.dispense_sender import WAITING_FOR_REQUESTS
from tests.factories import make_clinic, make_completed_visit, make_user
from tests.integration.satusehat.test_worker import fast_worker
from tests.support import pharmacy_data as ph


def _post_request(sim, visit: Visit, line: Prescription) -> str:
    """The MedicationRequest the prescribing side sends with the visit (built elsewhere)."""
    with httpx.Client(timeout=10) as http:
        token = http.post(
            sim.token_url,
            params={"grant_type": "client_credentials"},
            data={"client_id": "demo-klinik", "client_secret": "demo-klinik-secret"},
        ).json()["access_token"]
        body = ph.medication_request_body(
            "10000004",
            visit.uid,
            line.line_no,
            encounter_id=visit.encounter_id,
            patient_ihs="P02478375538",
        )
        response = http.post(
            f"{sim.fhir_url}/MedicationRequest",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]


async def test_dispense_waits_for_the_requests_then_is_sent_and_updated(db, sim):
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    outbox.enqueue(db, JobKind.VISIT_SEND, branch.id, visit.id)
    db.commit()
    await fast_worker(sim).drain()
    user = make_user(db, "apt.rina", branches=[branch], main_duty=Duty.APOTEKER)
    actor = ph.actor_for(user, branch)
    para = ph.item(db, branch, "Paracetamol 500 mg tablet")
    ctm = ph.item(db, branch, "CTM 4 mg tablet", kfa="93000003")
    ph.batch(db, para, "P-1", 100, date.today() + timedelta(days=90))
    ph.batch(db, ctm, "C-1", 100, date.today() + timedelta(days=90))
    rx = ph.prescription(
        db,
        visit,
        [(para, 10, "3 x sehari", "1 tablet", "sesudah makan")],
        compounds=[("Puyer batuk", 10, [(ctm, 5, "2 mg")])],
    )
    dispensing.dispense(db, actor, rx.dispense.id, expected_version=1, client_token="tab-apt")
    db.commit()

    worker = fast_worker(sim)
    for _ in range(3):
        await worker.run_once()
    db.expire_all()
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.DISPENSE_SEND)).one()
    assert job.status == JobStatus.PENDING and job.waiting_for == WAITING_FOR_REQUESTS
    assert sim.simulator.count_resources("MedicationDispense") == 0

    visit = db.get(Visit, visit.id)
    for line in rx.lines:
        db.get(Prescription, line.id).medication_request_id = _post_request(sim, visit, line)
    db.commit()
    await worker.drain()

    db.expire_all()
    lines = db.exec(select(Prescription).order_by(Prescription.line_no)).all()
    assert all(line.medication_dispense_id for line in lines)
    assert db.get(Dispense, rx.dispense.id).sync_status == SyncStatus.SENT
    assert sim.simulator.count_resources("MedicationDispense") == 2
    first = sim.simulator.get_resource("MedicationDispense", lines[0].medication_dispense_id)
    assert first["status"] == "in-progress" and "whenHandedOver" not in first
    assert first["authorizingPrescription"][0]["reference"] == (
        f"MedicationRequest/{lines[0].medication_request_id}"
    )
    assert first["quantity"]["value"] == 10

    dispensing.hand_over(db, actor, rx.dispense.id, expected_version=2)
    db.commit()
    await worker.drain()
    db.expire_all()
    assert sim.simulator.count_resources("MedicationDispense") == 2
    first = sim.simulator.get_resource("MedicationDispense", lines[0].medication_dispense_id)
    assert first["status"] == "completed" and first["whenHandedOver"]
    assert db.get(Dispense, rx.dispense.id).sync_status == SyncStatus.SENT

    # The patient brings the drugs back (no bill paid): the same resources, now cancelled.
    dispensing.return_handed_over(db, actor, rx.dispense.id, expected_version=3, reason="alergi")
    db.commit()
    await worker.drain()
    db.expire_all()
    assert sim.simulator.count_resources("MedicationDispense") == 2
    for line in lines:
        sent = sim.simulator.get_resource("MedicationDispense", line.medication_dispense_id)
        assert sent["status"] == "cancelled"
    assert db.get(Dispense, rx.dispense.id).sync_status == SyncStatus.SENT
