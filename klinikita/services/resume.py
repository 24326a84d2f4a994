"""Resume: one patient's visits, newest first, as cards for the screen and for print.

A page costs a fixed number of queries whatever the patient's history: the page of visits
(joined with unit, room and doctor names), then the examinations, diagnoses, procedures
and prescriptions of exactly those visits, one query each. Visits are read by
`visit.patient_id` (indexed), so a patient with hundreds of visits pages as fast as one
with three.

What a card holds follows the reader's duty (services/permissions.py): the administrative
part (dates, unit, doctor, payer, queue, status, encounter) for whoever may open the Resume;
diagnoses, vital signs, SOAP and procedures only with VIEW_CLINICAL; prescriptions only
with VIEW_PRESCRIPTION. Content a duty may not read is not queried at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.integrations.satusehat.fhir import VITAL_SIGNS
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.allergies import PatientAllergy
from klinikita.models.clinical import (
    Diagnosis,
    Examination,
    Prescription,
    PrescriptionIngredient,
    Procedure,
    VisitStatus,
)
from klinikita.models.enums import Sex, SyncStatus
from klinikita.models.pharmacy import DrugItem
from klinikita.services import allergies as allergy_rules
from klinikita.services import icd10, satusehat_errors
from klinikita.services.patients import format_date
from klinikita.services.permissions import Action, allows, require
from klinikita.services.visit_queue import STATUS_LABELS, local_time_text

PAGE_SIZE = 10

SYNC_STATE_LABELS = {
    SyncStatus.NOT_SENT: "belum dikirim",
    SyncStatus.SENDING: "sedang dikirim",
    SyncStatus.SENT: "terkirim",
    SyncStatus.NOT_FOUND: "tidak ditemukan",
    SyncStatus.FAILED: "gagal dikirim",
}


@dataclass
class LabelValue:
    label: str
    value: str


@dataclass
class DiagnosisLine:
    code: str
    display: str  # the Indonesian name when the code is listed, else the ICD-10 English
    primary: bool
    condition_id: str
    english: str = ""  # the ICD-10 English under an Indonesian name ("" when not shown)


def diagnosis_line(code: str, stored: str, primary: bool, condition_id: str) -> DiagnosisLine:
    """A diagnosis as staff read it (services/icd10.shown_names)."""
    display, english = icd10.shown_names(code, stored)
    return DiagnosisLine(code, display, primary, condition_id, english)


@dataclass
class VisitCard:
    visit_id: int
    date_text: str  # 25 Nov 2026, the branch's local date
    time_text: str  # 08:15-09:02 (arrival to completion), branch time
    unit: str
    room: str
    doctor: str
    payer: str
    queue_number: int
    status: str
    status_label: str
    encounter_id: str
    sync_status: str
    sync_label: str  # the sync state in words, shown when there is no encounter id
    sync_error: str  # in words staff can act on (services/satusehat_errors.py)
    cancel_reason: str
    diagnoses: list[DiagnosisLine] = field(default_factory=list)
    vitals: list[LabelValue] = field(default_factory=list)
    soap: list[LabelValue] = field(default_factory=list)  # only the parts written
    procedures: list[str] = field(default_factory=list)
    prescriptions: list[str] = field(default_factory=list)
    sync_detail: str = ""  # SATUSEHAT's own text, for Detail
    allergies: list[str] = field(default_factory=list)  # recorded in this visit
    # The visit's other SATUSEHAT resources beside its Encounter: label ("Procedure 93.94",
    # "AllergyIntolerance Penisilin"), id.
    resource_ids: list[LabelValue] = field(default_factory=list)


@dataclass(frozen=True)
class PatientHeader:
    id: int
    mrn: str
    name: str
    nik: str
    birth_date: str
    sex: str
    ihs_number: str


@dataclass(frozen=True)
class ResumePage:
    patient: PatientHeader | None
    cards: list[VisitCard]
    page: int
    page_size: int
    total: int
    # What the cards may hold for this reader (False: that part is left out, not empty).
    clinical: bool = False
    prescriptions: bool = False
    # The patient's active allergies (services/allergies.py `as_dict`), for whoever reads
    # clinical notes or prescriptions; empty otherwise.
    allergies: list[dict] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return str(int(value))


def vitals_lines(exam: Examination | None) -> list[LabelValue]:
    """The recorded vitals with their units, in the order staff read them."""
    if exam is None:
        return []
    lines = []
    if exam.systolic is not None or exam.diastolic is not None:
        bp = f"{_number(exam.systolic) or '-'}/{_number(exam.diastolic) or '-'} mmHg"
        lines.append(LabelValue("Tekanan darah", bp))
    for label, value, unit in (
        ("Nadi", exam.pulse, "x/menit"),
        ("Napas", exam.respiratory_rate, "x/menit"),
        ("Suhu", exam.temperature, "°C"),
        ("SpO2", exam.spo2, "%"),
        ("Berat badan", exam.weight, "kg"),
        ("Tinggi badan", exam.height, "cm"),
    ):
        if value is not None:
            lines.append(LabelValue(label, f"{_number(value)} {unit}"))
    return lines


def soap_lines(exam: Examination | None) -> list[LabelValue]:
    if exam is None:
        return []
    parts = (
        ("S (Subjektif)", exam.subjective),
        ("O (Objektif)", exam.objective),
        ("A (Asesmen)", exam.assessment),
        ("P (Rencana)", exam.plan),
    )
    return [LabelValue(label, text.strip()) for label, text in parts if text and text.strip()]


def prescription_text(rx_line: Prescription, ingredients: Sequence[str] = ()) -> str:
    """'Paracetamol 500 mg tablet, 10, 3 x sehari 1 tablet, 3 hari, sesudah makan'; a line
    from the drug master starts with its number (R/1), a racikan names its ingredients, and
    a line sent to SATUSEHAT ends with its MedicationRequest id, and a dispensed one with its
    MedicationDispense id beside it."""
    from_master = rx_line.item_id is not None or rx_line.is_compound
    head = " ".join(p for p in (rx_line.medicine, rx_line.form) if p)
    if rx_line.is_compound:
        head = f"{rx_line.medicine} (racikan {rx_line.form})"
    if from_master:
        head = f"R/{rx_line.line_no} {head}"
    parts = [head]
    if ingredients:
        parts.append("bahan: " + "; ".join(ingredients))
    if rx_line.quantity is not None:
        parts.append(f"jumlah {_number(rx_line.quantity)}")
    use = " ".join(p for p in (rx_line.frequency, rx_line.dose) if p)
    if use:
        parts.append(use)
    if rx_line.duration_days:
        parts.append(f"{rx_line.duration_days} hari")
    if rx_line.instructions:
        parts.append(rx_line.instructions)
    text = ", ".join(parts)
    if rx_line.medication_request_id:
        text += f" · MedicationRequest {rx_line.medication_request_id}"
    if rx_line.medication_dispense_id:
        text += f" · MedicationDispense {rx_line.medication_dispense_id}"
    return text


def _ingredient_texts(session: Session, line_ids: list[int]) -> dict[int, list[str]]:
    """Per racikan line id, its ingredients as 'Paracetamol 500 mg tablet 2 tablet
    (tiap racikan 100 mg)'."""
    found: dict[int, list[str]] = defaultdict(list)
    if not line_ids:
        return found
    rows = session.exec(
        select(PrescriptionIngredient, DrugItem)
        .join(DrugItem, DrugItem.id == PrescriptionIngredient.item_id)
        .where(PrescriptionIngredient.prescription_id.in_(line_ids))
        .order_by(PrescriptionIngredient.id)
    ).all()
    for part, item in rows:
        each = f" (tiap racikan {part.dose_text})" if part.dose_text else ""
        found[part.prescription_id].append(f"{item.name} {part.quantity} {item.unit}{each}")
    return found


