"""AllergyIntolerance as SATUSEHAT takes it (rawat jalan guide; API.md 11.4).

A plain function: no I/O, no database. One resource per allergy recorded in a visit: a
SNOMED CT substance, a drug of the drug master (KFA code), or "no known allergy" (SNOMED
716186003, sent too). An allergy withdrawn after SATUSEHAT took it is sent again as entered
in error (FHIR ait-2: then without clinicalStatus).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from klinikita.integrations.satusehat.fhir import (
    SYS_IDS,
    EntryKind,
    ExtraEntry,
    JsonDict,
    stored_utc,
    utc_instant,
)
from klinikita.models.allergies import AllergyKind, PatientAllergy
from klinikita.models.people import Employee, Patient
from klinikita.terminology import allergens

SNOMED_SYSTEM = allergens.SNOMED_SYSTEM
KFA_SYSTEM = f"{SYS_IDS}/kfa"
CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
NO_KNOWN_ALLERGY_DISPLAY = "No known allergy"
UNSPECIFIED_REACTION = "Reaksi tidak dirinci"


def allergy_identifier(org_id: str, allergy_id: int) -> JsonDict:
    """Our identifier of an allergy's AllergyIntolerance: the row, stable."""
    return {"system": f"{SYS_IDS}/allergy/{org_id}", "value": f"A{allergy_id}"}


def _code(allergy: PatientAllergy) -> JsonDict:
    if allergy.kind == AllergyKind.DRUG:
        return {
            "coding": [{"system": KFA_SYSTEM, "code": allergy.code, "display": allergy.display}],
            "text": allergy.display,
        }
    if allergy.kind == AllergyKind.NONE:
        display = NO_KNOWN_ALLERGY_DISPLAY
    else:
        known = allergens.by_snomed(allergy.code)
        display = known.name_en if known else allergy.display
    return {
        "coding": [{"system": SNOMED_SYSTEM, "code": allergy.code, "display": display}],
        "text": allergy.display,
    }


def allergy_resource(
    *,
    allergy: PatientAllergy,
    patient: Patient,
    recorder: Employee,
    encounter_url: str,
    org_id: str,
    recorded_at: datetime | None = None,
) -> JsonDict:
    """The allergy's AllergyIntolerance in the Encounter `encounter_url`, recorded by
    `recorder` (a Practitioner) at `allergy.recorded_at`. ValueError when it has no code."""
    if not (allergy.code or "").strip():
        raise ValueError(f"allergy {allergy.id}: a code is needed")
    recorded = stored_utc(allergy.recorded_at) or stored_utc(recorded_at)
    if recorded is None:
        raise ValueError(f"allergy {allergy.id}: a time is needed")
    resource: JsonDict = {
        "resourceType": "AllergyIntolerance",
        "identifier": [allergy_identifier(org_id, allergy.id)],
    }
    if allergy.active:
        resource["clinicalStatus"] = {
            "coding": [{"system": CLINICAL_SYSTEM, "code": "active", "display": "Active"}]
        }
        verification = ("confirmed", "Confirmed")
    else:
        verification = ("entered-in-error", "Entered in Error")
    resource["verificationStatus"] = {
        "coding": [
            {"system": VERIFICATION_SYSTEM, "code": verification[0], "display": verification[1]}
        ]
    }
    if allergy.kind != AllergyKind.NONE:
        resource["type"] = "allergy"
        if allergy.category:
            resource["category"] = [allergy.category]
    resource |= {
        "code": _code(allergy),
        "patient": {"reference": f"Patient/{patient.ihs_number}", "display": patient.name},
        "encounter": {"reference": encounter_url},
        "recordedDate": utc_instant(recorded),
        "recorder": {"reference": f"Practitioner/{recorder.ihs_number}", "display": recorder.name},
    }
    reaction_text = (allergy.reaction or "").strip()
    if allergy.kind != AllergyKind.NONE and (reaction_text or allergy.severity):
        reaction: JsonDict = {"manifestation": [{"text": reaction_text or UNSPECIFIED_REACTION}]}
        if allergy.severity:
            reaction["severity"] = allergy.severity
        resource["reaction"] = [reaction]
    return resource


def sent_allergies(allergies: Sequence[PatientAllergy]) -> list[PatientAllergy]:
    """The allergies of a visit SATUSEHAT gets: the active ones, and those withdrawn after
    SATUSEHAT took them (sent again as entered in error)."""
    return [a for a in allergies if a.active or a.resource_id]


def allergy_entries(
    *,
    patient: Patient,
    recorder: Employee,
    allergies: Sequence[PatientAllergy],
    org_id: str,
) -> list[ExtraEntry]:
    """The allergies recorded in the visit as bundle entries, recorded by `recorder` (the
    visit's doctor, who answers for the encounter's record)."""
    found: list[ExtraEntry] = []
    for allergy in sent_allergies(allergies):

        def build(encounter_url: str, allergy=allergy) -> JsonDict:  # noqa: ANN001
            return allergy_resource(
                allergy=allergy,
                patient=patient,
                recorder=recorder,
                encounter_url=encounter_url,
                org_id=org_id,
            )

        found.append(ExtraEntry(EntryKind.ALLERGY, allergy.id, build, allergy.resource_id or None))
    return found
