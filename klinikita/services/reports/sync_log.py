"""Log server SATUSEHAT: every exchange of the branch, filterable; one exchange's detail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlmodel import Session, select

from klinikita.models import Branch, Patient, SyncLog
from klinikita.services.paging import Page, paginate
from klinikita.services.patients import search_patients
from klinikita.services.permissions import Action, allows, require
from klinikita.services.report_csv import EXPORT_LIMIT, to_csv
from klinikita.services.reports.days import (
    CsvFile,
    at_between,
    check_range,
    csv_file,
    local_datetime_text,
)

PAGE_SIZE = 25
CSV_NAME = "log-satusehat"
RESULT_OK = "berhasil"
RESULT_FAILED = "gagal"
# The patient text filter looks at this many matching patients at most.
PATIENT_MATCH_LIMIT = 200

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

_API_ROOTS = ("/fhir-r4/v1", "/oauth2/v1")


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


def short_url(url: str) -> str:
    """The URL without scheme, host and SATUSEHAT's API root, for a narrow column."""
    parts = urlsplit(url)
    path = parts.path
    for root in _API_ROOTS:
        if root in path:
            path = path[path.index(root) + len(root) :]
            break
    return path + (f"?{parts.query}" if parts.query else "") or url


def _patient_ids(session: Session, branch_id: int, text: str) -> list[int]:
    """The patients the patient search finds for `text` (at most PATIENT_MATCH_LIMIT)."""
    found = search_patients(session, branch_id, text, page_size=PATIENT_MATCH_LIMIT)
    return [row.id for row in found.rows]


def _statement(session: Session, branch: Branch | None, branch_id: int, flt: SyncLogFilter):  # noqa: ANN202
    check_range(flt.date_from, flt.date_to)
    stmt = (
        select(SyncLog, Patient.name, Patient.mrn)
        .outerjoin(Patient, Patient.id == SyncLog.patient_id)
        .where(SyncLog.branch_id == branch_id)
    )
    for condition in at_between(SyncLog.at, branch, flt.date_from, flt.date_to):
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


def _result_label(ok: bool) -> str:
    return RESULT_OK if ok else RESULT_FAILED


def _row(log: SyncLog, name: str | None, mrn: str | None, branch: Branch | None) -> SyncLogRow:
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
    found = paginate(session, _statement(session, branch, branch_id, flt), page, page_size)
    rows = [_row(log, name, mrn, branch) for log, name, mrn in found.rows]
    return Page(rows, found.page, page_size, found.total)


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


def sync_log_csv(session: Session, branch_id: int, flt: SyncLogFilter) -> CsvFile:
    """Every matching exchange up to EXPORT_LIMIT, newest first, without bodies."""
    branch = session.get(Branch, branch_id)
    stmt = _statement(session, branch, branch_id, flt).limit(EXPORT_LIMIT)
    rows = []
    for log, name, mrn in session.exec(stmt):
        row = _row(log, name, mrn, branch)
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
    return csv_file(session, branch_id, CSV_NAME, to_csv(SYNC_CSV_HEADERS, rows), len(rows))
