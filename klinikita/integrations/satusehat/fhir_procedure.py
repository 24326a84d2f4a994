"""Procedure (tindakan) as SATUSEHAT takes it (API.md 11.1).

A plain function: no I/O, no database. Expects a procedure `satusehat_rules` accepted: an
ICD-9-CM code, a performer with an IHS number, a time.

`code.coding` carries the ICD-9-CM code with its official (CMS, English) title as display;
`code.text` the name staff gave it (the clinic's own name, or the Indonesian one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from klinikita.integrations.satusehat.fhir import (
    SYS_IDS,
    EntryKind,
    ExtraEntry,
    JsonDict,
    stored_utc,
    utc_instant,
)
from klinikita.models.clinical import Diagnosis, Procedure, Visit
from klinikita.models.people import Employee, Patient
from klinikita.terminology import icd9cm_codes as icd9cm
from klinikita.terminology import icd10_codes as icd10

ICD9CM_SYSTEM = "http://hl7.org/fhir/sid/icd-9-cm"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
SNOMED_SYSTEM = "http://snomed.info/sct"
DIAGNOSTIC = ("103693007", "Diagnostic procedure")
THERAPEUTIC = ("277132007", "Therapeutic procedure")
# ICD-9-CM volume 3 chapters of diagnostic work: radiology, other diagnostic procedures,
# interview and evaluation (87-89) and microscopic examination (90-91).
_DIAGNOSTIC_CHAPTERS = frozenset({"87", "88", "89", "90", "91"})


def category_of(code: str) -> tuple[str, str]:
    """SNOMED category of an ICD-9-CM code: diagnostic for chapters 87-91, else therapeutic."""
    return DIAGNOSTIC if code[:2] in _DIAGNOSTIC_CHAPTERS else THERAPEUTIC


def procedure_identifier(org_id: str, visit_uid: str, procedure_id: int) -> JsonDict:
    """Our identifier of a procedure's Procedure: the visit and the row, stable."""
    return {"system": f"{SYS_IDS}/procedure/{org_id}", "value": f"{visit_uid}-P{procedure_id}"}


def procedure_code(code: str, name: str) -> JsonDict:
    """`Procedure.code`: the ICD-9-CM coding with its official title (the name staff gave
    it when the code has none in the table), and that name as the text."""
    code = icd9cm.normalize(code)
    name = (name or "").strip()
    display = icd9cm.describe(code) or name or code
    concept: JsonDict = {"coding": [{"system": ICD9CM_SYSTEM, "code": code, "display": display}]}
    if name:
        concept["text"] = name
    return concept


def procedure_resource(
    *,
    procedure: Procedure,
    patient: Patient,
    performer: Employee,
    encounter_url: str,
    org_id: str,
    visit_uid: str,
    reason: Diagnosis | None = None,
    performed_at: datetime | None = None,
) -> JsonDict:
    """A completed Procedure of the visit's Encounter (`encounter_url`), performed by
    `performer` at `procedure.performed_at` (else `performed_at`), for the primary diagnosis
    `reason`. ValueError when the procedure has no code or no time."""
    code = (procedure.code or "").strip()
    moment = stored_utc(procedure.performed_at) or stored_utc(performed_at)
    if not code or moment is None:
        raise ValueError(f"procedure {procedure.id}: a code and a time are needed")
    category, category_display = category_of(code)
    resource: JsonDict = {
        "resourceType": "Procedure",
        "identifier": [procedure_identifier(org_id, visit_uid, procedure.id)],
        "status": "completed",
        "category": {
            "coding": [{"system": SNOMED_SYSTEM, "code": category, "display": category_display}]
        },
        "code": procedure_code(code, procedure.description),
        "subject": {"reference": f"Patient/{patient.ihs_number}", "display": patient.name},
        "encounter": {"reference": encounter_url},
        "performedPeriod": {"start": utc_instant(moment), "end": utc_instant(moment)},
        "performer": [
            {
                "actor": {
                    "reference": f"Practitioner/{performer.ihs_number}",
                    "display": performer.name,
                }
            }
        ],
    }
    if reason is not None:
        diagnosis = icd10.normalize(reason.icd10_code)
        display = (reason.display or "").strip() or icd10.describe(diagnosis) or diagnosis
        resource["reasonCode"] = [
            {"coding": [{"system": ICD10_SYSTEM, "code": diagnosis, "display": display}]}
        ]
    if procedure.note.strip():
        resource["note"] = [{"text": procedure.note.strip()}]
    return resource