def procedure_text(proc: Procedure) -> str:
    text = f"{proc.code} {proc.description}".strip() if proc.code else proc.description
    return f"{text} ({proc.note})" if proc.note else text


def allergy_text(allergy: PatientAllergy) -> str:
    """`Penisilin (Sedang): gatal`, or `Tidak ada alergi`, with `(dicabut)` when withdrawn."""
    text = allergy.display
    severity = allergy_rules.SEVERITY_LABELS.get(allergy.severity, "")
    if severity:
        text += f" ({severity})"
    if allergy.reaction:
        text += f": {allergy.reaction}"
    return text if allergy.active else f"{text} (dicabut)"


def _resource_ids(
    diagnoses: list[Diagnosis],
    exam: Examination | None,
    procedures: list[Procedure],
    allergies: list[PatientAllergy],
) -> list[LabelValue]:
    """The ids SATUSEHAT gave the visit's resources beside its Encounter: its Conditions,
    vital-sign Observations, Procedures and AllergyIntolerances (what the reader may see)."""
    found = [
        LabelValue(f"Condition {d.icd10_code}", d.condition_id) for d in diagnoses if d.condition_id
    ]
    observation_ids = (exam.observation_ids or {}) if exam is not None else {}
    found += [
        LabelValue(f"Observation {vital.label}", str(observation_ids[vital.loinc]))
        for vital in VITAL_SIGNS
        if observation_ids.get(vital.loinc)
    ]
    found += [
        LabelValue(f"Procedure {p.code}".strip(), p.resource_id)
        for p in procedures
        if p.resource_id
    ]
    found += [
        LabelValue(f"AllergyIntolerance {a.display}", a.resource_id)
        for a in allergies
        if a.resource_id
    ]
    return found


