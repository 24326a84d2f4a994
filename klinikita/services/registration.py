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

from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from klinikita import routes
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import (
    OPEN_STATUSES,
    OPEN_VISIT_WHERE,
    Payer,
    QueueCounter,
    VisitStatus,
)
from klinikita.models.enums import DOCTOR_DUTIES
from klinikita.services import audit, versions
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.patient_records import take_bpjs_number
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import take_text
from klinikita.services.visit_queue import (
    STATUS_LABELS,
    ShownQueue,
    todays_list,
    zone_named,
)

ENTITY = "visit"
CANCEL_REASON_MAX = 300

PAYER_LABELS = {Payer.UMUM: "Umum", Payer.BPJS: "BPJS", Payer.ASURANSI: "Asuransi"}


@dataclass
class VisitInput:
    """What the desk chose; ids are None when nothing was picked."""

    patient_id: int | None = None
    unit_id: int | None = None
    room_id: int | None = None
    doctor_id: int | None = None
    payer: str = Payer.UMUM.value
    bpjs_number: str = ""  # required when the payer is BPJS


@dataclass(frozen=True)
class Option:
    value: str
    label: str


# ----- reads for the page -----------------------------------------------------------------
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
        Employee.main_duty.in_([d.value for d in DOCTOR_DUTIES]),
    )
    .order_by(Employee.name)
)
_PATIENT = select(
    Patient.id, Patient.name, Patient.mrn, Patient.nik, Patient.birth_date, Patient.bpjs_number
).where(
    Patient.id == bindparam("patient_id"),
    Patient.branch_id == bindparam("branch_id"),
    Patient.is_active == True,  # noqa: E712
)


def _option_rows(rows) -> list[Option]:  # noqa: ANN001
    return [Option(str(row_id), name) for row_id, name in rows]


def desk_options(session: Session, branch_id: int) -> tuple[list[Option], list[Option]]:
    """The branch's active units and doctors, for the desk's choices."""
    branch = {"branch_id": branch_id}
    units = session.execute(_UNITS, branch)
    doctors = session.execute(_DOCTORS, branch)
    return _option_rows(units), _option_rows(doctors)


def room_options(session: Session, branch_id: int, unit_id: int | None) -> list[Option]:
    """The active rooms of one unit (none before a unit is chosen)."""
    if not unit_id:
        return []
    return _option_rows(session.execute(_ROOMS, {"branch_id": branch_id, "unit_id": unit_id}))


@dataclass(frozen=True)
class SetupGap:
    """Something the branch lacks before anyone can be registered, and where it is added."""

    key: str  # unit, room, doctor
    message: str
    link_label: str
    href: str


_ANY_ROOM = (
    select(Room.id)
    .where(Room.branch_id == bindparam("branch_id"), Room.is_active == True)  # noqa: E712
    .limit(1)
)


def setup_gaps(units: int, rooms: int, doctors: int) -> list[SetupGap]:
    """What a branch with `units` active units, `rooms` active rooms and `doctors` active
    doctors still needs before its desk can register a visit (empty: nothing)."""
    gaps = []
    if not units:
        gaps.append(
            SetupGap(
                "unit",
                "Cabang ini belum punya unit layanan (mis. Poli Umum).",
                "Tambah unit di Referensi > Unit",
                routes.REFERENSI_UNIT,
            )
        )
    if not rooms:
        gaps.append(
            SetupGap(
                "room",
                "Cabang ini belum punya ruangan aktif untuk unit layanannya.",
                "Tambah ruangan di Referensi > Ruangan",
                routes.REFERENSI_RUANGAN,
            )
        )
    if not doctors:
        gaps.append(
            SetupGap(
                "doctor",
                "Cabang ini belum punya dokter aktif, jadi belum ada dokter yang bisa dipilih.",
                "Tambah dokter di Kontak > Karyawan",
                routes.KONTAK_KARYAWAN,
            )
        )
    return gaps


@dataclass(frozen=True)
class DeskView:
    """What Pendaftaran shows when it opens: the choices, what the branch still lacks, and
    today's queue."""

    units: list[Option]
    doctors: list[Option]
    rooms: list[Option]  # of the unit chosen by default (the only one, if so)
    queue: ShownQueue
    gaps: list[SetupGap]


