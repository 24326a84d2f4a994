"""Pemeriksaan: vital signs (nurse or midwife), SOAP, diagnoses, procedures and prescriptions.

Every write checks the actor's permission, starts the examination on the first write (status
`in_examination`, `exam_started_at` set once and never moved), and adds an audit row in the
same transaction. After the visit is complete only admin (RECORD_EDIT) may change it.
Completion itself lives in `visit_completion.py`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from klinikita.models import Diagnosis, Examination, User, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import Prescription, Procedure, VisitStatus
from klinikita.services import audit, corrections, icd9cm, icd10, versions
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from klinikita.services.permissions import Action, allows, require
from klinikita.services.text_input import take_text


# ----- vital signs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class VitalRange:
    field: str
    label: str  # for staff
    unit: str  # as staff write it
    low: float
    high: float
    whole: bool  # stored as an integer


VITAL_RANGES: tuple[VitalRange, ...] = (
    VitalRange("systolic", "Tekanan darah sistolik", "mmHg", 50, 260, True),
    VitalRange("diastolic", "Tekanan darah diastolik", "mmHg", 30, 160, True),
    VitalRange("pulse", "Nadi", "/menit", 20, 250, True),
    VitalRange("respiratory_rate", "Frekuensi napas", "/menit", 5, 80, True),
    VitalRange("temperature", "Suhu tubuh", "°C", 30, 45, False),
    VitalRange("weight", "Berat badan", "kg", 0.3, 400, False),
    VitalRange("height", "Tinggi badan", "cm", 20, 250, False),
    VitalRange("spo2", "SpO2", "%", 50, 100, True),
)
VITAL_FIELDS = tuple(v.field for v in VITAL_RANGES)
# The error key of a vitals form saved with nothing in it (shown under the form).
VITALS_EMPTY = "vitals"
EMPTY_VITALS_REFUSAL = (
    "Tanda vital masih kosong. Isi minimal satu: tekanan darah (sistolik dan diastolik), "
    "nadi, frekuensi napas, suhu tubuh, berat badan, tinggi badan atau SpO2."
)
SOAP_FIELDS = ("subjective", "objective", "assessment", "plan")
SOAP_LABELS = ("Subjektif", "Objektif", "Asesmen", "Rencana")
SOAP_MAX = 4000

_NUMBER = re.compile(r"\d+(\.\d+)?", re.ASCII)
# More characters than any plausible value has ("12345.67"): refused before it is read, so
# a pasted run of digits is never turned into a float (which ends at "inf").
NUMBER_MAX_LENGTH = 12


class NumberTooLong(ValueError):
    """A number with more digits than any plausible value (shown as out of range)."""


def _number_text(value: float) -> str:
    """A range bound as staff write it: `0,3`, `36,5`, `260`."""
    text = f"{value:g}"
    return text.replace(".", ",")


def range_text(vital: VitalRange) -> str:
    return f"{_number_text(vital.low)}–{_number_text(vital.high)} {vital.unit}"


def parse_number(raw: Any) -> float | None:
    """`36,5`, `36.5`, ` 120 ` -> a float; "" -> None; anything else raises ValueError
    (NumberTooLong for a number longer than NUMBER_MAX_LENGTH)."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(raw)
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValueError(raw)
    if isinstance(raw, int | float):
        raw = str(raw)
    text = raw.strip().replace(" ", "").replace(",", ".")
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    if len(text) > NUMBER_MAX_LENGTH:
        raise NumberTooLong(text)
    return float(text)


