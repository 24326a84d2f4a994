"""Dashboard SATUSEHAT: the last weeks' completed visits against what SATUSEHAT accepted,
the failed and stopped jobs, and 'Kirim ulang semua yang gagal'."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, SyncJob, Visit
from klinikita.models.allergies import PatientAllergy
from klinikita.models.clinical import Diagnosis, Prescription, Procedure, VisitStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import audit, outbox, satusehat_errors
from klinikita.services.patients import format_date
from klinikita.services.permissions import Action, require
from klinikita.services.report_csv import to_csv
from klinikita.services.reports.days import (
    CsvFile,
    csv_file,
    day_start_utc,
    local_datetime_text,
)
from klinikita.services.visit_queue import local_today

WEEKS = 4
JOB_ROWS = 50
JOB_EXPORT_LIMIT = 5_000
WEEKS_CSV_NAME = "dashboard-satusehat"
JOBS_CSV_NAME = "kiriman-gagal-satusehat"

JOB_KIND_LABELS = {
    JobKind.PATIENT_LOOKUP: "Cari IHS pasien",
    JobKind.PRACTITIONER_LOOKUP: "Cari IHS tenaga kesehatan",
    JobKind.ORGANIZATION_CREATE: "Kirim unit (Organization)",
    JobKind.LOCATION_CREATE: "Kirim ruangan (Location)",
    JobKind.VISIT_SEND: "Kirim kunjungan (Encounter)",
    JobKind.DISPENSE_SEND: "Kirim penyerahan obat (MedicationDispense)",
}
JOB_STATUS_LABELS = {JobStatus.FAILED: "gagal", JobStatus.DEAD: "berhenti dicoba"}


@dataclass(frozen=True)
class SentKind:
    """A resource a visit's Bundle carries beside its Encounter and Conditions, counted per
    week: its rows (`model`), the column naming their visit and the id SATUSEHAT gave."""

    key: str  # WeekCount.accepted key, state and page column id
    label: str  # "Procedure diterima"
    model: type
    visit_column: str
    id_column: str = "resource_id"


# Extend here: one query per kind.
SENT_KINDS: tuple[SentKind, ...] = (
    SentKind("procedure", "Procedure diterima", Procedure, "visit_id"),
    SentKind("allergy", "AllergyIntolerance diterima", PatientAllergy, "recorded_visit_id"),
    SentKind(
        "medication_request",
        "MedicationRequest diterima",
        Prescription,
        "visit_id",
        "medication_request_id",
    ),
    SentKind(
        "medication_dispense",
        "MedicationDispense diterima",
        Prescription,
        "visit_id",
        "medication_dispense_id",
    ),
)

WEEK_CSV_HEADERS = (
    "Minggu",
    "Mulai (Senin)",
    "Sampai (Minggu)",
    "Kunjungan selesai",
    "Encounter diterima",
    "Condition diterima",
    *(kind.label for kind in SENT_KINDS),
)
JOB_CSV_HEADERS = (
    "Jenis",
    "Status",
    "Data",
    "Galat terakhir",
    "Percobaan",
    "Diperbarui",
)


@dataclass(frozen=True)
class WeekCount:
    number: int  # 1 = oldest shown
    start: date  # Monday, branch local
    end: date  # Sunday
    label: str  # '16 Nov 2026 - 22 Nov 2026'
    visits_completed: int
    encounters_accepted: int
    conditions_accepted: int
    # Per SENT_KINDS key: how many of that resource SATUSEHAT accepted for the week's visits.
    accepted: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    subject: str
    last_error: str
    attempts: int
    updated_text: str
    # `last_error` in words staff can act on (services/satusehat_errors.py)
    hint: str = ""
    hint_link: str = ""
    hint_link_label: str = ""


@dataclass(frozen=True)
class Dashboard:
    weeks: list[WeekCount]
    failed_count: int
    dead_count: int
    jobs: list[JobRow]  # newest JOB_ROWS of the failed and dead jobs
    key_refused: bool = False  # SATUSEHAT refused the branch's keys (see readiness)


def week_starts(branch: Branch | None, now: datetime | None = None) -> list[date]:
    """The Mondays of the last WEEKS weeks in the branch's zone, this week last."""
    today = local_today(branch, now)
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


