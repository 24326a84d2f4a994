"""SATUSEHAT (FHIR R4) payloads built from our tables.

Plain functions: no I/O, no database, no Reflex. The builders assume rows SATUSEHAT would
accept: what staff can fix is checked before them by `klinikita.services.satusehat_rules`
(whose `checked_*` functions check, then build). Rows that do not belong together, or a
time without a zone, raise ValueError here: a bug in the caller. Rules:
docs/satusehat.md, "What the simulator enforces".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from klinikita.integrations.satusehat import fhir_medication
from klinikita.models.clinical import Diagnosis, Examination, Visit
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, Patient
from klinikita.terminology import icd10_codes as icd10

JsonDict = dict[str, Any]

SYS_IDS = "http://sys-ids.kemkes.go.id"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DIAGNOSIS_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
CONDITION_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
LOCATION_PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"


# ----- small helpers ----------------------------------------------------------------------
def utc_instant(dt: datetime) -> str:
    """`YYYY-MM-DDThh:mm:ss+00:00` in UTC, the only format SATUSEHAT accepts everywhere."""
    return aware_utc(dt).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def aware_utc(dt: datetime) -> datetime:
    """`dt` in UTC; ValueError for a time without a zone."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: SATUSEHAT times need a time zone")
    return dt.astimezone(UTC)


def stored_utc(dt: datetime | None) -> datetime | None:
    """A time read from our tables. They store UTC, but SQLite hands it back without a zone."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _coding(system: str, code: str, display: str | None = None) -> JsonDict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> JsonDict:
    return {"coding": [_coding(system, code, display)]}


def _reference(reference: str, display: str | None = None) -> JsonDict:
    ref = {"reference": reference}
    if display:
        ref["display"] = display
    return ref


def _period(start: datetime, end: datetime | None = None) -> JsonDict:
    period = {"start": utc_instant(start)}
    if end is not None:
        period["end"] = utc_instant(end)
    return period


def _org_id(branch: Branch) -> str:
    return (branch.ss_organization_id or "").strip()


def _ensure_same(what: str, expected: int | None, actual: int | None) -> None:
    """Rows handed in must belong together; a mismatch is a bug in the caller, not in data."""
    if expected is not None and actual is not None and expected != actual:
        raise ValueError(f"{what}: expected id {expected}, got {actual}")


# ----- Patient: a newborn created by its mother's NIK ---------------------------------------
PATIENT_PROFILE = "https://fhir.kemkes.go.id/r4/StructureDefinition/Patient"
NIK_IBU_SYSTEM = "https://fhir.kemkes.go.id/id/nik-ibu"
KK_SYSTEM = "https://fhir.kemkes.go.id/id/kk"
ADMINISTRATIVE_CODE_URL = "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode"
CITIZENSHIP_URL = "https://fhir.kemkes.go.id/r4/StructureDefinition/citizenshipStatus"


def _administrative_code(patient: Patient) -> JsonDict:
    """Region codes as SATUSEHAT writes them: the Kemendagri codes without their dots."""
    parts = [
        ("province", patient.province_code),
        ("city", patient.city_code),
        ("district", patient.district_code),
        ("village", patient.village_code),
        ("rt", (patient.rt or "").lstrip("0")),
        ("rw", (patient.rw or "").lstrip("0")),
    ]
    return {
        "url": ADMINISTRATIVE_CODE_URL,
        "extension": [
            {"url": name, "valueCode": code.replace(".", "")} for name, code in parts if code
        ],
    }


def newborn_patient(patient: Patient) -> JsonDict:
    """`POST Patient` for a baby without a NIK (API.md 4.3): identified by the mother's NIK
    (`nik-ibu`) and the family card, with name, gender, birthDate, multipleBirthInteger (0 for
    a single birth, else the order among twins, as the official Postman example) and the home
    address with its administrativeCode. Expects a patient `satusehat_rules` accepted."""
    if not patient.mother_nik or not patient.village_code:
        raise ValueError("a newborn needs the mother's NIK and the village (checked first)")
    identifiers = [{"use": "official", "system": NIK_IBU_SYSTEM, "value": patient.mother_nik}]
    if patient.kk_number:
        identifiers.append({"use": "official", "system": KK_SYSTEM, "value": patient.kk_number})
    address: JsonDict = {"use": "home", "country": "ID"}
    if (patient.street or "").strip():
        address["line"] = [patient.street.strip()]
    address["extension"] = [_administrative_code(patient)]
    resource: JsonDict = {
        "resourceType": "Patient",
        "meta": {"profile": [PATIENT_PROFILE]},
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "official", "text": patient.name.strip()}],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
        "deceasedBoolean": False,
        "address": [address],
        "multipleBirthInteger": int(patient.birth_order or 0),
        "extension": [{"url": CITIZENSHIP_URL, "valueCode": "WNI"}],
    }
    if patient.phone:
        resource["telecom"] = [{"system": "phone", "value": patient.phone, "use": "mobile"}]
    return resource


# ----- Organization (service unit) and Location (room) ------------------------------------
def unit_code(unit: ServiceUnit) -> str:
    """Our identifier value for a unit's Organization; stable because the id never changes."""
    return f"UNIT-{unit.id}"


