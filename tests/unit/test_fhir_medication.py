"""MedicationRequest with its Medication contained: FHIR-valid (fhir.resources R4B) and
true to API.md 11.3/11.4, alone and in the visit's Bundle; the payload rules refuse a line
SATUSEHAT would refuse."""

from __future__ import annotations

import copy

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from klinikita.integrations.satusehat import fhir
from klinikita.integrations.satusehat import fhir_medication as fm
from klinikita.services import satusehat_rules as rules
from klinikita.services.satusehat_rules import PayloadError
from tests.unit.test_fhir_builders import ORG_ID, VisitRows, resources_of

PARACETAMOL = fm.RxItem(
    name="Paracetamol 500 mg tablet",
    kfa_code="92000486",
    kfa_display="Paracetamol 500 mg Tablet",
    unit="tablet",
    form_code="BS066",
    form_name="Tablet",
)
CTM = fm.RxItem(name="CTM 4 mg tablet", kfa_code="92000347", kfa_display="", unit="tablet")

SINGLE = fm.RxLine(
    id=31,
    line_no=1,
    name=PARACETAMOL.name,
    item=PARACETAMOL,
    quantity=10,
    dose="1 tablet",
    dose_amount=1,
    frequency="3 x sehari",
    times_per_day=3,
    route="O",
    route_display="Oral",
    duration_days=3,
    instructions="sesudah makan",
)
RACIKAN = fm.RxLine(
    id=32,
    line_no=2,
    name="Puyer batuk anak",
    item=None,
    ingredients=(
        fm.RxIngredient(PARACETAMOL, 2, "100 mg"),
        fm.RxIngredient(CTM, 1, "1/10 tablet"),
    ),
    form_code="BS045",
    form_name="Serbuk Oral",
    piece_unit="bungkus",
    quantity=10,
    dose="1 bungkus",
    dose_amount=1,
    frequency="3 x sehari",
    times_per_day=3,
    duration_days=3,
)


def _request(line: fm.RxLine) -> dict:
    return fm.medication_request(
        line,
        org_id=ORG_ID,
        visit_uid="abc123",
        patient_ref={"reference": "Patient/P02478375538"},
        encounter_url="Encounter/enc-1",
        requester_ref={"reference": "Practitioner/10009880728"},
        condition_url="Condition/cond-1",
        authored="2024-04-18T01:50:00+00:00",
    )


