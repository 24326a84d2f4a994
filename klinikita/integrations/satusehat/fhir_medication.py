"""MedicationRequest (resep) payloads, with their Medication contained (API.md 11.3, 11.4).

Plain functions on plain data (`RxLine`, built from the prescription tables by
services/prescribing.py): no I/O, no database. One prescription line is one
MedicationRequest; its Medication travels inside it (`contained[]`, referenced as `#med`):
a drug master item coded by its KFA code (MedicationType NC), or a racikan whose
ingredients are each KFA-coded (MedicationType EP: the whole divided into equal parts).
Identifiers: `prescription/{org}` (the visit's prescription number) and
`prescription-item/{org}` (that number and the line's number).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from klinikita.integrations.satusehat.prescription_ids import (
    prescription_item_number,
    prescription_number,
)

JsonDict = dict[str, Any]

SYS_IDS = "http://sys-ids.kemkes.go.id"
KFA_SYSTEM = f"{SYS_IDS}/kfa"
MEDICATION_FORM_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/medication-form"
MEDICATION_TYPE_URL = "https://fhir.kemkes.go.id/r4/StructureDefinition/MedicationType"
MEDICATION_TYPE_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/medication-type"
MEDICATION_PROFILE = "https://fhir.kemkes.go.id/r4/StructureDefinition/Medication"
REQUEST_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
ATC_SYSTEM = "http://www.whocc.no/atc"
DOSE_RATE_SYSTEM = "http://terminology.hl7.org/CodeSystem/dose-rate-type"
DRUG_FORM_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
UCUM_SYSTEM = "http://unitsofmeasure.org"

CONTAINED_ID = "med"  # the Medication's local id inside its MedicationRequest
MEDICATION_TYPES = {
    "NC": "Non-compound",
    "SD": "Gives of such doses",
    "EP": "Divide into equal parts",
}
# Dispensing units staff write -> the HL7 orderable drug form SATUSEHAT's examples use.
DRUG_FORM_CODES = {
    "tablet": "TAB",
    "kaplet": "TAB",
    "kapsul": "CAP",
    "sirup": "SYRUP",
    "salep": "OINT",
    "krim": "CRM",
    "gel": "GEL",
    "supositoria": "SUPP",
    "tetes": "DROP",
    "puyer": "PWD",
    "bungkus": "PWD",
}
_STRENGTH = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mg|g|mcg|ml|iu)\s*$", re.IGNORECASE)
_UCUM = {"mg": "mg", "g": "g", "mcg": "ug", "ml": "mL", "iu": "[iU]"}


@dataclass(frozen=True)
class RxItem:
    """A drug master item as sent: its KFA code and display, and its dispensing unit."""

    name: str
    kfa_code: str
    kfa_display: str
    unit: str
    form_code: str = ""
    form_name: str = ""


@dataclass(frozen=True)
class RxIngredient:
    item: RxItem
    quantity: int  # whole units taken for the whole racikan
    dose_text: str  # what each piece holds, e.g. "125 mg"


@dataclass(frozen=True)
class RxLine:
    """One prescription line: an item (`item`), or a racikan (`ingredients`, made into
    `quantity` pieces of `piece_unit`, form `form_code`/`form_name`)."""

    id: int
    line_no: int
    name: str
    item: RxItem | None
    ingredients: tuple[RxIngredient, ...] = ()
    form_code: str = ""
    form_name: str = ""
    piece_unit: str = ""
    quantity: float | None = None
    dose: str = ""
    dose_amount: float | None = None
    frequency: str = ""
    times_per_day: int | None = None
    route: str = "O"
    route_display: str = "Oral"
    duration_days: int | None = None
    instructions: str = ""
    medication_request_id: str | None = None

    @property
    def is_compound(self) -> bool:
        return self.item is None

    @property
    def unit(self) -> str:
        return self.item.unit if self.item is not None else self.piece_unit


def _coding(system: str, code: str, display: str | None = None) -> JsonDict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> JsonDict:
    return {"coding": [_coding(system, code, display)]}


def _number(value: float | int) -> float | int:
    return int(value) if float(value).is_integer() else value


def _quantity(value: float | int, unit: str) -> JsonDict:
    """A count of dispensing units, coded when the unit is a known drug form."""
    quantity: JsonDict = {"value": _number(value), "unit": unit or "unit"}
    code = DRUG_FORM_CODES.get((unit or "").strip().lower())
    if code:
        quantity |= {"system": DRUG_FORM_SYSTEM, "code": code}
    return quantity


def _medication_type(code: str) -> JsonDict:
    return {
        "url": MEDICATION_TYPE_URL,
        "valueCodeableConcept": _concept(MEDICATION_TYPE_SYSTEM, code, MEDICATION_TYPES[code]),
    }


def _strength(dose_text: str, piece_unit: str) -> JsonDict | None:
    """`125 mg` of each piece as a Ratio; None when the text is no plain amount."""
    found = _STRENGTH.match(dose_text or "")
    if not found:
        return None
    value = float(found.group(1).replace(",", "."))
    denominator: JsonDict = {"value": 1}
    code = DRUG_FORM_CODES.get(piece_unit.lower())
    if code:
        denominator |= {"system": DRUG_FORM_SYSTEM, "code": code}
    return {
        "numerator": {
            "value": _number(value),
            "system": UCUM_SYSTEM,
            "code": _UCUM[found.group(2).lower()],
        },
        "denominator": denominator,
    }


def medication(line: RxLine, *, org_id: str, visit_uid: str) -> JsonDict:
    """The line's Medication, to be contained (local id `CONTAINED_ID`)."""
    resource: JsonDict = {
        "resourceType": "Medication",
        "id": CONTAINED_ID,
        "meta": {"profile": [MEDICATION_PROFILE]},
        "identifier": [
            {
                "system": f"{SYS_IDS}/medication/{org_id}",
                "use": "official",
                "value": prescription_item_number(visit_uid, line.line_no),
            }
        ],
    }
    if line.item is not None:
        item = line.item
        resource["code"] = _concept(KFA_SYSTEM, item.kfa_code, item.kfa_display or item.name)
        resource["status"] = "active"
        if item.form_code:
            resource["form"] = _concept(MEDICATION_FORM_SYSTEM, item.form_code, item.form_name)
        resource["extension"] = [_medication_type("NC")]
        return resource
    resource["code"] = {"text": line.name}
    resource["status"] = "active"
    if line.form_code:
        resource["form"] = _concept(MEDICATION_FORM_SYSTEM, line.form_code, line.form_name)
    ingredients = []
    for part in line.ingredients:
        entry: JsonDict = {
            "itemCodeableConcept": _concept(
                KFA_SYSTEM, part.item.kfa_code, part.item.kfa_display or part.item.name
            ),
            "isActive": True,
        }
        strength = _strength(part.dose_text, line.piece_unit)
        if strength is not None:
            entry["strength"] = strength
        ingredients.append(entry)
    resource["ingredient"] = ingredients
    resource["extension"] = [_medication_type("EP")]
    return resource


