"""Laporan: the audit trail (aktivitas), the SATUSEHAT exchange log and the sending dashboard.

Plain functions over a session, per branch. Dates typed by staff are the branch's local
dates; they become UTC bounds here (the tables store UTC). Lists are paged on the server;
the CSV exports run the same filtered statement without the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from klinikita.db import read_connection
from klinikita.models import (
    AuditLog,
    Branch,
    Employee,
    Patient,
    Room,
    ServiceUnit,
    SyncJob,
    SyncLog,
    Visit,
)
from klinikita.models.accounts import User, UserBranch
from klinikita.models.clinical import Diagnosis, VisitStatus
from klinikita.models.enums import Duty
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import audit, outbox, satusehat_errors
from klinikita.services.errors import ValidationFailed
from klinikita.services.paging import Page
from klinikita.services.patients import format_date, search_patients
from klinikita.services.permissions import Action, allows, require
from klinikita.services.report_csv import EXPORT_LIMIT, to_csv
from klinikita.services.visit_queue import branch_zone, local_today

PAGE_SIZE = 25
RESULT_OK = "berhasil"
RESULT_FAILED = "gagal"
# The patient text filter looks at this many matching patients at most.
PATIENT_MATCH_LIMIT = 200

ACTION_LABELS = {
    "create": "tambah",
    "update": "ubah",
    "deactivate": "nonaktifkan",
    "reactivate": "aktifkan kembali",
    "login": "masuk",
    "logout": "keluar",
    "lock": "akun terkunci",
    "unlock": "buka kunci akun",
    "switch_duty": "ganti tugas",
    "switch_branch": "ganti cabang",
    "change_password": "ganti kata sandi",
    "change_password_failed": "ganti kata sandi: sandi lama salah",
    "reset_password": "atur ulang kata sandi",
    "reset_password_link": "kata sandi lewat tautan",
    "reset_request": "minta atur ulang sandi",
    "satusehat_resend": "kirim ulang SATUSEHAT",
    "satusehat_resend_all": "kirim ulang semua yang gagal",
    "visit_register": "daftar kunjungan",
    "visit_cancel": "batal kunjungan",
    "exam_complete": "selesai pemeriksaan",
}

ENTITY_LABELS = {
    "patient": "pasien",
    "user": "pengguna",
    "employee": "karyawan",
    "service_unit": "unit layanan",
    "room": "ruangan",
    "branch": "cabang",
    "login_session": "sesi masuk",
    "visit": "kunjungan",
    "examination": "pemeriksaan",
    "sync_job": "kiriman SATUSEHAT",
}

# The FHIR resources Klinikita exchanges (the SyncLog's resource_type).
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "Organization",
    "Location",
    "Encounter",
    "Condition",
    "Observation",
    "Bundle",
)

JOB_KIND_LABELS = {
    JobKind.PATIENT_LOOKUP: "Cari IHS pasien",
    JobKind.PRACTITIONER_LOOKUP: "Cari IHS tenaga kesehatan",
    JobKind.ORGANIZATION_CREATE: "Kirim unit (Organization)",
    JobKind.LOCATION_CREATE: "Kirim ruangan (Location)",
    JobKind.VISIT_SEND: "Kirim kunjungan (Encounter)",
}
JOB_STATUS_LABELS = {JobStatus.FAILED: "gagal", JobStatus.DEAD: "berhenti dicoba"}


# ----- dates -------------------------------------------------------------------------
# The days a filter may name: every day the branch's zone and a day's end can be computed
# for (year 1 or 9999 would overflow), with centuries to spare either side.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_day(text: str, field: str) -> date | None:
    """A date from an <input type=date> ('2026-11-25'); '' is no bound. Raises
    ValidationFailed for a text that is no date or one outside FIRST_DAY..LAST_DAY."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: "Tanggal tidak valid."}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(
            {field: f"Tanggal di luar rentang (tahun {FIRST_DAY.year} sampai {LAST_DAY.year})."}
        )
    return day


