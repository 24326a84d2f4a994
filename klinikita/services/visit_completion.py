"""Selesai: the readiness check of one visit, completing it, and sending it again.

The readiness check reuses the SATUSEHAT payload checks (`integrations/satusehat/fhir.py`) so
the page and the worker say the same thing; each blocker carries a link to where it is fixed.
Completing writes the status, the completion time and the VISIT_SEND job in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from klinikita import routes
from klinikita.integrations.satusehat import fhir
from klinikita.integrations.satusehat.config import missing_settings
from klinikita.models import Branch, Employee, Patient, Room, SyncJob, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import audit, outbox, sync_requests
from klinikita.services.errors import NotFound, ServiceError
from klinikita.services.examination import diagnoses_of, examination_of, visit_in_branch
from klinikita.services.nik import nik_problem
from klinikita.services.permissions import Action, require
from klinikita.services.readiness import branch_edit_link


@dataclass(frozen=True)
class Blocker:
    key: str  # patient, doctor, room, credentials, diagnosis, times, vitals, status
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


def completion_blockers(
    session: Session, visit_id: int, *, now: datetime | None = None
) -> list[Blocker]:
    """Everything that keeps this visit from being completed and sent; empty = ready."""
    # One statement for the five rows (Selesai is pressed while other tabs wait on the loop).
    found = session.exec(
        select(Visit, Branch, Patient, Employee, Room)
        .join(Branch, Branch.id == Visit.branch_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .join(Room, Room.id == Visit.room_id)
        .where(Visit.id == visit_id)
    ).first()
    if found is None:
        raise NotFound("Kunjungan tidak ditemukan.")
    visit, branch, patient, doctor, room = found
    now = now or utcnow()
    exam = examination_of(session, visit.id)
    diagnoses = diagnoses_of(session, visit.id)
    here = exam_link(visit.id)
    blockers: list[Blocker] = []

    def add(key: str, messages: list[str], link: str, label: str) -> None:
        blockers.extend(Blocker(key, m, link, label) for m in messages)

    if visit.status == VisitStatus.CANCELLED:
        add("status", ["Kunjungan ini dibatalkan."], routes.PENDAFTARAN, "Pendaftaran")
    elif visit.status == VisitStatus.COMPLETE:
        add("status", ["Kunjungan ini sudah selesai."], here, "Pemeriksaan")
    if not _identity_known(patient):
        add("patient", fhir.patient_problems(patient), routes.KONTAK_PASIEN, "Kontak > Pasien")
    if not _identity_known(doctor):
        add("doctor", fhir.doctor_problems(doctor), routes.KONTAK_KARYAWAN, "Kontak > Karyawan")
    add("room", fhir.room_problems(room), routes.REFERENSI_RUANGAN, "Referensi > Ruangan")
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
    add("diagnosis", fhir.diagnosis_problems(diagnoses), exam_link(visit.id, "diagnosis"),
        "Diagnosis")  # fmt: skip
    # The times as they would be sent if Selesai were pressed now (Selesai also starts an
    # examination nobody started; a diagnosis, required above, already has).
    probe = visit.model_copy(
        update={
            "exam_started_at": visit.exam_started_at or now,
            "completed_at": visit.completed_at or now,
        }
    )
    add("times", fhir.visit_time_problems(probe, exam, branch, now), here, "Pemeriksaan")
    add("vitals", fhir.vital_value_problems(exam), exam_link(visit.id, "vitals"), "Tanda vital")
    return blockers


def complete_visit(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    *,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Visit:
    """Selesai: when ready, the visit is complete and its SATUSEHAT job is queued in the
    same transaction (sync_status becomes "sending"). When not ready, nothing is written and
    `VisitNotReady` lists the blockers."""
    require(actor.duty, Action.EXAM_COMPLETE)
    visit = visit_in_branch(session, actor, visit_id)
    now = now or utcnow()
    blockers = completion_blockers(session, visit.id, now=now)
    if blockers:
        raise VisitNotReady(blockers)
    before = {"status": visit.status, "completed_at": None}
    visit.status = VisitStatus.COMPLETE
    visit.exam_started_at = visit.exam_started_at or now
    visit.completed_at = now
    visit.updated_at = now
    session.add(visit)
    job = outbox.enqueue(
        session, JobKind.VISIT_SEND, visit.branch_id, visit.id, client_token=client_token
    )
    audit.record(
        session,
        actor,
        "exam_complete",
        "visit",
        visit.id,
        before=before,
        after={"status": visit.status, "completed_at": now.isoformat(), "job": job.id},
    )
    session.flush()
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
