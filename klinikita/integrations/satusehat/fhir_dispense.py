"""MedicationDispense: what the pharmacy gave for one prescription line.

A plain builder (no I/O, no database): one resource per line, with the line's prescription
identifiers (`prescription_ids`), the medication contained (KFA; a racikan lists its KFA
ingredients), the MedicationRequest it fulfils (`authorizingPrescription`), the patient,
the visit's Encounter, the pharmacist (a Practitioner with an IHS number, else the
organization), the Location, quantity, days of supply, when prepared and handed over, and
how to take it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from klinikita.integrations.satusehat.fhir import stored_utc, utc_instant
from klinikita.integrations.satusehat.prescription_ids import prescription_identifiers

JsonDict = dict[str, Any]

KFA_SYSTEM = "http://sys-ids.kemkes.go.id/kfa"
CATEGORY_SYSTEM = "http://terminology.hl7.org/fhir/CodeSystem/medicationdispense-category"
MEDICATION_TYPE_URL = "https://fhir.kemkes.go.id/r4/StructureDefinition/MedicationType"
MEDICATION_TYPE_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/medication-type"
MEDICATION_FORM_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/medication-form"
DRUG_FORM_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
ATC_ROUTE_SYSTEM = "http://www.whocc.no/atc"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ROUTES = {
    "O": "Oral",
    "P": "Parenteral",
    "R": "Rectal",
    "V": "Vaginal",
    "N": "Nasal",
    "TD": "Transdermal",
    "SL": "Sublingual",
    "Inhal": "Inhalation",
}
# Dispensing units as v3-orderableDrugForm codes, where one fits.
UNIT_CODES = {"tablet": "TAB", "kapsul": "CAP", "kaplet": "CAPLET", "sirup": "SYRUP"}


@dataclass(frozen=True)
class DispensedLine:
    """One prescription line as dispensed."""

    line_no: int
    medication_request_id: str
    name: str
    quantity: int  # units given (a racikan: how many powders, capsules ...)
    unit: str
    kfa_code: str = ""  # a single item's
    kfa_display: str = ""
    form_code: str = ""
    form_name: str = ""
    ingredients: tuple[tuple[str, str], ...] = ()  # a racikan's (KFA code, display)
    signa: str = ""
    times_per_day: int | None = None
    dose_amount: float | None = None
    route: str = "O"
    days_supply: int | None = None
    resource_id: str | None = None  # SATUSEHAT's id once created (an update carries it)


@dataclass(frozen=True)
class DispenseContext:
    """What every line of one dispensing shares."""

    org_id: str
    visit: Any  # has `uid`
    patient_ihs: str
    patient_name: str
    encounter_id: str
    location_id: str
    location_name: str
    status: str  # completed | in-progress | cancelled (MedicationDispense.status)
    when_prepared: datetime | None
    when_handed_over: datetime | None = None
    pharmacist_ihs: str | None = None
    pharmacist_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _coding(system: str, code: str, display: str | None = None) -> JsonDict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _medication(line: DispensedLine) -> JsonDict:
    compound = bool(line.ingredients)
    medication: JsonDict = {
        "resourceType": "Medication",
        "id": f"med-{line.line_no}",
        "status": "active",
        "extension": [
            {
                "url": MEDICATION_TYPE_URL,
                "valueCodeableConcept": {
                    "coding": [
                        _coding(MEDICATION_TYPE_SYSTEM, "SD", "Gives of such doses")
                        if compound
                        else _coding(MEDICATION_TYPE_SYSTEM, "NC", "Non-compound")
                    ]
                },
            }
        ],
    }
    if compound:
        medication["code"] = {"text": line.name}
        medication["ingredient"] = [
            {
                "itemCodeableConcept": {"coding": [_coding(KFA_SYSTEM, code, display)]},
                "isActive": True,
            }
            for code, display in line.ingredients
        ]
    else:
        medication["code"] = {
            "coding": [_coding(KFA_SYSTEM, line.kfa_code, line.kfa_display or line.name)]
        }
    if line.form_code:
        medication["form"] = {
            "coding": [_coding(MEDICATION_FORM_SYSTEM, line.form_code, line.form_name or None)]
        }
    return medication


def _quantity(value: float, unit: str) -> JsonDict:
    quantity: JsonDict = {"value": value, "unit": unit}
    code = UNIT_CODES.get(unit.strip().lower())
    if code:
        quantity.update(system=DRUG_FORM_SYSTEM, code=code)
    return quantity


def _dosage(line: DispensedLine) -> JsonDict:
    dosage: JsonDict = {"sequence": 1}
    if line.signa:
        dosage["text"] = line.signa
        dosage["patientInstruction"] = line.signa
    if line.times_per_day:
        dosage["timing"] = {
            "repeat": {"frequency": line.times_per_day, "period": 1, "periodUnit": "d"}
        }
    if line.route:
        dosage["route"] = {
            "coding": [_coding(ATC_ROUTE_SYSTEM, line.route, ROUTES.get(line.route))]
        }
    if line.dose_amount:
        dosage["doseAndRate"] = [{"doseQuantity": _quantity(line.dose_amount, line.unit)}]
    return dosage


def medication_dispense(ctx: DispenseContext, line: DispensedLine) -> JsonDict:
    """The MedicationDispense of `line` (with its `id` when SATUSEHAT holds it already)."""
    if ctx.pharmacist_ihs:
        performer = {
            "reference": f"Practitioner/{ctx.pharmacist_ihs}",
            "display": ctx.pharmacist_name,
        }
    else:
        performer = {"reference": f"Organization/{ctx.org_id}"}
    resource: JsonDict = {
        "resourceType": "MedicationDispense",
        "identifier": prescription_identifiers(ctx.org_id, ctx.visit.uid, line.line_no),
        "contained": [_medication(line)],
        "status": ctx.status,
        "category": {"coding": [_coding(CATEGORY_SYSTEM, "outpatient", "Outpatient")]},
        "medicationReference": {"reference": f"#med-{line.line_no}", "display": line.name},
        "subject": {"reference": f"Patient/{ctx.patient_ihs}", "display": ctx.patient_name},
        "context": {"reference": f"Encounter/{ctx.encounter_id}"},
        "performer": [{"actor": performer}],
        "location": {"reference": f"Location/{ctx.location_id}", "display": ctx.location_name},
        "authorizingPrescription": [
            {"reference": f"MedicationRequest/{line.medication_request_id}"}
        ],
        "quantity": _quantity(line.quantity, line.unit),
        "dosageInstruction": [_dosage(line)],
    }
    if line.days_supply:
        resource["daysSupply"] = {
            "value": line.days_supply,
            "unit": "Day",
            "system": UCUM_SYSTEM,
            "code": "d",
        }
    if ctx.when_prepared is not None:
        resource["whenPrepared"] = utc_instant(stored_utc(ctx.when_prepared))
    if ctx.when_handed_over is not None:
        resource["whenHandedOver"] = utc_instant(stored_utc(ctx.when_handed_over))
    if line.resource_id:
        resource["id"] = line.resource_id
    return resource
