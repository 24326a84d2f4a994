"""Business validation: duplicates, identifier systems, references, terminology, Encounter rules."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.integrations.satusehat.simulator.errors import BUSINESS_RULE_TEXT

from .helpers import (
    DEMO_ORG,
    OTHER_ORG,
    SYS,
    Facility,
    condition_body,
    encounter_body,
    location_body,
    observation_body,
    organization_body,
)

DUPLICATE_ENCOUNTER = {
    "resourceType": "OperationOutcome",
    "text": {"status": "generated"},
    "issue": [
        {
            "severity": "error",
            "code": "duplicate",
            "details": {"text": "Found duplicate resource: Encounter"},
        }
    ],
}


def issues(response: httpx.Response) -> list[dict]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"]


def texts(response: httpx.Response) -> list[str]:
    return [i["details"]["text"] for i in issues(response)]


def test_duplicate_encounter_identifier(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    assert fhir.post("/Encounter", json=encounter_body(facility, "REG-DUP")).status_code == 201
    again = fhir.post(
        "/Encounter", json=encounter_body(facility, "REG-DUP", patient="P00883356749")
    )
    assert again.status_code == 400
    assert again.json() == DUPLICATE_ENCOUNTER
    assert sim.count_resources("Encounter", (f"{SYS}/encounter/{DEMO_ORG}", "REG-DUP")) == 1
    # Changing another encounter's identifier onto an existing one is a duplicate too.
    other = fhir.post("/Encounter", json=encounter_body(facility, "REG-OTHER")).json()
    moved = {**other, "identifier": [{"system": f"{SYS}/encounter/{DEMO_ORG}", "value": "REG-DUP"}]}
    assert fhir.put(f"/Encounter/{other['id']}", json=moved).json() == DUPLICATE_ENCOUNTER
    # Re-sending an encounter with its own identifier is an update, not a duplicate.
    assert fhir.put(f"/Encounter/{other['id']}", json=other).status_code == 200


def test_identifier_system_of_another_org_is_refused(fhir: httpx.Client, sim: Simulator) -> None:
    response = fhir.post("/Organization", json=organization_body(org=OTHER_ORG))
    assert response.status_code == 400
    [problem] = issues(response)
    assert problem["code"] == "forbidden"
    assert problem["details"]["text"] == BUSINESS_RULE_TEXT
    assert problem["expression"] == ["Organization.identifier[0].system"]
    assert sim.count_resources("Organization") == 0
    # The two implicit facility organizations are there, but are not client data.
    assert sim.count_resources("Organization", include_seeded=True) == 2


def test_business_rule_status_is_configurable(fhir: httpx.Client, sim: Simulator) -> None:
    sim.config.business_rule_status = 403
    assert fhir.post("/Organization", json=organization_body(org=OTHER_ORG)).status_code == 403


def test_another_orgs_resources_cannot_be_used_or_changed(
    fhir: httpx.Client, other_fhir: httpx.Client, facility: Facility
) -> None:
    # serviceProvider pointing at the other facility.
    body = encounter_body(facility, "REG-X")
    body["serviceProvider"] = {"reference": f"Organization/{OTHER_ORG}"}
    response = fhir.post("/Encounter", json=body)
    assert response.status_code == 400
    assert texts(response) == [BUSINESS_RULE_TEXT]
    # The other facility cannot hang its rooms under our sub-organization ...
    room = fhir.get(f"/Location/{facility.location_id}").json()
    foreign = location_body(facility.poli_id, org=OTHER_ORG)
    assert texts(other_fhir.post("/Location", json=foreign)) == [BUSINESS_RULE_TEXT]
    # ... nor update our room.
    assert texts(other_fhir.put(f"/Location/{room['id']}", json=room)) == [BUSINESS_RULE_TEXT]


@pytest.mark.parametrize(
    ("field", "reference", "expression"),
    [
        ("subject", "Patient/P99999999999", "Encounter.subject"),
        ("individual", "Practitioner/99999999999", "Encounter.participant[0].individual"),
        (
            "location",
            "Location/5e0f9e3a-0000-4000-8000-000000000000",
            "Encounter.location[0].location",
        ),
        ("serviceProvider", "Organization/99999999", "Encounter.serviceProvider"),
    ],
)
def test_encounter_references_must_resolve(
    fhir: httpx.Client,
    sim: Simulator,
    facility: Facility,
    field: str,
    reference: str,
    expression: str,
) -> None:
    body = encounter_body(facility)
    if field == "individual":
        body["participant"][0]["individual"] = {"reference": reference}
    elif field == "location":
        body["location"][0]["location"] = {"reference": reference}
    else:
        body[field] = {"reference": reference}
    response = fhir.post("/Encounter", json=body)
    assert response.status_code == 400
    [problem] = issues(response)
    assert problem["code"] == "value"
    assert problem["expression"] == [expression]
    assert reference in problem["details"]["text"] and expression in problem["details"]["text"]
    assert sim.count_resources("Encounter") == 0


def test_reference_error_text_is_configurable(fhir: httpx.Client, sim: Simulator) -> None:
    sim.config.reference_error_text = "Referensi tidak ditemukan: {reference}"
    response = fhir.post("/Location", json=location_body("ffffffff-0000-4000-8000-000000000000"))
    assert texts(response) == [
        "Referensi tidak ditemukan: Organization/ffffffff-0000-4000-8000-000000000000"
    ]


def test_wrong_reference_type(fhir: httpx.Client, facility: Facility) -> None:
    body = encounter_body(facility)
    body["subject"] = {"reference": "Practitioner/10009880728"}
    response = fhir.post("/Encounter", json=body)
    assert response.status_code == 400
    assert "Invalid reference type Practitioner" in texts(response)[0]


def test_condition_and_observation_references(fhir: httpx.Client, encounter_id: str) -> None:
    ghost = "Encounter/0e1c9f7a-0000-4000-8000-000000000000"
    condition = fhir.post("/Condition", json=condition_body(ghost))
    assert condition.status_code == 400
    assert issues(condition)[0]["expression"] == ["Condition.encounter"]
    observation = fhir.post("/Observation", json=observation_body(ghost))
    assert issues(observation)[0]["expression"] == ["Observation.encounter"]
    bad_patient = condition_body(f"Encounter/{encounter_id}", patient="P00000000000")
    assert issues(fhir.post("/Condition", json=bad_patient))[0]["expression"] == [
        "Condition.subject"
    ]
    diagnosis_body = fhir.get(f"/Encounter/{encounter_id}").json()
    diagnosis_body["diagnosis"] = [
        {"condition": {"reference": "Condition/00000000-0000-4000-8000-000000000000"}, "rank": 1}
    ]
    response = fhir.put(f"/Encounter/{encounter_id}", json=diagnosis_body)
    assert issues(response)[0]["expression"] == ["Encounter.diagnosis[0].condition"]


def test_organization_partof_and_location_organization_must_resolve(fhir: httpx.Client) -> None:
    orphan = fhir.post("/Organization", json=organization_body(part_of="12345678"))
    assert issues(orphan)[0]["expression"] == ["Organization.partOf"]
    room = fhir.post("/Location", json=location_body("3fa85f64-5717-4562-b3fc-2c963f66afa6"))
    assert issues(room)[0]["expression"] == ["Location.managingOrganization"]
    # The caller's facility organization exists implicitly.
    assert fhir.post("/Location", json=location_body(DEMO_ORG)).status_code == 201


@pytest.mark.parametrize("code", ["A15.0", "E11.9", "K35.8", "A91", "J06.9", "I10"])
def test_known_icd10_codes_are_accepted(fhir: httpx.Client, encounter_id: str, code: str) -> None:
    response = fhir.post("/Condition", json=condition_body(f"Encounter/{encounter_id}", code))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("code", ["Z99.99", "E119", "XX", "A15.9.1", "U99"])
def test_unknown_icd10_code(fhir: httpx.Client, encounter_id: str, code: str) -> None:
    response = fhir.post("/Condition", json=condition_body(f"Encounter/{encounter_id}", code))
    assert response.status_code == 400
    [problem] = issues(response)
    assert problem["code"] == "value"
    assert problem["details"]["text"] == (
        f"Code not found: '{code}' in system: http://hl7.org/fhir/sid/icd-10 (RuleNumber: 10003)"
    )
    assert problem["expression"] == ["Condition.code[0].code"]


def test_condition_code_system_must_be_allowed(fhir: httpx.Client, encounter_id: str) -> None:
    body = condition_body(f"Encounter/{encounter_id}")
    body["code"]["coding"][0]["system"] = "http://loinc.org"
    assert texts(fhir.post("/Condition", json=body)) == [
        "Code not found: 'E11.9' in system: http://loinc.org (RuleNumber: 10003)"
    ]
    body["code"]["coding"][0] = {"system": "http://snomed.info/sct", "code": "44054006"}
    assert fhir.post("/Condition", json=body).status_code == 201


def test_vital_sign_needs_loinc_code(fhir: httpx.Client, encounter_id: str) -> None:
    response = fhir.post(
        "/Observation", json=observation_body(f"Encounter/{encounter_id}", loinc="1234-5")
    )
    assert response.status_code == 400
    assert texts(response) == [
        "Code not found: '1234-5' in system: http://loinc.org (RuleNumber: 10010)"
    ]


@pytest.mark.parametrize(
    ("loinc", "unit"),
    [("8867-4", "mmHg"), ("8480-6", "mm"), ("8310-5", "C"), ("29463-7", "cm"), ("8302-2", "kg")],
)
def test_vital_sign_needs_matching_ucum_unit(
    fhir: httpx.Client, encounter_id: str, loinc: str, unit: str
) -> None:
    response = fhir.post(
        "/Observation", json=observation_body(f"Encounter/{encounter_id}", loinc, unit)
    )
    assert response.status_code == 400
    [problem] = issues(response)
    assert problem["details"]["text"] == (
        f"Code not found: '{unit}' in system: http://unitsofmeasure.org (RuleNumber: 10012)"
    )
    assert problem["expression"] == ["Observation.valueQuantity.code"]


@pytest.mark.parametrize(
    ("loinc", "unit"),
    [
        ("8867-4", "/min"),
        ("9279-1", "/min"),
        ("8462-4", "mm[Hg]"),
        ("8310-5", "Cel"),
        ("8277-6", "m2"),
    ],
)
def test_vital_sign_valid_units(
    fhir: httpx.Client, encounter_id: str, loinc: str, unit: str
) -> None:
    response = fhir.post(
        "/Observation", json=observation_body(f"Encounter/{encounter_id}", loinc, unit)
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("remove", "rule"),
    [
        ("identifier", 10117),
        ("subject", 10118),
        ("participant", 10119),
        ("location", 10120),
        ("period", 10121),
        ("statusHistory", 10122),
        ("serviceProvider", 10124),
    ],
)
def test_required_encounter_fields(
    fhir: httpx.Client, facility: Facility, remove: str, rule: int
) -> None:
    body = encounter_body(facility)
    del body[remove]
    response = fhir.post("/Encounter", json=body)
    assert response.status_code == 400
    assert any(f"(RuleNumber: {rule})" in text for text in texts(response)), texts(response)


@pytest.mark.parametrize("missing", ["status", "class"])
def test_missing_structural_field_is_unparseable(
    fhir: httpx.Client, facility: Facility, missing: str
) -> None:
    body = encounter_body(facility)
    del body[missing]
    response = fhir.post("/Encounter", json=body)
    assert response.status_code == 400
    [problem] = issues(response)
    assert problem["code"] == "structure"
    assert problem["details"]["text"] == "unparseable_resource"
    assert problem["diagnostics"] == f'missing required field "{missing}"'


def test_finished_encounter_rules(
    fhir: httpx.Client, facility: Facility, encounter_id: str
) -> None:
    condition = fhir.post("/Condition", json=condition_body(f"Encounter/{encounter_id}"))
    finished = functools.partial(
        encounter_body, facility, status="finished", condition=condition.json()["id"]
    )
    good = finished("REG-F1")
    assert fhir.post("/Encounter", json=good).status_code == 201

    no_end = finished("REG-F2")
    del no_end["period"]["end"]
    assert any("period.end" in t for t in texts(fhir.post("/Encounter", json=no_end)))

    reversed_period = finished("REG-F3")
    reversed_period["period"]["end"] = reversed_period["period"]["start"]
    assert any("10121" in t for t in texts(fhir.post("/Encounter", json=reversed_period)))

    future = finished("REG-F4")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    future["period"]["end"] = tomorrow.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert any("10173" in t for t in texts(fhir.post("/Encounter", json=future)))

    short_history = finished("REG-F5")
    short_history["statusHistory"] = short_history["statusHistory"][1:]
    problems = texts(fhir.post("/Encounter", json=short_history))
    assert any("10122" in t and "arrived" in t for t in problems)


def test_datetime_format_and_earliest_date(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    bad_format = encounter_body(facility, "REG-D1")
    bad_format["period"]["start"] = "31-08-2023 10:00"
    assert any(
        "Invalid dateTime format" in t for t in texts(fhir.post("/Encounter", json=bad_format))
    )
    too_old = encounter_body(facility, "REG-D2")
    too_old["period"]["start"] = "2014-06-02T23:00:00+00:00"
    assert any("2014-06-03" in t for t in texts(fhir.post("/Encounter", json=too_old)))
    wib = encounter_body(facility, "REG-D3")
    wib["period"]["start"] = "2024-03-01T08:00:00+07:00"
    assert fhir.post("/Encounter", json=wib).status_code == 201
    sim.config.strict_utc = True
    wib["identifier"][0]["value"] = "REG-D4"
    assert any("UTC" in t for t in texts(fhir.post("/Encounter", json=wib)))


def test_identifier_system_must_name_the_right_kind(fhir: httpx.Client, sim: Simulator) -> None:
    body = location_body(DEMO_ORG)
    body["identifier"][0]["system"] = f"{SYS}/organization/{DEMO_ORG}"
    response = fhir.post("/Location", json=body)
    assert response.status_code == 400
    assert texts(response) == [
        f"Location.identifier[0].system must be {SYS}/location/{DEMO_ORG} (RuleNumber: 10447)"
    ]
    assert sim.count_resources("Location") == 0


def test_location_position_must_be_numbers(fhir: httpx.Client) -> None:
    body = location_body(DEMO_ORG)
    body["position"]["latitude"] = "-6.23"
    response = fhir.post("/Location", json=body)
    assert response.status_code == 400
    assert issues(response)[0]["details"]["text"] == "unparseable_resource"


def test_duplicate_medication_and_kfa_code(fhir: httpx.Client) -> None:
    medication = {
        "resourceType": "Medication",
        "identifier": [{"system": f"{SYS}/medication/{DEMO_ORG}", "value": "OBT-1"}],
        "code": {"coding": [{"system": "http://sys-ids.kemkes.go.id/kfa", "code": "93001019"}]},
        "status": "active",
    }
    assert fhir.post("/Medication", json=medication).status_code == 201
    again = fhir.post("/Medication", json=medication)
    assert again.status_code == 400
    assert texts(again) == ["Found duplicate: Medication"]
    medication["identifier"][0]["value"] = "OBT-2"
    medication["code"]["coding"][0]["code"] = "12345"
    assert "RuleNumber: 10024" in texts(fhir.post("/Medication", json=medication))[0]