def check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_to < date_from:
        raise ValidationFailed({"date_to": "Tanggal akhir sebelum tanggal awal."})


def day_start_utc(branch: Branch | None, day: date) -> datetime:
    """The UTC moment at which `day` begins in the branch's zone."""
    local = datetime.combine(day, time.min, tzinfo=branch_zone(branch))
    return local.astimezone(UTC)


def local_datetime_text(moment: datetime | None, branch: Branch | None) -> str:
    """'25 Nov 2026 14:03:09' in the branch's zone."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(branch_zone(branch))
    return f"{format_date(local.date())} {local:%H:%M:%S}"


def _at_between(column, branch: Branch | None, date_from: date | None, date_to: date | None):  # noqa: ANN001
    conditions = []
    if date_from:
        conditions.append(column >= day_start_utc(branch, date_from))
    if date_to:
        conditions.append(column < day_start_utc(branch, date_to + timedelta(days=1)))
    return conditions


def _page_of(session: Session, stmt, page: int, page_size: int) -> tuple[list, int, int]:  # noqa: ANN001
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    rows = list(session.exec(stmt.offset((page - 1) * page_size).limit(page_size)).all())
    return rows, page, total


# ----- Laporan aktivitas (audit trail) -----------------------------------------------
@dataclass(frozen=True)
class AuditFilter:
    date_from: date | None = None
    date_to: date | None = None
    user_id: int | None = None
    action: str = ""


@dataclass(frozen=True)
class AuditRow:
    id: int
    at_text: str
    username: str
    duty: str
    action: str
    action_label: str
    entity: str
    entity_id: str
    changes: str  # the changed fields of an update, or what was recorded


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " "))


def _duty_label(duty: str) -> str:
    try:
        return Duty(duty).label
    except ValueError:
        return duty


def _changes(row: AuditLog) -> str:
    if row.before and row.after:
        return ", ".join(audit.changed_fields(row.before, row.after))
    return ""


def _audit_statement(branch: Branch | None, branch_id: int, flt: AuditFilter):  # noqa: ANN202
    check_range(flt.date_from, flt.date_to)
    stmt = select(AuditLog).where(AuditLog.branch_id == branch_id)
    for condition in _at_between(AuditLog.at, branch, flt.date_from, flt.date_to):
        stmt = stmt.where(condition)
    if flt.user_id:
        stmt = stmt.where(AuditLog.user_id == flt.user_id)
    if flt.action:
        stmt = stmt.where(AuditLog.action == flt.action)
    return stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())


def _audit_row(row: AuditLog, branch: Branch | None) -> AuditRow:
    return AuditRow(
        id=row.id,
        at_text=local_datetime_text(row.at, branch),
        username=row.username or "(sistem)",
        duty=_duty_label(row.duty),
        action=row.action,
        action_label=action_label(row.action),
        entity=ENTITY_LABELS.get(row.entity, row.entity),
        entity_id=row.entity_id,
        changes=_changes(row),
    )


def audit_log_page(
    session: Session, branch_id: int, flt: AuditFilter, page: int = 1, page_size: int = PAGE_SIZE
) -> Page[AuditRow]:
    """The branch's audit rows matching `flt`, newest first."""
    branch = session.get(Branch, branch_id)
    rows, page, total = _page_of(session, _audit_statement(branch, branch_id, flt), page, page_size)
    return Page([_audit_row(r, branch) for r in rows], page, page_size, total)


def audit_filter_options(session: Session, branch_id: int) -> tuple[list[Option], list[Option]]:
    """(users of the branch, actions that occur in its trail) for the filter selects."""
    users = session.exec(
        select(User.id, User.username, User.full_name)
        .join(UserBranch, UserBranch.user_id == User.id)
        .where(UserBranch.branch_id == branch_id)
        .order_by(User.username)
    ).all()
    actions = session.exec(
        select(AuditLog.action).where(AuditLog.branch_id == branch_id).distinct()
    ).all()
    return (
        [Option(str(uid), f"{name} ({username})") for uid, username, name in users],
        sorted((Option(a, action_label(a)) for a in actions), key=lambda o: o.label),
    )


