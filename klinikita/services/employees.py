"""Kontak -> Karyawan: the staff of a branch.

Doctors, nurses, midwives and pharmacists are SATUSEHAT Practitioners: they need a NIK, and
saving one queues the lookup of their IHS number (in the same transaction as the change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_
from sqlmodel import Session, select

from klinikita.models import Employee, User
from klinikita.models.base import utcnow
from klinikita.models.enums import DOCTOR_DUTIES, Duty, Sex, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import audit, outbox, versions
from klinikita.services.accounts import user_branches
from klinikita.services.dates import BIRTH_DATE_FORMAT, parse_typed_date
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.nik import nik_problem, nik_warning
from klinikita.services.paging import PAGE_SIZE, Page, paginate
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import normalize_text, take_digits, take_text

# The main duties an employee can have, in the order the form lists them.
EMPLOYEE_DUTIES: tuple[Duty, ...] = (
    Duty.PERAWAT,
    Duty.BIDAN,
    Duty.KASIR,
    Duty.PENDAFTARAN_KASIR,
    Duty.DOKTER_UMUM,
    Duty.DOKTER_SPESIALIS,
    Duty.DOKTER_GIGI,
    Duty.DOKTER_MCU,
    Duty.APOTEKER,
    Duty.ASISTEN_APOTEKER,
    Duty.ADMIN,
)
PHARMACY_DUTIES = frozenset({Duty.APOTEKER, Duty.ASISTEN_APOTEKER})
# SATUSEHAT Practitioners: their NIK is required and looked up. Nurses and midwives measure
# vital signs, which name them as performer.
PRACTITIONER_DUTIES = DOCTOR_DUTIES | PHARMACY_DUTIES | {Duty.PERAWAT, Duty.BIDAN}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_practitioner(duty: str) -> bool:
    return duty in PRACTITIONER_DUTIES


@dataclass
class EmployeeInput:
    """What the form sends; text as typed (birth date as YYYY-MM-DD or empty)."""

    name: str
    nik: str = ""
    sex: str = ""
    birth_date: str = ""
    phone: str = ""
    email: str = ""
    main_duty: str = ""
    branch_id: int | None = None
    sip_number: str = ""  # Surat Izin Praktik, printed on the letters a doctor issues


def parse_birth_date(text: str) -> date | None:
    """The date typed as day/month/year (services/dates.py); None when empty; ValueError
    when not a date."""
    if not (text or "").strip():
        return None
    born = parse_typed_date(text)
    if born is None:
        raise ValueError(text)
    return born


def warning_for(data: EmployeeInput) -> str | None:
    """The non-blocking NIK warning (birth date or sex not matching the NIK)."""
    try:
        born = parse_birth_date(data.birth_date)
    except ValueError:
        born = None
    return nik_warning(data.nik.strip(), birth_date=born, sex=data.sex or None)


def allowed_branch_ids(session: Session, actor: audit.Actor) -> set[int]:
    user = session.get(User, actor.user_id)
    return {b.id for b in user_branches(session, user)} if user else set()


def validate(
    session: Session, actor: audit.Actor, data: EmployeeInput, *, employee_id: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    take_text(errors, "name", data.name, label="Nama karyawan", max_length=150, required=True)
    if data.main_duty not in {d.value for d in EMPLOYEE_DUTIES}:
        errors["main_duty"] = "Pilih tugas utama."
    nik = data.nik.strip()
    if nik or is_practitioner(data.main_duty):
        problem = nik_problem(nik)
        if problem and not nik and is_practitioner(data.main_duty):
            problem = (
                "NIK wajib diisi untuk tenaga kesehatan (dokter, perawat, bidan, apoteker): "
                "dipakai mencari nomor IHS di SATUSEHAT."
            )
        if problem:
            errors["nik"] = problem
    if data.sex and data.sex not in {s.value for s in Sex}:
        errors["sex"] = "Pilih jenis kelamin."
    try:
        born = parse_birth_date(data.birth_date)
    except ValueError:
        errors["birth_date"] = BIRTH_DATE_FORMAT
    else:
        if born is not None and (born > date.today() or born.year < 1900):
            errors["birth_date"] = "Tanggal lahir tidak mungkin."
    take_digits(errors, "phone", data.phone, label="Nomor telepon", allowed="+-()")
    if len(data.phone.strip()) > 32:
        errors["phone"] = "Nomor telepon terlalu panjang."
    email = take_text(errors, "email", data.email, label="Email", max_length=254)
    if email and not _EMAIL.match(email):
        errors["email"] = "Alamat email tidak valid (contoh: nama@klinik.id)."
    take_text(
        errors, "sip_number", data.sip_number, label="No. SIP", max_length=80, collapse_spaces=True
    )
    if data.branch_id is None or data.branch_id not in allowed_branch_ids(session, actor):
        errors["branch_id"] = "Pilih cabang yang boleh Anda kelola."
    if "nik" not in errors and nik and "branch_id" not in errors:
        clash = session.exec(
            select(Employee).where(Employee.branch_id == data.branch_id, Employee.nik == nik)
        ).first()
        if clash is not None and clash.id != employee_id:
            errors["nik"] = f"NIK ini sudah dipakai karyawan lain di cabang ini ({clash.name})."
    return errors


def _apply(employee: Employee, data: EmployeeInput) -> None:
    employee.name = normalize_text(data.name)
    employee.nik = data.nik.strip() or None
    employee.sex = data.sex or None
    employee.birth_date = parse_birth_date(data.birth_date)
    employee.phone = data.phone.strip()
    employee.email = normalize_text(data.email)
    employee.main_duty = data.main_duty
    employee.sip_number = " ".join(normalize_text(data.sip_number).split())
    employee.branch_id = data.branch_id
    employee.updated_at = utcnow()


def create_employee(
    session: Session,
    actor: audit.Actor,
    data: EmployeeInput,
    *,
    client_token: str | None = None,
) -> Employee:
    require(actor.duty, Action.EMPLOYEE_CREATE)
    errors = validate(session, actor, data, employee_id=None)
    if errors:
        raise ValidationFailed(errors)
    employee = Employee(name="", main_duty=data.main_duty, branch_id=data.branch_id)
    _apply(employee, data)
    session.add(employee)
    session.flush()
    if is_practitioner(employee.main_duty):
        outbox.enqueue(
            session,
            JobKind.PRACTITIONER_LOOKUP,
            employee.branch_id,
            employee.id,
            client_token=client_token,
        )
    audit.record(session, actor, "create", "employee", employee.id, after=audit.snapshot(employee))
    return employee


def _get(session: Session, actor: audit.Actor, employee_id: int) -> Employee:
    employee = session.get(Employee, employee_id)
    if employee is None or employee.branch_id not in allowed_branch_ids(session, actor):
        raise NotFound("Karyawan tidak ditemukan.")
    return employee


def update_employee(
    session: Session,
    actor: audit.Actor,
    employee_id: int,
    data: EmployeeInput,
    *,
    client_token: str | None = None,
    expected_version: int | None = None,
) -> Employee:
    """`expected_version`: the version the form loaded (services/versions.py)."""
    require(actor.duty, Action.RECORD_EDIT)
    employee = _get(session, actor, employee_id)
    versions.check(
        session, employee, expected_version, entity="employee", branch_id=actor.branch_id
    )
    errors = validate(session, actor, data, employee_id=employee.id)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(employee)
    old_nik, old_duty = employee.nik, employee.main_duty
    _apply(employee, data)
    if employee.nik != old_nik:
        # The IHS number belonged to the old NIK.
        employee.ihs_number = None
        employee.sync_status, employee.sync_error = SyncStatus.NOT_SENT, None
    versions.save(session, employee, entity="employee", branch_id=actor.branch_id)
    # A practitioner without an IHS number is looked up when the NIK or the duty changed,
    # or when no lookup ran or the last one failed; "not found" waits for "Kirim ulang".
    needs_lookup = (
        is_practitioner(employee.main_duty)
        and employee.ihs_number is None
        and (
            employee.nik != old_nik
            or not is_practitioner(old_duty)
            or employee.sync_status in (SyncStatus.NOT_SENT, SyncStatus.FAILED)
        )
    )
    if needs_lookup:
        outbox.enqueue(
            session,
            JobKind.PRACTITIONER_LOOKUP,
            employee.branch_id,
            employee.id,
            client_token=client_token,
        )
    audit.record(
        session,
        actor,
        "update",
        "employee",
        employee.id,
        before=before,
        after=audit.snapshot(employee),
    )
    return employee


def set_employee_active(
    session: Session, actor: audit.Actor, employee_id: int, active: bool
) -> Employee:
    require(actor.duty, Action.RECORD_DELETE)
    employee = _get(session, actor, employee_id)
    if employee.is_active == active:
        return employee
    before = audit.snapshot(employee)
    employee.is_active = active
    employee.updated_at = utcnow()
    session.add(employee)
    session.flush()
    audit.record(
        session,
        actor,
        "reactivate" if active else "deactivate",
        "employee",
        employee.id,
        before=before,
        after=audit.snapshot(employee),
    )
    return employee


def get_employee(session: Session, actor: audit.Actor, employee_id: int) -> Employee:
    return _get(session, actor, employee_id)


def list_employees(
    session: Session,
    branch_id: int,
    *,
    search: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page[Employee]:
    stmt = select(Employee).where(Employee.branch_id == branch_id)
    term = search.strip()
    if term:
        like = f"%{term.lower()}%"
        stmt = stmt.where(or_(func.lower(Employee.name).like(like), Employee.nik.like(f"{term}%")))
    stmt = stmt.order_by(Employee.is_active.desc(), Employee.name, Employee.id)
    return paginate(session, stmt, page, page_size)
