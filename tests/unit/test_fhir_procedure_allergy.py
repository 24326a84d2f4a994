"""Procedure and AllergyIntolerance in the visit bundle: FHIR-valid (fhir.resources R4B),
true to API.md 11.1 and the rawat jalan guide, and refused by the payload rules when staff
must fix something first. Rows in memory, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from klinikita.integrations.satusehat import fhir, fhir_allergy, fhir_procedure
from klinikita.models.allergies import PatientAllergy
from klinikita.models.clinical import Procedure
from klinikita.models.people import Employee
from klinikita.services import satusehat_rules as rules
from klinikita.services.satusehat_rules import PayloadError
from tests.unit.test_fhir_builders import ARRIVED, ORG_ID, SATUSEHAT_TIME, VisitRows, resources_of

DONE = ARRIVED + timedelta(minutes=30)


def nebulizer(**changes) -> Procedure:
    values = dict(id=31, visit_id=11, code="93.94", description="Nebulisasi",
                  performed_by_id=9, performed_at=DONE)  # fmt: skip
    return Procedure(**(values | changes))


def allergy(**changes) -> PatientAllergy:
    values = dict(id=41, patient_id=7, branch_id=1, kind="substance", category="medication",
                  code="764146007", display="Penisilin", reaction="gatal, ruam kulit",
                  severity="moderate", recorded_visit_id=11, recorded_at=ARRIVED,
                  active=True)  # fmt: skip
    return PatientAllergy(**(values | changes))


def build(rows: VisitRows, procedures=(), allergies=(), performers=None, held=None):
    return rules.checked_visit_bundle(
        **rows.kwargs(),
        procedures=procedures,
        allergies=allergies,
        performers=performers or {},
        held=held,
    )


def problems(rows: VisitRows, procedures=(), allergies=(), performers=None) -> list[str]:
    with pytest.raises(PayloadError) as caught:
        rules.check_visit(
            **rows.kwargs(),
            procedures=procedures,
            allergies=allergies,
            performers=performers or {},
        )
    return caught.value.problems


def test_a_procedure_is_sent_as_api_md_11_1_shows():
    rows = VisitRows()
    built = build(rows, procedures=[nebulizer()])
    Bundle.model_validate(built.bundle)
    (procedure,) = resources_of(built.bundle, "Procedure")
    FhirProcedure.model_validate(procedure)
    assert procedure["status"] == "completed"
    assert procedure["category"]["coding"][0] == {
        "system": "http://snomed.info/sct", "code": "277132007",
        "display": "Therapeutic procedure"}  # fmt: skip
    assert procedure["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-9-cm"
    assert procedure["code"]["coding"][0]["code"] == "93.94"
    assert procedure["subject"]["reference"] == "Patient/P02478375538"
    assert procedure["encounter"]["reference"] == built.bundle["entry"][0]["fullUrl"]
    assert procedure["performer"][0]["actor"]["reference"] == "Practitioner/10009880728"
    start = procedure["performedPeriod"]["start"]
    assert SATUSEHAT_TIME.match(start) and start == procedure["performedPeriod"]["end"]
    reason = procedure["reasonCode"][0]["coding"][0]
    assert (reason["system"], reason["code"]) == ("http://hl7.org/fhir/sid/icd-10", "E11.9")
    assert procedure["identifier"][0]["system"] == f"http://sys-ids.kemkes.go.id/procedure/{ORG_ID}"
    index = built.bundle["entry"].index(
        next(e for e in built.bundle["entry"] if e["resource"] is procedure)
    )
    assert built.entries[index] == fhir.EntryRef(fhir.EntryKind.PROCEDURE, 31)


def test_the_code_carries_the_official_title_and_the_clinics_name_as_text():
    built = build(VisitRows(), procedures=[nebulizer(description="Nebu anak (klinik)")])
    (procedure,) = resources_of(built.bundle, "Procedure")
    FhirProcedure.model_validate(procedure)
    assert procedure["code"] == {
        "coding": [{"system": "http://hl7.org/fhir/sid/icd-9-cm", "code": "93.94",
                    "display": "Respiratory medication administered by nebulizer"}],
        "text": "Nebu anak (klinik)",
    }  # fmt: skip


def test_a_withdrawn_procedure_is_put_again_whole_as_entered_in_error():
    rows = VisitRows()
    retracted = [
        {"type": "Procedure", "id": "proc-9", "code": "86.59", "display": "Hecting",
         "performed_at": "2026-03-02T02:10:00+00:00"},
        {"type": "Condition", "id": "cond-1", "code": "R05", "display": "Batuk"},
    ]  # fmt: skip
    built = build(rows, procedures=[nebulizer()], held=fhir.HeldIds("enc-1", retracted=retracted))
    Bundle.model_validate(built.bundle)
    entry = next(e for e in built.bundle["entry"] if e["resource"].get("id") == "proc-9")
    assert entry["request"] == {"method": "PUT", "url": "Procedure/proc-9"}
    withdrawn = entry["resource"]
    FhirProcedure.model_validate(withdrawn)
    assert withdrawn["status"] == "entered-in-error"
    assert withdrawn["code"]["coding"][0]["display"] == (
        "Closure of skin and subcutaneous tissue of other sites"
    )
    assert withdrawn["code"]["text"] == "Hecting"
    assert withdrawn["encounter"]["reference"] == "Encounter/enc-1"
    assert withdrawn["performedPeriod"]["start"] == "2026-03-02T02:10:00+00:00"
    assert withdrawn["performer"][0]["actor"]["reference"] == "Practitioner/10009880728"
    index = built.bundle["entry"].index(entry)
    assert built.entries[index] == fhir.EntryRef(fhir.EntryKind.WITHDRAWN, "proc-9")
    assert len(resources_of(built.bundle, "Procedure")) == 2  # the live one, the withdrawn
    # Without `held` (a first send) nothing is withdrawn.
    assert len(resources_of(build(rows, procedures=[nebulizer()]).bundle, "Procedure")) == 1


def test_diagnostic_chapters_get_the_diagnostic_category():
    assert fhir_procedure.category_of("89.52")[0] == "103693007"
    assert fhir_procedure.category_of("96.59")[0] == "277132007"


def test_uncoded_procedures_stay_local_and_old_rows_take_the_doctor_and_exam_start():
    rows = VisitRows()
    old = nebulizer(performed_by_id=None, performed_at=None)
    built = build(rows, procedures=[old, nebulizer(id=32, code="")])
    (procedure,) = resources_of(built.bundle, "Procedure")
    assert procedure["performer"][0]["actor"]["reference"] == "Practitioner/10009880728"
    assert procedure["performedPeriod"]["start"] == fhir.utc_instant(rows.visit.exam_started_at)


def test_another_performer_needs_an_ihs_number_and_must_exist():
    rows = VisitRows()
    nurse = Employee(id=15, branch_id=1, name="Sari", nik="3171234567890777", main_duty="perawat")
    found = problems(rows, procedures=[nebulizer(performed_by_id=15)], performers={15: nurse})
    assert any("Sari" in p and "IHS" in p for p in found)
    found = problems(rows, procedures=[nebulizer(performed_by_id=99)])
    assert any("Pelaksana tindakan" in p for p in found)
    nurse.ihs_number = "10000000015"
    built = build(rows, procedures=[nebulizer(performed_by_id=15)], performers={15: nurse})
    (procedure,) = resources_of(built.bundle, "Procedure")
    assert procedure["performer"][0]["actor"]["reference"] == "Practitioner/10000000015"


def test_a_malformed_icd9cm_code_is_refused():
    found = problems(VisitRows(), procedures=[nebulizer(code="9394")])
    assert any("ICD-9-CM" in p for p in found)


def test_an_allergy_is_sent_with_snomed_statuses_and_reaction():
    built = build(VisitRows(), allergies=[allergy()])
    Bundle.model_validate(built.bundle)
    (resource,) = resources_of(built.bundle, "AllergyIntolerance")
    AllergyIntolerance.model_validate(resource)
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert resource["category"] == ["medication"]
    snomed = resource["code"]["coding"][0]
    assert (snomed["system"], snomed["code"]) == ("http://snomed.info/sct", "764146007")
    assert snomed["display"] == "Penicillin"
    assert resource["patient"]["reference"] == "Patient/P02478375538"
    assert resource["encounter"]["reference"] == built.bundle["entry"][0]["fullUrl"]
    assert resource["recorder"]["reference"] == "Practitioner/10009880728"
    assert SATUSEHAT_TIME.match(resource["recordedDate"])
    assert resource["reaction"] == [
        {"manifestation": [{"text": "gatal, ruam kulit"}], "severity": "moderate"}
    ]


def test_no_known_allergy_is_sent_too():
    none = allergy(kind="none", category="", code="716186003", display="Tidak ada alergi",
                   reaction="", severity="")  # fmt: skip
    (resource,) = resources_of(build(VisitRows(), allergies=[none]).bundle, "AllergyIntolerance")
    AllergyIntolerance.model_validate(resource)
    assert resource["code"]["coding"][0]["code"] == "716186003"
    assert "reaction" not in resource and "category" not in resource


def test_a_drug_allergy_is_coded_in_kfa_and_needs_a_kfa_code():
    drug = allergy(kind="drug", code="93001019", display="Amoxicillin 500 mg", item_id=3)
    (resource,) = resources_of(build(VisitRows(), allergies=[drug]).bundle, "AllergyIntolerance")
    AllergyIntolerance.model_validate(resource)
    assert resource["code"]["coding"][0]["system"] == "http://sys-ids.kemkes.go.id/kfa"
    found = problems(VisitRows(), allergies=[allergy(kind="drug", code="", item_id=3)])
    assert any("KFA" in p for p in found)


def test_withdrawn_allergies_go_only_when_satusehat_holds_them_as_entered_in_error():
    rows = VisitRows()
    assert not resources_of(
        build(rows, allergies=[allergy(active=False)]).bundle, "AllergyIntolerance"
    )
    held = fhir.HeldIds(encounter_id="enc-1")
    rows.visit.encounter_id = "enc-1"
    built = build(rows, allergies=[allergy(active=False, resource_id="al-9")], held=held)
    (entry,) = [
        e for e in built.bundle["entry"] if e["resource"]["resourceType"] == "AllergyIntolerance"
    ]
    assert entry["request"] == {"method": "PUT", "url": "AllergyIntolerance/al-9"}
    AllergyIntolerance.model_validate(entry["resource"])
    assert "clinicalStatus" not in entry["resource"]
    assert entry["resource"]["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def test_held_extras_are_updated_in_place_by_their_identifier():
    rows = VisitRows()
    key = f"Procedure|{rows.visit.uid}-P31"
    held = fhir.HeldIds(encounter_id="enc-1", extras={key: "proc-5"})
    built = build(rows, procedures=[nebulizer()], held=held)
    (entry,) = [e for e in built.bundle["entry"] if e["resource"]["resourceType"] == "Procedure"]
    assert entry["request"] == {"method": "PUT", "url": "Procedure/proc-5"}


def test_allergy_builder_needs_a_code_and_time():
    with pytest.raises(ValueError):
        fhir_allergy.allergy_resource(
            allergy=allergy(code=""), patient=VisitRows().patient, recorder=VisitRows().doctor,
            encounter_url="Encounter/x", org_id=ORG_ID)  # fmt: skip
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    resource = fhir_allergy.allergy_resource(
        allergy=allergy(recorded_at=moment), patient=VisitRows().patient,
        recorder=VisitRows().doctor, encounter_url="Encounter/x", org_id=ORG_ID)  # fmt: skip
    assert resource["recordedDate"] == "2024-01-01T00:00:00+00:00"