def desk_view(
    session: Session,
    branch_id: int,
    *,
    queue_unit_id: int | None = None,
    show_all: bool = False,
) -> DeskView:
    """The desk's choices (the rooms of the unit when the branch has only one) and today's
    queue (of `queue_unit_id` only, if given)."""
    units, doctors = desk_options(session, branch_id)
    only_unit = int(units[0].value) if len(units) == 1 else None
    rooms = room_options(session, branch_id, only_unit)
    any_room = session.execute(_ANY_ROOM, {"branch_id": branch_id}).first() is not None
    gaps = setup_gaps(len(units), int(any_room), len(doctors))
    queue = todays_list(session, branch_id, unit_id=queue_unit_id, show_all=show_all)
    return DeskView(units, doctors, rooms, queue, gaps)


@dataclass(frozen=True)
class PickedPatient:
    id: int
    name: str
    mrn: str
    nik: str | None
    birth_date: date
    bpjs_number: str | None = None


def patient_to_register(session: Session, branch_id: int, patient_id: int) -> PickedPatient | None:
    """An active patient of the branch, as the desk shows the one it picked."""
    found = session.execute(_PATIENT, {"patient_id": patient_id, "branch_id": branch_id}).first()
    return PickedPatient(*found) if found else None


def payer_options() -> list[Option]:
    return [Option(p.value, label) for p, label in PAYER_LABELS.items()]


# ----- the queue number -------------------------------------------------------------------
_COUNTER = QueueCounter.__table__
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def next_queue_number(session: Session, branch_id: int, unit_id: int, day: date) -> int:
    """Take the unit's next number of `day` in the caller's transaction: the counter's row
    stays locked until that transaction ends, so no other desk gets the same number."""
    insert = _INSERT[session.get_bind().dialect.name]
    stmt = (
        insert(_COUNTER)
        .values(branch_id=branch_id, unit_id=unit_id, visit_date=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[_COUNTER.c.branch_id, _COUNTER.c.unit_id, _COUNTER.c.visit_date],
            set_={"last_number": _COUNTER.c.last_number + 1},
        )
        .returning(_COUNTER.c.last_number)
    )
    return session.execute(stmt).scalar_one()


# ----- registering ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Chosen:
    id: int | None
    branch_id: int | None
    is_active: bool | None
    name: str | None
    extra: object = None  # a room's unit, a doctor's main duty


# What the rules need of the branch and the four chosen rows, in one statement.
_CHOSEN = (
    select(
        Branch.timezone,
        Patient.id,
        Patient.branch_id,
        Patient.is_active,
        Patient.name,
        ServiceUnit.id,
        ServiceUnit.branch_id,
        ServiceUnit.is_active,
        ServiceUnit.name,
        Room.id,
        Room.branch_id,
        Room.is_active,
        Room.name,
        Room.unit_id,
        Employee.id,
        Employee.branch_id,
        Employee.is_active,
        Employee.name,
        Employee.main_duty,
    )
    .select_from(Branch)
    .outerjoin(Patient, Patient.id == bindparam("patient_id"))
    .outerjoin(ServiceUnit, ServiceUnit.id == bindparam("unit_id"))
    .outerjoin(Room, Room.id == bindparam("room_id"))
    .outerjoin(Employee, Employee.id == bindparam("doctor_id"))
    .where(Branch.id == bindparam("branch_id"))
)
# Read only when the visit's insert was refused, for the message.
_OPEN_VISIT = select(Visit.queue_number, Visit.status).where(
    Visit.branch_id == bindparam("branch_id"),
    Visit.patient_id == bindparam("patient_id"),
    Visit.unit_id == bindparam("unit_id"),
    Visit.visit_date == bindparam("day"),
    Visit.status.in_(OPEN_STATUSES),
)