AUDIT_CSV_HEADERS = (
    "Waktu",
    "Pengguna",
    "Tugas",
    "Aksi",
    "Data",
    "ID data",
    "Kolom berubah",
    "Sebelum",
    "Sesudah",
)


def _json_text(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_log_csv(session: Session, branch_id: int, flt: AuditFilter) -> tuple[str, int]:
    """(CSV of every matching row up to EXPORT_LIMIT, number of rows written)."""
    branch = session.get(Branch, branch_id)
    stmt = _audit_statement(branch, branch_id, flt).limit(EXPORT_LIMIT)
    rows = [
        (
            local_datetime_text(r.at, branch),
            r.username or "(sistem)",
            _duty_label(r.duty),
            action_label(r.action),
            ENTITY_LABELS.get(r.entity, r.entity),
            r.entity_id,
            _changes(r),
            _json_text(r.before),
            _json_text(r.after),
        )
        for r in session.exec(stmt)
    ]
    return to_csv(AUDIT_CSV_HEADERS, rows), len(rows)


# ----- Log server SATUSEHAT -----------------------------------------------------------
@dataclass(frozen=True)
class SyncLogFilter:
    date_from: date | None = None
    date_to: date | None = None
    result: str = ""  # "", RESULT_OK or RESULT_FAILED
    resource_type: str = ""
    patient_text: str = ""  # name, No. RM or NIK, as in the patient search
    patient_id: int | None = None


@dataclass(frozen=True)
class SyncLogRow:
    id: int
    at_text: str
    ok: bool
    result_label: str
    resource_type: str
    method: str
    url: str
    url_short: str  # without the server: '/Encounter/1', 'Patient?identifier=...'
    status_code: str  # "" when no answer came
    duration_ms: int
    patient_id: int
    patient_name: str
    mrn: str
    error: str


@dataclass(frozen=True)
class SyncLogDetail:
    id: int
    at_text: str
    method: str
    url: str
    status_code: str
    result_label: str
    duration_ms: int
    resource_type: str
    patient_name: str
    error: str
    request_text: str  # "" unless bodies_shown
    response_text: str
    bodies_shown: bool  # the reader may see the FHIR bodies (VIEW_SATUSEHAT_BODIES)


def pretty_body(body: str) -> str:
    """Indented JSON, or the text as stored when it is not JSON (bodies are stored
    already redacted; nothing is added or removed here)."""
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return body


def _patient_ids(session: Session, branch_id: int, text: str) -> list[int]:
    with read_connection(session.get_bind()) as conn:
        found = search_patients(conn, branch_id, text, page_size=PATIENT_MATCH_LIMIT)
    return [row.id for row in found.rows]


def _sync_statement(session: Session, branch: Branch | None, branch_id: int, flt: SyncLogFilter):  # noqa: ANN202
    check_range(flt.date_from, flt.date_to)
    stmt = (
        select(SyncLog, Patient.name, Patient.mrn)
        .outerjoin(Patient, Patient.id == SyncLog.patient_id)
        .where(SyncLog.branch_id == branch_id)
    )
    for condition in _at_between(SyncLog.at, branch, flt.date_from, flt.date_to):
        stmt = stmt.where(condition)
    if flt.result == RESULT_OK:
        stmt = stmt.where(SyncLog.ok.is_(True))
    elif flt.result == RESULT_FAILED:
        stmt = stmt.where(SyncLog.ok.is_(False))
    if flt.resource_type:
        stmt = stmt.where(SyncLog.resource_type == flt.resource_type)
    if flt.patient_id:
        stmt = stmt.where(SyncLog.patient_id == flt.patient_id)
    elif flt.patient_text.strip():
        stmt = stmt.where(
            SyncLog.patient_id.in_(_patient_ids(session, branch_id, flt.patient_text))
        )
    return stmt.order_by(SyncLog.at.desc(), SyncLog.id.desc())


_API_ROOTS = ("/fhir-r4/v1", "/oauth2/v1")


def short_url(url: str) -> str:
    """The URL without scheme, host and SATUSEHAT's API root, for a narrow column."""
    parts = urlsplit(url)
    path = parts.path
    for root in _API_ROOTS:
        if root in path:
            path = path[path.index(root) + len(root) :]
            break
    return path + (f"?{parts.query}" if parts.query else "") or url


def _result_label(ok: bool) -> str:
    return RESULT_OK if ok else RESULT_FAILED


def _sync_row(log: SyncLog, name: str | None, mrn: str | None, branch) -> SyncLogRow:  # noqa: ANN001
    return SyncLogRow(
        id=log.id,
        at_text=local_datetime_text(log.at, branch),
        ok=log.ok,
        result_label=_result_label(log.ok),
        resource_type=log.resource_type,
        method=log.method,
        url=log.url,
        url_short=short_url(log.url),
        status_code="" if log.status_code is None else str(log.status_code),
        duration_ms=log.duration_ms,
        patient_id=log.patient_id or 0,
        patient_name=name or "",
        mrn=mrn or "",
        error=log.error,
    )


def sync_log_page(
    session: Session,
    branch_id: int,
    flt: SyncLogFilter,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page[SyncLogRow]:
    """The branch's exchanges matching `flt`, newest first (bodies are not loaded here)."""
    branch = session.get(Branch, branch_id)
    stmt = _sync_statement(session, branch, branch_id, flt)
    rows, page, total = _page_of(session, stmt, page, page_size)
    return Page([_sync_row(log, n, m, branch) for log, n, m in rows], page, page_size, total)


def sync_log_detail(
    session: Session, branch_id: int, log_id: int, *, duty: str
) -> SyncLogDetail | None:
    """One exchange of the branch (None outside it), for a duty with the log. Its request
    and response, pretty-printed, only for a duty with VIEW_SATUSEHAT_BODIES: they hold
    the diagnoses and vital signs sent."""
    require(duty, Action.VIEW_SATUSEHAT_LOG)
    bodies = allows(duty, Action.VIEW_SATUSEHAT_BODIES)
    log = session.get(SyncLog, log_id)
    if log is None or log.branch_id != branch_id:
        return None
    patient = session.get(Patient, log.patient_id) if log.patient_id else None
    branch = session.get(Branch, branch_id)
    return SyncLogDetail(
        id=log.id,
        at_text=local_datetime_text(log.at, branch),
        method=log.method,
        url=log.url,
        status_code="" if log.status_code is None else str(log.status_code),
        result_label=_result_label(log.ok),
        duration_ms=log.duration_ms,
        resource_type=log.resource_type,
        patient_name=f"{patient.name} (No. RM {patient.mrn})" if patient else "",
        error=log.error,
        request_text=pretty_body(log.request_body) if bodies else "",
        response_text=pretty_body(log.response_body) if bodies else "",
        bodies_shown=bodies,
    )


SYNC_CSV_HEADERS = (
    "Waktu",
    "Hasil",
    "Jenis resource",
    "Metode",
    "URL",
    "Kode status",
    "Durasi (ms)",
    "Pasien",
    "No. RM",
    "Galat",
)


def sync_log_csv(session: Session, branch_id: int, flt: SyncLogFilter) -> tuple[str, int]:
    """(CSV of every matching exchange up to EXPORT_LIMIT without bodies, rows written)."""
    branch = session.get(Branch, branch_id)
    stmt = _sync_statement(session, branch, branch_id, flt).limit(EXPORT_LIMIT)
    rows = []
    for log, name, mrn in session.exec(stmt):
        row = _sync_row(log, name, mrn, branch)
        rows.append(
            (
                row.at_text,
                row.result_label,
                row.resource_type,
                row.method,
                row.url,
                row.status_code,
                row.duration_ms,
                row.patient_name,
                row.mrn,
                row.error,
            )
        )
    return to_csv(SYNC_CSV_HEADERS, rows), len(rows)


# ----- SATUSEHAT dashboard -----------------------------------------------------------
WEEKS = 4
JOB_ROWS = 50
JOB_EXPORT_LIMIT = 5_000


@dataclass(frozen=True)
class WeekCount:
    number: int  # 1 = oldest shown
    start: date  # Monday, branch local
    end: date  # Sunday
    label: str  # '16 Nov 2026 - 22 Nov 2026'
    visits_completed: int
    encounters_accepted: int
    conditions_accepted: int


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
    and the Conditions accepted for them (a condition id came back). Two queries."""
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


def _open_problem_jobs(branch_id: int):  # noqa: ANN202
    return select(SyncJob).where(
        SyncJob.branch_id == branch_id,
        SyncJob.status.in_((JobStatus.FAILED, JobStatus.DEAD)),
    )


def problem_jobs(session: Session, branch_id: int, limit: int | None = JOB_ROWS) -> list[JobRow]:
    branch = session.get(Branch, branch_id)
    stmt = _open_problem_jobs(branch_id).order_by(SyncJob.updated_at.desc(), SyncJob.id.desc())
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


def _hint(job: SyncJob) -> satusehat_errors.Explained:
    subject = satusehat_errors.Subject(
        branch_id=job.branch_id,
        patient_id=job.subject_id if job.kind == JobKind.PATIENT_LOOKUP else None,
        visit_id=job.subject_id if job.kind == JobKind.VISIT_SEND else None,
    )
    what = "data kunjungan ini" if job.kind == JobKind.VISIT_SEND else "data ini"
    return satusehat_errors.explain(job.last_error, subject, what=what)


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


WEEK_CSV_HEADERS = (
    "Minggu",
    "Mulai (Senin)",
    "Sampai (Minggu)",
    "Kunjungan selesai",
    "Encounter diterima",
    "Condition diterima",
)
JOB_CSV_HEADERS = (
    "Jenis",
    "Status",
    "Data",
    "Galat terakhir",
    "Percobaan",
    "Diperbarui",
)


def dashboard_csv(session: Session, branch_id: int, now: datetime | None = None) -> str:
    rows = [
        (
            w.label,
            w.start.isoformat(),
            w.end.isoformat(),
            w.visits_completed,
            w.encounters_accepted,
            w.conditions_accepted,
        )
        for w in weekly_counts(session, branch_id, now)
    ]
    return to_csv(WEEK_CSV_HEADERS, rows)


def problem_jobs_csv(session: Session, branch_id: int) -> str:
    rows = [
        (j.kind_label, j.status_label, j.subject, j.last_error, j.attempts, j.updated_text)
        for j in problem_jobs(session, branch_id, limit=JOB_EXPORT_LIMIT)
    ]
    return to_csv(JOB_CSV_HEADERS, rows)


def resend_all(session: Session, actor: audit.Actor) -> int:
    """'Kirim ulang semua yang gagal' for the actor's branch: failed and dead jobs back to
    the queue with a fresh retry budget. The caller wakes the workers after the commit."""
    require(actor.duty, Action.SATUSEHAT_RESEND)
    count = outbox.resend_all_failed(session, actor.branch_id)
    audit.record(session, actor, "satusehat_resend_all", "sync_job", "", after={"count": count})
    return count


def export_day(session: Session, branch_id: int) -> date:
    """The branch's local date, for file names."""
    return local_today(session.get(Branch, branch_id))
