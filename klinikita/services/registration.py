"""Pendaftaran: registering a visit (kunjungan) with its queue number, and cancelling one.

The queue number (nomor antrean) counts per branch, unit and local date. It comes from one
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING` on `queue_counter` inside the registering
transaction: the counter row stays locked until that transaction ends (PostgreSQL row lock,
SQLite write lock), so two desks registering at the same moment never get the same number.
The unique constraint `uq_visit_queue` on the visit is the backstop. A cancelled visit keeps
its number; numbers are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from klinikita.db import ReadConnection
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import Payer, QueueCounter, VisitStatus
from klinikita.models.enums import DOCTOR_DUTIES
from klinikita.services import audit
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.permissions import Action, require
from klinikita.services.visit_queue import STATUS_LABELS, local_today

ENTITY = "visit"
CANCEL_REASON_MAX = 300
OPEN_STATUSES = (VisitStatus.REGISTERED.value, VisitStatus.IN_EXAMINATION.value)

PAYER_LABELS = {Payer.UMUM: "Umum", Payer.BPJS: "BPJS", Payer.ASURANSI: "Asuransi"}


@dataclass
class VisitInput:
    """What the desk chose; ids are None when nothing was picked."""

    patient_id: int | None = None
    unit_id: int | None = None
    room_id: int | None = None
    doctor_id: int | None = None
    payer: str = Payer.UMUM.value


@dataclass(frozen=True)
class Option:
    value: str
    label: str


# ----- reads for the page -----------------------------------------------------------------
# Plain columns on the read connection (`db.read_connection()`): the desk reloads these on
# every page load and unit choice.
_UNITS = (
    select(ServiceUnit.id, ServiceUnit.name)
    .where(ServiceUnit.branch_id == bindparam("branch_id"), ServiceUnit.is_active == True)  # noqa: E712
    .order_by(ServiceUnit.name)
)
_ROOMS = (
    select(Room.id, Room.name)
    .where(
        Room.branch_id == bindparam("branch_id"),
        Room.unit_id == bindparam("unit_id"),
        Room.is_active == True,  # noqa: E712
    )
    .order_by(Room.name)
)
_DOCTORS = (
    select(Employee.id, Employee.name)
    .where(
        Employee.branch_id == bindparam("branch_id"),
        Employee.is_active == True,  # noqa: E712
        # `in_` would need the list expanded at run time, which the read connection skips
        or_(*(Employee.main_duty == d.value for d in DOCTOR_DUTIES)),
    )
    .order_by(Employee.name)
)
_PATIENT = select(Patient.id, Patient.name, Patient.mrn, Patient.nik, Patient.birth_date).where(
    Patient.id == bindparam("patient_id"),
    Patient.branch_id == bindparam("branch_id"),
    Patient.is_active == True,  # noqa: E712
)


def _option_rows(rows: list[tuple]) -> list[Option]:
    return [Option(str(row_id), name) for row_id, name in rows]


def unit_options(conn: ReadConnection, branch_id: int) -> list[Option]:
    return _option_rows(conn.rows(_UNITS, {"branch_id": branch_id}))


def room_options(conn: ReadConnection, branch_id: int, unit_id: int | None) -> list[Option]:
    """The active rooms of one unit (none before a unit is chosen)."""
    if not unit_id:
        return []
    return _option_rows(conn.rows(_ROOMS, {"branch_id": branch_id, "unit_id": unit_id}))


def doctor_options(conn: ReadConnection, branch_id: int) -> list[Option]:
    return _option_rows(conn.rows(_DOCTORS, {"branch_id": branch_id}))


@dataclass(frozen=True)
class PickedPatient:
    id: int
    name: str
    mrn: str
    nik: str | None
    birth_date: date


def patient_to_register(
    conn: ReadConnection, branch_id: int, patient_id: int
) -> PickedPatient | None:
    """An active patient of the branch, as the desk shows the one it picked."""
    found = conn.rows(_PATIENT, {"patient_id": patient_id, "branch_id": branch_id})
    return PickedPatient(*found[0]) if found else None


def payer_options() -> list[Option]:
    return [Option(p.value, label) for p, label in PAYER_LABELS.items()]


def open_visit_today(
    session: Session, branch_id: int, patient_id: int, unit_id: int, day: date
) -> Visit | None:
    """The patient's visit of `day` in the unit that is still waiting or being examined."""
    return session.exec(
        select(Visit).where(
            Visit.branch_id == branch_id,
            Visit.patient_id == patient_id,
            Visit.unit_id == unit_id,
            Visit.visit_date == day,
            Visit.status.in_(OPEN_STATUSES),
        )
    ).first()


