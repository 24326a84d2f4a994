"""Calling queue numbers ("Panggil" on Pemeriksaan) and what the waiting-room TV shows.

Queue letters: a service unit has no queue prefix of its own, so each unit of a branch gets
a letter from its place among the branch's units in the order they were created (A, B, C,
..., Z, AA, ...), inactive units included, so a letter never moves to another unit. The TV
and the spoken call show "A 12"; the number is the visit's queue number of the day.

A call records which visit was called, when, by whom and to which room (the visit's room).
Calling a visit again ("Panggil ulang") adds another call. The TV shows only numbers, units
and rooms: never a patient's name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, exists, select
from sqlmodel import Session

from klinikita.models import Branch, QueueCall, Room, ServiceUnit, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import OPEN_STATUSES, VisitStatus
from klinikita.services import audit
from klinikita.services.audit import Actor
from klinikita.services.display_tokens import DisplayScope
from klinikita.services.errors import NotFound, ServiceError
from klinikita.services.permissions import Action, require
from klinikita.services.visit_queue import branch_zone_of, zone_named, zone_time_text

ENTITY = "visit"
NEXT_SHOWN = 5  # waiting numbers the TV lists per unit
RECENT_SHOWN = 4  # earlier calls the TV lists beside the current one
NOBODY_WAITING = "Tidak ada pasien menunggu yang belum dipanggil."


def letter_for(index: int) -> str:
    """The queue letter of the unit at `index` (0-based): A..Z, then AA, AB, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def unit_letters(session: Session, branch_id: int) -> dict[int, str]:
    """Every unit of the branch (inactive ones too) with its queue letter."""
    ids = session.execute(
        select(ServiceUnit.id).where(ServiceUnit.branch_id == branch_id).order_by(ServiceUnit.id)
    ).scalars()
    return {unit_id: letter_for(i) for i, unit_id in enumerate(ids)}


def queue_label(letter: str, number: int) -> str:
    return f"{letter} {number}"


def speech_text(label: str, room_name: str) -> str:
    """What the TV says: "Nomor antrean A 12, silakan ke Ruang Periksa 1"."""
    return f"Nomor antrean {label}, silakan ke {room_name}"


@dataclass(frozen=True)
class Called:
    call_id: int
    visit_id: int
    label: str  # "A 12"
    unit_name: str
    room_name: str
    speech: str
    again: bool  # the visit had been called before (Panggil ulang)


def _today(session: Session, branch_id: int) -> date:
    return utcnow().astimezone(branch_zone_of(session, branch_id)).date()


_CALLED = exists().where(QueueCall.visit_id == Visit.id)

_VISIT = (
    select(
        Visit.id,
        Visit.branch_id,
        Visit.unit_id,
        Visit.room_id,
        Visit.queue_number,
        Visit.status,
        Visit.visit_date,
        ServiceUnit.name,
        Room.name,
        _CALLED,
    )
    .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
    .join(Room, Room.id == Visit.room_id)
)


def call_visit(session: Session, actor: Actor, visit_id: int) -> Called:
    """Call `visit_id` (a visit of today, not finished, in the actor's branch) to its room."""
    require(actor.duty, Action.QUEUE_CALL)
    found = session.execute(_VISIT.where(Visit.id == visit_id)).first()
    if found is None or found[1] != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    number, status, day = found[4:7]
    if status not in OPEN_STATUSES:
        word = "sudah selesai" if status == VisitStatus.COMPLETE else "sudah dibatalkan"
        raise ServiceError(f"Kunjungan nomor antrean {number} {word}; tidak dapat dipanggil.")
    if day != _today(session, actor.branch_id):
        raise ServiceError(f"Kunjungan nomor antrean {number} bukan antrean hari ini.")
    return _record(session, actor, found)


def call_next(session: Session, actor: Actor, unit_id: int | None = None) -> Called:
    """Call the waiting visit of today (of `unit_id`, if given) that arrived first and has
    not been called yet. Two rooms pressing at once call two different visits: on
    PostgreSQL the first one's row is locked and skipped, on SQLite writes take turns.

    On PostgreSQL a row whose lock is released between this statement's snapshot and its
    lock (the other room committed its call) is taken with an out-of-date "not called yet";
    a fresh look at the calls, made while holding the lock, tells, and the next visit is
    tried instead."""
    require(actor.duty, Action.QUEUE_CALL)
    stmt = _VISIT.where(
        Visit.branch_id == actor.branch_id,
        Visit.visit_date == _today(session, actor.branch_id),
        Visit.status == VisitStatus.REGISTERED.value,
        ~_CALLED,
    )
    if unit_id:
        stmt = stmt.where(Visit.unit_id == unit_id)
    stmt = stmt.order_by(Visit.arrived_at, Visit.id).limit(1)
    locking = session.get_bind().dialect.name == "postgresql"
    if locking:
        stmt = stmt.with_for_update(of=Visit, skip_locked=True)
    passed: list[int] = []
    while True:
        found = session.execute(stmt.where(Visit.id.not_in(passed)) if passed else stmt).first()
        if found is None:
            raise ServiceError(NOBODY_WAITING)
        if not locking or not _called_already(session, found[0]):
            return _record(session, actor, found)
        passed.append(found[0])


def _called_already(session: Session, visit_id: int) -> bool:
    """Whether a call of the visit is committed, as a new statement sees it now."""
    got = session.execute(select(QueueCall.id).where(QueueCall.visit_id == visit_id).limit(1))
    return got.first() is not None