def room_code(room: Room) -> str:
    """Our identifier value for a room's Location."""
    return f"ROOM-{room.id}"


def organization_for_unit(unit: ServiceUnit, branch: Branch) -> JsonDict:
    """The unit as a sub-Organization of the branch's facility Organization (API.md 6).

    Carries `id` once the unit has one, so the same payload serves a PUT update. The unit
    must belong to the branch (ValueError otherwise).
    """
    _ensure_same("unit branch", branch.id, unit.branch_id)
    org_id = _org_id(branch)
    resource: JsonDict = {"resourceType": "Organization"}
    if unit.ihs_id:
        resource["id"] = unit.ihs_id
    resource |= {
        "active": bool(unit.is_active),
        "identifier": [
            {
                "use": "official",
                "system": f"{SYS_IDS}/organization/{org_id}",
                "value": unit_code(unit),
            }
        ],
        "type": [_concept(ORGANIZATION_TYPE_SYSTEM, "dept", "Hospital Department")],
        "name": unit.name.strip(),
        "partOf": _reference(f"Organization/{org_id}", branch.name),
    }
    return resource


def location_for_room(
    room: Room, unit: ServiceUnit | None, branch: Branch, *, latitude: float, longitude: float
) -> JsonDict:
    """The room as a Location managed by its unit's Organization, or the facility's (API.md 7),
    at the given position (the room's own coordinates, or its branch's).

    Carries `id` once the room has one, so the same payload serves a PUT update. The room
    must belong to the branch and the unit (ValueError otherwise).
    """
    _ensure_same("room branch", branch.id, room.branch_id)
    if unit is not None:
        _ensure_same("room unit", room.unit_id, unit.id)
    org_id = _org_id(branch)
    manager = unit.ihs_id if unit is not None and unit.ihs_id else org_id
    name = room.name.strip()
    unit_name = (unit.name or "").strip() if unit is not None else ""
    description = f"{name}, {unit_name}" if unit_name else name
    resource: JsonDict = {"resourceType": "Location"}
    if room.ihs_id:
        resource["id"] = room.ihs_id
    resource |= {
        "identifier": [{"system": f"{SYS_IDS}/location/{org_id}", "value": room_code(room)}],
        "status": "active" if room.is_active else "inactive",
        "name": name,
        "description": description,
        "mode": "instance",
        "physicalType": _concept(LOCATION_PHYSICAL_TYPE_SYSTEM, "ro", "Room"),
        "position": {"longitude": longitude, "latitude": latitude},
        "managingOrganization": _reference(f"Organization/{manager}"),
    }
    return resource