def test_a_single_item_request_contains_its_kfa_coded_medication():
    payload = _request(SINGLE)
    MedicationRequest.model_validate(payload)
    (med,) = payload["contained"]
    assert payload["medicationReference"]["reference"] == f"#{med['id']}"
    assert med["code"]["coding"] == [
        {"system": fm.KFA_SYSTEM, "code": "92000486", "display": "Paracetamol 500 mg Tablet"}
    ]
    assert med["identifier"][0]["system"] == f"http://sys-ids.kemkes.go.id/medication/{ORG_ID}"
    assert med["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "NC"
    assert med["form"]["coding"][0]["system"] == fm.MEDICATION_FORM_SYSTEM
    assert [i["value"] for i in payload["identifier"]] == ["RX-abc123", "RX-abc123-1"]
    assert [i["system"].rsplit("/", 2)[1] for i in payload["identifier"]] == [
        "prescription",
        "prescription-item",
    ]
    assert (payload["status"], payload["intent"]) == ("completed", "order")
    assert payload["category"][0]["coding"][0]["code"] == "outpatient"
    assert payload["reasonReference"] == [{"reference": "Condition/cond-1"}]
    dosage = payload["dosageInstruction"][0]
    assert dosage["patientInstruction"] == "3 x sehari 1 tablet sesudah makan"
    assert dosage["timing"]["repeat"] == {"frequency": 3, "period": 1, "periodUnit": "d"}
    assert dosage["route"]["coding"][0] == {"system": fm.ATC_SYSTEM, "code": "O",
                                            "display": "Oral"}  # fmt: skip
    assert dosage["doseAndRate"][0]["doseQuantity"]["code"] == "TAB"
    dispense = payload["dispenseRequest"]
    assert dispense["quantity"]["value"] == 10
    assert dispense["expectedSupplyDuration"]["value"] == 3
    assert dispense["performer"] == {"reference": f"Organization/{ORG_ID}"}


def test_a_racikan_is_a_compound_of_kfa_coded_ingredients_in_equal_parts():
    payload = _request(RACIKAN)
    MedicationRequest.model_validate(payload)
    (med,) = payload["contained"]
    assert med["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "EP"
    assert med["code"] == {"text": "Puyer batuk anak"}
    codes = [i["itemCodeableConcept"]["coding"][0]["code"] for i in med["ingredient"]]
    assert codes == ["92000486", "92000347"]
    first, second = med["ingredient"]
    assert first["strength"]["numerator"] == {"value": 100, "system": fm.UCUM_SYSTEM,
                                              "code": "mg"}  # fmt: skip
    assert "strength" not in second  # "1/10 tablet" is no plain amount
    assert payload["identifier"][1]["value"] == "RX-abc123-2"
    assert payload["dispenseRequest"]["quantity"] == {"value": 10, "unit": "bungkus",
        "system": fm.DRUG_FORM_SYSTEM, "code": "PWD"}  # fmt: skip


def test_the_visit_bundle_carries_a_request_per_line_for_the_primary_condition():
    rows = VisitRows()
    built = rules.checked_visit_bundle(**rows.kwargs(), prescriptions=[RACIKAN, SINGLE])
    Bundle.model_validate(built.bundle)
    requests = resources_of(built.bundle, "MedicationRequest")
    assert [r["identifier"][1]["value"][-2:] for r in requests] == ["-1", "-2"]
    condition_url = next(
        e["fullUrl"]
        for e in built.bundle["entry"]
        if e["resource"]["resourceType"] == "Condition"
        and e["resource"]["code"]["coding"][0]["code"] == "E11.9"
    )
    encounter_url = built.bundle["entry"][0]["fullUrl"]
    for request in requests:
        assert request["reasonReference"] == [{"reference": condition_url}]
        assert request["encounter"] == {"reference": encounter_url}
        assert request["requester"]["reference"] == "Practitioner/10009880728"
        assert request["authoredOn"] == fhir.utc_instant(rows.visit.completed_at)
    refs = [r.ref for r in built.entries.values() if r.kind == fhir.EntryKind.MEDICATION_REQUEST]
    assert refs == [31, 32]


def test_a_request_satusehat_holds_is_updated_in_place():
    rows = VisitRows()
    held = fhir.HeldIds("enc-1", conditions={21: "c-21", 22: "c-22"},
                        medication_requests={31: "mr-31"})  # fmt: skip
    built = rules.checked_visit_bundle(**rows.kwargs(), held=held, prescriptions=[SINGLE, RACIKAN])
    by_kind = [
        (e["request"]["method"], e["request"]["url"])
        for e in built.bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert by_kind == [("PUT", "MedicationRequest/mr-31"), ("POST", "MedicationRequest")]
    for request in resources_of(built.bundle, "MedicationRequest"):
        assert request["reasonReference"] == [{"reference": "Condition/c-21"}]


@pytest.mark.parametrize("code", ["", "12345678", "9300101", "95001019"])
def test_a_line_without_a_plausible_kfa_code_is_refused(code):
    item = fm.RxItem(name="Vitamin B kompleks", kfa_code=code, kfa_display="", unit="tablet")
    line = copy.copy(SINGLE)
    object.__setattr__(line, "item", item)
    compound = fm.RxLine(id=40, line_no=3, name="Racikan", item=None,
                         ingredients=(fm.RxIngredient(PARACETAMOL, 1, ""),
                                      fm.RxIngredient(item, 1, "")))  # fmt: skip
    with pytest.raises(PayloadError) as refused:
        rules.checked_visit_bundle(**VisitRows().kwargs(), prescriptions=[line, compound])
    assert len(refused.value.problems) == 2
    assert "Vitamin B kompleks" in refused.value.problems[0]
    assert "bahan racikan Racikan" in refused.value.problems[1]


def test_the_rules_on_a_built_request():
    good = _request(SINGLE)
    assert rules.medication_request_problems(good, ORG_ID) == []
    bad = copy.deepcopy(good)
    bad["identifier"] = bad["identifier"][:1]
    bad["dispenseRequest"]["performer"] = {"reference": "Organization/999"}
    bad["requester"] = {"reference": "Practitioner/"}
    bad["contained"][0]["code"]["coding"][0]["code"] = "1234"
    problems = rules.medication_request_problems(bad, ORG_ID)
    assert len(problems) == 4
    assert any("prescription-item" in p for p in problems)
    assert any(f"Organization/{ORG_ID}" in p for p in problems)
    assert any("KFA" in p for p in problems)