def _time_span(visit: Visit, branch: Branch | None) -> str:
    start = local_time_text(visit.arrived_at, branch)
    end = local_time_text(visit.completed_at or visit.cancelled_at, branch)
    return f"{start}-{end}" if end else start


def patient_header(session: Session, branch_id: int, patient_id: int) -> PatientHeader | None:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.branch_id != branch_id:
        return None
    try:
        sex = Sex(patient.sex).label
    except ValueError:
        sex = patient.sex or ""
    return PatientHeader(
        id=patient.id,
        mrn=patient.mrn,
        name=patient.name,
        nik=patient.nik or "",
        birth_date=format_date(patient.birth_date),
        sex=sex,
        ihs_number=patient.ihs_number or "",
    )


def patient_visits(
    session: Session,
    branch_id: int,
    patient_id: int,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    *,
    duty: str,
) -> ResumePage:
    """One page of the patient's visits in the branch, newest first, holding what `duty`
    may read (PermissionDenied without VIEW_RESUME). A patient of another branch (or none)
    gives an empty page with no header."""
    require(duty, Action.VIEW_RESUME)
    clinical = allows(duty, Action.VIEW_CLINICAL)
    with_prescriptions = allows(duty, Action.VIEW_PRESCRIPTION)
    header = patient_header(session, branch_id, patient_id)
    if header is None:
        return ResumePage(None, [], 1, page_size, 0, clinical, with_prescriptions)
    where = (Visit.branch_id == branch_id, Visit.patient_id == patient_id)
    total = session.exec(select(func.count()).select_from(Visit).where(*where)).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    stmt = (
        select(Visit, ServiceUnit.name, Room.name, Employee.name)
        .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .join(Room, Room.id == Visit.room_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .where(*where)
        .order_by(Visit.visit_date.desc(), Visit.arrived_at.desc(), Visit.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    rows = session.exec(stmt).all()
    ids = [visit.id for visit, *_ in rows]
    exams: dict[int, Examination] = {}
    diagnoses: dict[int, list[Diagnosis]] = defaultdict(list)
    procedures: dict[int, list[Procedure]] = defaultdict(list)
    prescriptions: dict[int, list[Prescription]] = defaultdict(list)
    if ids and clinical:
        for exam in session.exec(select(Examination).where(Examination.visit_id.in_(ids))):
            exams[exam.visit_id] = exam
        for dx in session.exec(
            select(Diagnosis)
            .where(Diagnosis.visit_id.in_(ids))
            .order_by(Diagnosis.rank, Diagnosis.id)
        ):
            diagnoses[dx.visit_id].append(dx)
        for proc in session.exec(
            select(Procedure).where(Procedure.visit_id.in_(ids)).order_by(Procedure.id)
        ):
            procedures[proc.visit_id].append(proc)
    allergies: dict[int, list[PatientAllergy]] = defaultdict(list)
    shown_allergies: list[dict] = []
    if clinical or with_prescriptions:
        shown_allergies = [
            allergy_rules.as_dict(a) for a in allergy_rules.active_rows(session, patient_id)
        ]
        for allergy in session.exec(
            select(PatientAllergy)
            .where(PatientAllergy.recorded_visit_id.in_(ids))
            .order_by(PatientAllergy.id)
        ):
            allergies[allergy.recorded_visit_id].append(allergy)
    if ids and with_prescriptions:
        for line in session.exec(
            select(Prescription)
            .where(Prescription.visit_id.in_(ids))
            .order_by(Prescription.line_no, Prescription.id)
        ):
            prescriptions[line.visit_id].append(line)
    ingredients = _ingredient_texts(
        session, [p.id for lines in prescriptions.values() for p in lines if p.is_compound]
    )
    branch = session.get(Branch, branch_id)
    cards = []
    for visit, unit_name, room_name, doctor_name in rows:
        try:
            status_label = STATUS_LABELS[VisitStatus(visit.status)]
        except ValueError:
            status_label = visit.status
        try:
            sync_label = SYNC_STATE_LABELS[SyncStatus(visit.sync_status)]
        except ValueError:
            sync_label = visit.sync_status
        exam = exams.get(visit.id)
        cards.append(
            VisitCard(
                visit_id=visit.id,
                date_text=format_date(visit.visit_date),
                time_text=_time_span(visit, branch),
                unit=unit_name,
                room=room_name,
                doctor=doctor_name,
                payer=visit.payer.upper() if visit.payer == "bpjs" else visit.payer.title(),
                queue_number=visit.queue_number,
                status=visit.status,
                status_label=status_label,
                encounter_id=visit.encounter_id or "",
                sync_status=visit.sync_status,
                sync_label=sync_label,
                sync_error=_explained(visit).message,
                sync_detail=_explained(visit).detail,
                cancel_reason=visit.cancel_reason,
                diagnoses=[
                    diagnosis_line(d.icd10_code, d.display, d.rank == 1, d.condition_id or "")
                    for d in diagnoses[visit.id]
                ],
                vitals=vitals_lines(exam),
                soap=soap_lines(exam),
                procedures=[procedure_text(p) for p in procedures[visit.id]],
                prescriptions=[
                    prescription_text(p, ingredients.get(p.id, ())) for p in prescriptions[visit.id]
                ],
                allergies=[allergy_text(a) for a in allergies[visit.id]],
                resource_ids=_resource_ids(
                    diagnoses[visit.id], exam, procedures[visit.id], allergies[visit.id]
                ),
            )
        )
    return ResumePage(
        header, cards, page, page_size, total, clinical, with_prescriptions, shown_allergies
    )


def _explained(visit: Visit) -> satusehat_errors.Explained:
    subject = satusehat_errors.Subject(visit.branch_id, visit.patient_id, visit.id)
    return satusehat_errors.explain(visit.sync_error, subject, what="data kunjungan ini")