# ----- vital signs --------------------------------------------------------------------------
@dataclass(frozen=True)
class VitalSign:
    attribute: str  # on Examination
    label: str  # for staff
    loinc: str  # its LOINC code, also the key of Examination.observation_ids
    display: str
    unit: str  # human label
    ucum: str  # UCUM code
    # LOINC codings sent in Observation.code, in order; empty: `loinc` with `display` alone.
    codings: tuple[tuple[str, str], ...] = ()

    def code(self) -> JsonDict:
        pairs = self.codings or ((self.loinc, self.display),)
        return {"coding": [_coding(LOINC_SYSTEM, code, text) for code, text in pairs]}


VITAL_SIGNS: tuple[VitalSign, ...] = (
    VitalSign("systolic", "tekanan darah sistolik", "8480-6", "Systolic blood pressure",
              "mm[Hg]", "mm[Hg]"),
    VitalSign("diastolic", "tekanan darah diastolik", "8462-4", "Diastolic blood pressure",
              "mm[Hg]", "mm[Hg]"),
    VitalSign("pulse", "nadi", "8867-4", "Heart rate", "beats/minute", "/min"),
    VitalSign("respiratory_rate", "frekuensi napas", "9279-1", "Respiratory rate",
              "breaths/minute", "/min"),
    VitalSign("temperature", "suhu tubuh", "8310-5", "Body temperature", "Cel", "Cel"),
    VitalSign("height", "tinggi badan", "8302-2", "Body height", "cm", "cm"),
    VitalSign("weight", "berat badan", "29463-7", "Body weight", "kg", "kg"),
    # The FHIR R4 vital-signs profile codes oxygen saturation as 2708-6; pulse oximetry
    # (how clinics measure it) adds 59408-5 beside it. 59408-5 stays the key of the ids
    # already stored.
    VitalSign("spo2", "saturasi oksigen (SpO2)", "59408-5",
              "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%",
              (("2708-6", "Oxygen saturation in Arterial blood"),
               ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"))),
)  # fmt: skip


def filled_vitals(examination: Examination | None) -> list[tuple[VitalSign, float | int]]:
    """The vital signs recorded in an examination, in a fixed order."""
    if examination is None:
        return []
    found = []
    for vital in VITAL_SIGNS:
        value = getattr(examination, vital.attribute)
        if value is not None:
            found.append((vital, value))
    return found


# ----- the visit bundle ----------------------------------------------------------------------
class EntryKind(StrEnum):
    ENCOUNTER = "encounter"
    CONDITION = "condition"
    OBSERVATION = "observation"
    WITHDRAWN = "withdrawn"  # a resource the visit no longer has, marked entered-in-error
    PROCEDURE = "procedure"  # ref = Procedure row id
    ALLERGY = "allergy"  # ref = PatientAllergy row id
    MEDICATION_REQUEST = "medication_request"  # ref = Prescription id


class EntryRef(NamedTuple):
    """What a bundle entry is: the Encounter (ref = visit id), a Condition (ref = Diagnosis id)
    or an Observation (ref = LOINC code, the key of Examination.observation_ids)."""

    kind: EntryKind
    ref: int | str | None


@dataclass(frozen=True)
class VisitBundle:
    """A transaction Bundle and, by entry index, what each entry is. The transaction-response
    lists its entries in the same order, so server ids are written back by index."""

    bundle: JsonDict
    entries: dict[int, EntryRef]


@dataclass(frozen=True)
class HeldIds:
    """What SATUSEHAT already holds of a visit (a send after the first updates these in
    place): its Encounter, the Condition of each Diagnosis id, the Observation of each LOINC
    code, and the resources to withdraw (`Visit.retracted`)."""

    encounter_id: str
    conditions: Mapping[int, str] = field(default_factory=dict)
    observations: Mapping[str, str] = field(default_factory=dict)
    retracted: Sequence[Mapping[str, Any]] = ()
    # Other resources of the visit SATUSEHAT holds (`ExtraEntry`), by `extra_key`.
    extras: Mapping[str, str] = field(default_factory=dict)
    medication_requests: Mapping[int, str] = field(default_factory=dict)  # by Prescription id


@dataclass(frozen=True)
class ExtraEntry:
    """A resource of the visit beyond the Encounter, Conditions and Observations (Procedure,
    AllergyIntolerance, ...): what it is (`kind`, `ref`: its row id), how it is built for the
    Encounter's reference, and its id when SATUSEHAT holds it (the row's resource_id)."""

    kind: EntryKind
    ref: int | str  # a withdrawn resource (kind WITHDRAWN): its id
    build: Callable[[str], JsonDict]
    held_id: str | None = None


def extra_key(resource: Mapping[str, Any]) -> str:
    """`Type|identifier value` of a resource carrying our identifier ("" without one): how
    an `ExtraEntry` SATUSEHAT holds is matched again when its id was not written back."""
    identifiers = resource.get("identifier") or []
    first = identifiers[0] if isinstance(identifiers, list) and identifiers else {}
    value = first.get("value") if isinstance(first, dict) else None
    return f"{resource.get('resourceType')}|{value}" if value else ""


@dataclass(frozen=True)
class _VisitTimes:
    arrived: datetime
    exam_started: datetime
    completed: datetime
    vitals: datetime


def ensure_rows_match(
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    examination: Examination | None,
    diagnoses: Iterable[Diagnosis],
    branch: Branch,
) -> None:
    """Rows handed in must belong to the one visit (ValueError otherwise: a bug in the
    caller, not something staff can fix)."""
    _ensure_same("visit patient", visit.patient_id, patient.id)
    _ensure_same("visit doctor", visit.doctor_id, doctor.id)
    _ensure_same("visit room", visit.room_id, room.id)
    _ensure_same("visit branch", visit.branch_id, branch.id)
    if examination is not None:
        _ensure_same("examination visit", visit.id, examination.visit_id)
    for diagnosis in diagnoses:
        _ensure_same("diagnosis visit", visit.id, diagnosis.visit_id)


def _full_url(visit: Visit, index: int) -> str:
    # Derived from the visit, so resending the same visit builds the very same bundle.
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'klinikita:visit:{visit.uid}:{index}')}"