def _validate(
    data: VisitInput,
    branch_id: int,
    patient: _Chosen,
    unit: _Chosen,
    room: _Chosen,
    doctor: _Chosen,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.patient_id:
        errors["patient_id"] = "Pilih pasien terlebih dahulu (cari atau tambah pasien baru)."
    elif patient.id is None or patient.branch_id != branch_id:
        errors["patient_id"] = "Pasien tidak ditemukan di cabang aktif."
    elif not patient.is_active:
        errors["patient_id"] = f"Pasien {patient.name} sudah dinonaktifkan."

    if not data.unit_id:
        errors["unit_id"] = "Pilih unit layanan."
    elif unit.id is None or unit.branch_id != branch_id:
        errors["unit_id"] = "Unit layanan tidak ditemukan di cabang aktif."
    elif not unit.is_active:
        errors["unit_id"] = f"Unit '{unit.name}' nonaktif; pilih unit yang aktif."

    if not data.room_id:
        errors["room_id"] = "Pilih ruangan."
    elif room.id is None or room.branch_id != branch_id:
        errors["room_id"] = "Ruangan tidak ditemukan di cabang aktif."
    elif not room.is_active:
        errors["room_id"] = f"Ruangan '{room.name}' nonaktif; pilih ruangan yang aktif."
    elif unit.id is not None and room.extra != unit.id:
        errors["room_id"] = f"Ruangan '{room.name}' bukan ruangan unit '{unit.name}'."

    if not data.doctor_id:
        errors["doctor_id"] = "Pilih dokter."
    elif doctor.id is None or doctor.branch_id != branch_id:
        errors["doctor_id"] = "Dokter tidak ditemukan di cabang aktif."
    elif doctor.extra not in DOCTOR_DUTIES:
        errors["doctor_id"] = f"{doctor.name} bukan dokter; pilih dokter."
    elif not doctor.is_active:
        errors["doctor_id"] = f"{doctor.name} sudah nonaktif; pilih dokter lain."

    if data.payer not in _PAYERS:
        errors["payer"] = "Pilih penjamin: Umum, BPJS atau Asuransi."
    elif data.payer == Payer.BPJS:
        number = take_bpjs_number(errors, "bpjs_number", data.bpjs_number)
        if not number and "bpjs_number" not in errors:
            errors["bpjs_number"] = "No. BPJS wajib diisi bila penjamin BPJS (13 digit)."
    return errors


def visit_bpjs_number(data: VisitInput) -> str | None:
    """The card number a visit keeps: the typed one for a BPJS visit (validated), else None."""
    if data.payer != Payer.BPJS:
        return None
    return take_bpjs_number({}, "bpjs_number", data.bpjs_number) or None


_PAYERS = frozenset(p.value for p in Payer)


def register_visit(
    session: Session,
    actor: audit.Actor,
    data: VisitInput,
    *,
    now: datetime | None = None,
) -> Visit:
    """Register today's visit with the unit's next queue number, or raise ValidationFailed
    with a message at each field. The chosen rows are read and checked before anything is
    written. The caller commits, and rolls back on any error, so a refused attempt keeps
    no number.

    Two desks registering the same patient in the same unit at once give one visit: the
    second waits for the first's commit and is told the first's number.

    Registering sends nothing to SATUSEHAT (the Encounter goes when the examination is
    complete). `now` (UTC) is the arrival time, the registration moment by default."""
    require(actor.duty, Action.VISIT_REGISTER)
    ids = {
        "branch_id": actor.branch_id,
        "patient_id": data.patient_id or 0,
        "unit_id": data.unit_id or 0,
        "room_id": data.room_id or 0,
        "doctor_id": data.doctor_id or 0,
    }
    found = session.execute(_CHOSEN, ids).first()
    if found is None:
        raise NotFound("Cabang aktif tidak ditemukan.")
    timezone, *chosen = found
    patient, unit = _Chosen(*chosen[0:4]), _Chosen(*chosen[4:8])
    room, doctor = _Chosen(*chosen[8:13]), _Chosen(*chosen[13:18])
    errors = _validate(data, actor.branch_id, patient, unit, room, doctor)
    if errors:
        raise ValidationFailed(errors)
    arrived = now or utcnow()
    today = arrived.astimezone(zone_named(timezone)).date()
    number = next_queue_number(session, actor.branch_id, data.unit_id, today)
    visit = _insert_unless_open(
        session,
        {
            "branch_id": actor.branch_id,
            "patient_id": data.patient_id,
            "unit_id": data.unit_id,
            "room_id": data.room_id,
            "doctor_id": data.doctor_id,
            "visit_date": today,
            "queue_number": number,
            "payer": data.payer,
            "bpjs_number": visit_bpjs_number(data),
            "status": VisitStatus.REGISTERED,
            "arrived_at": arrived,
        },
    )
    if visit is None:
        # Already open (also when two desks register the same patient at once: the second
        # insert waits for the first's commit, then inserts nothing). The caller rolls back
        # on any error, which gives the number back.
        raise ValidationFailed({"patient_id": _already_open(session, ids, today, unit.name)})
    audit.record(session, actor, "create", ENTITY, visit.id, after=audit.snapshot(visit))
    return visit


def _insert_unless_open(session: Session, values: dict) -> Visit | None:
    """The visit, unless the patient already has an open one in the unit that day: the
    unique index uq_visit_open refuses it and nothing is inserted (None)."""
    table = Visit.__table__
    insert = _INSERT[session.get_bind().dialect.name]
    stmt = (
        insert(Visit)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[table.c.patient_id, table.c.unit_id, table.c.visit_date],
            index_where=text(OPEN_VISIT_WHERE),
        )
        .returning(Visit)
    )
    return session.scalars(stmt).first()


