"""Pharmacy test data written directly: drug items, batches, a completed visit with a
prescription and its waiting Dispense row (as the prescribing flow leaves it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from klinikita.integrations.satusehat.prescription_ids import prescription_identifiers
from klinikita.models import (
    Dispense,
    DrugItem,
    Prescription,
    PrescriptionIngredient,
    StockBatch,
)
from klinikita.models.enums import Duty
from klinikita.services.audit import Actor


def item(session: Session, branch, name: str, *, unit: str = "tablet", kfa: str = "93000001"):
    row = DrugItem(branch_id=branch.id, name=name, unit=unit, kfa_code=kfa, kfa_display=name)
    session.add(row)
    session.flush()
    return row


def batch(session: Session, drug, number: str, quantity: int, expiry: date | None = None):
    row = StockBatch(
        branch_id=drug.branch_id,
        item_id=drug.id,
        batch_number=number,
        expiry_date=expiry or date.today() + timedelta(days=365),
        quantity=quantity,
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Rx:
    dispense: Dispense
    lines: list[Prescription]


def prescription(
    session: Session,
    visit,
    lines: list[tuple],
    *,
    compounds: list[tuple[str, int, list[tuple]]] = (),
) -> Rx:
    """`lines`: (item, quantity, frequency, dose, instructions); `compounds`: (name,
    quantity, [(item, units, dose_text)]). The Dispense row waits, queued now."""
    rows = []
    for no, (drug, quantity, frequency, dose, instructions) in enumerate(lines, start=1):
        rows.append(
            Prescription(
                visit_id=visit.id,
                line_no=no,
                item_id=drug.id,
                medicine=drug.name,
                form="tablet",
                quantity=quantity,
                dose=dose,
                dose_amount=1,
                frequency=frequency,
                times_per_day=3,
                instructions=instructions,
                duration_days=5,
            )
        )
    start = len(rows) + 1
    session.add_all(rows)
    session.flush()
    for no, (name, quantity, parts) in enumerate(compounds, start=start):
        line = Prescription(
            visit_id=visit.id,
            line_no=no,
            is_compound=True,
            medicine=name,
            form="puyer",
            quantity=quantity,
            dose="1 bungkus",
            dose_amount=1,
            frequency="3 x sehari",
            times_per_day=3,
            instructions="sesudah makan",
        )
        session.add(line)
        session.flush()
        for drug, units, dose_text in parts:
            session.add(
                PrescriptionIngredient(
                    prescription_id=line.id, item_id=drug.id, quantity=units, dose_text=dose_text
                )
            )
        rows.append(line)
    dispense = Dispense(branch_id=visit.branch_id, visit_id=visit.id, queued_at=datetime.now(UTC))
    session.add(dispense)
    session.commit()
    return Rx(dispense, rows)


def actor_for(user, branch, duty: str = Duty.APOTEKER) -> Actor:
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


def medication_request_body(
    org_id: str, visit_uid: str, line_no: int, *, encounter_id: str, patient_ihs: str
) -> dict:
    """A MedicationRequest SATUSEHAT accepts (API.md 11.3), as the visit's send posts it:
    the prescription identifiers, a KFA-coded contained Medication, the prescribing doctor
    (the sandbox's dr. Alexander) and the dispensing organization."""
    return {
        "resourceType": "MedicationRequest",
        "identifier": prescription_identifiers(org_id, visit_uid, line_no),
        "status": "completed",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_ihs}"},
        "encounter": {"reference": f"Encounter/{encounter_id}"},
        "requester": {"reference": "Practitioner/10009880728"},
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {
                    "coding": [
                        {
                            "system": "http://sys-ids.kemkes.go.id/kfa",
                            "code": "93002313",
                            "display": "Paracetamol 500 mg Tablet",
                        }
                    ]
                },
            }
        ],
        "medicationReference": {"reference": "#med"},
        "dispenseRequest": {"performer": {"reference": f"Organization/{org_id}"}},
    }