def _entry(full_url: str, resource: JsonDict) -> JsonDict:
    """POST of a new resource (`full_url` is its urn:uuid), or PUT of one SATUSEHAT holds
    (`full_url` is then "Type/id", and the resource carries the same id)."""
    rtype = resource["resourceType"]
    if full_url.startswith(f"{rtype}/"):
        resource["id"] = full_url.partition("/")[2]
        return {"resource": resource, "request": {"method": "PUT", "url": full_url}}
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": rtype}}


def _withdrawn(
    held: Mapping[str, Any],
    *,
    patient: Patient,
    performer: Employee,
    encounter_url: str,
    at: datetime,
) -> JsonDict | None:
    """A resource the visit no longer has, as entered-in-error (a Condition's clinical status
    must then be absent: FHIR con-5)."""
    if held.get("type") == "Condition":
        code = str(held.get("code") or "")
        condition = _condition(
            code=code,
            display=str(held.get("display") or "") or icd10.describe(code) or code,
            patient=patient,
            encounter_url=encounter_url,
            recorded=at,
        )
        del condition["clinicalStatus"]
        condition["verificationStatus"] = _concept(
            CONDITION_VERIFICATION_SYSTEM, "entered-in-error", "Entered in Error"
        )
        return condition
    vital = next((v for v in VITAL_SIGNS if v.loinc == held.get("code")), None)
    if held.get("type") == "Observation" and vital is not None:
        observation = _observation(
            vital=vital,
            value=held.get("value") or 0,
            patient=patient,
            performer=performer,
            encounter_url=encounter_url,
            measured=at,
        )
        observation["status"] = "entered-in-error"
        return observation
    return None