def parse_vitals(data: dict[str, Any]) -> dict[str, int | float | None]:
    """Check every vital sign against its plausible range; all are optional.

    Raises ValidationFailed with one message per wrong field, naming the unit."""
    values: dict[str, int | float | None] = {}
    errors: dict[str, str] = {}
    for vital in VITAL_RANGES:
        try:
            number = parse_number(data.get(vital.field))
        except NumberTooLong:
            errors[vital.field] = f"{vital.label} di luar rentang wajar ({range_text(vital)})."
            continue
        except ValueError:
            errors[vital.field] = f"{vital.label} harus berupa angka dalam {vital.unit}."
            continue
        if number is None:
            values[vital.field] = None
            continue
        if vital.whole and number != int(number):
            errors[vital.field] = f"{vital.label} ditulis tanpa desimal ({vital.unit})."
            continue
        if not vital.low <= number <= vital.high:
            errors[vital.field] = (
                f"{vital.label} {_number_text(number)} {vital.unit} di luar rentang wajar "
                f"({range_text(vital)})."
            )
            continue
        values[vital.field] = int(number) if vital.whole else round(number, 2)
    systolic, diastolic = values.get("systolic"), values.get("diastolic")
    if "diastolic" not in errors and diastolic is not None:
        if systolic is None and "systolic" not in errors:
            errors["systolic"] = "Isi juga tekanan darah sistolik (mmHg)."
        elif systolic is not None and diastolic >= systolic:
            errors["diastolic"] = (
                f"Tekanan darah diastolik ({diastolic} mmHg) harus lebih rendah dari "
                f"sistolik ({systolic} mmHg)."
            )
    if "systolic" not in errors and systolic is not None and diastolic is None:
        if "diastolic" not in errors:
            errors["diastolic"] = "Isi juga tekanan darah diastolik (mmHg)."
    if errors:
        raise ValidationFailed(errors)
    return values


# ----- loading a visit for a change ---------------------------------------------------------
COMPLETED_REFUSAL = (
    "Kunjungan ini sudah selesai. Hanya admin yang dapat mengubah pemeriksaan yang sudah selesai."
)