def _patient_instruction(line: RxLine) -> str:
    """'3 x sehari 1 tablet sesudah makan'."""
    return " ".join(p for p in (line.frequency, line.dose, line.instructions) if p) or line.name


def _dosage(line: RxLine) -> JsonDict:
    dosage: JsonDict = {"sequence": 1, "patientInstruction": _patient_instruction(line)}
    if line.dose:
        dosage["text"] = line.dose
    if line.times_per_day:
        dosage["timing"] = {
            "repeat": {"frequency": line.times_per_day, "period": 1, "periodUnit": "d"}
        }
    dosage["route"] = _concept(ATC_SYSTEM, line.route, line.route_display)
    if line.dose_amount:
        dosage["doseAndRate"] = [
            {
                "type": _concept(DOSE_RATE_SYSTEM, "ordered", "Ordered"),
                "doseQuantity": _quantity(line.dose_amount, line.unit),
            }
        ]
    return dosage


def medication_request(
    line: RxLine,
    *,
    org_id: str,
    visit_uid: str,
    patient_ref: JsonDict,
    encounter_url: str,
    requester_ref: JsonDict,
    condition_url: str | None,
    authored: str,
) -> JsonDict:
    """The line's MedicationRequest (status completed: the visit is finished; intent
    order; outpatient), with its Medication contained. `authored` is a SATUSEHAT instant
    (`YYYY-MM-DDThh:mm:ss+00:00`); `condition_url` the visit's primary Condition."""
    number = prescription_number(visit_uid)
    med = medication(line, org_id=org_id, visit_uid=visit_uid)
    display = (line.item.kfa_display or line.item.name) if line.item else line.name
    resource: JsonDict = {
        "resourceType": "MedicationRequest",
        "contained": [med],
        "identifier": [
            {"system": f"{SYS_IDS}/prescription/{org_id}", "use": "official", "value": number},
            {
                "system": f"{SYS_IDS}/prescription-item/{org_id}",
                "use": "official",
                "value": prescription_item_number(visit_uid, line.line_no),
            },
        ],
        "status": "completed",
        "intent": "order",
        "category": [_concept(REQUEST_CATEGORY_SYSTEM, "outpatient", "Outpatient")],
        "priority": "routine",
        "medicationReference": {"reference": f"#{CONTAINED_ID}", "display": display},
        "subject": patient_ref,
        "encounter": {"reference": encounter_url},
        "authoredOn": authored,
        "requester": requester_ref,
    }
    if condition_url:
        resource["reasonReference"] = [{"reference": condition_url}]
    resource["dosageInstruction"] = [_dosage(line)]
    dispense: JsonDict = {}
    if line.quantity:
        dispense["quantity"] = _quantity(line.quantity, line.unit)
    if line.duration_days:
        dispense["expectedSupplyDuration"] = {
            "value": line.duration_days,
            "unit": "days",
            "system": UCUM_SYSTEM,
            "code": "d",
        }
    dispense["performer"] = {"reference": f"Organization/{org_id}"}
    resource["dispenseRequest"] = dispense
    return resource


def kfa_problems(lines: Sequence[RxLine]) -> list[str]:
    """What keeps the lines from being sent: an item (or racikan ingredient) without a
    plausible KFA code (8 digits, 91-94), named for staff."""
    problems = []
    for line in lines:
        items = [line.item] if line.item is not None else [p.item for p in line.ingredients]
        if line.item is None and len(items) < 2:
            problems.append(f"Racikan {line.name} (R/{line.line_no}) tidak punya dua bahan.")
        for item in items:
            if not kfa_plausible(item.kfa_code):
                where = "" if line.item is not None else f" (bahan racikan {line.name})"
                problems.append(
                    f"Obat {item.name}{where} belum punya kode KFA yang benar "
                    "(8 angka, diawali 91-94). Petakan di menu Apotek > Obat & BHP."
                )
    return problems


_KFA = re.compile(r"^9[1-4]\d{6}$", re.ASCII)


def kfa_plausible(code: str | None) -> bool:
    return bool(code) and bool(_KFA.match(code.strip()))