def _withdrawn_resource(
    held: Mapping[str, Any], *, patient: Patient, doctor: Employee, encounter_url: str, at: str
) -> JsonDict:
    moment = str(held.get("performed_at") or "") or at
    code = str(held.get("code") or "")
    category, category_display = category_of(code)
    return {
        "resourceType": "Procedure",
        "status": "entered-in-error",
        "category": {
            "coding": [{"system": SNOMED_SYSTEM, "code": category, "display": category_display}]
        },
        "code": procedure_code(code, str(held.get("display") or "")),
        "subject": {"reference": f"Patient/{patient.ihs_number}", "display": patient.name},
        "encounter": {"reference": encounter_url},
        "performedPeriod": {"start": moment, "end": moment},
        "performer": [
            {"actor": {"reference": f"Practitioner/{doctor.ihs_number}", "display": doctor.name}}
        ],
    }


def withdrawal_of(resource: Mapping[str, Any]) -> JsonDict:
    """A Procedure SATUSEHAT holds as a `Visit.retracted` item (the shape of
    `corrections.withdrawn_procedure`): its id, code, name and time, to resend it as
    entered-in-error."""
    concept = resource.get("code") or {}
    coding = next((c for c in concept.get("coding") or [] if isinstance(c, dict)), {})
    period = resource.get("performedPeriod") or {}
    return {
        "type": "Procedure",
        "id": str(resource.get("id") or ""),
        "code": str(coding.get("code") or ""),
        "display": str(concept.get("text") or coding.get("display") or ""),
        "performed_at": period.get("start") or None,
    }


def withdrawn_entries(
    retracted: Sequence[Mapping[str, Any]], *, visit: Visit, patient: Patient, doctor: Employee
) -> list[ExtraEntry]:
    """The Procedures SATUSEHAT holds that the visit no longer has (the `Visit.retracted`
    items of `withdrawn_procedure`), each resent whole in place with status
    entered-in-error, under the visit's doctor, at its own time (else the visit's end)."""
    end = stored_utc(visit.completed_at) or stored_utc(visit.exam_started_at)
    at = utc_instant(end) if end else ""
    found: list[ExtraEntry] = []
    for held in retracted:
        if held.get("type") != "Procedure" or not held.get("id"):
            continue

        def build(encounter_url: str, held=held) -> JsonDict:  # noqa: ANN001
            return _withdrawn_resource(
                held, patient=patient, doctor=doctor, encounter_url=encounter_url, at=at
            )

        found.append(ExtraEntry(EntryKind.WITHDRAWN, str(held["id"]), build, str(held["id"])))
    return found


def sent_procedures(procedures: Sequence[Procedure]) -> list[Procedure]:
    """The procedures SATUSEHAT gets: those with a code (free-text ones stay in the record)."""
    return [p for p in procedures if (p.code or "").strip()]


def procedure_entries(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    performers: Mapping[int, Employee],
    procedures: Sequence[Procedure],
    diagnoses: Sequence[Diagnosis],
    org_id: str,
) -> list[ExtraEntry]:
    """The visit's coded procedures as bundle entries, each performed by its performer (of
    `performers`, by employee id; the visit's doctor when none is set) at its time (the
    start of the examination when none was recorded), for the primary diagnosis."""
    primary = next((d for d in sorted(diagnoses, key=lambda d: (d.rank, d.id or 0))), None)
    fallback = stored_utc(visit.exam_started_at) or stored_utc(visit.completed_at)
    found: list[ExtraEntry] = []
    for procedure in sent_procedures(procedures):
        performer = performers.get(procedure.performed_by_id) or doctor

        def build(encounter_url: str, procedure=procedure, performer=performer) -> JsonDict:  # noqa: ANN001
            return procedure_resource(
                procedure=procedure,
                patient=patient,
                performer=performer,
                encounter_url=encounter_url,
                org_id=org_id,
                visit_uid=visit.uid,
                reason=primary,
                performed_at=fallback,
            )

        found.append(
            ExtraEntry(EntryKind.PROCEDURE, procedure.id, build, procedure.resource_id or None)
        )
    return found