# ----- the queue number -------------------------------------------------------------------
def next_queue_number(session: Session, branch_id: int, unit_id: int, day: date) -> int:
    """Take the unit's next number of `day` in the caller's transaction (one statement)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = QueueCounter.__table__
    stmt = insert(table).values(branch_id=branch_id, unit_id=unit_id, visit_date=day, last_number=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.branch_id, table.c.unit_id, table.c.visit_date],
        set_={"last_number": table.c.last_number + 1},
    ).returning(table.c.last_number)
    return session.connection().execute(stmt).scalar_one()


# ----- registering ------------------------------------------------------------------------
def _validate(session: Session, actor: audit.Actor, data: VisitInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    branch_id = actor.branch_id
    # The four rows in one statement; the `get`s below then find them in the session.
    session.exec(
        select(Branch, Patient, ServiceUnit, Room, Employee)
        .select_from(Branch)
        .outerjoin(Patient, Patient.id == (data.patient_id or 0))
        .outerjoin(ServiceUnit, ServiceUnit.id == (data.unit_id or 0))
        .outerjoin(Room, Room.id == (data.room_id or 0))
        .outerjoin(Employee, Employee.id == (data.doctor_id or 0))
        .where(Branch.id == branch_id)
    ).all()

    patient = session.get(Patient, data.patient_id) if data.patient_id else None
    if not data.patient_id:
        errors["patient_id"] = "Pilih pasien terlebih dahulu (cari atau tambah pasien baru)."
    elif patient is None or patient.branch_id != branch_id:
        errors["patient_id"] = "Pasien tidak ditemukan di cabang aktif."
    elif not patient.is_active:
        errors["patient_id"] = f"Pasien {patient.name} sudah dinonaktifkan."

    unit = session.get(ServiceUnit, data.unit_id) if data.unit_id else None
    if not data.unit_id:
        errors["unit_id"] = "Pilih unit layanan."
    elif unit is None or unit.branch_id != branch_id:
        errors["unit_id"] = "Unit layanan tidak ditemukan di cabang aktif."
    elif not unit.is_active:
        errors["unit_id"] = f"Unit '{unit.name}' nonaktif; pilih unit yang aktif."

    room = session.get(Room, data.room_id) if data.room_id else None
    if not data.room_id:
        errors["room_id"] = "Pilih ruangan."
    elif room is None or room.branch_id != branch_id:
        errors["room_id"] = "Ruangan tidak ditemukan di cabang aktif."
    elif not room.is_active:
        errors["room_id"] = f"Ruangan '{room.name}' nonaktif; pilih ruangan yang aktif."
    elif unit is not None and room.unit_id != unit.id:
        errors["room_id"] = f"Ruangan '{room.name}' bukan ruangan unit '{unit.name}'."

    doctor = session.get(Employee, data.doctor_id) if data.doctor_id else None
    if not data.doctor_id:
        errors["doctor_id"] = "Pilih dokter."
    elif doctor is None or doctor.branch_id != branch_id:
        errors["doctor_id"] = "Dokter tidak ditemukan di cabang aktif."
    elif doctor.main_duty not in DOCTOR_DUTIES:
        errors["doctor_id"] = f"{doctor.name} bukan dokter; pilih dokter."
    elif not doctor.is_active:
        errors["doctor_id"] = f"{doctor.name} sudah nonaktif; pilih dokter lain."

    if data.payer not in {p.value for p in Payer}:
        errors["payer"] = "Pilih penjamin: Umum, BPJS atau Asuransi."
    return errors


def register_visit(
    session: Session,
    actor: audit.Actor,
    data: VisitInput,
    *,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Visit:
    """Register today's visit with the unit's next queue number (caller commits, and rolls
    back on any error so a refused attempt keeps no number).

    `client_token` is accepted for symmetry with the other services; registering sends
    nothing to SATUSEHAT (the Encounter goes when the examination is complete). `now` (UTC)
    is the arrival time, the registration moment by default."""
    del client_token
    require(actor.duty, Action.VISIT_REGISTER)
    errors = _validate(session, actor, data)
    if errors:
        raise ValidationFailed(errors)
    branch = session.get(Branch, actor.branch_id)
    arrived = now or utcnow()
    day = local_today(branch, arrived)
    # The number first: its row lock serializes registrations of this unit and day, so the
    # open-visit check below also holds when two desks register the same patient at once.
    number = next_queue_number(session, actor.branch_id, data.unit_id, day)
    already = open_visit_today(session, actor.branch_id, data.patient_id, data.unit_id, day)
    if already is not None:
        # The caller rolls back on any error, which gives the number back.
        unit = session.get(ServiceUnit, data.unit_id)
        status = STATUS_LABELS[VisitStatus(already.status)]
        raise ValidationFailed(
            {
                "patient_id": (
                    f"Pasien ini sudah terdaftar hari ini di {unit.name} dengan nomor antrean "
                    f"{already.queue_number} (status {status}). Batalkan kunjungan itu dulu "
                    "bila ingin mendaftar ulang."
                )
            }
        )
    visit = Visit(
        branch_id=actor.branch_id,
        patient_id=data.patient_id,
        unit_id=data.unit_id,
        room_id=data.room_id,
        doctor_id=data.doctor_id,
        visit_date=day,
        queue_number=number,
        payer=data.payer,
        status=VisitStatus.REGISTERED,
        arrived_at=arrived,
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, "create", ENTITY, visit.id, after=audit.snapshot(visit))
    return visit


# ----- cancelling -------------------------------------------------------------------------
def cancel_visit(session: Session, actor: audit.Actor, visit_id: int, reason: str) -> Visit:
    """Batal: a visit not complete and not already cancelled; the reason is required."""
    require(actor.duty, Action.VISIT_CANCEL)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed({"reason": "Alasan pembatalan wajib diisi."})
    if len(reason) > CANCEL_REASON_MAX:
        raise ValidationFailed({"reason": f"Alasan maksimal {CANCEL_REASON_MAX} karakter."})
    # Locked (PostgreSQL) so a doctor completing the same visit at this moment waits.
    visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()).first()
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    if visit.status == VisitStatus.COMPLETE:
        raise ServiceError(
            f"Kunjungan nomor antrean {visit.queue_number} sudah selesai diperiksa dan tidak "
            "bisa dibatalkan."
        )
    if visit.status == VisitStatus.CANCELLED:
        raise ServiceError(f"Kunjungan nomor antrean {visit.queue_number} sudah dibatalkan.")
    before = audit.snapshot(visit)
    now = utcnow()
    visit.status = VisitStatus.CANCELLED
    visit.cancelled_at = now
    visit.cancel_reason = reason
    visit.updated_at = now
    session.add(visit)
    session.flush()
    audit.record(
        session, actor, "cancel", ENTITY, visit.id, before=before, after=audit.snapshot(visit)
    )
    return visit
