"""Laporan aktivitas: the branch's audit trail, filtered by local dates, user and action."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from klinikita.models import AuditLog, Branch
from klinikita.models.accounts import User, UserBranch
from klinikita.models.enums import Duty
from klinikita.services import audit
from klinikita.services.paging import Page, paginate
from klinikita.services.report_csv import EXPORT_LIMIT, to_csv
from klinikita.services.reports.days import (
    CsvFile,
    at_between,
    check_range,
    csv_file,
    local_datetime_text,
)

PAGE_SIZE = 25
CSV_NAME = "laporan-aktivitas"

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


@dataclass(frozen=True)
class FilterOptions:
    users: list[Option]  # the branch's users
    actions: list[Option]  # the actions that occur in its trail


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


def _statement(branch: Branch | None, branch_id: int, flt: AuditFilter):  # noqa: ANN202
    check_range(flt.date_from, flt.date_to)
    stmt = select(AuditLog).where(AuditLog.branch_id == branch_id)
    for condition in at_between(AuditLog.at, branch, flt.date_from, flt.date_to):
        stmt = stmt.where(condition)
    if flt.user_id:
        stmt = stmt.where(AuditLog.user_id == flt.user_id)
    if flt.action:
        stmt = stmt.where(AuditLog.action == flt.action)
    return stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())


def _row(row: AuditLog, branch: Branch | None) -> AuditRow:
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
    """The branch's audit rows matching `flt`, newest first (`page` clamped)."""
    branch = session.get(Branch, branch_id)
    found = paginate(session, _statement(branch, branch_id, flt), page, page_size)
    return Page([_row(r, branch) for r in found.rows], found.page, page_size, found.total)


def filter_options(session: Session, branch_id: int) -> FilterOptions:
    """The choices of the user and action selects."""
    users = session.exec(
        select(User.id, User.username, User.full_name)
        .join(UserBranch, UserBranch.user_id == User.id)
        .where(UserBranch.branch_id == branch_id)
        .order_by(User.username)
    ).all()
    actions = session.exec(
        select(AuditLog.action).where(AuditLog.branch_id == branch_id).distinct()
    ).all()
    return FilterOptions(
        users=[Option(str(uid), f"{name} ({username})") for uid, username, name in users],
        actions=sorted((Option(a, action_label(a)) for a in actions), key=lambda o: o.label),
    )


def _json_text(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_log_csv(session: Session, branch_id: int, flt: AuditFilter) -> CsvFile:
    """Every matching row up to EXPORT_LIMIT, newest first, with what changed."""
    branch = session.get(Branch, branch_id)
    stmt = _statement(branch, branch_id, flt).limit(EXPORT_LIMIT)
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
    return csv_file(session, branch_id, CSV_NAME, to_csv(AUDIT_CSV_HEADERS, rows), len(rows))