def _already_open(session: Session, ids: dict[str, int], day: date, unit_name: str) -> str:
    found = session.execute(_OPEN_VISIT, {**ids, "day": day}).first()
    if found is None:  # ended (cancelled) at another desk in the meantime: pressing again works
        return (
            f"Kunjungan pasien ini di {unit_name} baru saja diubah di meja lain. "
            "Tekan Daftarkan sekali lagi."
        )
    queue_number, status = found
    return (
        f"Pasien ini sudah terdaftar hari ini di {unit_name} dengan nomor antrean "
        f"{queue_number} (status {STATUS_LABELS[VisitStatus(status)]}). Batalkan "
        "kunjungan itu dulu bila ingin mendaftar ulang."
    )


@dataclass(frozen=True)
class Registered:
    """Daftarkan's outcome for the desk: the visit's id and number, and today's queue as
    it stands with the visit in it."""

    visit_id: int
    queue_number: int
    queue: ShownQueue


def register_at_desk(
    session: Session,
    actor: audit.Actor,
    data: VisitInput,
    *,
    queue_unit_id: int | None = None,
    show_all: bool = False,
) -> Registered:
    """Daftarkan: `register_visit`, then today's queue as the desk lists it (of
    `queue_unit_id` only, if given), read in the same transaction."""
    visit = register_visit(session, actor, data)
    queue = todays_list(session, actor.branch_id, unit_id=queue_unit_id, show_all=show_all)
    return Registered(visit.id, visit.queue_number, queue)


# ----- cancelling -------------------------------------------------------------------------
def cancel_form_version(session: Session, actor: audit.Actor, visit_id: int) -> int:
    """The visit's version as the cancel dialog opens (0 when not in the actor's branch)."""
    visit = session.get(Visit, visit_id)
    return visit.version if visit is not None and visit.branch_id == actor.branch_id else 0


def cancel_visit(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    reason: str,
    *,
    expected_version: int | None = None,
) -> Visit:
    """Batal: a visit not complete and not already cancelled; the reason is required.
    `expected_version`: the visit's version when the dialog opened (services/versions.py)."""
    require(actor.duty, Action.VISIT_CANCEL)
    errors: dict[str, str] = {}
    reason = take_text(
        errors,
        "reason",
        reason,
        label="Alasan pembatalan",
        max_length=CANCEL_REASON_MAX,
        required=True,
        multiline=True,  # typed in a text area; its line breaks become spaces
        collapse_spaces=True,
    )
    if errors:
        raise ValidationFailed(errors)
    # Locked (PostgreSQL) so a doctor completing the same visit at this moment waits.
    visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()).first()
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    versions.check(session, visit, expected_version, entity=ENTITY, branch_id=actor.branch_id)
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
    versions.save(session, visit, entity=ENTITY, branch_id=actor.branch_id)
    audit.record(
        session, actor, "cancel", ENTITY, visit.id, before=before, after=audit.snapshot(visit)
    )
    return visit