def _week_sums(column, bounds: list[datetime]) -> list:  # noqa: ANN001
    return [
        func.coalesce(
            func.sum(case((and_(column >= bounds[i], column < bounds[i + 1]), 1), else_=0)), 0
        )
        for i in range(len(bounds) - 1)
    ]


def weekly_counts(session: Session, branch_id: int, now: datetime | None = None) -> list[WeekCount]:
    """Per week: visits completed, their Encounters accepted (an encounter id came back)
    and the Conditions accepted for them (a condition id came back), then each of
    SENT_KINDS accepted for them. Two queries and one per kind."""
    branch = session.get(Branch, branch_id)
    starts = week_starts(branch, now)
    bounds = [day_start_utc(branch, d) for d in [*starts, starts[-1] + timedelta(weeks=1)]]
    in_range = (
        Visit.branch_id == branch_id,
        Visit.status == VisitStatus.COMPLETE,
        Visit.completed_at >= bounds[0],
        Visit.completed_at < bounds[-1],
    )
    done = Visit.completed_at
    with_encounter = case((Visit.encounter_id.is_not(None), done), else_=None)
    visits = session.exec(
        select(*_week_sums(done, bounds), *_week_sums(with_encounter, bounds)).where(*in_range)
    ).one()
    conditions = session.exec(
        select(*_week_sums(done, bounds))
        .select_from(Diagnosis)
        .join(Visit, Visit.id == Diagnosis.visit_id)
        .where(*in_range, Visit.encounter_id.is_not(None), Diagnosis.condition_id.is_not(None))
    ).one()
    accepted: dict[str, tuple] = {}
    for kind in SENT_KINDS:
        visit_of = getattr(kind.model, kind.visit_column)
        accepted[kind.key] = session.exec(
            select(*_week_sums(done, bounds))
            .select_from(kind.model)
            .join(Visit, Visit.id == visit_of)
            .where(*in_range, getattr(kind.model, kind.id_column).is_not(None))
        ).one()
    weeks = []
    for i, start in enumerate(starts):
        end = start + timedelta(days=6)
        weeks.append(
            WeekCount(
                number=i + 1,
                start=start,
                end=end,
                label=f"{format_date(start)} - {format_date(end)}",
                visits_completed=int(visits[i]),
                encounters_accepted=int(visits[WEEKS + i]),
                conditions_accepted=int(conditions[i]),
                accepted={key: int(sums[i]) for key, sums in accepted.items()},
            )
        )
    return weeks


def _subject_labels(session: Session, jobs: list[SyncJob]) -> dict[int, str]:
    """'Pasien Budi (No. RM 000123)' etc. for each job: one query per kind present."""
    by_kind: dict[str, list[int]] = {}
    for job in jobs:
        by_kind.setdefault(job.kind, []).append(job.subject_id)
    names: dict[tuple[str, int], str] = {}
    for kind, ids in by_kind.items():
        if kind == JobKind.PATIENT_LOOKUP:
            for pid, name, mrn in session.exec(
                select(Patient.id, Patient.name, Patient.mrn).where(Patient.id.in_(ids))
            ):
                names[(kind, pid)] = f"Pasien {name} (No. RM {mrn})"
        elif kind == JobKind.PRACTITIONER_LOOKUP:
            for eid, name in session.exec(
                select(Employee.id, Employee.name).where(Employee.id.in_(ids))
            ):
                names[(kind, eid)] = f"Tenaga kesehatan {name}"
        elif kind == JobKind.ORGANIZATION_CREATE:
            for uid, name in session.exec(
                select(ServiceUnit.id, ServiceUnit.name).where(ServiceUnit.id.in_(ids))
            ):
                names[(kind, uid)] = f"Unit {name}"
        elif kind == JobKind.LOCATION_CREATE:
            for rid, name in session.exec(select(Room.id, Room.name).where(Room.id.in_(ids))):
                names[(kind, rid)] = f"Ruangan {name}"
        elif kind == JobKind.VISIT_SEND:
            for vid, day, name, mrn in session.exec(
                select(Visit.id, Visit.visit_date, Patient.name, Patient.mrn)
                .join(Patient, Patient.id == Visit.patient_id)
                .where(Visit.id.in_(ids))
            ):
                names[(kind, vid)] = f"Kunjungan {name} (No. RM {mrn}), {format_date(day)}"
    return {job.id: names.get((job.kind, job.subject_id), f"#{job.subject_id}") for job in jobs}