def visit_in_branch(session: Session, actor: audit.Actor, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    return visit


def _editable_visit(session: Session, actor: audit.Actor, visit_id: int, action: Action) -> Visit:
    """The visit as stored now, if `actor` may change its examination now (permission,
    branch, status). Its row stays locked until the commit: writes to one visit take turns
    (each then reads what the one before committed), and the worker writing a send's
    outcome takes it first too, so the two never deadlock."""
    require(actor.duty, action)
    visit = session.get(Visit, visit_id, populate_existing=True, with_for_update=True)
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    if visit.status == VisitStatus.CANCELLED:
        raise ServiceError("Kunjungan ini dibatalkan; pemeriksaannya tidak dapat diubah.")
    if visit.status == VisitStatus.COMPLETE and not allows(actor.duty, Action.RECORD_EDIT):
        raise PermissionDenied(COMPLETED_REFUSAL)
    return visit


def _send_correction(
    session: Session,
    visit: Visit,
    now: datetime,
    *,
    withdrawn: list[dict[str, Any]] | None = None,
    client_token: str | None = None,
) -> None:
    """After a change SATUSEHAT must hear of (services/corrections.py)."""
    corrections.send_correction(
        session, visit, now=now, withdrawn=withdrawn, client_token=client_token
    )


def examination_of(session: Session, visit_id: int) -> Examination | None:
    """The visit's examination as stored now, if one was written."""
    return session.exec(
        select(Examination)
        .where(Examination.visit_id == visit_id)
        .execution_options(populate_existing=True)
    ).first()


def _mark_started(session: Session, actor: audit.Actor, visit: Visit, now: datetime) -> None:
    """The first examination write starts the examination (a change of the visit's status,
    so its next version); its time never moves later."""
    started = visit.exam_started_at or now
    status = VisitStatus.IN_EXAMINATION if visit.status == VisitStatus.REGISTERED else visit.status
    if started == visit.exam_started_at and status == visit.status:
        return
    visit.exam_started_at, visit.status, visit.updated_at = started, status, now
    session.add(visit)
    audit.record(
        session,
        actor,
        "exam_start",
        "visit",
        visit.id,
        after={"status": status, "exam_started_at": started.isoformat()},
    )


def start_examination(
    session: Session, actor: audit.Actor, visit_id: int, *, now: datetime | None = None
) -> None:
    """Mulai periksa: the patient is called in. Repeating it changes nothing."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_VITALS)
    _mark_started(session, actor, visit, now or utcnow())


def _write_examination(
    session: Session,
    actor: audit.Actor,
    visit: Visit,
    exam: Examination | None,
    values: dict[str, Any],
) -> Examination:
    """Write `values` into the visit's examination `exam` (made on its first write) with its
    next version. Refused (StaleEdit) when another save changed the examination since
    `exam` was read."""
    if exam is None:
        exam = Examination(visit_id=visit.id, **values)
        session.add(exam)
        session.flush()
        return exam
    for name, value in values.items():
        setattr(exam, name, value)
    versions.save(session, exam, entity="examination", branch_id=actor.branch_id)
    return exam


def _section(exam: Examination | None, fields: tuple[str, ...]) -> dict[str, Any]:
    """The stored values of `fields` (vitals or SOAP; all None before the first write)."""
    return {f: getattr(exam, f) if exam is not None else None for f in fields}


def _check_exam_version(
    session: Session,
    actor: audit.Actor,
    exam: Examination | None,
    expected_version: int | None,
    filled_from: dict[str, Any] | None = None,
) -> None:
    """Refuse a form's save when another save changed the examination since the form was
    filled: it is not at `expected_version` (0: there was none yet). `filled_from`, the
    stored values of the section this form saves as the form was filled with them, lets a
    save through when only the other section (vitals or SOAP) was saved in between."""
    current = exam.version if exam is not None else 0
    if expected_version is None or expected_version == current:
        return
    if filled_from is not None:
        stored = _section(exam, tuple(filled_from))
        if all(stored[f] == value for f, value in filled_from.items()):
            return
    raise versions.stale_edit(
        session, "examination", exam.id if exam is not None else 0, actor.branch_id
    )


def _shown_vitals(filled_from: dict[str, Any] | None) -> dict[str, Any] | None:
    """The vitals a form was filled with, as stored values (None when unknown or unreadable,
    which leaves the plain version check)."""
    if filled_from is None:
        return None
    try:
        return parse_vitals(filled_from)
    except ValidationFailed:
        return None


def save_vitals(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    client_token: str | None = None,
    expected_version: int | None = None,
    filled_from: dict[str, Any] | None = None,
) -> int:
    """Tanda vital: each of the eight optional but not all of them (a form saved empty
    measured nothing: refused under VITALS_EMPTY), each within its plausible range, recorded
    as measured by the actor's linked employee (none when the user has no employee: Selesai
    then says so); an admin's correction of a completed visit's vitals keeps who measured them. The
    examination's id. `expected_version`: the examination's version the form loaded (0:
    none yet); `filled_from`: the vitals as the form showed them then (see
    `_check_exam_version`)."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_VITALS)
    exam = examination_of(session, visit.id)
    _check_exam_version(session, actor, exam, expected_version, _shown_vitals(filled_from))
    values = parse_vitals(data)
    if all(value is None for value in values.values()):
        raise ValidationFailed({VITALS_EMPTY: EMPTY_VITALS_REFUSAL})
    now = now or utcnow()
    _mark_started(session, actor, visit, now)
    before = _section(exam, VITAL_FIELDS)
    observation_ids = exam.observation_ids if exam is not None else None
    measured: dict[str, Any] = {"vitals_at": now}
    if visit.status != VisitStatus.COMPLETE or not any(v is not None for v in before.values()):
        # Who measured: the employee of the user saving the vitals (services/vitals_by.py).
        measured["vitals_by_id"] = session.scalar(
            select(User.employee_id).where(User.id == actor.user_id)
        )
        measured["vitals_by_user_id"] = actor.user_id
    exam = _write_examination(
        session, actor, visit, exam, {**values, **measured, "updated_at": now}
    )
    audit.record(
        session,
        actor,
        "exam_vitals",
        "examination",
        exam.id,
        before=before,
        after={**values, "visit_id": visit.id},
    )
    if any(values.get(f) != before[f] for f in VITAL_FIELDS):
        withdrawn = corrections.withdrawn_vitals(observation_ids, before, values)
        _send_correction(session, visit, now, withdrawn=withdrawn, client_token=client_token)
    return exam.id


