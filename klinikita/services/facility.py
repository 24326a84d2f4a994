"""Referensi: the service units (unit layanan) and rooms (ruangan) of a branch.

A unit becomes a SATUSEHAT sub-Organization and a room a Location. Saving one (a new row,
or a change of its name or active flag) queues the job that sends it, in the same
transaction as the change; the page shows the outcome live.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from klinikita.models import Room, ServiceUnit, SyncJob
from klinikita.models.base import utcnow
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import audit, outbox, versions
from klinikita.services.coordinates import parse_coordinates
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.paging import PAGE_SIZE, Page, paginate
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import invisible_problem, normalize_text

NAME_MAX = 120


@dataclass
class UnitInput:
    name: str


@dataclass
class RoomInput:
    name: str
    unit_id: int | None
    # The room's own coordinates as typed; both empty: it takes its branch's.
    latitude: str = ""
    longitude: str = ""


# ----- shared ---------------------------------------------------------------------------
def _name_problem(
    session: Session, model, branch_id: int, name: str, own_id: int | None, what: str
):  # noqa: ANN001, ANN202
    if invisible_problem(name, f"Nama {what}"):
        return invisible_problem(name, f"Nama {what}")
    if not name:
        return f"Nama {what} wajib diisi."
    if len(name) > NAME_MAX:
        return f"Nama {what} maksimal {NAME_MAX} karakter."
    clash = session.exec(
        select(model).where(model.branch_id == branch_id, func.lower(model.name) == name.lower())
    ).first()
    if clash is not None and clash.id != own_id:
        return f"Nama {what} '{clash.name}' sudah dipakai di cabang ini."
    return None


def _in_branch(session: Session, model, row_id: int, actor: audit.Actor, what: str):  # noqa: ANN001, ANN202
    row = session.get(model, row_id)
    if row is None or row.branch_id != actor.branch_id:
        raise NotFound(f"{what} tidak ditemukan di cabang aktif.")
    return row


def _save(
    session: Session,
    actor: audit.Actor,
    row,  # noqa: ANN001
    *,
    entity: str,
    kind: str,
    action: str,
    before: dict | None,
    send: bool,
    client_token: str | None,
) -> None:
    row.updated_at = utcnow()
    if row.id is None:
        session.add(row)
        session.flush()
    else:
        versions.save(session, row, entity=entity, branch_id=actor.branch_id)
    if send:
        _queue(session, kind, row, client_token)
    audit.record(session, actor, action, entity, row.id, before=before, after=audit.snapshot(row))


def _queue(session: Session, kind: str, row, client_token: str | None) -> None:  # noqa: ANN001
    """Queue the row's send; when its last send failed, that job goes again (as Kirim
    ulang would) rather than a second one beside it."""
    last = session.exec(
        select(SyncJob)
        .where(SyncJob.kind == kind, SyncJob.subject_id == row.id)
        .order_by(SyncJob.id.desc())
        .limit(1)
    ).first()
    if last is not None and last.status in (JobStatus.FAILED, JobStatus.DEAD):
        outbox.resend(session, last.id, client_token=client_token)
    else:
        outbox.enqueue(session, kind, row.branch_id, row.id, client_token=client_token)


def send_room_positions(session: Session, branch_id: int) -> int:
    """The branch's coordinates changed: every room that takes them (none of its own) is
    sent again, in the caller's transaction. A room SATUSEHAT holds is updated in place
    (PUT: sent before without a position, or with the old one); an active room not there
    yet (refused for want of coordinates) is created. Returns how many were queued."""
    rooms = session.exec(
        select(Room).where(
            Room.branch_id == branch_id,
            or_(Room.latitude.is_(None), Room.longitude.is_(None)),
            or_(Room.is_active.is_(True), func.coalesce(Room.ihs_id, "") != ""),
        )
    ).all()
    for room in rooms:
        _queue(session, JobKind.LOCATION_CREATE, room, None)
    return len(rooms)


# ----- service units --------------------------------------------------------------------
def list_units(
    session: Session, branch_id: int, page: int = 1, page_size: int = PAGE_SIZE
) -> Page[ServiceUnit]:
    stmt = (
        select(ServiceUnit)
        .where(ServiceUnit.branch_id == branch_id)
        .order_by(ServiceUnit.is_active.desc(), ServiceUnit.name, ServiceUnit.id)
    )
    return paginate(session, stmt, page, page_size)


def active_units(session: Session, branch_id: int) -> list[ServiceUnit]:
    """The units a room may belong to (a branch has a handful)."""
    return list(
        session.exec(
            select(ServiceUnit)
            .where(ServiceUnit.branch_id == branch_id, ServiceUnit.is_active == True)  # noqa: E712
            .order_by(ServiceUnit.name)
        ).all()
    )


def create_unit(
    session: Session, actor: audit.Actor, data: UnitInput, *, client_token: str | None = None
) -> ServiceUnit:
    require(actor.duty, Action.UNIT_CREATE)
    name = normalize_text(data.name)
    problem = _name_problem(session, ServiceUnit, actor.branch_id, name, None, "unit layanan")
    if problem:
        raise ValidationFailed({"name": problem})
    unit = ServiceUnit(branch_id=actor.branch_id, name=name)
    _save(
        session,
        actor,
        unit,
        entity="service_unit",
        kind=JobKind.ORGANIZATION_CREATE,
        action="create",
        before=None,
        send=True,
        client_token=client_token,
    )
    return unit


def update_unit(
    session: Session,
    actor: audit.Actor,
    unit_id: int,
    data: UnitInput,
    *,
    client_token: str | None = None,
    expected_version: int | None = None,
) -> ServiceUnit:
    """`expected_version`: the version the form loaded (services/versions.py)."""
    require(actor.duty, Action.RECORD_EDIT)
    unit = _in_branch(session, ServiceUnit, unit_id, actor, "Unit layanan")
    versions.check(
        session, unit, expected_version, entity="service_unit", branch_id=actor.branch_id
    )
    name = normalize_text(data.name)
    problem = _name_problem(session, ServiceUnit, unit.branch_id, name, unit.id, "unit layanan")
    if problem:
        raise ValidationFailed({"name": problem})
    before = audit.snapshot(unit)
    changed = unit.name != name
    unit.name = name
    _save(
        session,
        actor,
        unit,
        entity="service_unit",
        kind=JobKind.ORGANIZATION_CREATE,
        action="update",
        before=before,
        send=changed,
        client_token=client_token,
    )
    return unit


def set_unit_active(
    session: Session,
    actor: audit.Actor,
    unit_id: int,
    active: bool,
    *,
    client_token: str | None = None,
) -> ServiceUnit:
    """Nonaktifkan / aktifkan kembali. A unit with active rooms stays active."""
    require(actor.duty, Action.RECORD_DELETE)
    unit = _in_branch(session, ServiceUnit, unit_id, actor, "Unit layanan")
    if unit.is_active == active:
        return unit
    if not active:
        rooms = session.exec(
            select(func.count())
            .select_from(Room)
            .where(Room.unit_id == unit.id, Room.is_active == True)  # noqa: E712
        ).one()
        if rooms:
            raise ServiceError(
                f"Unit '{unit.name}' masih punya {rooms} ruangan aktif. "
                "Nonaktifkan atau pindahkan ruangannya dulu."
            )
    before = audit.snapshot(unit)
    unit.is_active = active
    _save(
        session,
        actor,
        unit,
        entity="service_unit",
        kind=JobKind.ORGANIZATION_CREATE,
        action="reactivate" if active else "deactivate",
        before=before,
        send=True,
        client_token=client_token,
    )
    return unit


# ----- rooms ----------------------------------------------------------------------------
def list_rooms(
    session: Session, branch_id: int, page: int = 1, page_size: int = PAGE_SIZE
) -> Page[tuple[Room, ServiceUnit | None]]:
    stmt = (
        select(Room, ServiceUnit)
        .join(ServiceUnit, ServiceUnit.id == Room.unit_id, isouter=True)
        .where(Room.branch_id == branch_id)
        .order_by(Room.is_active.desc(), Room.name, Room.id)
    )
    return paginate(session, stmt, page, page_size)


def _room_errors(session: Session, actor: audit.Actor, data: RoomInput, room: Room | None):
    errors: dict[str, str] = {}
    name = normalize_text(data.name)
    own_id = room.id if room else None
    problem = _name_problem(session, Room, actor.branch_id, name, own_id, "ruangan")
    if problem:
        errors["name"] = problem
    unit = session.get(ServiceUnit, data.unit_id) if data.unit_id else None
    if unit is None or unit.branch_id != actor.branch_id:
        errors["unit_id"] = "Pilih unit layanan ruangan ini."
    elif not unit.is_active and (room is None or room.unit_id != unit.id):
        errors["unit_id"] = f"Unit '{unit.name}' nonaktif; pilih unit yang aktif."
    errors |= parse_coordinates(data.latitude, data.longitude).errors
    return errors


def create_room(
    session: Session, actor: audit.Actor, data: RoomInput, *, client_token: str | None = None
) -> Room:
    require(actor.duty, Action.ROOM_CREATE)
    errors = _room_errors(session, actor, data, None)
    if errors:
        raise ValidationFailed(errors)
    position = parse_coordinates(data.latitude, data.longitude)
    room = Room(
        branch_id=actor.branch_id,
        unit_id=data.unit_id,
        name=normalize_text(data.name),
        latitude=position.latitude,
        longitude=position.longitude,
    )
    _save(
        session,
        actor,
        room,
        entity="room",
        kind=JobKind.LOCATION_CREATE,
        action="create",
        before=None,
        send=True,
        client_token=client_token,
    )
    return room


def update_room(
    session: Session,
    actor: audit.Actor,
    room_id: int,
    data: RoomInput,
    *,
    client_token: str | None = None,
    expected_version: int | None = None,
) -> Room:
    """`expected_version`: the version the form loaded (services/versions.py)."""
    require(actor.duty, Action.RECORD_EDIT)
    room = _in_branch(session, Room, room_id, actor, "Ruangan")
    versions.check(session, room, expected_version, entity="room", branch_id=actor.branch_id)
    errors = _room_errors(session, actor, data, room)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(room)
    name = normalize_text(data.name)
    position = parse_coordinates(data.latitude, data.longitude)
    changed = room.name != name or room.unit_id != data.unit_id
    changed |= (room.latitude, room.longitude) != (position.latitude, position.longitude)
    room.name, room.unit_id = name, data.unit_id
    room.latitude, room.longitude = position.latitude, position.longitude
    _save(
        session,
        actor,
        room,
        entity="room",
        kind=JobKind.LOCATION_CREATE,
        action="update",
        before=before,
        send=changed,
        client_token=client_token,
    )
    return room


def set_room_active(
    session: Session,
    actor: audit.Actor,
    room_id: int,
    active: bool,
    *,
    client_token: str | None = None,
) -> Room:
    require(actor.duty, Action.RECORD_DELETE)
    room = _in_branch(session, Room, room_id, actor, "Ruangan")
    if room.is_active == active:
        return room
    if active:
        unit = session.get(ServiceUnit, room.unit_id) if room.unit_id else None
        if unit is not None and not unit.is_active:
            raise ServiceError(f"Unit '{unit.name}' nonaktif; aktifkan unitnya dulu.")
    before = audit.snapshot(room)
    room.is_active = active
    _save(
        session,
        actor,
        room,
        entity="room",
        kind=JobKind.LOCATION_CREATE,
        action="reactivate" if active else "deactivate",
        before=before,
        send=True,
        client_token=client_token,
    )
    return room