def _hint(job: SyncJob) -> satusehat_errors.Explained:
    subject = satusehat_errors.Subject(
        branch_id=job.branch_id,
        patient_id=job.subject_id if job.kind == JobKind.PATIENT_LOOKUP else None,
        visit_id=job.subject_id if job.kind == JobKind.VISIT_SEND else None,
    )
    what = "data kunjungan ini" if job.kind == JobKind.VISIT_SEND else "data ini"
    return satusehat_errors.explain(job.last_error, subject, what=what)


def problem_jobs(session: Session, branch_id: int, limit: int | None = JOB_ROWS) -> list[JobRow]:
    """The branch's failed and stopped jobs, newest first, with what to do about each."""
    branch = session.get(Branch, branch_id)
    stmt = (
        select(SyncJob)
        .where(
            SyncJob.branch_id == branch_id,
            SyncJob.status.in_((JobStatus.FAILED, JobStatus.DEAD)),
        )
        .order_by(SyncJob.updated_at.desc(), SyncJob.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    jobs = list(session.exec(stmt).all())
    labels = _subject_labels(session, jobs)
    hints = {job.id: _hint(job) for job in jobs}
    return [
        JobRow(
            id=job.id,
            kind=job.kind,
            kind_label=JOB_KIND_LABELS.get(job.kind, job.kind),
            status=job.status,
            status_label=JOB_STATUS_LABELS.get(job.status, job.status),
            subject=labels[job.id],
            last_error=job.last_error or "",
            attempts=job.attempts,
            updated_text=local_datetime_text(job.updated_at, branch),
            hint=hints[job.id].message,
            hint_link=hints[job.id].link,
            hint_link_label=hints[job.id].link_label,
        )
        for job in jobs
    ]


def dashboard(session: Session, branch_id: int, now: datetime | None = None) -> Dashboard:
    branch = session.get(Branch, branch_id)
    counts = dict(
        session.exec(
            select(SyncJob.status, func.count())
            .where(
                SyncJob.branch_id == branch_id,
                or_(SyncJob.status == JobStatus.FAILED, SyncJob.status == JobStatus.DEAD),
            )
            .group_by(SyncJob.status)
        ).all()
    )
    return Dashboard(
        weeks=weekly_counts(session, branch_id, now),
        failed_count=int(counts.get(JobStatus.FAILED, 0)),
        dead_count=int(counts.get(JobStatus.DEAD, 0)),
        jobs=problem_jobs(session, branch_id),
        key_refused=branch is not None and branch.ss_key_refused_at is not None,
    )


def weeks_csv(session: Session, branch_id: int, now: datetime | None = None) -> CsvFile:
    """The weekly counts as shown."""
    rows = [
        (
            w.label,
            w.start.isoformat(),
            w.end.isoformat(),
            w.visits_completed,
            w.encounters_accepted,
            w.conditions_accepted,
            *(w.accepted.get(kind.key, 0) for kind in SENT_KINDS),
        )
        for w in weekly_counts(session, branch_id, now)
    ]
    return csv_file(session, branch_id, WEEKS_CSV_NAME, to_csv(WEEK_CSV_HEADERS, rows), len(rows))


def problem_jobs_csv(session: Session, branch_id: int) -> CsvFile:
    """The failed and stopped jobs, up to JOB_EXPORT_LIMIT."""
    rows = [
        (j.kind_label, j.status_label, j.subject, j.last_error, j.attempts, j.updated_text)
        for j in problem_jobs(session, branch_id, limit=JOB_EXPORT_LIMIT)
    ]
    return csv_file(session, branch_id, JOBS_CSV_NAME, to_csv(JOB_CSV_HEADERS, rows), len(rows))


def resend_all(session: Session, actor: audit.Actor) -> int:
    """'Kirim ulang semua yang gagal' for the actor's branch: failed and dead jobs back to
    the queue with a fresh retry budget. The caller wakes the workers after the commit."""
    require(actor.duty, Action.SATUSEHAT_RESEND)
    count = outbox.resend_all_failed(session, actor.branch_id)
    audit.record(session, actor, "satusehat_resend_all", "sync_job", "", after={"count": count})
    return count
