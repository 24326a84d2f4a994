"""The simulator's MedicationDispense rules, over real HTTP, with the app's own builder:
the request's identifiers, an existing MedicationRequest, subject and context are required,
answered in SATUSEHAT's OperationOutcome shape; what the app builds is accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest

from klinikita.integrations.satusehat.fhir_dispense import (
    DispenseContext,
    DispensedLine,
    medication_dispense,
)
from tests.support import pharmacy_data as ph

from .helpers import DEMO_ORG, Facility

VISIT = SimpleNamespace(uid="feedbeef" * 4)
PATIENT = "P02478375538"


@pytest.fixture
def request_id(fhir: httpx.Client, encounter_id: str) -> str:
    body = ph.medication_request_body(
        DEMO_ORG, VISIT.uid, 1, encounter_id=encounter_id, patient_ihs=PATIENT
    )
    response = fhir.post("/MedicationRequest", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _body(facility: Facility, encounter_id: str, request_id: str) -> dict:
    ctx = DispenseContext(
        org_id=DEMO_ORG,
        visit=VISIT,
        patient_ihs=PATIENT,
        patient_name="Ardianto Putra",
        encounter_id=encounter_id,
        location_id=facility.location_id,
        location_name="Ruang 1",
        status="completed",
        when_prepared=datetime(2024, 3, 1, 3, 0, tzinfo=UTC),
        when_handed_over=datetime(2024, 3, 1, 3, 5, tzinfo=UTC),
    )
    line = DispensedLine(
        line_no=1,
        medication_request_id=request_id,
        name="Paracetamol 500 mg tablet",
        quantity=10,
        unit="tablet",
        kfa_code="93000001",
        signa="3 x sehari 1 tablet sesudah makan",
        times_per_day=3,
        dose_amount=1,
        days_supply=4,
    )
    return medication_dispense(ctx, line)


def test_the_apps_medication_dispense_is_accepted(fhir, facility, encounter_id, request_id):
    response = fhir.post("/MedicationDispense", json=_body(facility, encounter_id, request_id))
    assert response.status_code == 201, response.text
    stored = fhir.get(f"/MedicationDispense/{response.json()['id']}").json()
    assert stored["authorizingPrescription"][0]["reference"] == f"MedicationRequest/{request_id}"


def _drop_item_identifier(body: dict) -> None:
    body["identifier"] = body["identifier"][:1]


def _unknown_request(body: dict) -> None:
    body["authorizingPrescription"] = [{"reference": "MedicationRequest/does-not-exist"}]


@pytest.mark.parametrize(
    ("breaks", "expression"),
    [
        (_drop_item_identifier, "MedicationDispense.identifier (prescription-item)"),
        (lambda b: b.pop("authorizingPrescription"), "MedicationDispense.authorizingPrescription"),
        (_unknown_request, "MedicationDispense.authorizingPrescription[0]"),
        (lambda b: b.pop("context"), "MedicationDispense.context"),
        (lambda b: b.pop("subject"), "MedicationDispense.subject"),
        (lambda b: b.pop("category"), "MedicationDispense.category"),
    ],
)
def test_rules_refuse_in_satusehat_shape(
    fhir, sim, facility, encounter_id, request_id, breaks, expression
):
    body = _body(facility, encounter_id, request_id)
    breaks(body)
    before = sim.count_resources("MedicationDispense")
    response = fhir.post("/MedicationDispense", json=body)
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issues = outcome["issue"]
    assert all(i["severity"] == "error" for i in issues)
    assert any(expression in (i.get("expression") or []) for i in issues), issues
    assert sim.count_resources("MedicationDispense") == before
