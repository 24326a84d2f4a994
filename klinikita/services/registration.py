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

from sqlalchemy import and_, bindparam, exists, literal, or_, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from klinikita.db import (
    ReadConnection,
    Statements,
    as_loaded,
    column_binds,
    insert_new,
    insert_unless_open,
    new_values,
    statements,
)
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
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import take_text
from klinikita.services.visit_queue import (
    STATUS_LABELS,
    branch_zone_name,
    forget_zones,
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


def desk_options(conn: ReadConnection, branch_id: int) -> tuple[list[Option], list[Option]]:
    """The branch's active units and doctors, for the desk's choices (one round trip)."""
    branch = {"branch_id": branch_id}
    units, doctors = conn.rows_each([(_UNITS, branch), (_DOCTORS, branch)])
    return _option_rows(units), _option_rows(doctors)


def room_options(conn: ReadConnection, branch_id: int, unit_id: int | None) -> list[Option]:
    """The active rooms of one unit (none before a unit is chosen)."""
    if not unit_id:
        return []
    return _option_rows(conn.rows(_ROOMS, {"branch_id": branch_id, "unit_id": unit_id}))


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


# ----- the queue number -------------------------------------------------------------------
_COUNTER = QueueCounter.__table__


def _counted(first: postgresql.Insert | sqlite.Insert):  # noqa: ANN202
    """`first` (the counter's row for a unit and day, at 1) as the upsert that takes the
    unit's next number of the day and returns it."""
    return first.on_conflict_do_update(
        index_elements=[_COUNTER.c.branch_id, _COUNTER.c.unit_id, _COUNTER.c.visit_date],
        set_={"last_number": _COUNTER.c.last_number + 1},
    ).returning(_COUNTER.c.last_number)


_NEXT_NUMBER = {
    dialect: _counted(
        insert_for(_COUNTER).values(
            branch_id=bindparam("branch_id"),
            unit_id=bindparam("unit_id"),
            visit_date=bindparam("day", type_=_COUNTER.c.visit_date.type),
            last_number=1,
        )
    )
    for dialect, insert_for in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def next_queue_number(session: Session, branch_id: int, unit_id: int, day: date) -> int:
    """Take the unit's next number of `day` in the caller's transaction (one statement)."""
    return _next_number(statements(session), branch_id, unit_id, day)


def _next_number(st: Statements, branch_id: int, unit_id: int, day: date) -> int:
    stmt = _NEXT_NUMBER[st.dialect.name]
    return st.scalar(stmt, {"branch_id": branch_id, "unit_id": unit_id, "day": day})


# ----- registering ------------------------------------------------------------------------
# What the rules need of the branch and the four chosen rows, in one statement on the
# session's connection (a click's write: no ORM loads).
@dataclass(frozen=True)
class _Chosen:
    id: int | None
    branch_id: int | None
    is_active: bool | None
    name: str | None
    extra: object = None  # a room's unit, a doctor's main duty


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
# The visit, unless the patient already has an open one in the unit that day: the unique
# index uq_visit_open refuses it, and nothing is inserted (no id comes back).
_INSERT_UNLESS_OPEN = insert_unless_open(
    Visit.__table__, ("patient_id", "unit_id", "visit_date"), OPEN_VISIT_WHERE
)


def _numbered_visit() -> postgresql.Insert:
    """PostgreSQL: the unit's next number and the visit with it, in one statement (the
    counter's upsert as a data-modifying WITH): one round trip fewer on every Daftarkan. The
    visit is inserted unless the patient has an open one there today, as above; its id and
    number come back. Nor is anything inserted, and nothing refused, when one of the four
    chosen rows does not exist: Daftarkan sends this before the rules have looked at the
    choice (`register_visit`), and a missing row must end in their message, not in a
    foreign key's refusal."""
    table = Visit.__table__
    chosen_exist = and_(
        *(
            exists().where(model.id == bindparam(name, type_=table.c[name].type))
            for model, name in (
                (Patient, "patient_id"),
                (ServiceUnit, "unit_id"),
                (Room, "room_id"),
                (Employee, "doctor_id"),
            )
        )
    )
    taken = _counted(
        postgresql.insert(_COUNTER).from_select(
            ["branch_id", "unit_id", "visit_date", "last_number"],
            select(
                bindparam("branch_id", type_=_COUNTER.c.branch_id.type),
                bindparam("unit_id", type_=_COUNTER.c.unit_id.type),
                bindparam("day", type_=_COUNTER.c.visit_date.type),
                literal(1),
            ).where(chosen_exist),
        )
    )
    counter = taken.cte("next_number")
    values = {**column_binds(table), "queue_number": counter.c.last_number}
    return (
        postgresql.insert(table)
        .from_select(list(values), select(*values.values()).select_from(counter))
        .on_conflict_do_nothing(
            index_elements=[table.c.patient_id, table.c.unit_id, table.c.visit_date],
            index_where=text(OPEN_VISIT_WHERE),
        )
        .returning(table.c.id, table.c.queue_number)
    )


_NUMBERED_VISIT = _numbered_visit()
# Read only when that insert was refused, for the message.
_OPEN_VISIT = select(Visit.queue_number, Visit.status).where(
    Visit.branch_id == bindparam("branch_id"),
    Visit.patient_id == bindparam("patient_id"),
    Visit.unit_id == bindparam("unit_id"),
    Visit.visit_date == bindparam("day", type_=Visit.__table__.c.visit_date.type),
    or_(*(Visit.status == s for s in OPEN_STATUSES)),
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
    return errors


_PAYERS = frozenset(p.value for p in Payer)


def register_visit(
    db: Session | Statements,
    actor: audit.Actor,
    data: VisitInput,
    *,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Visit:
    """Register today's visit with the unit's next queue number (caller commits, and rolls
    back on any error so a refused attempt keeps no number). The visit returned is not in
    the session: it was written with plain statements, as a click's write is.

    `client_token` is accepted for symmetry with the other services; registering sends
    nothing to SATUSEHAT (the Encounter goes when the examination is complete). `now` (UTC)
    is the arrival time, the registration moment by default."""
    del client_token
    require(actor.duty, Action.VISIT_REGISTER)
    st = statements(db)
    ids = {
        "branch_id": actor.branch_id,
        "patient_id": data.patient_id or 0,
        "unit_id": data.unit_id or 0,
        "room_id": data.room_id or 0,
        "doctor_id": data.doctor_id or 0,
    }
    arrived = now or utcnow()
    values = {
        "branch_id": actor.branch_id,
        "patient_id": data.patient_id,
        "unit_id": data.unit_id,
        "room_id": data.room_id,
        "doctor_id": data.doctor_id,
        "payer": data.payer,
        "status": VisitStatus.REGISTERED,
        "arrived_at": arrived,
    }
    ahead = st.dialect.name == "postgresql" and _complete_choice(data)
    if ahead:
        # On PostgreSQL every statement is a round trip: the visit's insert goes with the
        # read of the chosen rows, before the rules below have looked at them; a refusal
        # then rolls it back with the rest (the caller's rollback). Its day comes from the
        # branch's time zone as remembered (`branch_zone_name`), checked below.
        day = arrived.astimezone(zone_named(branch_zone_name(st, actor.branch_id))).date()
        row = new_values(Visit, {**values, "visit_date": day, "queue_number": 0})
        found, numbered = st.rows_each([(_CHOSEN, ids), (_NUMBERED_VISIT, {**row, "day": day})])
    else:
        found = st.rows(_CHOSEN, ids)
    if not found:
        raise NotFound("Cabang aktif tidak ditemukan.")
    timezone, *chosen = found[0]
    patient, unit = _Chosen(*chosen[0:4]), _Chosen(*chosen[4:8])
    room, doctor = _Chosen(*chosen[8:13]), _Chosen(*chosen[13:18])
    errors = _validate(data, actor.branch_id, patient, unit, room, doctor)
    if errors:
        raise ValidationFailed(errors)
    today = arrived.astimezone(zone_named(timezone)).date()
    if not ahead:
        visit = _insert_numbered(st, {**values, "visit_date": today})
    elif today != day:
        # The branch's time zone changed in the last minute, across midnight: the visit
        # went in under another day. Rolled back; the next press reads the zone afresh.
        forget_zones()
        raise ServiceError("Zona waktu cabang baru saja diubah. Tekan Daftarkan sekali lagi.")
    else:
        visit = _numbered(row, numbered)
    if visit is None:
        # Already open (also when two desks register the same patient at once: the second
        # insert waits for the first's commit, then inserts nothing). The caller rolls back
        # on any error, which gives the number back.
        raise ValidationFailed({"patient_id": _already_open(st, ids, today, unit.name)})
    audit.write(st, actor, "create", ENTITY, visit.id, after=audit.snapshot(visit))
    return visit


def _complete_choice(data: VisitInput) -> bool:
    """Every field chosen and the payer one of the list: what the visit's insert needs to
    go without being refused (the rows' existence it checks itself)."""
    return bool(data.patient_id and data.unit_id and data.room_id and data.doctor_id) and (
        data.payer in _PAYERS
    )


def _insert_numbered(st: Statements, values: dict) -> Visit | None:
    """The visit with its unit's next number of its day; None when the patient already has
    an open visit there that day (the number then goes back with the caller's rollback)."""
    day = values["visit_date"]
    if st.dialect.name == "postgresql":
        row = new_values(Visit, {**values, "queue_number": 0})  # the number comes from the WITH
        return _numbered(row, st.rows(_NUMBERED_VISIT, {**row, "day": day}))
    number = _next_number(st, values["branch_id"], values["unit_id"], day)
    return insert_new(
        st, Visit, {**values, "queue_number": number}, _INSERT_UNLESS_OPEN[st.dialect.name]
    )


def _numbered(row: dict, found: list[tuple]) -> Visit | None:
    """The visit `_NUMBERED_VISIT` inserted from `row`, or None (nothing inserted)."""
    if not found:
        return None
    row["id"], row["queue_number"] = found[0]
    return as_loaded(Visit, row)


def _already_open(st: Statements, ids: dict[str, int], day: date, unit_name: str) -> str:
    found = st.rows(_OPEN_VISIT, {**ids, "day": day})
    if not found:  # ended (cancelled) at another desk in the meantime: pressing again works
        return (
            f"Kunjungan pasien ini di {unit_name} baru saja diubah di meja lain. "
            "Tekan Daftarkan sekali lagi."
        )
    queue_number, status = found[0]
    return (
        f"Pasien ini sudah terdaftar hari ini di {unit_name} dengan nomor antrean "
        f"{queue_number} (status {STATUS_LABELS[VisitStatus(status)]}). Batalkan "
        "kunjungan itu dulu bila ingin mendaftar ulang."
    )


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
