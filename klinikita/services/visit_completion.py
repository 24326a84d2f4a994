"""Selesai: the readiness check of one visit, completing it, and sending it again.

The readiness check reuses the SATUSEHAT payload rules (`services/satusehat_rules.py`) so
the page and the worker say the same thing; each blocker carries a link to where it is fixed.
Completing writes the status, the completion time and the VISIT_SEND job in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam
from sqlmodel import Session, select

from klinikita import routes
from klinikita.db import Statements, as_model, statements
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


# What the check and Selesai need, in one statement on the session's connection (Selesai
# is a click: each statement is a round trip, and the ORM's loads cost more than the check).
# The diagnoses come joined: one row per diagnosis (a visit has a few), the rest repeated.
# Who measured the vitals (an employee, and the user who saved them) come before them.
_SIX = (Visit, Branch, Patient, Employee, Room, Examination)
_PERFORMER_COLUMNS = (*vitals_by.PERFORMER.c, *vitals_by.RECORDER_COLUMNS)
_WIDTH = sum(len(model.__table__.c) for model in _SIX) + len(_PERFORMER_COLUMNS)
_VISIT_AND_PEOPLE = (
    vitals_by.join_performer(
        select(
            *(c for model in _SIX for c in model.__table__.c),
            *_PERFORMER_COLUMNS,
            *Diagnosis.__table__.c,
        )
        .join(Branch, Branch.id == Visit.branch_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .join(Room, Room.id == Visit.room_id)
        .outerjoin(Examination, Examination.visit_id == Visit.id),
        Examination.__table__,
    )
    .outerjoin(Diagnosis, Diagnosis.visit_id == Visit.id)
    .where(Visit.id == bindparam("visit_id"))
    .order_by(Diagnosis.rank, Diagnosis.id)
)


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


# Selesai's read: the same, with the visit's row locked until the commit. A second Selesai
# of the visit (another tab) waits for the first, then reads it complete and is refused.
_VISIT_TO_COMPLETE = _VISIT_AND_PEOPLE.with_for_update(of=Visit)


def _record(st: Statements, visit_id: int) -> _Record | None:
    """The visit with its branch, patient, doctor, room, examination and diagnoses, as
    model instances outside any session (read only)."""
    return _record_of(st.rows(_VISIT_AND_PEOPLE, {"visit_id": visit_id}))


def _record_of(found: list[tuple]) -> _Record | None:
    if not found:
        return None
    values, rows = iter(found[0]), []
    for model in _SIX:
        rows.append(as_model(model, [next(values) for _ in model.__table__.c]))
    if rows[-1].id is None:
        rows[-1] = None  # no examination yet (the outer join found none)
    performer = as_model(Employee, [next(values) for _ in vitals_by.PERFORMER.c])
    user_id, username, full_name = (next(values) for _ in vitals_by.RECORDER_COLUMNS)
    diagnoses = [as_model(Diagnosis, row[_WIDTH:]) for row in found if row[_WIDTH] is not None]
    return _Record(
        *rows,
        diagnoses,
        vitals_by=performer if performer.id is not None else None,
        vitals_user=SimpleNamespace(username=username, full_name=full_name) if user_id else None,
    )


def completion_blockers(
    db: Session | Statements, visit_id: int, *, now: datetime | None = None
) -> list[Blocker]:
    """Everything that keeps this visit from being completed and sent; empty = ready (`db`
    may be a read connection)."""
    record = _record(statements(db), visit_id)
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
    db: Session | Statements,
    actor: audit.Actor,
    visit_id: int,
    *,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Visit:
    """Selesai: when ready, the visit is complete and its SATUSEHAT job is queued in the
    same transaction (sync_status becomes "sending"). When not ready, nothing is written and
    `VisitNotReady` lists the blockers. The visit returned is outside the session."""
    require(actor.duty, Action.EXAM_COMPLETE)
    st = statements(db)
    # The visit and its job's slot in one round trip; the job's insert, the visit's update,
    # the audit row and the COMMIT then go in one more.
    found, slot = st.rows_each(
        [
            (_VISIT_TO_COMPLETE, {"visit_id": visit_id}),
            outbox.job_slot_read(st, JobKind.VISIT_SEND, visit_id),
        ]
    )
    record = _record_of(found)
    if record is None or record.visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    now = now or utcnow()
    blockers = _blockers(record, now)
    if blockers:
        raise VisitNotReady(blockers)
    visit = record.visit
    before = {"status": visit.status, "completed_at": None}
    changes = {
        "status": VisitStatus.COMPLETE,
        "exam_started_at": visit.exam_started_at or now,
        "completed_at": now,
        "updated_at": now,
        "version": visit.version + 1,  # the row is locked since it was read
    }
    job_id = outbox.enqueue_row(
        st,
        JobKind.VISIT_SEND,
        visit.branch_id,
        visit.id,
        client_token=client_token,
        subject_changes=changes,
        slot=outbox.job_slot(slot),
    )
    audit.write(
        st,
        actor,
        "exam_complete",
        "visit",
        visit.id,
        before=before,
        after={"status": VisitStatus.COMPLETE, "completed_at": now.isoformat(), "job": job_id},
    )
    return visit.model_copy(
        update={**changes, "sync_status": SyncStatus.SENDING, "sync_error": None}
    )


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
