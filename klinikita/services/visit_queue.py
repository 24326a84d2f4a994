"""Today's visits of a branch, as the registration desk and the examination rooms see them.

One read shared by Pendaftaran and Pemeriksaan: the branch's local date, the visits of that
date with patient, unit, room and doctor names, newest queue number last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus

DEFAULT_ZONE = "Asia/Jakarta"

STATUS_LABELS = {
    VisitStatus.REGISTERED: "menunggu",
    VisitStatus.IN_EXAMINATION: "diperiksa",
    VisitStatus.COMPLETE: "selesai",
    VisitStatus.CANCELLED: "batal",
}


def branch_zone(branch: Branch | None) -> ZoneInfo:
    try:
        return ZoneInfo((branch.timezone if branch else None) or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local_today(branch: Branch | None, now: datetime | None = None) -> date:
    """The branch's own calendar date (a visit at 00:30 WIT is the new day in Jayapura)."""
    return (now or utcnow()).astimezone(branch_zone(branch)).date()


def local_time_text(moment: datetime | None, branch: Branch | None, fmt: str = "%H:%M") -> str:
    """A stored UTC time shown in the branch's zone; "" when not recorded."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(branch_zone(branch)).strftime(fmt)


@dataclass(frozen=True)
class QueueRow:
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
    branch = session.get(Branch, branch_id)
    day = on or local_today(branch)
    stmt = (
        select(Visit, Patient.name, Patient.mrn, ServiceUnit.name, Room.name, Employee.name)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .join(Room, Room.id == Visit.room_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .where(Visit.branch_id == branch_id, Visit.visit_date == day)
        .order_by(ServiceUnit.name, Visit.queue_number)
    )
    if unit_id:
        stmt = stmt.where(Visit.unit_id == unit_id)
    if doctor_id:
        stmt = stmt.where(Visit.doctor_id == doctor_id)
    if statuses:
        stmt = stmt.where(Visit.status.in_(statuses))
    rows = []
    for visit, patient_name, mrn, unit_name, room_name, doctor_name in session.exec(stmt):
        rows.append(
            QueueRow(
                visit_id=visit.id,
                queue_number=visit.queue_number,
                unit_id=visit.unit_id,
                unit_name=unit_name,
                room_name=room_name,
                doctor_id=visit.doctor_id,
                doctor_name=doctor_name,
                patient_id=visit.patient_id,
                patient_name=patient_name,
                mrn=mrn,
                payer=visit.payer,
                status=visit.status,
                status_label=STATUS_LABELS.get(VisitStatus(visit.status), visit.status),
                arrived_time=local_time_text(visit.arrived_at, branch),
                sync_status=visit.sync_status,
                encounter_id=visit.encounter_id or "",
                cancel_reason=visit.cancel_reason,
            )
        )
    return rows
