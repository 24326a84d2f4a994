"""Preparing a DISPENSE_SEND job: the MedicationDispense of each prescription line of a
dispensing, posted once the visit's MedicationRequests have SATUSEHAT ids (until then the
job waits and looks again), updated in place (PUT) when the dispensing is handed over or
cancelled later. The ids SATUSEHAT gives are written back to `prescription`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from klinikita.integrations.satusehat.client import SatusehatClient
from klinikita.integrations.satusehat.fhir import stored_utc
from klinikita.integrations.satusehat.fhir_dispense import (
    DispenseContext,
    DispensedLine,
    medication_dispense,
)
from klinikita.integrations.satusehat.outcomes import Ok
from klinikita.models import (
    Branch,
    Dispense,
    DispenseLine,
    DrugItem,
    Employee,
    Patient,
    Prescription,
    PrescriptionIngredient,
    Room,
    SyncJob,
    User,
    Visit,
)
from klinikita.models.enums import SyncStatus
from klinikita.models.pharmacy import DispenseStatus
from klinikita.services.job_results import (
    Done,
    Fail,
    Prepared,
    Retry,
    RowUpdate,
    Send,
    Wait,
    from_outcome,
    set_sync,
)

FHIR_STATUS = {
    DispenseStatus.DISPENSED.value: "in-progress",
    DispenseStatus.HANDED_OVER.value: "completed",
    DispenseStatus.CANCELLED.value: "cancelled",
}
WAITING_FOR_REQUESTS = "Resep kunjungan belum terkirim ke SATUSEHAT (MedicationRequest)"


def _pharmacist(session: Session, user_id: int | None) -> Employee | None:
    if user_id is None:
        return None
    return session.execute(
        select(Employee).join(User, User.employee_id == Employee.id).where(User.id == user_id)
    ).scalar_one_or_none()


def _lines(session: Session, dispense: Dispense, prescriptions: list[Prescription]) -> list:
    ids = [p.id for p in prescriptions]
    given: dict[int, int] = defaultdict(int)
    for prescription_id, units in session.execute(
        select(DispenseLine.prescription_id, func.sum(DispenseLine.quantity))
        .where(DispenseLine.dispense_id == dispense.id)
        .group_by(DispenseLine.prescription_id)
    ):
        given[prescription_id] = int(units or 0)
    ingredients: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for prescription_id, code, display, name in session.execute(
        select(
            PrescriptionIngredient.prescription_id,
            DrugItem.kfa_code,
            DrugItem.kfa_display,
            DrugItem.name,
        )
        .join(DrugItem, DrugItem.id == PrescriptionIngredient.item_id)
        .where(PrescriptionIngredient.prescription_id.in_(ids))
        .order_by(PrescriptionIngredient.id)
    ):
        ingredients[prescription_id].append((code or "", display or name))
    items = {
        i.id: i
        for i in session.execute(
            select(DrugItem).where(DrugItem.id.in_({p.item_id for p in prescriptions if p.item_id}))
        ).scalars()
    }
    out = []
    for p in prescriptions:
        item = items.get(p.item_id) if p.item_id else None
        if p.is_compound:
            quantity = int(p.quantity or 0) if p.id in given else 0
            unit = p.form or "bungkus"
        else:
            quantity = given.get(p.id, 0)
            unit = item.unit if item else p.form
        out.append(
            DispensedLine(
                line_no=p.line_no,
                medication_request_id=p.medication_request_id or "",
                name=p.medicine,
                quantity=quantity,
                unit=unit,
                kfa_code=(item.kfa_code or "") if item else "",
                kfa_display=item.kfa_display if item else "",
                form_code=item.form_code if item else "",
                form_name=item.form_name if item else "",
                ingredients=tuple(ingredients.get(p.id, ())) if p.is_compound else (),
                signa=" ".join(x for x in (p.frequency, p.dose, p.instructions) if x.strip()),
                times_per_day=p.times_per_day,
                dose_amount=p.dose_amount,
                route=p.route or "O",
                days_supply=p.duration_days,
                resource_id=p.medication_dispense_id,
            )
        )
    return out


def prepare_dispense(session: Session, job: SyncJob) -> Prepared:
    """The job's Send, or why it waits (the visit's MedicationRequests have no ids yet) or
    fails (the dispensing is gone)."""
    dispense = session.get(Dispense, job.subject_id)
    if dispense is None:
        return Fail("Data penyerahan obat sudah tidak ada.")
    status = FHIR_STATUS.get(dispense.status)
    if status is None:
        return Done({"skipped": dispense.status})
    visit = session.get(Visit, dispense.visit_id)
    prescriptions = list(
        session.execute(
            select(Prescription)
            .where(Prescription.visit_id == visit.id)
            .order_by(Prescription.line_no)
        ).scalars()
    )
    if not prescriptions:
        return Done({"lines": 0}, (set_sync("dispense", dispense.id, SyncStatus.SENT),))
    if not visit.encounter_id or any(not p.medication_request_id for p in prescriptions):
        return Wait(WAITING_FOR_REQUESTS)
    if status == "cancelled" and not any(p.medication_dispense_id for p in prescriptions):
        return Done({"lines": 0}, (set_sync("dispense", dispense.id, SyncStatus.SENT),))
    branch = session.get(Branch, dispense.branch_id)
    patient = session.get(Patient, visit.patient_id)
    room = session.get(Room, visit.room_id)
    if not patient.ihs_number or not room.ihs_id:
        return Wait("Pasien atau ruangan kunjungan belum terkirim ke SATUSEHAT")
    pharmacist = _pharmacist(session, dispense.dispensed_by_user_id)
    ctx = DispenseContext(
        org_id=branch.ss_organization_id,
        visit=visit,
        patient_ihs=patient.ihs_number,
        patient_name=patient.name,
        encounter_id=visit.encounter_id,
        location_id=room.ihs_id,
        location_name=room.name,
        status=status,
        when_prepared=stored_utc(dispense.dispensed_at),
        when_handed_over=stored_utc(dispense.handed_over_at),
        pharmacist_ihs=pharmacist.ihs_number if pharmacist else None,
        pharmacist_name=pharmacist.name if pharmacist else "",
    )
    lines = _lines(session, dispense, prescriptions)
    by_line = {p.line_no: p.id for p in prescriptions}
    resources = [(by_line[line.line_no], medication_dispense(ctx, line)) for line in lines]
    return Send(_sender(dispense.id, resources, may_exist=job.attempts > 0), patient_id=patient.id)


def _sender(dispense_id: int, resources: list[tuple[int, dict[str, Any]]], *, may_exist: bool):
    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        ids: dict[int, str] = {}
        for prescription_id, resource in resources:
            if "id" not in resource and may_exist:
                # An earlier attempt may have created it, its answer lost.
                item = resource["identifier"][1]
                found = await client.find_by_identifier(
                    "MedicationDispense",
                    item["system"],
                    item["value"],
                    identifier=f"{item['system']}|{item['value']}",
                )
                if isinstance(found, dict):
                    resource = {**resource, "id": found["id"]}
                elif found is not None:
                    return from_outcome(found)
            if "id" in resource:
                outcome = await client.update(resource)
                if not isinstance(outcome, Ok):
                    return from_outcome(outcome)
                ids[prescription_id] = resource["id"]
                continue
            outcome = await client.create(resource)
            if not isinstance(outcome, Ok):
                return from_outcome(outcome)
            ids[prescription_id] = outcome.body["id"]
        updates = [
            RowUpdate("prescription", pid, {"medication_dispense_id": rid})
            for pid, rid in ids.items()
        ]
        updates.append(set_sync("dispense", dispense_id, SyncStatus.SENT))
        return Done({"medication_dispenses": len(ids)}, tuple(updates))

    return run