def _record(session: Session, actor: Actor, found: tuple) -> Called:
    visit_id, branch_id, unit_id, room_id, number, _, _, unit_name, room_name, called = found
    label = queue_label(unit_letters(session, branch_id)[unit_id], number)
    call = QueueCall(
        branch_id=branch_id,
        visit_id=visit_id,
        unit_id=unit_id,
        room_id=room_id,
        called_by_user_id=actor.user_id,
    )
    session.add(call)
    session.flush()
    audit.record(
        session,
        actor,
        "queue_recall" if called else "queue_call",
        ENTITY,
        visit_id,
        after={"queue_label": label, "room": room_name},
    )
    return Called(
        call.id, visit_id, label, unit_name, room_name, speech_text(label, room_name), called
    )


def called_visit_ids(session: Session, branch_id: int) -> frozenset[int]:
    """Today's visits of the branch that have been called at least once."""
    found = session.execute(
        select(QueueCall.visit_id)
        .join(Visit, Visit.id == QueueCall.visit_id)
        .where(Visit.branch_id == branch_id, Visit.visit_date == _today(session, branch_id))
        .distinct()
    ).scalars()
    return frozenset(found)


# ----- what the TV shows ---------------------------------------------------------------------
@dataclass(frozen=True)
class ShownCall:
    call_id: int
    label: str
    unit_name: str
    room_name: str
    time: str  # HH:MM, branch time
    speech: str


@dataclass(frozen=True)
class UnitQueue:
    unit_id: int
    letter: str
    unit_name: str
    waiting: tuple[str, ...]  # the next labels, "A 13", "A 14", ...
    waiting_count: int


@dataclass(frozen=True)
class Board:
    clinic_name: str
    timezone: str
    current: ShownCall | None
    recent: tuple[ShownCall, ...]
    units: tuple[UnitQueue, ...]


_CALLS = (
    select(
        QueueCall.id,
        QueueCall.unit_id,
        Visit.queue_number,
        ServiceUnit.name,
        Room.name,
        QueueCall.called_at,
    )
    .join(Visit, Visit.id == QueueCall.visit_id)
    .join(ServiceUnit, ServiceUnit.id == QueueCall.unit_id)
    .join(Room, Room.id == QueueCall.room_id)
    .where(QueueCall.branch_id == bindparam("branch_id"), Visit.visit_date == bindparam("day"))
    .order_by(QueueCall.called_at.desc(), QueueCall.id.desc())
)

_WAITING = (
    select(Visit.unit_id, Visit.queue_number)
    .where(
        Visit.branch_id == bindparam("branch_id"),
        Visit.visit_date == bindparam("day"),
        Visit.status == VisitStatus.REGISTERED.value,
        ~_CALLED,
    )
    .order_by(Visit.unit_id, Visit.queue_number)
)


def display_board(session: Session, scope: DisplayScope) -> Board:
    """Today's board of the scope's branch (of its unit only, for a unit's token): the
    latest call, the calls before it, and per unit the numbers waiting to be called."""
    branch = session.get(Branch, scope.branch_id)
    zone = zone_named(branch.timezone if branch else None)
    params = {"branch_id": scope.branch_id, "day": utcnow().astimezone(zone).date()}
    letters = unit_letters(session, scope.branch_id)
    calls_stmt, waiting_stmt = _CALLS, _WAITING
    units_stmt = select(ServiceUnit.id, ServiceUnit.name).where(
        ServiceUnit.branch_id == scope.branch_id, ServiceUnit.is_active.is_(True)
    )
    if scope.unit_id is not None:
        calls_stmt = calls_stmt.where(QueueCall.unit_id == scope.unit_id)
        waiting_stmt = waiting_stmt.where(Visit.unit_id == scope.unit_id)
        units_stmt = units_stmt.where(ServiceUnit.id == scope.unit_id)
    calls = [
        ShownCall(
            call_id=call_id,
            label=queue_label(letters.get(unit_id, "?"), number),
            unit_name=unit_name,
            room_name=room_name,
            time=zone_time_text(called_at, zone),
            speech=speech_text(queue_label(letters.get(unit_id, "?"), number), room_name),
        )
        for call_id, unit_id, number, unit_name, room_name, called_at in session.execute(
            calls_stmt.limit(RECENT_SHOWN + 1), params
        )
    ]
    waiting: dict[int, list[int]] = defaultdict(list)
    for unit_id, number in session.execute(waiting_stmt, params):
        waiting[unit_id].append(number)
    units = tuple(
        UnitQueue(
            unit_id=unit_id,
            letter=letters[unit_id],
            unit_name=name,
            waiting=tuple(queue_label(letters[unit_id], n) for n in waiting[unit_id][:NEXT_SHOWN]),
            waiting_count=len(waiting[unit_id]),
        )
        for unit_id, name in session.execute(units_stmt.order_by(ServiceUnit.id))
    )
    return Board(
        clinic_name=branch.name if branch else "",
        timezone=str(zone),
        current=calls[0] if calls else None,
        recent=tuple(calls[1:]),
        units=units,
    )


def active_units(session: Session, branch_id: int) -> list[tuple[int, str, str]]:
    """The branch's active units as (id, queue letter, name), for choosing a TV's unit."""
    letters = unit_letters(session, branch_id)
    found = session.execute(
        select(ServiceUnit.id, ServiceUnit.name)
        .where(ServiceUnit.branch_id == branch_id, ServiceUnit.is_active.is_(True))
        .order_by(ServiceUnit.id)
    ).all()
    return [(unit_id, letters[unit_id], name) for unit_id, name in found]


def letters_by_unit_name(session: Session, branch_id: int) -> dict[str, str]:
    """Every unit of the branch (inactive ones too) by name, with its queue letter (unit
    names are unique in a branch)."""
    found = session.execute(
        select(ServiceUnit.name).where(ServiceUnit.branch_id == branch_id).order_by(ServiceUnit.id)
    ).scalars()
    return {name: letter_for(i) for i, name in enumerate(found)}
