"""What the Pemeriksaan page shows of one visit, read in one go and ready to display."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import case, literal_column
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from klinikita.models import (
    Branch,
    Diagnosis,
    Employee,
    Examination,
    Patient,
    Prescription,
    PrescriptionIngredient,
    Procedure,
    Room,
    ServiceUnit,
    SyncJob,
    Visit,
)
from klinikita.models.enums import Sex, SyncStatus
from klinikita.models.pharmacy import DrugItem
from klinikita.models.satusehat import JobKind
from klinikita.services import icd10
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


# The visit with everything its header shows, in one statement of plain columns (the page
# reads it after every change and on every live update).
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
)
_DIAGNOSES = select(
    Diagnosis.id,
    Diagnosis.icd10_code,
    Diagnosis.display,
    Diagnosis.rank,
    Diagnosis.condition_id,
).order_by(Diagnosis.rank, Diagnosis.id)
_PROCEDURES = select(Procedure.id, Procedure.code, Procedure.description, Procedure.note).order_by(
    Procedure.id
)
_INGREDIENT_ITEM = aliased(DrugItem, name="ingredient_item")
_PRESCRIPTIONS = (
    select(
        Prescription.id,
        Prescription.line_no,
        Prescription.is_compound,
        Prescription.medicine,
        Prescription.form,
        Prescription.quantity,
        Prescription.dose,
        Prescription.frequency,
        Prescription.route,
        Prescription.duration_days,
        Prescription.instructions,
        DrugItem.unit,
        PrescriptionIngredient.quantity,
        PrescriptionIngredient.dose_text,
        _INGREDIENT_ITEM.name,
        _INGREDIENT_ITEM.unit,
    )
    .outerjoin(DrugItem, DrugItem.id == Prescription.item_id)
    .outerjoin(PrescriptionIngredient, PrescriptionIngredient.prescription_id == Prescription.id)
    .outerjoin(_INGREDIENT_ITEM, _INGREDIENT_ITEM.id == PrescriptionIngredient.item_id)
    .order_by(Prescription.line_no, Prescription.id, PrescriptionIngredient.id)
)
_N_VITALS = len(VITAL_FIELDS)


def _diagnoses(rows: list[tuple]) -> list[dict[str, str]]:
    """Each diagnosis as staff read it: `display` the Indonesian name when the code is in
    the Indonesian list (`english` then the stored ICD-10 description), else the English."""
    return [
        {
            "id": str(d_id),
            "code": code,
            **dict(zip(("display", "english"), icd10.shown_names(code, display), strict=True)),
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
    """One entry per line (a racikan's ingredients joined into `ingredients`); rows written
    before the drug master show as they were typed."""
    lines: dict[int, dict[str, str]] = {}
    for (p_id, line_no, compound, medicine, form, quantity, dose, frequency, route, days,
         instructions, unit, i_qty, i_dose, i_name, i_unit) in rows:  # fmt: skip
        line = lines.get(p_id)
        if line is None:
            line = lines[p_id] = {
                "id": str(p_id),
                "line_no": str(line_no),
                "compound": "1" if compound else "",
                "medicine": medicine,
                "form": form,
                "quantity": _number(quantity),
                "unit": unit or "",
                "dose": dose,
                "frequency": frequency,
                "route": route or "",
                "duration_days": str(days) if days else "",
                "instructions": instructions,
                "ingredients": "",
            }
        if i_name is not None:
            part = f"{i_name} {i_qty} {i_unit}" + (f" (tiap racikan {i_dose})" if i_dose else "")
            line["ingredients"] = f"{line['ingredients']}; {part}" if line["ingredients"] else part
    return list(lines.values())


# What `visit_record` reads for each of the visit's lists, and how it shows the rows.
_LIST_READERS = {
    "diagnoses": (_DIAGNOSES, Diagnosis.visit_id, _diagnoses),
    "procedures": (_PROCEDURES, Procedure.visit_id, _procedures),
    "prescriptions": (_PRESCRIPTIONS, Prescription.visit_id, _prescriptions),
}
LISTS = tuple(_LIST_READERS)


def visit_record(
    session: Session, branch_id: int, visit_id: int, *, lists: tuple[str, ...] = LISTS
) -> VisitRecord:
    """The open visit of the branch as the page shows it (NotFound for a visit of another
    branch). Of its three lists, only those named in `lists` are read (a click that saved
    vitals changed none); the others are None."""
    found = session.exec(_RECORD.where(Visit.id == visit_id, Visit.branch_id == branch_id)).first()
    if found is None:
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
    ) = found
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
    for name, (read, of_visit, view) in _LIST_READERS.items():
        rows = session.exec(read.where(of_visit == visit_id)).all() if name in lists else None
        setattr(record, name, None if rows is None else view(rows))
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
