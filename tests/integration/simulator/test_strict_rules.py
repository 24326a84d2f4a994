"""Every rule API.md calls mandatory, one payload breaking exactly that rule each, over HTTP.

Each case starts from a payload the simulator accepts (checked by
`test_every_base_payload_is_accepted`), breaks one rule and expects SATUSEHAT's refusal shape
(API.md section 13): HTTP 400, an OperationOutcome whose single issue has severity `error`,
the documented code (`value` for kamus-validasi rules, `structure` + `unparseable_resource`
for unparseable payloads), the element in `expression`, and nothing stored. The case ids are
the "test" column of the rule table in docs/satusehat.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import Simulator

from .helpers import (
    DEMO_ORG,
    SYS,
    Facility,
    condition_body,
    encounter_body,
    location_body,
    observation_body,
    organization_body,
)

JsonDict = dict[str, Any]
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONDITION_URN = "urn:uuid:ba5a7dec-023f-45e1-adb9-1b9d71737a5f"
ENCOUNTER_URN = "urn:uuid:0a26ca28-0ea3-486d-8fa9-6f9edd37e567"


@dataclass
class Env:
    facility: Facility
    encounter_id: str
    condition_id: str


def _procedure(env: Env) -> JsonDict:
    return {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-9-cm", "code": "93.94"}]},
        "subject": {"reference": "Patient/P02478375538"},
        "encounter": {"reference": f"Encounter/{env.encounter_id}"},
        "performer": [{"actor": {"reference": "Practitioner/10009880728"}}],
    }


def _allergy(env: Env) -> JsonDict:
    """As the app sends it (integrations/satusehat/fhir_allergy.py)."""
    return {
        "resourceType": "AllergyIntolerance",
        "identifier": [{"system": f"{SYS}/allergy/{DEMO_ORG}", "value": "A1"}],
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": "confirmed"}]},
        "type": "allergy",
        "category": ["medication"],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "764146007"}]},
        "patient": {"reference": "Patient/P02478375538"},
        "encounter": {"reference": f"Encounter/{env.encounter_id}"},
        "recordedDate": "2024-04-18T01:30:00+00:00",
        "recorder": {"reference": "Practitioner/10009880728"},
        "reaction": [{"manifestation": [{"text": "gatal"}], "severity": "moderate"}],
    }


def _medication_request(env: Env) -> JsonDict:
    return {
        "resourceType": "MedicationRequest",
        "identifier": [
            {"system": f"{SYS}/prescription/{DEMO_ORG}", "value": "RX-1"},
            {"system": f"{SYS}/prescription-item/{DEMO_ORG}", "value": "RX-1-1"},
        ],
        "status": "completed",
        "intent": "order",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "identifier": [{"system": f"{SYS}/medication/{DEMO_ORG}", "value": "RX-1-1"}],
                "code": {"coding": [{"system": f"{SYS}/kfa", "code": "93001019"}]},
                "extension": [_medication_type("NC")],
            }
        ],
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": "Patient/P02478375538"},
        "encounter": {"reference": f"Encounter/{env.encounter_id}"},
        "requester": {"reference": "Practitioner/10009880728"},
        "dispenseRequest": {"performer": {"reference": f"Organization/{DEMO_ORG}"}},
    }


def _medication_type(code: str) -> JsonDict:
    return {
        "url": "https://fhir.kemkes.go.id/r4/StructureDefinition/MedicationType",
        "valueCodeableConcept": {
            "coding": [
                {"system": "http://terminology.kemkes.go.id/CodeSystem/medication-type",
                 "code": code}
            ]
        },
    }  # fmt: skip


def _racikan_request(env: Env) -> JsonDict:
    """A racikan: its contained Medication is a compound of KFA-coded ingredients."""
    body = _medication_request(env)
    body["contained"][0] = {
        "resourceType": "Medication",
        "id": "med",
        "code": {"text": "Puyer batuk anak"},
        "ingredient": [
            {"itemCodeableConcept": {"coding": [{"system": f"{SYS}/kfa", "code": code}]}}
            for code in ("92000486", "92000347")
        ],
        "extension": [_medication_type("EP")],
    }
    return body


def _composition(env: Env) -> JsonDict:
    return {
        "resourceType": "Composition",
        "identifier": {"system": f"{SYS}/composition/{DEMO_ORG}", "value": "DIET-1"},
        "status": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}]},
        "subject": {"reference": "Patient/P02478375538"},
        "encounter": {"reference": f"Encounter/{env.encounter_id}"},
        "date": "2024-03-01T07:27:00+00:00",
        "author": [{"reference": "Practitioner/10009880728"}],
        "title": "Resume Medis Rawat Jalan",
    }


def _bundle(env: Env) -> JsonDict:
    """API.md section 12: a finished Encounter and its Condition, linked by urn:uuid."""
    encounter = encounter_body(env.facility, "REG-BUNDLE", status="finished")
    encounter["diagnosis"] = [
        {
            "condition": {"reference": CONDITION_URN},
            "use": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/diagnosis-role", "code": "DD"}
                ]
            },
            "rank": 1,
        }
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": ENCOUNTER_URN,
                "resource": encounter,
                "request": {"method": "POST", "url": "Encounter"},
            },
            {
                "fullUrl": CONDITION_URN,
                "resource": condition_body(ENCOUNTER_URN, "K35.8"),
                "request": {"method": "POST", "url": "Condition"},
            },
        ],
    }


# base name -> (path to POST to, payload builder)
BASES: dict[str, tuple[str, Callable[[Env], JsonDict]]] = {
    "Location": ("/Location", lambda env: location_body(env.facility.poli_id, "R-STRICT")),
    "Organization": ("/Organization", lambda env: organization_body("POLI-STRICT")),
    "Encounter": ("/Encounter", lambda env: encounter_body(env.facility, "REG-STRICT")),
    "Encounter.finished": (
        "/Encounter",
        lambda env: encounter_body(
            env.facility, "REG-STRICT", status="finished", condition=env.condition_id
        ),
    ),
    "Condition": ("/Condition", lambda env: condition_body(f"Encounter/{env.encounter_id}")),
    "Observation": (
        "/Observation",
        lambda env: observation_body(f"Encounter/{env.encounter_id}"),
    ),
    "Observation.spo2": (
        "/Observation",
        lambda env: observation_body(f"Encounter/{env.encounter_id}", "2708-6", "%", 97),
    ),
    "Procedure": ("/Procedure", _procedure),
    "AllergyIntolerance": ("/AllergyIntolerance", _allergy),
    "MedicationRequest": ("/MedicationRequest", _medication_request),
    "MedicationRequest.racikan": ("/MedicationRequest", _racikan_request),
    "Composition": ("/Composition", _composition),
    "Bundle": ("", _bundle),
}


@dataclass(frozen=True)
class Case:
    id: str
    base: str
    breaks: Callable[[JsonDict, Env], None]
    expression: str
    text: str  # in details.text (code `value`) or diagnostics (code `structure`)
    code: str = "value"


def _set(path: str, value: Any) -> Callable[[JsonDict, Env], None]:
    """Set (or, with value DELETE, remove) a dotted path; `[n]` indexes a list."""

    def apply(body: JsonDict, env: Env) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for step in parents:
            name, _, index = step.partition("[")
            node = node[name]
            if index:
                node = node[int(index[:-1])]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value(env) if callable(value) else value

    return apply


DELETE = object()
PATIENT_PERFORMER = [{"reference": "Patient/P02478375538"}]
WRONG_SYSTEM = "http://example.org/not-the-system"


def _arrived_left_open(body: JsonDict, env: Env) -> None:
    body["status"] = "in-progress"
    body["statusHistory"].append(
        {"status": "in-progress", "period": {"start": "2024-03-01T01:30:00+00:00"}}
    )


def _spo2_alone(body: JsonDict, env: Env) -> None:
    body["code"]["coding"] = [{"system": "http://loinc.org", "code": "59408-5"}]


CASES = [
    # API.md 7: Location
    Case("location-position-required", "Location", _set("position", DELETE),
         "Location.position", "Location.position is required"),
    Case("location-latitude-required", "Location", _set("position.latitude", DELETE),
         "Location.position.latitude", "is required"),
    Case("location-longitude-required", "Location", _set("position.longitude", DELETE),
         "Location.position.longitude", "is required"),
    Case("location-position-is-a-number", "Location", _set("position.latitude", "-6.2311"),
         "Location.position.latitude", 'invalid value for decimal field "latitude"',
         "structure"),
    Case("location-managing-organization-required", "Location",
         _set("managingOrganization", DELETE), "Location.managingOrganization", "is required"),
    Case("location-physical-type-required", "Location", _set("physicalType", DELETE),
         "Location.physicalType", "is required"),
    Case("location-physical-type-system", "Location",
         _set("physicalType.coding[0].system", WRONG_SYSTEM),
         "Location.physicalType.coding[0].system", "Code not found: 'ro'"),
    Case("location-identifier-required", "Location", _set("identifier", DELETE),
         "Location.identifier", "(RuleNumber: 10447)"),
    Case("location-status-code", "Location", _set("status", "open"), "Location.status",
         "Invalid Location.status"),
    # API.md 6: Organization
    Case("organization-identifier-required", "Organization", _set("identifier", DELETE),
         "Organization.identifier", "(RuleNumber: 10446)"),
    Case("organization-partof-required", "Organization", _set("partOf", DELETE),
         "Organization.partOf", "is required"),
    Case("organization-type-system", "Organization",
         _set("type[0].coding[0].system", WRONG_SYSTEM),
         "Organization.type[0].coding[0].system", "Code not found: 'dept'"),
    # API.md 8: Encounter
    Case("encounter-class-system", "Encounter", _set("class.system", WRONG_SYSTEM),
         "Encounter.class.system", "Code not found: 'AMB'"),
    Case("encounter-class-code", "Encounter", _set("class.code", "OUTPATIENT"),
         "Encounter.class.code", "Code not found: 'OUTPATIENT'"),
    Case("encounter-participant-type-required", "Encounter",
         _set("participant[0].type", DELETE), "Encounter.participant[0].type", "is required"),
    Case("encounter-participant-type-system", "Encounter",
         _set("participant[0].type[0].coding[0].system", WRONG_SYSTEM),
         "Encounter.participant[0].type[0].coding[0].system", "Code not found: 'ATND'"),
    Case("encounter-service-provider-is-the-facility", "Encounter",
         _set("serviceProvider", lambda env: {"reference": f"Organization/{env.facility.poli_id}"}),
         "Encounter.serviceProvider", "(RuleNumber: 10124)"),
    Case("encounter-earlier-status-ended", "Encounter", _arrived_left_open,
         "Encounter.statusHistory[0].period.end", "(RuleNumber: 10122)"),
    Case("encounter-status-history-start", "Encounter",
         _set("statusHistory[0].period", {}), "Encounter.statusHistory[0].period.start",
         "(RuleNumber: 10122)"),
    Case("encounter-finished-needs-diagnosis", "Encounter.finished", _set("diagnosis", DELETE),
         "Encounter.diagnosis", "required when status is finished"),
    Case("encounter-diagnosis-rank", "Encounter.finished", _set("diagnosis[0].rank", 0),
         "Encounter.diagnosis[0].rank", "positive integer"),
    Case("encounter-diagnosis-use-system", "Encounter.finished",
         _set("diagnosis[0].use.coding[0].system", WRONG_SYSTEM),
         "Encounter.diagnosis[0].use.coding[0].system", "(RuleNumber: 10317)"),
    # API.md 9: Condition
    Case("condition-clinical-status-required", "Condition", _set("clinicalStatus", DELETE),
         "Condition.clinicalStatus", "(RuleNumber: 10006)"),
    Case("condition-clinical-status-system", "Condition",
         _set("clinicalStatus.coding[0].system", WRONG_SYSTEM),
         "Condition.clinicalStatus.coding[0].system", "(RuleNumber: 10006)"),
    Case("condition-category-required", "Condition", _set("category", DELETE),
         "Condition.category", "is required"),
    Case("condition-category-system", "Condition",
         _set("category[0].coding[0].system", WRONG_SYSTEM),
         "Condition.category[0].coding[0].system", "Code not found: 'encounter-diagnosis'"),
    Case("condition-encounter-required", "Condition", _set("encounter", DELETE),
         "Condition.encounter", "is required"),
    Case("condition-code-required", "Condition", _set("code", DELETE), "Condition.code",
         "(RuleNumber: 10003)"),
    # API.md 10: vital signs
    Case("observation-status-code", "Observation", _set("status", "done"), "Observation.status",
         "Invalid Observation.status"),
    Case("observation-vital-sign-category-required", "Observation", _set("category", DELETE),
         "Observation.category", "(RuleNumber: 10009)"),
    Case("observation-category-system", "Observation",
         _set("category[0].coding[0].system", WRONG_SYSTEM),
         "Observation.category[0].coding[0].system", "(RuleNumber: 10009)"),
    Case("observation-encounter-required", "Observation", _set("encounter", DELETE),
         "Observation.encounter", "is required"),
    Case("observation-performer-required", "Observation", _set("performer", DELETE),
         "Observation.performer", "(RuleNumber: 10383)"),
    Case("observation-performer-is-a-practitioner", "Observation",
         _set("performer", PATIENT_PERFORMER), "Observation.performer[0]", "(RuleNumber: 10383)"),
    Case("observation-effective-required", "Observation", _set("effectiveDateTime", DELETE),
         "Observation.effectiveDateTime", "(RuleNumber: 10295)"),
    Case("observation-value-required", "Observation", _set("valueQuantity", DELETE),
         "Observation.valueQuantity", "(RuleNumber: 10012)"),
    Case("observation-unit-required", "Observation", _set("valueQuantity.unit", DELETE),
         "Observation.valueQuantity.unit", "(RuleNumber: 10012)"),
    Case("observation-ucum-system", "Observation",
         _set("valueQuantity.system", WRONG_SYSTEM), "Observation.valueQuantity.code",
         "(RuleNumber: 10012)"),
    Case("observation-oxygen-saturation-2708-6", "Observation.spo2", _spo2_alone,
         "Observation.code", "2708-6"),
    # API.md 3: dateTimes
    Case("datetime-needs-a-time-zone", "Observation",
         _set("effectiveDateTime", "2024-03-01T01:10:00"), "Observation.effectiveDateTime",
         "Invalid dateTime format"),
    Case("datetime-needs-the-time", "Condition", _set("recordedDate", "2024-03-01"),
         "Condition.recordedDate", "Invalid dateTime format"),
    Case("datetime-not-before-2014-06-03", "Observation",
         _set("effectiveDateTime", "2014-06-02T10:00:00+00:00"),
         "Observation.effectiveDateTime", "2014-06-03"),
    # References (FHIR R4 literal references; API.md 8-10 `Type/id`)
    Case("reference-format", "Condition",
         _set("subject", {"reference": "Patient/P02478375538/extra"}), "Condition.subject",
         "Invalid reference format"),
    # API.md 11
    Case("procedure-code-system", "Procedure", _set("code.coding[0].system", "http://loinc.org"),
         "Procedure.code[0].code", "(RuleNumber: 10015)"),
    Case("procedure-performer-is-a-practitioner", "Procedure",
         _set("performer[0].actor", {"reference": "Patient/P02478375538"}),
         "Procedure.performer[0].actor", "(RuleNumber: 10399)"),
    Case("procedure-status-code", "Procedure", _set("status", "done"), "Procedure.status",
         "Invalid Procedure.status"),
    Case("procedure-code-required", "Procedure", _set("code", DELETE),
         "Procedure.code", "(RuleNumber: 10015)"),
    Case("procedure-performer-required", "Procedure", _set("performer", DELETE),
         "Procedure.performer", "(RuleNumber: 10399)"),
    Case("procedure-performer-exists", "Procedure",
         _set("performer[0].actor", {"reference": "Practitioner/99999999999"}),
         "Procedure.performer[0].actor", "Practitioner/99999999999"),
    Case("procedure-encounter-required", "Procedure", _set("encounter", DELETE),
         "Procedure.encounter", "is required"),
    Case("procedure-subject-required", "Procedure", _set("subject", DELETE),
         "Procedure.subject", 'missing required field "subject"', "structure"),
    Case("procedure-performed-period-format", "Procedure",
         _set("performedPeriod", {"start": "2024-04-18"}), "Procedure.performedPeriod.start",
         "Invalid dateTime format"),
    # Rawat jalan guide: AllergyIntolerance
    Case("allergy-patient-required", "AllergyIntolerance", _set("patient", DELETE),
         "AllergyIntolerance.patient", 'missing required field "patient"', "structure"),
    Case("allergy-code-required", "AllergyIntolerance", _set("code", DELETE),
         "AllergyIntolerance.code", "is required"),
    Case("allergy-code-system", "AllergyIntolerance",
         _set("code.coding[0].system", "http://loinc.org"), "AllergyIntolerance.code[0].code",
         "Code not found"),
    Case("allergy-clinical-status-required", "AllergyIntolerance", _set("clinicalStatus", DELETE),
         "AllergyIntolerance.clinicalStatus", "is required"),
    Case("allergy-clinical-status-system", "AllergyIntolerance",
         _set("clinicalStatus.coding[0].system", WRONG_SYSTEM),
         "AllergyIntolerance.clinicalStatus.coding[0].system", "Code not found"),
    Case("allergy-category-code", "AllergyIntolerance", _set("category", ["drug"]),
         "AllergyIntolerance.category[0]", "Invalid AllergyIntolerance.category"),
    Case("allergy-encounter-required", "AllergyIntolerance", _set("encounter", DELETE),
         "AllergyIntolerance.encounter", "is required"),
    Case("allergy-recorder-required", "AllergyIntolerance", _set("recorder", DELETE),
         "AllergyIntolerance.recorder", "is required"),
    Case("allergy-recorder-exists", "AllergyIntolerance",
         _set("recorder", {"reference": "Practitioner/99999999999"}),
         "AllergyIntolerance.recorder", "Practitioner/99999999999"),
    Case("allergy-reaction-manifestation-required", "AllergyIntolerance",
         _set("reaction", [{"severity": "mild"}]),
         "AllergyIntolerance.reaction[0].manifestation", "is required"),
    Case("allergy-reaction-severity-code", "AllergyIntolerance",
         _set("reaction[0].severity", "berat"), "AllergyIntolerance.reaction[0].severity",
         "Invalid AllergyIntolerance.reaction[0].severity"),
    Case("allergy-recorded-date-format", "AllergyIntolerance",
         _set("recordedDate", "18-04-2024"), "AllergyIntolerance.recordedDate",
         "Invalid dateTime format"),
    Case("medication-request-dispenser-is-the-facility", "MedicationRequest",
         _set("dispenseRequest.performer",
              lambda env: {"reference": f"Organization/{env.facility.poli_id}"}),
         "MedicationRequest.dispenseRequest.performer", "(RuleNumber: 10453)"),
    Case("medication-request-dispenser-required", "MedicationRequest",
         _set("dispenseRequest.performer", DELETE),
         "MedicationRequest.dispenseRequest.performer", "(RuleNumber: 10453)"),
    Case("medication-request-prescription-item-required", "MedicationRequest",
         _set("identifier", lambda env: [{"system": f"{SYS}/prescription/{DEMO_ORG}",
                                          "value": "RX-1"}]),
         "MedicationRequest.identifier (prescription-item)", "(RuleNumber: 10388)"),
    Case("medication-request-encounter-required", "MedicationRequest", _set("encounter", DELETE),
         "MedicationRequest.encounter", "is required"),
    Case("medication-request-requester-required", "MedicationRequest", _set("requester", DELETE),
         "MedicationRequest.requester", "is required"),
    Case("medication-request-requester-is-a-practitioner", "MedicationRequest",
         _set("requester", {"reference": "Patient/P02478375538"}),
         "MedicationRequest.requester", "must reference a Practitioner"),
    Case("medication-request-medication-required", "MedicationRequest",
         _set("medicationReference", DELETE), "MedicationRequest.medicationReference",
         "is required"),
    Case("medication-request-contained-medication-exists", "MedicationRequest",
         _set("medicationReference", {"reference": "#other"}),
         "MedicationRequest.medicationReference", "Contained resource '#other' not found"),
    Case("medication-request-contained-medication-kfa-code", "MedicationRequest",
         _set("contained[0].code.coding[0].code", "1234"),
         "MedicationRequest.contained[0].code[0].code", "(RuleNumber: 10024)"),
    Case("medication-request-contained-medication-kfa-system", "MedicationRequest",
         _set("contained[0].code.coding[0].system", "http://snomed.info/sct"),
         "MedicationRequest.contained[0].code[0].code", "(RuleNumber: 10024)"),
    Case("medication-request-racikan-ingredient-kfa-code", "MedicationRequest.racikan",
         _set("contained[0].ingredient[1].itemCodeableConcept.coding[0].code", "X"),
         "MedicationRequest.contained[0].ingredient[1].itemCodeableConcept.coding[0].code",
         "(RuleNumber: 10024)"),
    Case("composition-identifier-is-one-object", "Composition",
         _set("identifier", lambda env: [{"system": f"{SYS}/composition/{DEMO_ORG}",
                                          "value": "DIET-1"}]),
         "Composition.identifier", "expected an object", "structure"),
    # API.md 12: transaction Bundles
    Case("bundle-post-needs-a-urn-uuid-full-url", "Bundle", _set("entry[1].fullUrl", DELETE),
         "Bundle.entry[1].fullUrl", "is required for a POST entry"),
    Case("bundle-full-url-is-a-uuid", "Bundle", _set("entry[0].fullUrl", "urn:uuid:visit-1"),
         "Bundle.entry[0].fullUrl", "must be urn:uuid:<uuid>"),
    Case("bundle-full-urls-are-unique", "Bundle", _set("entry[1].fullUrl", ENCOUNTER_URN),
         "Bundle.entry[1].fullUrl", "used by another entry"),
    Case("bundle-request-method-required", "Bundle", _set("entry[0].request.method", DELETE),
         "Bundle.entry[0].request.method", 'missing required field "method"', "structure"),
    Case("bundle-request-url-required", "Bundle", _set("entry[1].request.url", DELETE),
         "Bundle.entry[1].request.url", 'missing required field "url"', "structure"),
    Case("bundle-entry-rules-point-into-the-bundle", "Bundle",
         _set("entry[1].resource.category", DELETE), "Bundle.entry[1].resource.category",
         "is required"),
]  # fmt: skip


@pytest.fixture
def env(fhir: httpx.Client, facility: Facility, encounter_id: str) -> Env:
    condition = fhir.post("/Condition", json=condition_body(f"Encounter/{encounter_id}"))
    assert condition.status_code == 201, condition.text
    return Env(facility, encounter_id, condition.json()["id"])


def _stored(sim: Simulator) -> dict[str, int]:
    kinds = ("Organization", "Location", "Encounter", "Condition", "Observation", "Procedure")
    kinds += ("AllergyIntolerance",)
    return {kind: sim.count_resources(kind) for kind in kinds + ("MedicationRequest",)}


@pytest.mark.parametrize("base", sorted(BASES))
def test_every_base_payload_is_accepted(fhir: httpx.Client, env: Env, base: str) -> None:
    path, build = BASES[base]
    response = fhir.post(path, json=build(env))
    assert response.status_code in (200, 201), response.text


def test_case_ids_are_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_is_enforced(fhir: httpx.Client, sim: Simulator, env: Env, case: Case) -> None:
    path, build = BASES[case.base]
    body = copy.deepcopy(build(env))
    case.breaks(body, env)
    before = _stored(sim)
    response = fhir.post(path, json=body)
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [problem] = outcome["issue"]
    assert problem["severity"] == "error"
    assert problem["code"] == case.code
    assert problem["expression"] == [case.expression]
    if case.code == "structure":
        assert problem["details"]["text"] == "unparseable_resource"
        assert case.text in problem["diagnostics"]
    else:
        assert outcome["text"] == {"status": "generated"}
        assert case.text in problem["details"]["text"], problem
    assert _stored(sim) == before  # nothing half written
