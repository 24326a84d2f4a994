"""Selesai: the readiness check of one visit, completing it, and sending it again.

The readiness check reuses the SATUSEHAT payload rules (`services/satusehat_rules.py`) so
the page and the worker say the same thing; each blocker carries a link to where it is fixed.
Completing writes the status, the completion time and the VISIT_SEND job in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Select
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from klinikita import routes
from klinikita.integrations.satusehat.config import missing_settings
from klinikita.models import (
    Branch,
    Diagnosis,
    Employee,
    Examination,
    Patient,
    Room,
    SyncJob,
    Visit,
)
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import audit, outbox, sync_requests, vitals_by
from klinikita.services import satusehat_rules as rules
from klinikita.services.errors import NotFound, ServiceError
from klinikita.services.examination import visit_in_branch
from klinikita.services.nik import nik_problem
from klinikita.services.permissions import Action, require
from klinikita.services.readiness import branch_edit_link


@dataclass(frozen=True)
class Blocker:
    key: str  # patient, doctor, vitals_by, room, credentials, diagnosis, times, vitals, status
    message: str  # for staff, Bahasa Indonesia
    link: str  # the page where it is fixed
    link_label: str


class VisitNotReady(ServiceError):
    """Selesai refused: `blockers` say what is missing and where to fix it."""

    def __init__(self, blockers: list[Blocker]) -> None:
        super().__init__(
            "Kunjungan belum bisa diselesaikan: " + " ".join(b.message for b in blockers)
        )
        self.blockers = blockers


def exam_link(visit_id: int, section: str = "") -> str:
    link = f"{routes.PEMERIKSAAN}?kunjungan={visit_id}"
    return f"{link}#{section}" if section else link


def _identity_known(person: Patient | Employee) -> bool:
    """An IHS number, or a valid NIK the worker can look it up by (and not already missed)."""
    if (person.ihs_number or "").strip():
        return True
    nik = (person.nik or "").strip()
    return bool(nik) and nik_problem(nik) is None and person.sync_status != SyncStatus.NOT_FOUND


@dataclass(frozen=True)
class _Record:
    visit: Visit
    branch: Branch
    patient: Patient
    doctor: Employee
    room: Room
    exam: Examination | None
    diagnoses: list[Diagnosis]
    vitals_by: Employee | None = None  # who measured the vitals, when known
    vitals_user: SimpleNamespace | None = None  # the user who saved them (username, full_name)


# Who measured the vitals, as an Employee read from vitals_by.PERFORMER.
_PERFORMER = aliased(Employee, vitals_by.PERFORMER)


def _record_read(visit_id: int) -> Select:
    """The visit with everything the check needs, in one statement: its branch, patient,
    doctor, room, examination, who measured its vitals and who saved them, and its
    diagnoses (joined: a row per diagnosis, the rest repeated), as stored now."""
    return (
        vitals_by.join_performer(
            select(
                Visit,
                Branch,
                Patient,
                Employee,
                Room,
                Examination,
                _PERFORMER,
                *vitals_by.RECORDER_COLUMNS,
                Diagnosis,
            )
            .join(Branch, Branch.id == Visit.branch_id)
            .join(Patient, Patient.id == Visit.patient_id)
            .join(Employee, Employee.id == Visit.doctor_id)
            .join(Room, Room.id == Visit.room_id)
            .outerjoin(Examination, Examination.visit_id == Visit.id),
            Examination.__table__,
        )
        .outerjoin(Diagnosis, Diagnosis.visit_id == Visit.id)
        .where(Visit.id == visit_id)
        .order_by(Diagnosis.rank, Diagnosis.id)
        .execution_options(populate_existing=True)
    )


def _record(session: Session, visit_id: int, *, lock: bool = False) -> _Record | None:
    """The visit with its branch, patient, doctor, room, examination and diagnoses. With
    `lock`, the visit's row stays locked until the commit: a second Selesai of the visit
    (another tab) waits for the first, then reads it complete and is refused."""
    stmt = _record_read(visit_id)
    if lock:
        stmt = stmt.with_for_update(of=Visit)
    found = session.exec(stmt).all()
    if not found:
        return None
    visit, branch, patient, doctor, room, exam, performer, user_id, username, full_name, _ = found[
        0
    ]
    return _Record(
        visit,
        branch,
        patient,
        doctor,
        room,
        exam,
        [row[-1] for row in found if row[-1] is not None],
        vitals_by=performer,
        vitals_user=SimpleNamespace(username=username, full_name=full_name) if user_id else None,
    )


def completion_blockers(
    session: Session, visit_id: int, *, now: datetime | None = None
) -> list[Blocker]:
    """Everything that keeps this visit from being completed and sent; empty = ready."""
    record = _record(session, visit_id)
    if record is None:
        raise NotFound("Kunjungan tidak ditemukan.")
    return _blockers(record, now or utcnow())


def _blockers(record: _Record, now: datetime) -> list[Blocker]:
    visit, branch, exam = record.visit, record.branch, record.exam
    here = exam_link(visit.id)
    blockers: list[Blocker] = []

    def add(key: str, messages: list[str], link: str, label: str) -> None:
        blockers.extend(Blocker(key, m, link, label) for m in messages)

    if visit.status == VisitStatus.CANCELLED:
        add("status", ["Kunjungan ini dibatalkan."], routes.PENDAFTARAN, "Pendaftaran")
    elif visit.status == VisitStatus.COMPLETE:
        add("status", ["Kunjungan ini sudah selesai."], here, "Pemeriksaan")
    if not _identity_known(record.patient):
        add(
            "patient",
            rules.patient_problems(record.patient),
            routes.KONTAK_PASIEN,
            "Kontak > Pasien",
        )
    if not _identity_known(record.doctor):
        add(
            "doctor",
            rules.doctor_problems(record.doctor),
            routes.KONTAK_KARYAWAN,
            "Kontak > Karyawan",
        )
    _add_vitals_by(record, add)
    add("room", rules.room_problems(record.room, branch), routes.REFERENSI_RUANGAN,
        "Referensi > Ruangan")  # fmt: skip
    missing = missing_settings(branch)
    if missing:
        add(
            "credentials",
            [
                f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}. "
                "Lengkapi di menu Pengaturan > Cabang."
            ],
            branch_edit_link(branch.id),
            "Pengaturan > Cabang",
        )
    add("diagnosis", rules.diagnosis_problems(record.diagnoses), exam_link(visit.id, "diagnosis"),
        "Diagnosis")  # fmt: skip
    # The times as they would be sent if Selesai were pressed now (Selesai also starts an
    # examination nobody started; a diagnosis, required above, already has).
    probe = visit.model_copy(
        update={
            "exam_started_at": visit.exam_started_at or now,
            "completed_at": visit.completed_at or now,
        }
    )
    add("times", rules.visit_time_problems(probe, exam, branch, now), here, "Pemeriksaan")
    add("vitals", rules.vital_value_problems(exam), exam_link(visit.id, "vitals"), "Tanda vital")
    return blockers


def _add_vitals_by(record: _Record, add) -> None:  # noqa: ANN001
    """Blockers of the vitals' performer: the saving user has no employee, or the employee
    who measured them (not the doctor, checked already) has no IHS number to be found."""
    add("vitals_by", vitals_by.unlinked_problems(record.exam, record.vitals_by, record.vitals_user),
        routes.PENGATURAN_PENGGUNA, "Pengaturan > Pengguna")  # fmt: skip
    performer = record.vitals_by
    if (
        performer is None
        or performer.id == record.doctor.id
        or not rules.filled_vitals(record.exam)
        or _identity_known(performer)
    ):
        return
    add("vitals_by", rules.vitals_by_problems(performer), routes.KONTAK_KARYAWAN,
        "Kontak > Karyawan")  # fmt: skip


def complete_visit(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    *,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Visit:
    """Selesai: when ready, the visit is complete (its next version) and its SATUSEHAT job
    is queued in the same transaction (sync_status becomes "sending"); a visit's open job is
    reused, never doubled. When not ready, nothing is written and `VisitNotReady` lists the
    blockers. The visit returned holds what was written."""
    require(actor.duty, Action.EXAM_COMPLETE)
    record = _record(session, visit_id, lock=True)
    if record is None or record.visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    now = now or utcnow()
    blockers = _blockers(record, now)
    if blockers:
        raise VisitNotReady(blockers)
    visit = record.visit
    before = {"status": visit.status, "completed_at": None}
    job_id = outbox.queue_job(
        session, JobKind.VISIT_SEND, visit.branch_id, visit.id, client_token=client_token
    )
    visit.status = VisitStatus.COMPLETE
    visit.exam_started_at = visit.exam_started_at or now
    visit.completed_at = visit.updated_at = now
    visit.sync_status, visit.sync_error = SyncStatus.SENDING, None
    session.add(visit)
    audit.record(
        session,
        actor,
        "exam_complete",
        "visit",
        visit.id,
        before=before,
        after={"status": VisitStatus.COMPLETE, "completed_at": now.isoformat(), "job": job_id},
    )
    session.flush()  # the row is locked since it was read: its version check cannot fail
    return visit


def resend_visit(
    session: Session, actor: audit.Actor, visit_id: int, *, client_token: str | None = None
) -> SyncJob:
    """Kirim ulang a completed visit whose sending failed."""
    visit = visit_in_branch(session, actor, visit_id)
    if visit.status != VisitStatus.COMPLETE:
        raise ServiceError("Hanya kunjungan yang sudah selesai yang dikirim ke SATUSEHAT.")
    return sync_requests.resend_subject(
        session, actor, JobKind.VISIT_SEND, visit.id, client_token=client_token
    )