def save_soap(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
    filled_from: dict[str, str] | None = None,
) -> int:
    """SOAP notes of the doctor (subjective, objective, assessment, plan), all free text.
    The examination's id. `expected_version`: the examination's version the form loaded
    (0: none yet); `filled_from`: the notes as the form showed them then (see
    `_check_exam_version`)."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    exam = examination_of(session, visit.id)
    shown = None if filled_from is None else {f: filled_from.get(f, "") for f in SOAP_FIELDS}
    _check_exam_version(session, actor, exam, expected_version, shown)
    errors: dict[str, str] = {}
    texts = {
        f: take_text(errors, f, data.get(f), label=label, max_length=SOAP_MAX, multiline=True)
        for f, label in zip(SOAP_FIELDS, SOAP_LABELS, strict=True)
    }
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    _mark_started(session, actor, visit, now)
    before = {f: v or "" for f, v in _section(exam, SOAP_FIELDS).items()}
    exam = _write_examination(
        session, actor, visit, exam, {**texts, "soap_by_user_id": actor.user_id, "updated_at": now}
    )
    audit.record(
        session,
        actor,
        "exam_soap",
        "examination",
        exam.id,
        before=before,
        after={**texts, "visit_id": visit.id},
    )
    return exam.id


# ----- diagnoses -----------------------------------------------------------------------------
def diagnoses_of(session: Session, visit_id: int) -> list[Diagnosis]:
    return list(
        session.exec(
            select(Diagnosis)
            .where(Diagnosis.visit_id == visit_id)
            .order_by(Diagnosis.rank, Diagnosis.id)
        ).all()
    )


def _renumber(session: Session, diagnoses: list[Diagnosis]) -> None:
    """Ranks 1..n in the given order (1 = primary)."""
    for rank, diagnosis in enumerate(diagnoses, start=1):
        if diagnosis.rank != rank:
            diagnosis.rank = rank
            session.add(diagnosis)


def add_diagnosis(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    code: str,
    *,
    now: datetime | None = None,
    client_token: str | None = None,
) -> Diagnosis:
    """The first diagnosis becomes the primary one (rank 1); later ones are secondary."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    normalized = icd10.normalize(code)
    if not normalized:
        raise ValidationFailed({"icd10": "Pilih kode ICD-10 dari hasil pencarian."})
    description = icd10.describe(normalized)
    if description is None:
        raise ValidationFailed(
            {"icd10": f'Kode ICD-10 "{normalized}" tidak dikenal. Pilih dari hasil pencarian.'}
        )
    existing = session.exec(
        select(Diagnosis.icd10_code).where(Diagnosis.visit_id == visit.id)
    ).all()
    if any(icd10.normalize(c) == normalized for c in existing):
        raise ValidationFailed({"icd10": f"Diagnosis {normalized} sudah tercatat."})
    now = now or utcnow()
    _mark_started(session, actor, visit, now)
    diagnosis = Diagnosis(
        visit_id=visit.id, rank=len(existing) + 1, icd10_code=normalized, display=description
    )
    session.add(diagnosis)
    session.flush()
    audit.record(
        session,
        actor,
        "diagnosis_add",
        "diagnosis",
        diagnosis.id,
        after={"visit_id": visit.id, "code": normalized, "rank": diagnosis.rank},
    )
    _send_correction(session, visit, now, client_token=client_token)
    return diagnosis


def _diagnosis_of_visit(session: Session, visit: Visit, diagnosis_id: int) -> Diagnosis:
    diagnosis = session.get(Diagnosis, diagnosis_id)
    if diagnosis is None or diagnosis.visit_id != visit.id:
        raise NotFound("Diagnosis tidak ditemukan pada kunjungan ini.")
    return diagnosis


def set_primary(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    diagnosis_id: int,
    *,
    client_token: str | None = None,
) -> Diagnosis:
    """Make one diagnosis the primary; the others keep their order after it."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    chosen = _diagnosis_of_visit(session, visit, diagnosis_id)
    ordered = diagnoses_of(session, visit.id)
    before = [d.icd10_code for d in ordered]
    ordered = [chosen] + [d for d in ordered if d.id != chosen.id]
    _renumber(session, ordered)
    audit.record(
        session,
        actor,
        "diagnosis_primary",
        "diagnosis",
        chosen.id,
        before={"order": before},
        after={"order": [d.icd10_code for d in ordered]},
    )
    session.flush()
    if before != [d.icd10_code for d in ordered]:
        _send_correction(session, visit, utcnow(), client_token=client_token)
    return chosen


LAST_DIAGNOSIS_REFUSAL = (
    "Kunjungan yang sudah selesai harus punya minimal satu diagnosis. "
    "Tambahkan diagnosis pengganti dulu, lalu hapus yang ini."
)


def remove_diagnosis(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    diagnosis_id: int,
    *,
    client_token: str | None = None,
) -> None:
    """Remove one; the rest close ranks (removing the primary promotes the next)."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    diagnosis = _diagnosis_of_visit(session, visit, diagnosis_id)
    if visit.status == VisitStatus.COMPLETE and len(diagnoses_of(session, visit.id)) == 1:
        raise ServiceError(LAST_DIAGNOSIS_REFUSAL)
    before = audit.snapshot(diagnosis)
    session.delete(diagnosis)
    session.flush()
    _renumber(session, diagnoses_of(session, visit.id))
    audit.record(session, actor, "diagnosis_remove", "diagnosis", diagnosis_id, before=before)
    session.flush()
    withdrawn = corrections.withdrawn_diagnosis(
        diagnosis.condition_id, diagnosis.icd10_code, diagnosis.display
    )
    _send_correction(session, visit, utcnow(), withdrawn=withdrawn, client_token=client_token)