def _encounter(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    branch: Branch,
    times: _VisitTimes,
    diagnoses: Sequence[tuple[str, Diagnosis, str]],
) -> JsonDict:
    org_id = _org_id(branch)
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": f"{SYS_IDS}/encounter/{org_id}", "value": visit.uid}],
        "status": "finished",
        "class": _coding(ACT_CODE_SYSTEM, "AMB", "ambulatory"),
        "subject": _reference(f"Patient/{patient.ihs_number}", patient.name),
        "participant": [
            {
                "type": [_concept(PARTICIPATION_TYPE_SYSTEM, "ATND", "attender")],
                "individual": _reference(f"Practitioner/{doctor.ihs_number}", doctor.name),
            }
        ],
        "period": _period(times.arrived, times.completed),
        "location": [
            {
                "location": _reference(f"Location/{room.ihs_id}", room.name),
                "period": _period(times.arrived, times.completed),
            }
        ],
        "diagnosis": [
            {
                "condition": _reference(full_url, display),
                "use": _concept(DIAGNOSIS_ROLE_SYSTEM, "DD", "Discharge diagnosis"),
                "rank": diagnosis.rank,
            }
            for full_url, diagnosis, display in diagnoses
        ],
        "statusHistory": [
            {"status": "arrived", "period": _period(times.arrived, times.exam_started)},
            {"status": "in-progress", "period": _period(times.exam_started, times.completed)},
            {"status": "finished", "period": _period(times.completed, times.completed)},
        ],
        "serviceProvider": _reference(f"Organization/{org_id}"),
    }


def _condition(
    *, code: str, display: str, patient: Patient, encounter_url: str, recorded: datetime
) -> JsonDict:
    return {
        "resourceType": "Condition",
        "clinicalStatus": _concept(CONDITION_CLINICAL_SYSTEM, "active", "Active"),
        "category": [
            _concept(CONDITION_CATEGORY_SYSTEM, "encounter-diagnosis", "Encounter Diagnosis")
        ],
        "code": _concept(ICD10_SYSTEM, code, display),
        "subject": _reference(f"Patient/{patient.ihs_number}", patient.name),
        "encounter": _reference(encounter_url),
        "recordedDate": utc_instant(recorded),
    }


def _observation(
    *,
    vital: VitalSign,
    value: float | int,
    patient: Patient,
    performer: Employee,
    encounter_url: str,
    measured: datetime,
) -> JsonDict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(OBSERVATION_CATEGORY_SYSTEM, "vital-signs", "Vital Signs")],
        "code": vital.code(),
        "subject": _reference(f"Patient/{patient.ihs_number}", patient.name),
        "encounter": _reference(encounter_url),
        "effectiveDateTime": utc_instant(measured),
        "issued": utc_instant(measured),
        "performer": [_reference(f"Practitioner/{performer.ihs_number}", performer.name)],
        "valueQuantity": {
            "value": value,
            "unit": vital.unit,
            "system": UCUM_SYSTEM,
            "code": vital.ucum,
        },
    }


def condition_identifier(org_id: str, visit_uid: str, diagnosis_id: int) -> JsonDict:
    """Our identifier of a diagnosis' Condition (API.md 9, rule 10444): stable for as long
    as the diagnosis exists, so a Condition whose creation was not confirmed can be found
    again among the Encounter's Conditions instead of being created twice."""
    return {"system": f"{SYS_IDS}/condition/{org_id}", "value": f"{visit_uid}-D{diagnosis_id}"}


def observation_identifier(org_id: str, visit_uid: str, loinc: str) -> JsonDict:
    """Our identifier of a vital's Observation (API.md 10): the visit and the LOINC code, as
    a visit has one Observation per measurement."""
    return {"system": f"{SYS_IDS}/observation/{org_id}", "value": f"{visit_uid}-{loinc}"}


