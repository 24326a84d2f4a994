"""MedicationDispense: FHIR-valid (fhir.resources R4B) and carrying what API.md asks."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from fhir.resources.R4B.medicationdispense import MedicationDispense

from klinikita.integrations.satusehat.fhir_dispense import (
    DispenseContext,
    DispensedLine,
    medication_dispense,
)
from klinikita.integrations.satusehat.prescription_ids import (
    prescription_item_number,
    prescription_number,
)

VISIT = SimpleNamespace(uid="0123456789abcdef0123456789abcdef")


def _ctx(**fields) -> DispenseContext:
    values = dict(
        org_id="10000004",
        visit=VISIT,
        patient_ihs="P02478375538",
        patient_name="Ardianto Putra",
        encounter_id="enc-1",
        location_id="loc-1",
        location_name="Ruang Periksa 1",
        status="completed",
        when_prepared=datetime(2026, 12, 7, 3, 0, tzinfo=UTC),
        when_handed_over=datetime(2026, 12, 7, 3, 10),  # naive: stored UTC from SQLite
    )
    return DispenseContext(**{**values, **fields})


SINGLE = DispensedLine(
    line_no=1,
    medication_request_id="mr-1",
    name="Paracetamol 500 mg tablet",
    quantity=10,
    unit="tablet",
    kfa_code="93000001",
    kfa_display="Paracetamol 500 mg Tablet",
    form_code="BS066",
    form_name="Tablet",
    signa="3 x sehari 1 tablet sesudah makan",
    times_per_day=3,
    dose_amount=1,
    days_supply=4,
)


def test_single_item_is_valid_and_carries_the_prescription_identifiers():
    body = medication_dispense(_ctx(), SINGLE)
    MedicationDispense.model_validate(body)
    systems = {i["system"]: i["value"] for i in body["identifier"]}
    assert systems["http://sys-ids.kemkes.go.id/prescription/10000004"] == prescription_number(
        VISIT.uid
    )
    assert systems[
        "http://sys-ids.kemkes.go.id/prescription-item/10000004"
    ] == prescription_item_number(VISIT.uid, 1)
    assert body["authorizingPrescription"] == [{"reference": "MedicationRequest/mr-1"}]
    assert body["contained"][0]["code"]["coding"][0]["code"] == "93000001"
    assert body["medicationReference"]["reference"] == "#med-1"
    assert body["category"]["coding"][0]["code"] == "outpatient"
    assert body["context"] == {"reference": "Encounter/enc-1"}
    assert body["whenHandedOver"] == "2026-12-07T03:10:00+00:00"
    assert body["quantity"]["code"] == "TAB" and body["daysSupply"]["value"] == 4
    assert body["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 3
    # No IHS number for the pharmacist: the organization performs it.
    assert body["performer"][0]["actor"]["reference"] == "Organization/10000004"
    assert "id" not in body


def test_racikan_lists_its_kfa_ingredients_and_a_pharmacist_performs():
    line = DispensedLine(
        line_no=2,
        medication_request_id="mr-2",
        name="Puyer batuk anak",
        quantity=10,
        unit="puyer",
        ingredients=(("93000003", "CTM 4 mg"), ("93000001", "Paracetamol 500 mg")),
        resource_id="md-9",
    )
    body = medication_dispense(
        _ctx(pharmacist_ihs="10006926841", pharmacist_name="apt. Rina", when_handed_over=None),
        line,
    )
    MedicationDispense.model_validate(body)
    medication = body["contained"][0]
    assert [i["itemCodeableConcept"]["coding"][0]["code"] for i in medication["ingredient"]] == [
        "93000003",
        "93000001",
    ]
    assert medication["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "SD"
    assert body["performer"][0]["actor"]["reference"] == "Practitioner/10006926841"
    assert body["id"] == "md-9" and "whenHandedOver" not in body
