"""What the Pemeriksaan page shows of one visit, read in one go and ready to display."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import bindparam, case, literal_column
from sqlmodel import select

from klinikita.db import Statements
from klinikita.models import (
    Branch,
    Diagnosis,
    Employee,
    Examination,
    Patient,
    Prescription,
    Procedure,
    Room,
    ServiceUnit,
    SyncJob,
    Visit,
)
from klinikita.models.enums import Sex, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services.errors import NotFound
from klinikita.services.examination import SOAP_FIELDS, VITAL_FIELDS
from klinikita.services.outbox import ACTIVE
from klinikita.services.visit_queue import status_label, zone_named, zone_time_text


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
    patient_id: int | None = None
    key_refused: bool = False  # SATUSEHAT refused the branch's keys (sending is held)
    timezone: str | None = None  # the branch's, as stored (the times above are in it)
    vitals: dict[str, str] = field(default_factory=dict)
    vitals_time: str = ""
    soap: dict[str, str] = field(default_factory=dict)
    exam_version: int = 0  # the examination's version the vitals and SOAP were read at
    # None: not read (see `visit_record`'s `lists`).
    diagnoses: list[dict[str, str]] | None = field(default_factory=list)
    procedures: list[dict[str, str]] | None = field(default_factory=list)
    prescriptions: list[dict[str, str]] | None = field(default_factory=list)


# The visit with everything its header shows, in one statement (the page reads it after
# every change and on every live update). Plain columns on the read connection: no ORM
# objects are built, which on a busy loop costs more than the query itself.
_VITAL_COLS = tuple(getattr(Examination, f) for f in VITAL_FIELDS)
_SOAP_COLS = tuple(getattr(Examination, f) for f in SOAP_FIELDS)
# Why the visit's SATUSEHAT job waits (an IHS lookup, say), read only while it is being sent:
# its open job, found through the partial unique index on open jobs (the condition is written
# as that index's, so SQLite's planner sees that it applies).
_OPEN = tuple(literal_column(f"'{s.value}'") for s in ACTIVE)
_WAITING_FOR = case(
    (
        Visit.sync_status == SyncStatus.SENDING.value,
        select(SyncJob.waiting_for)
        .where(
            SyncJob.kind == JobKind.VISIT_SEND.value,
            SyncJob.subject_id == Visit.id,
            SyncJob.status.in_(_OPEN),
        )
        .correlate(Visit)
        .scalar_subquery(),
    ),
)
_RECORD = (
    select(
        Visit.id,
        Visit.status,
        Visit.queue_number,
        Visit.visit_date,
        Visit.payer,
        Visit.arrived_at,
        Visit.exam_started_at,
        Visit.completed_at,
        Visit.sync_status,
        Visit.sync_error,
        Visit.encounter_id,
        Branch.timezone,
        Patient.name,
        Patient.mrn,
        Patient.nik,
        Patient.sex,
        Patient.birth_date,
        ServiceUnit.name,
        Room.name,
        Employee.name,
        _WAITING_FOR,
        Visit.patient_id,
        Branch.ss_key_refused_at,
        Examination.id,
        Examination.vitals_at,
        Examination.version,
        *_VITAL_COLS,
        *_SOAP_COLS,
    )
    .join(Branch, Branch.id == Visit.branch_id)
    .join(Patient, Patient.id == Visit.patient_id)
    .outerjoin(ServiceUnit, ServiceUnit.id == Visit.unit_id)
    .outerjoin(Room, Room.id == Visit.room_id)
    .outerjoin(Employee, Employee.id == Visit.doctor_id)
    .outerjoin(Examination, Examination.visit_id == Visit.id)
    .where(Visit.id == bindparam("visit_id"), Visit.branch_id == bindparam("branch_id"))
)
_DIAGNOSES = (
    select(
        Diagnosis.id,
        Diagnosis.icd10_code,
        Diagnosis.display,
        Diagnosis.rank,
        Diagnosis.condition_id,
    )
    .where(Diagnosis.visit_id == bindparam("visit_id"))
    .order_by(Diagnosis.rank, Diagnosis.id)
)
_PROCEDURES = (
    select(Procedure.id, Procedure.code, Procedure.description, Procedure.note)
    .where(Procedure.visit_id == bindparam("visit_id"))
    .order_by(Procedure.id)
)
_PRESCRIPTIONS = (
    select(
        Prescription.id,
        Prescription.medicine,
        Prescription.form,
        Prescription.quantity,
        Prescription.dose,
        Prescription.frequency,
        Prescription.duration_days,
        Prescription.instructions,
    )
    .where(Prescription.visit_id == bindparam("visit_id"))
    .order_by(Prescription.id)
)
_N_VITALS = len(VITAL_FIELDS)


def _diagnoses(rows: list[tuple]) -> list[dict[str, str]]:
    return [
        {
            "id": str(d_id),
            "code": code,
            "display": display,
            "rank": str(rank),
            "primary": "1" if rank == 1 else "",
            "condition_id": condition_id or "",
        }
        for d_id, code, display, rank, condition_id in rows
    ]


def _procedures(rows: list[tuple]) -> list[dict[str, str]]:
    return [
        {"id": str(p_id), "code": code, "description": description, "note": note}
        for p_id, code, description, note in rows
    ]


def _prescriptions(rows: list[tuple]) -> list[dict[str, str]]:
    return [
        {
            "id": str(p_id),
            "medicine": medicine,
            "form": form,
            "quantity": _number(quantity),
            "dose": dose,
            "frequency": frequency,
            "duration_days": str(days) if days else "",
            "instructions": instructions,
        }
        for p_id, medicine, form, quantity, dose, frequency, days, instructions in rows
    ]


# What `visit_record` reads for each of the visit's lists, and how it shows the rows.
_LIST_READERS = {
    "diagnoses": (_DIAGNOSES, _diagnoses),
    "procedures": (_PROCEDURES, _procedures),
    "prescriptions": (_PRESCRIPTIONS, _prescriptions),
}
LISTS = tuple(_LIST_READERS)


def visit_record(
    conn: Statements, branch_id: int, visit_id: int, *, lists: tuple[str, ...] = LISTS
) -> VisitRecord:
    """The open visit as the page shows it; `conn` from `db.read_connection()` (or the
    click's write scope). Of its three lists, only those named in `lists` are read (a click
    that saved vitals changed none); the others are None."""
    # The lists are read with the visit, in one round trip: the visit's branch is checked
    # on its own row, so those of a visit of another branch are read but never shown.
    wanted = [name for name in _LIST_READERS if name in lists]
    params = {"visit_id": visit_id}
    found, *list_rows = conn.rows_each(
        [
            (_RECORD, {"visit_id": visit_id, "branch_id": branch_id}),
            *((_LIST_READERS[name][0], params) for name in wanted),
        ]
    )
    if not found:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    (
        vid,
        status,
        queue_number,
        visit_date,
        payer,
        arrived_at,
        exam_started_at,
        completed_at,
        sync_status,
        sync_error,
        encounter_id,
        timezone,
        patient_name,
        mrn,
        nik,
        sex,
        birth_date,
        unit_name,
        room_name,
        doctor_name,
        waiting_for,
        patient_id,
        key_refused_at,
        exam_id,
        vitals_at,
        exam_version,
        *rest,
    ) = found[0]
    vitals, soap = rest[:_N_VITALS], rest[_N_VITALS:]
    zone = zone_named(timezone)
    try:
        sex_label = Sex(sex).label
    except ValueError:
        sex_label = sex
    record = VisitRecord(
        visit_id=vid,
        status=status,
        status_label=status_label(status),
        queue_number=queue_number,
        patient_name=patient_name,
        mrn=mrn,
        patient_nik=nik or "",
        sex_label=sex_label,
        age=_age(birth_date, visit_date),
        payer=payer,
        unit_name=unit_name or "",
        room_name=room_name or "",
        doctor_name=doctor_name or "",
        arrived_time=zone_time_text(arrived_at, zone),
        exam_started_time=zone_time_text(exam_started_at, zone),
        completed_time=zone_time_text(completed_at, zone),
        sync_status=sync_status,
        sync_error=sync_error or "",
        encounter_id=encounter_id or "",
        timezone=timezone,
        patient_id=patient_id,
        key_refused=key_refused_at is not None,
    )
    if sync_status == SyncStatus.SENDING:
        record.sync_waiting = waiting_for or ""
    record.vitals = {f: _number(v) for f, v in zip(VITAL_FIELDS, vitals, strict=True)}
    record.vitals_time = zone_time_text(vitals_at, zone) if exam_id else ""
    record.soap = {f: v or "" for f, v in zip(SOAP_FIELDS, soap, strict=True)}
    record.exam_version = exam_version or 0
    shown = dict(zip(wanted, list_rows, strict=True))
    for name, (_, view) in _LIST_READERS.items():
        setattr(record, name, view(shown[name]) if name in shown else None)
    return record


def as_completed(record: VisitRecord, visit: Visit) -> VisitRecord:
    """`record` as it reads once Selesai has completed the visit (`visit` as
    `complete_visit` returned it), without reading it again: Selesai changes only the
    status, the two times and the sending state. Its lists are left out (None)."""
    zone = zone_named(record.timezone)
    return replace(
        record,
        status=visit.status,
        status_label=status_label(visit.status),
        exam_started_time=zone_time_text(visit.exam_started_at, zone),
        completed_time=zone_time_text(visit.completed_at, zone),
        sync_status=visit.sync_status,
        sync_error=visit.sync_error or "",
        encounter_id=visit.encounter_id or "",
        sync_waiting="",  # a job just queued waits for nothing yet
        diagnoses=None,
        procedures=None,
        prescriptions=None,
    )