@dataclass(frozen=True)
class OwnIdentifiers:
    """Our identifiers of what a visit's Bundle creates besides the Encounter: their two
    systems, each diagnosis' Condition (by Diagnosis id: identifier value, ICD-10 code) and
    each recorded vital's Observation (by LOINC code: identifier value)."""

    condition_system: str
    observation_system: str
    conditions: Mapping[int, tuple[str, str]]
    observations: Mapping[str, str]


def own_identifiers(
    *,
    visit: Visit,
    diagnoses: Sequence[Diagnosis],
    examination: Examination | None,
    branch: Branch,
) -> OwnIdentifiers:
    """The identifiers `visit_bundle` gives the visit's Conditions and Observations."""
    org_id, uid = _org_id(branch), visit.uid
    return OwnIdentifiers(
        condition_system=condition_identifier(org_id, uid, 0)["system"],
        observation_system=observation_identifier(org_id, uid, "")["system"],
        conditions={
            d.id: (condition_identifier(org_id, uid, d.id)["value"], icd10.normalize(d.icd10_code))
            for d in diagnoses
        },
        observations={
            v.loinc: observation_identifier(org_id, uid, v.loinc)["value"]
            for v, _ in filled_vitals(examination)
        },
    )


def _diagnosis_display(diagnosis: Diagnosis, code: str) -> str:
    return (diagnosis.display or "").strip() or icd10.describe(code) or code


def _add_medication_requests(
    resources: list[tuple[str, JsonDict]],
    entries: dict[int, EntryRef],
    lines: Sequence[fhir_medication.RxLine],
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    branch: Branch,
    encounter_url: str,
    condition_url: str | None,
    authored: datetime,
    held: Mapping[int, str],
) -> None:
    """A MedicationRequest per prescription line, in line order, appended to `resources`."""
    for line in sorted(lines, key=lambda line: line.line_no):
        index = len(resources) + 1
        entries[index] = EntryRef(EntryKind.MEDICATION_REQUEST, line.id)
        known = held.get(line.id)
        url = f"MedicationRequest/{known}" if known else _full_url(visit, index)
        resource = fhir_medication.medication_request(
            line,
            org_id=_org_id(branch),
            visit_uid=visit.uid,
            patient_ref=_reference(f"Patient/{patient.ihs_number}", patient.name),
            encounter_url=encounter_url,
            requester_ref=_reference(f"Practitioner/{doctor.ihs_number}", doctor.name),
            condition_url=condition_url,
            authored=utc_instant(authored),
        )
        resources.append((url, resource))


