"""Today's visits of a branch, as the registration desk and the examination rooms see them.

One read shared by Pendaftaran and Pemeriksaan: the branch's local date, the visits of that
date with patient, unit, room and doctor names, newest queue number last.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import OPEN_STATUSES, VisitStatus

DEFAULT_ZONE = "Asia/Jakarta"

STATUS_LABELS = {
    VisitStatus.REGISTERED: "menunggu",
    VisitStatus.IN_EXAMINATION: "diperiksa",
    VisitStatus.COMPLETE: "selesai",
    VisitStatus.CANCELLED: "batal",
}


def zone_named(name: str | None) -> ZoneInfo:
    """A branch's stored time zone name as a zone (WIB when unset or unknown)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def branch_zone(branch: Branch | None) -> ZoneInfo:
    return zone_named(branch.timezone if branch else None)


def local_today(branch: Branch | None, now: datetime | None = None) -> date:
    """The branch's own calendar date (a visit at 00:30 WIT is the new day in Jayapura)."""
    return (now or utcnow()).astimezone(branch_zone(branch)).date()


def local_time_text(moment: datetime | None, branch: Branch | None, fmt: str = "%H:%M") -> str:
    """A stored UTC time shown in the branch's zone; "" when not recorded."""
    return zone_time_text(moment, branch_zone(branch), fmt)


def zone_time_text(moment: datetime | None, zone: ZoneInfo, fmt: str = "%H:%M") -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    if fmt == "%H:%M":
        return f"{local.hour:02d}:{local.minute:02d}"
    return local.strftime(fmt)


class QueueRow(NamedTuple):
    visit_id: int
    queue_number: int
    unit_id: int
    unit_name: str
    room_name: str
    doctor_id: int
    doctor_name: str
    patient_id: int
    patient_name: str
    mrn: str
    payer: str
    status: str
    status_label: str
    arrived_time: str  # HH:MM, branch time
    sync_status: str
    encounter_id: str
    cancel_reason: str


# ----- what a page lists ------------------------------------------------------------------
# Finished and cancelled visits a list shows before "Tampilkan semua", so that neither the
# read nor the update sent to every open desk and room grows with the day.
FINISHED_SHOWN = 10


class ShownQueue(NamedTuple):
    rows: list[QueueRow]
    # Finished or cancelled visits the short list leaves out (whether or not it is short
    # now): the page offers "Tampilkan semua" / "Ringkas" when there are any.
    hidden: int


def list_key(unit_id: int | None, show_all: bool) -> tuple:
    """What tabs showing the same list share one read under (`live.shared`): Pendaftaran's
    "Semua unit" list and Pemeriksaan's are the same list."""
    return ("list", unit_id or None, show_all)


_BRANCH_ZONE = select(Branch.timezone).where(Branch.id == bindparam("branch_id"))


def branch_zone_of(session: Session, branch_id: int) -> ZoneInfo:
    """The branch's time zone as stored now (WIB when unset or unknown)."""
    return zone_named(session.execute(_BRANCH_ZONE, {"branch_id": branch_id}).scalar())


_FINISHED = (VisitStatus.COMPLETE.value, VisitStatus.CANCELLED.value)