# ----- procedures (prescriptions: services/prescribing.py) ---------------------------------
LINE_FIELDS = {  # a procedure's text: (label, longest)
    "code": ("Kode ICD-9-CM", 16),
    "description": ("Nama tindakan", 300),
    "note": ("Catatan", 500),
}


def _text(errors: dict[str, str], data: dict[str, Any], field: str) -> str:
    label, limit = LINE_FIELDS[field]
    return take_text(
        errors, field, data.get(field), label=label, max_length=limit, collapse_spaces=True
    )


def add_procedure(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    client_token: str | None = None,
) -> Procedure:
    """Tindakan: an ICD-9-CM code (services/icd9cm.py) or none; the name is required (the
    clinic's own name for it may be used), and is the code's Indonesian name, else its
    English title, when left empty. Performed by the visit's doctor, at the time it is
    recorded (Procedure.performer, performedPeriod). A coded one added to a visit SATUSEHAT
    holds goes out in its correction."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    errors: dict[str, str] = {}
    code = icd9cm.normalize(_text(errors, data, "code"))
    description, note = _text(errors, data, "description"), _text(errors, data, "note")
    problem = icd9cm.code_problem(
        code, "Pilih dari hasil pencarian, atau kosongkan kode dan tulis nama tindakannya."
    )
    if code and problem:
        errors["code"] = problem
    elif code and not description and "description" not in errors:
        description = icd9cm.shown_name(code) or ""
    if not description:
        errors.setdefault("description", "Nama tindakan wajib diisi.")
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    _mark_started(session, actor, visit, now)
    # Procedure.performer and performedPeriod: the visit's doctor, when it was recorded; one
    # added by a correction after Selesai was done during the visit (by its end).
    done = visit.status == VisitStatus.COMPLETE and visit.completed_at is not None
    procedure = Procedure(
        visit_id=visit.id,
        code=code,
        description=description,
        note=note,
        performed_by_id=visit.doctor_id,
        performed_at=visit.completed_at if done else now,
    )
    session.add(procedure)
    session.flush()
    audit.record(
        session, actor, "procedure_add", "procedure", procedure.id, after=audit.snapshot(procedure)
    )
    if code:
        _send_correction(session, visit, now, client_token=client_token)
    return procedure


def remove_procedure(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    procedure_id: int,
    *,
    client_token: str | None = None,
) -> None:
    """Remove one procedure of an editable visit, with its audit row. A coded one of a visit
    SATUSEHAT holds goes out in its correction: its Procedure, if SATUSEHAT holds one, is
    withdrawn (entered-in-error)."""
    visit = _editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    procedure = session.get(Procedure, procedure_id)
    if procedure is None or procedure.visit_id != visit.id:
        raise NotFound("Tindakan tidak ditemukan pada kunjungan ini.")
    before = audit.snapshot(procedure)
    session.delete(procedure)
    audit.record(session, actor, "procedure_remove", "procedure", procedure_id, before=before)
    session.flush()
    if (procedure.code or "").strip():
        withdrawn = corrections.withdrawn_procedure(procedure)
        _send_correction(session, visit, utcnow(), withdrawn=withdrawn, client_token=client_token)


def procedures_of(session: Session, visit_id: int) -> list[Procedure]:
    return list(
        session.exec(
            select(Procedure).where(Procedure.visit_id == visit_id).order_by(Procedure.id)
        ).all()
    )


def prescriptions_of(session: Session, visit_id: int) -> list[Prescription]:
    return list(
        session.exec(
            select(Prescription)
            .where(Prescription.visit_id == visit_id)
            .order_by(Prescription.line_no, Prescription.id)
        ).all()
    )


# Prescribing (services/prescribing.py) guards its writes the same way.
editable_visit = _editable_visit
mark_started = _mark_started