def visit_bundle(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    examination: Examination | None,
    diagnoses: Sequence[Diagnosis],
    branch: Branch,
    held: HeldIds | None = None,
    vitals_by: Employee | None = None,
    extras: Sequence[ExtraEntry] = (),
    prescriptions: Sequence[fhir_medication.RxLine] = (),
) -> VisitBundle:
    """One transaction Bundle for a finished outpatient visit (API.md 12): the Encounter with
    its full statusHistory, a Condition per diagnosis and an Observation per recorded vital,
    performed by `vitals_by`, who measured them (None: the visit's doctor), then `extras`
    (Procedures, AllergyIntolerances ...), each updated in place when SATUSEHAT holds it.

    With `held` (the visit was sent before, and changed since), what SATUSEHAT holds is
    replaced in place (PUT, same ids), what is new is created, and what the visit no longer
    has is withdrawn as entered-in-error.

    Each prescription line is a MedicationRequest (its Medication contained) for the
    primary diagnosis (`fhir_medication`).

    Each Condition and Observation carries our own identifier (`own_identifiers`), by which
    it is found again when the answer to its creation was lost.

    Expects a visit `satusehat_rules.check_visit` accepted; raises ValueError when the rows
    do not belong together or a time of the visit is missing."""
    held_conditions = held.conditions if held else {}
    held_observations = held.observations if held else {}
    ensure_rows_match(visit, patient, doctor, room, examination, diagnoses, branch)
    performer = vitals_by or doctor
    arrived = stored_utc(visit.arrived_at)
    exam_started = stored_utc(visit.exam_started_at)
    completed = stored_utc(visit.completed_at)
    if not (arrived and exam_started and completed):
        raise ValueError(f"visit {visit.id}: arrival, examination start and end are needed")
    vitals_at = stored_utc(examination.vitals_at) if examination is not None else None
    times = _VisitTimes(arrived, exam_started, completed, vitals_at or exam_started)

    encounter_url = f"Encounter/{held.encounter_id}" if held else _full_url(visit, 0)
    entries: dict[int, EntryRef] = {0: EntryRef(EntryKind.ENCOUNTER, visit.id)}
    resources: list[tuple[str, JsonDict]] = []

    ordered = sorted(diagnoses, key=lambda d: (d.rank, d.id or 0))
    linked: list[tuple[str, Diagnosis, str]] = []
    for diagnosis in ordered:
        index = len(resources) + 1
        code = icd10.normalize(diagnosis.icd10_code)
        display = _diagnosis_display(diagnosis, code)
        known = held_conditions.get(diagnosis.id)
        url = f"Condition/{known}" if known else _full_url(visit, index)
        linked.append((url, diagnosis, display))
        entries[index] = EntryRef(EntryKind.CONDITION, diagnosis.id)
        condition = _condition(
            code=code,
            display=display,
            patient=patient,
            encounter_url=encounter_url,
            recorded=completed,
        )
        condition["identifier"] = [condition_identifier(_org_id(branch), visit.uid, diagnosis.id)]
        resources.append((url, condition))

    for vital, value in filled_vitals(examination):
        index = len(resources) + 1
        entries[index] = EntryRef(EntryKind.OBSERVATION, vital.loinc)
        observation = _observation(
            vital=vital,
            value=value,
            patient=patient,
            performer=performer,
            encounter_url=encounter_url,
            measured=times.vitals,
        )
        observation["identifier"] = [
            observation_identifier(_org_id(branch), visit.uid, vital.loinc)
        ]
        known = held_observations.get(vital.loinc)
        url = f"Observation/{known}" if known else _full_url(visit, index)
        resources.append((url, observation))

    for extra in extras:
        index = len(resources) + 1
        resource = extra.build(encounter_url)
        known = extra.held_id or (held.extras.get(extra_key(resource)) if held else None)
        entries[index] = EntryRef(extra.kind, extra.ref)
        url = f"{resource['resourceType']}/{known}" if known else _full_url(visit, index)
        resources.append((url, resource))
    _add_medication_requests(
        resources,
        entries,
        prescriptions,
        visit=visit,
        patient=patient,
        doctor=doctor,
        branch=branch,
        encounter_url=encounter_url,
        condition_url=linked[0][0] if linked else None,
        authored=completed,
        held=held.medication_requests if held else {},
    )

    for withdrawn in held.retracted if held else ():
        resource = _withdrawn(
            withdrawn,
            patient=patient,
            performer=performer,
            encounter_url=encounter_url,
            at=completed,
        )
        if resource is not None and withdrawn.get("id"):
            entries[len(resources) + 1] = EntryRef(EntryKind.WITHDRAWN, str(withdrawn["id"]))
            resources.append((f"{resource['resourceType']}/{withdrawn['id']}", resource))

    encounter = _encounter(
        visit=visit,
        patient=patient,
        doctor=doctor,
        room=room,
        branch=branch,
        times=times,
        diagnoses=linked,
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(encounter_url, encounter)]
        + [_entry(url, resource) for url, resource in resources],
    }
    return VisitBundle(bundle=bundle, entries=entries)