def _queue_select(unit: bool, doctor: bool, short: bool = False):  # noqa: ANN202
    """Today's visits of a branch (of a unit, of a doctor); `short`: every open visit but
    only the `finished_shown` finished or cancelled ones registered last, and as a last
    column how many finished or cancelled visits there are in all."""
    extra = []
    if short:
        other = aliased(Visit)
        finished = [
            other.branch_id == bindparam("branch_id"),
            other.visit_date == bindparam("day"),
            other.status.in_(_FINISHED),
        ]
        if unit:
            finished.append(other.unit_id == bindparam("unit_id"))
        extra.append(select(func.count()).where(*finished).scalar_subquery())
        latest = (
            select(other.id)
            .where(*finished)
            .order_by(other.id.desc())
            .limit(bindparam("finished_shown"))
        )
    stmt = (
        select(
            Visit.id,
            Visit.queue_number,
            Visit.unit_id,
            ServiceUnit.name,
            Room.name,
            Visit.doctor_id,
            Employee.name,
            Visit.patient_id,
            Patient.name,
            Patient.mrn,
            Visit.payer,
            Visit.status,
            Visit.arrived_at,
            Visit.sync_status,
            Visit.encounter_id,
            Visit.cancel_reason,
            *extra,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .join(Room, Room.id == Visit.room_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .where(Visit.branch_id == bindparam("branch_id"), Visit.visit_date == bindparam("day"))
        .order_by(ServiceUnit.name, Visit.queue_number)
    )
    if unit:
        stmt = stmt.where(Visit.unit_id == bindparam("unit_id"))
    if doctor:
        stmt = stmt.where(Visit.doctor_id == bindparam("doctor_id"))
    if short:
        stmt = stmt.where(or_(Visit.status.in_(OPEN_STATUSES), Visit.id.in_(latest)))
    return stmt


def todays_queue(
    session: Session,
    branch_id: int,
    *,
    unit_id: int | None = None,
    doctor_id: int | None = None,
    statuses: tuple[str, ...] | None = None,
    on: date | None = None,
) -> list[QueueRow]:
    """The visits of one local day (today by default), by unit then queue number."""
    zone = branch_zone_of(session, branch_id)
    params: dict = {"branch_id": branch_id, "day": on or utcnow().astimezone(zone).date()}
    if unit_id:
        params["unit_id"] = unit_id
    if doctor_id:
        params["doctor_id"] = doctor_id
    found = session.execute(_queue_select(bool(unit_id), bool(doctor_id)), params)
    rows = [_queue_row(r, zone) for r in found]
    # A day's queue is short: the status filter needs no statement of its own.
    return [r for r in rows if r.status in statuses] if statuses else rows


def todays_list(
    session: Session,
    branch_id: int,
    *,
    unit_id: int | None = None,
    show_all: bool = False,
    finished_shown: int = FINISHED_SHOWN,
) -> ShownQueue:
    """What Pendaftaran and Pemeriksaan list of today's queue (of `unit_id` only, if given):
    every visit still waiting or in examination and, of the finished and cancelled ones, the
    `finished_shown` registered last (all of them with `show_all`), in the queue's order.
    The boards read this on every change, Daftarkan in its own transaction."""
    zone = branch_zone_of(session, branch_id)
    params: dict = {
        "branch_id": branch_id,
        "day": utcnow().astimezone(zone).date(),
        "finished_shown": 1_000_000 if show_all else finished_shown,
    }
    if unit_id:
        params["unit_id"] = unit_id
    found = session.execute(_queue_select(bool(unit_id), False, short=True), params).all()
    finished = found[0][-1] if found else 0
    return ShownQueue([_queue_row(r[:-1], zone) for r in found], max(0, finished - finished_shown))


def _queue_row(row: tuple, zone: ZoneInfo) -> QueueRow:
    (
        visit_id,
        queue_number,
        unit_id,
        unit_name,
        room_name,
        doctor_id,
        doctor_name,
        patient_id,
        patient_name,
        mrn,
        payer,
        status,
        arrived_at,
        sync_status,
        encounter_id,
        cancel_reason,
    ) = row
    return QueueRow(
        visit_id=visit_id,
        queue_number=queue_number,
        unit_id=unit_id,
        unit_name=unit_name,
        room_name=room_name,
        doctor_id=doctor_id,
        doctor_name=doctor_name,
        patient_id=patient_id,
        patient_name=patient_name,
        mrn=mrn,
        payer=payer,
        status=status,
        status_label=status_label(status),
        arrived_time=zone_time_text(arrived_at, zone),
        sync_status=sync_status,
        encounter_id=encounter_id or "",
        cancel_reason=cancel_reason,
    )


def status_label(status: str) -> str:
    """A visit status as staff read it (menunggu, diperiksa, ...); unknown ones as stored."""
    return STATUS_LABELS.get(status, status)
