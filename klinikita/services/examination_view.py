"""What the Pemeriksaan page shows of one visit, read in one go and ready to display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam
from sqlmodel import Session, select

from klinikita.models import Branch, Employee, Examination, Patient, Room, ServiceUnit, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Sex, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services.errors import NotFound
from klinikita.services.examination import (
    SOAP_FIELDS,
    VITAL_FIELDS,
    diagnoses_of,
    prescriptions_of,
    procedures_of,
)
from klinikita.services.sync_requests import latest_job
from klinikita.services.visit_queue import STATUS_LABELS, local_time_text


def _number(value: float | int | None) -> str:
    """A stored vital as staff type it: `36,5`, `120`, "" when not measured."""
    if value is None:
        return ""
    return f"{value:g}".replace(".", ",")


def _age(born: date, today: date) -> str:
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 1:
        return f"{years} th"
    months = (today.year - born.year) * 12 + today.month - born.month
    months -= today.day < born.day
    return f"{max(months, 0)} bln"


@dataclass
class VisitRecord:
    visit_id: int
    status: str
    status_label: str
    queue_number: int
    patient_name: str
    mrn: str
    patient_nik: str
    sex_label: str
    age: str
    payer: str
    unit_name: str
    room_name: str
    doctor_name: str
    arrived_time: str
    exam_started_time: str
    completed_time: str
    sync_status: str
    sync_error: str
    encounter_id: str
    sync_waiting: str = ""  # why the SATUSEHAT job waits (e.g. an IHS lookup), if it does
    vitals: dict[str, str] = field(default_factory=dict)
    vitals_time: str = ""
    soap: dict[str, str] = field(default_factory=dict)
    diagnoses: list[dict[str, str]] = field(default_factory=list)
    procedures: list[dict[str, str]] = field(default_factory=list)
    prescriptions: list[dict[str, str]] = field(default_factory=list)


# The visit with everything its header shows, in one statement (the page reads it after
# every change and on every live update, so it is kept to one round trip plus the lists).
_RECORD = (
    select(Visit, Branch, Patient, ServiceUnit.name, Room.name, Employee.name, Examination)
    .join(Branch, Branch.id == Visit.branch_id)
    .join(Patient, Patient.id == Visit.patient_id)
    .outerjoin(ServiceUnit, ServiceUnit.id == Visit.unit_id)
    .outerjoin(Room, Room.id == Visit.room_id)
    .outerjoin(Employee, Employee.id == Visit.doctor_id)
    .outerjoin(Examination, Examination.visit_id == Visit.id)
    .where(Visit.id == bindparam("visit_id"), Visit.branch_id == bindparam("branch_id"))
)


def visit_record(session: Session, branch_id: int, visit_id: int) -> VisitRecord:
    found = session.exec(_RECORD, params={"visit_id": visit_id, "branch_id": branch_id}).first()
    if found is None:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    visit, branch, patient, unit_name, room_name, doctor_name, exam = found
    try:
        sex_label = Sex(patient.sex).label
    except ValueError:
        sex_label = patient.sex
    record = VisitRecord(
        visit_id=visit.id,
        status=visit.status,
        status_label=STATUS_LABELS.get(VisitStatus(visit.status), visit.status),
        queue_number=visit.queue_number,
        patient_name=patient.name,
        mrn=patient.mrn,
        patient_nik=patient.nik or "",
        sex_label=sex_label,
        age=_age(patient.birth_date, visit.visit_date),
        payer=visit.payer,
        unit_name=unit_name or "",
        room_name=room_name or "",
        doctor_name=doctor_name or "",
        arrived_time=local_time_text(visit.arrived_at, branch),
        exam_started_time=local_time_text(visit.exam_started_at, branch),
        completed_time=local_time_text(visit.completed_at, branch),
        sync_status=visit.sync_status,
        sync_error=visit.sync_error or "",
        encounter_id=visit.encounter_id or "",
    )
    if visit.sync_status == SyncStatus.SENDING:
        job = latest_job(session, JobKind.VISIT_SEND, visit.id)
        record.sync_waiting = (job.waiting_for or "") if job is not None else ""
    record.vitals = {f: _number(getattr(exam, f) if exam else None) for f in VITAL_FIELDS}
    record.vitals_time = local_time_text(exam.vitals_at, branch) if exam else ""
    record.soap = {f: (getattr(exam, f) if exam else "") or "" for f in SOAP_FIELDS}
    record.diagnoses = [
        {
            "id": str(d.id),
            "code": d.icd10_code,
            "display": d.display,
            "rank": str(d.rank),
            "primary": "1" if d.rank == 1 else "",
            "condition_id": d.condition_id or "",
        }
        for d in diagnoses_of(session, visit.id)
    ]
    record.procedures = [
        {"id": str(p.id), "code": p.code, "description": p.description, "note": p.note}
        for p in procedures_of(session, visit.id)
    ]
    record.prescriptions = [
        {
            "id": str(p.id),
            "medicine": p.medicine,
            "form": p.form,
            "quantity": _number(p.quantity),
            "dose": p.dose,
            "frequency": p.frequency,
            "duration_days": str(p.duration_days) if p.duration_days else "",
            "instructions": p.instructions,
        }
        for p in prescriptions_of(session, visit.id)
    ]
    return record
