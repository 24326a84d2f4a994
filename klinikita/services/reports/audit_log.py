"""Laporan aktivitas: the branch's audit trail, filtered by local dates, user and action,
in words staff know: actions, records and fields labelled in Bahasa Indonesia, times in the
branch's zone, what changed as `Field: before → after` (the CSV the same)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from klinikita.models import AuditLog, Branch
from klinikita.models.accounts import User, UserBranch
from klinikita.models.enums import BranchTimeZone, Duty, Sex, SyncStatus
from klinikita.services import audit
from klinikita.services.paging import Page, paginate
from klinikita.services.patients import format_date
from klinikita.services.report_csv import EXPORT_LIMIT, to_csv
from klinikita.services.reports.days import (
    CsvFile,
    at_between,
    check_range,
    csv_file,
    local_datetime_text,
)
from klinikita.services.resume import SYNC_STATE_LABELS as SYNC_LABELS
from klinikita.services.visit_queue import status_label

PAGE_SIZE = 25
CSV_NAME = "laporan-aktivitas"

# What staff read for each action the code records (tests/unit/test_audit_labels.py checks
# that every `audit.record` call has its label here).
ACTION_LABELS = {
    # Apotek: drug master, stock, allergies, dispensing
    "map_kfa": "petakan ke KFA",
    "adjust": "penyesuaian stok",
    "stock_take": "stok opname",
    "allergy_record": "catat alergi",
    "allergy_withdraw": "cabut alergi",
    "prescription_allergy_confirm": "resep meski alergi (dikonfirmasi dokter)",
    "dispense_queue": "masuk antrean apotek",
    "dispense": "siapkan obat",
    "hand_over": "serahkan obat",
    "dispense_return": "retur obat (dikembalikan pasien)",
    # records of the master data and accounts
    "create": "tambah",
    "update": "ubah",
    "deactivate": "nonaktifkan",
    "reactivate": "aktifkan kembali",
    "cancel": "batalkan",
    # logins and accounts
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
    # SATUSEHAT
    "satusehat_resend": "kirim ulang SATUSEHAT",
    "satusehat_resend_all": "kirim ulang semua yang gagal",
    "satusehat_backfill": "kirim data lama ke SATUSEHAT",
    # visits and examinations
    "visit_register": "daftar kunjungan",
    "visit_cancel": "batal kunjungan",
    "exam_start": "mulai periksa",
    "exam_vitals": "isi tanda vital",
    "exam_soap": "isi SOAP",
    "exam_complete": "selesai pemeriksaan",
    "diagnosis_add": "tambah diagnosis",
    "diagnosis_primary": "ganti diagnosis utama",
    "diagnosis_remove": "hapus diagnosis",
    "procedure_add": "tambah tindakan",
    "procedure_remove": "hapus tindakan",
    "prescription_add": "tambah resep",
    "prescription_remove": "hapus resep",
    # printed documents and the letterhead
    "delete": "hapus",
    "document_issue": "terbitkan dokumen",
    "document_print": "cetak dokumen",
    "document_reprint": "cetak ulang (SALINAN)",
    # Kasir
    "tariff_add": "tambah tarif",
    "tariff_end": "akhiri tarif",
    "insurer_add": "tambah asuransi",
    "bill_create": "buat tagihan",
    "bill_line_add": "tambah baris tagihan",
    "bill_line_remove": "hapus baris tagihan",
    "bill_discount": "beri diskon",
    "bill_insurer": "pilih asuransi tagihan",
    "bill_pay": "terima pembayaran",
    "bill_void": "batalkan nota",
    "bill_follow": "tagihan mengikuti kunjungan",
    "nota_print": "cetak nota",
    "nota_reprint": "cetak ulang nota (salinan)",
    "etiket_print": "cetak etiket obat",
    "etiket_reprint": "cetak ulang etiket obat (salinan)",
    "shift_open": "buka shift kasir",
    "shift_close": "tutup shift kasir",
    # waiting-room display
    "queue_call": "panggil antrean",
    "queue_recall": "panggil ulang antrean",
    "revoke": "cabut akses",
}

# The kind of record an audit row is about.
ENTITY_LABELS = {
    "drug_item": "obat & BHP",
    "stock_batch": "batch stok",
    "goods_receipt": "penerimaan obat",
    "patient_allergy": "alergi pasien",
    "dispense": "penyerahan obat",
    "patient": "pasien",
    "user": "pengguna",
    "employee": "karyawan",
    "service_unit": "unit layanan",
    "room": "ruangan",
    "branch": "cabang",
    "login_session": "sesi masuk",
    "visit": "kunjungan",
    "examination": "pemeriksaan",
    "diagnosis": "diagnosis",
    "procedure": "tindakan",
    "prescription": "resep",
    "sync_job": "kiriman SATUSEHAT",
    "issued_document": "dokumen cetak",
    "branch_logo": "logo cabang",
    "tariff": "tarif",
    "insurer": "asuransi",
    "bill": "tagihan (nota)",
    "bill_line": "baris tagihan",
    "cashier_shift": "shift kasir",
    "display_token": "layar antrean",
}

# What staff read for each field an audit row's before/after holds (the records' columns
# and the few keys the services write themselves).
FIELD_LABELS = {
    # Apotek and the outpatient module
    "active": "Aktif",
    "allergies": "Alergi",
    "allergy": "Alergi",
    "allergy_id": "ID alergi",
    "batch_id": "ID batch",
    "batches": "Batch",
    "bpjs_number": "No. BPJS",
    "category": "Kategori",
    "change": "Perubahan",
    "changes": "Perubahan",
    "created_by_user_id": "Dicatat oleh (ID pengguna)",
    "dispensed_at": "Disiapkan pada",
    "dispensed_by_user_id": "Disiapkan oleh (ID pengguna)",
    "dose_amount": "Jumlah per dosis",
    "dose_text": "Dosis per bungkus",
    "form_code": "Kode sediaan",
    "form_name": "Sediaan",
    "handed_over_at": "Diserahkan pada",
    "handed_over_by_user_id": "Diserahkan oleh (ID pengguna)",
    "ingredients": "Bahan racikan",
    "invoice_number": "No. faktur",
    "is_compound": "Racikan",
    "item": "Obat/BHP",
    "item_id": "ID obat/BHP",
    "kfa_code": "Kode KFA",
    "kfa_display": "Nama KFA",
    "line_no": "No. baris resep",
    "lines": "Baris",
    "medication_dispense_id": "ID MedicationDispense SATUSEHAT",
    "medication_request_id": "ID MedicationRequest SATUSEHAT",
    "min_stock": "Stok minimum",
    "performed_at": "Waktu tindakan",
    "performed_by_id": "Pelaksana (ID karyawan)",
    "price": "Harga jual (Rp)",
    "queued_at": "Masuk antrean apotek",
    "reaction": "Reaksi",
    "received_on": "Tanggal terima",
    "recorded_at": "Dicatat pada",
    "recorded_by_user_id": "Dicatat oleh (ID pengguna)",
    "recorded_visit_id": "Dicatat pada kunjungan (ID)",
    "resource_id": "ID SATUSEHAT",
    "returned": "Dikembalikan ke stok",
    "route": "Cara pemberian",
    "severity": "Tingkat keparahan",
    "strength": "Kekuatan",
    "supplier": "Pemasok",
    "taken": "Diambil dari stok",
    "times_per_day": "Kali sehari",
    "unit": "Satuan",
    # shared
    "branch_id": "ID cabang",
    "branch_ids": "Cabang",
    "name": "Nama",
    "nik": "NIK",
    "sex": "Jenis kelamin",
    "birth_date": "Tanggal lahir",
    "phone": "Telepon",
    "email": "Email",
    "is_active": "Aktif",
    "ihs_number": "Nomor IHS",
    "ihs_id": "ID SATUSEHAT",
    "sync_status": "Status SATUSEHAT",
    "sync_error": "Kesalahan SATUSEHAT",
    "status": "Status",
    "visit_id": "ID kunjungan",
    "main_duty": "Tugas utama",
    # patient
    "mrn": "No. RM",
    "kk_number": "Nomor KK",
    "province_code": "Provinsi",
    "city_code": "Kabupaten/kota",
    "district_code": "Kecamatan",
    "village_code": "Kelurahan/desa",
    "street": "Alamat",
    "rt": "RT",
    "rw": "RW",
    "is_newborn": "Bayi baru lahir",
    "mother_nik": "NIK ibu",
    "birth_order": "Kembar ke-",
    "is_foreigner": "WNA",
    "no_nik_reason": "Alasan tanpa NIK",
    # user and login
    "username": "Nama pengguna",
    "full_name": "Nama lengkap",
    "employee_id": "ID karyawan",
    "extra_duties": "Tugas tambahan",
    "failed_logins": "Gagal masuk",
    "locked_until": "Terkunci sampai",
    "password_changed_at": "Kata sandi diganti",
    "sessions_ended": "Sesi diakhiri",
    "duty": "Tugas",
    "matched": "Akun ditemukan",
    "expires_at": "Berlaku sampai",
    # branch
    "facility_type": "Jenis fasilitas",
    "address": "Alamat",
    "timezone": "Zona waktu",
    "license_number": "No. izin",
    # employee
    "sip_number": "No. SIP",
    # printed documents and the logo
    "kind": "Jenis",
    "number": "Nomor dokumen",
    "print_count": "Jumlah cetak",
    "format": "Dicetak ke",
    "mime": "Jenis gambar",
    "bytes": "Ukuran (byte)",
    "mrn_format": "Format No. RM",
    "ss_environment": "Lingkungan SATUSEHAT",
    "ss_auth_url": "Alamat autentikasi SATUSEHAT",
    "ss_fhir_url": "Alamat FHIR SATUSEHAT",
    "ss_organization_id": "Organization ID SATUSEHAT",
    "ss_client_id": "Client ID SATUSEHAT",
    "ss_secret_encrypted": "Client secret SATUSEHAT",
    "ss_key_refused_at": "Kunci ditolak pada",
    "ss_key_refusal": "Penolakan kunci",
    "latitude": "Lintang",
    "longitude": "Bujur",
    # units and rooms
    "unit_id": "ID unit",
    # visit
    "patient_id": "ID pasien",
    "room_id": "ID ruangan",
    "doctor_id": "ID dokter",
    "visit_date": "Tanggal kunjungan",
    "queue_number": "Nomor antrean",
    "payer": "Penjamin",
    "arrived_at": "Datang",
    "exam_started_at": "Mulai diperiksa",
    "completed_at": "Selesai",
    "cancelled_at": "Dibatalkan",
    "cancel_reason": "Alasan batal",
    "encounter_id": "ID Encounter SATUSEHAT",
    "retracted": "Ditarik dari SATUSEHAT",
    # examination
    "systolic": "Sistolik (mmHg)",
    "diastolic": "Diastolik (mmHg)",
    "pulse": "Nadi (/menit)",
    "respiratory_rate": "Napas (/menit)",
    "temperature": "Suhu (°C)",
    "weight": "Berat badan (kg)",
    "height": "Tinggi badan (cm)",
    "spo2": "SpO2 (%)",
    "vitals_at": "Tanda vital diukur",
    "vitals_by_id": "ID karyawan pengukur",
    "vitals_by_user_id": "ID pengguna pengukur",
    "soap_by_user_id": "ID pengguna penulis SOAP",
    "subjective": "Subjektif",
    "objective": "Objektif",
    "assessment": "Asesmen",
    "plan": "Rencana",
    # diagnoses, procedures, prescriptions
    "code": "Kode",
    "rank": "Urutan",
    "order": "Urutan diagnosis",
    "icd10_code": "Kode ICD-10",
    "display": "Nama diagnosis",
    "condition_id": "ID Condition SATUSEHAT",
    "description": "Nama tindakan",
    "note": "Catatan",
    "medicine": "Nama obat",
    "form": "Bentuk sediaan",
    "quantity": "Jumlah",
    "dose": "Dosis",
    "frequency": "Frekuensi",
    "duration_days": "Lama (hari)",
    "instructions": "Aturan pakai",
    # SATUSEHAT jobs
    "job": "ID kiriman",
    "count": "Jumlah kiriman",
    "date_from": "Dari tanggal",
    "date_to": "Sampai tanggal",
    # Kasir
    "amount": "Jumlah (Rp)",
    "covered": "Ditanggung penjamin",
    "valid_from": "Berlaku mulai",
    "ended_on": "Berakhir pada",
    "insurer_id": "ID asuransi",
    "coverage_percent": "Tanggungan asuransi (%)",
    "bill_id": "ID tagihan",
    "customer_name": "Nama pembeli",
    "unit_price": "Harga satuan",
    "reason": "Alasan",
    "discount_kind": "Jenis diskon",
    "discount_value": "Nilai diskon",
    "discount_amount": "Diskon (Rp)",
    "nota_number": "Nomor nota",
    "patient_total": "Dibayar pasien (Rp)",
    "payments": "Pembayaran",
    "method": "Cara bayar",
    "reference": "Nomor referensi",
    "paper": "Kertas",
    "pdf": "Unduh PDF",
    "size": "Ukuran etiket",
    "labels": "Jumlah etiket",
    "opening_cash": "Modal kas awal",
    "expected": "Seharusnya",
    "counted": "Dihitung",
    # waiting-room display
    "queue_label": "Nomor antrean",
    "room": "Ruangan",
    "revoked_at": "Dicabut pada",
}

# Bookkeeping columns recorded with every row that say nothing to staff: not shown.
HIDDEN_FIELDS = frozenset(
    {
        "id",
        "uid",
        "version",
        "created_at",
        "updated_at",
        "name_norm",
        "password_hash",
        "observation_ids",
        "sync_revision",
        "sent_revision",
    }
)

AUDIT_CSV_HEADERS = (
    "Waktu",
    "Pengguna",
    "Tugas",
    "Aksi",
    "Data",
    "ID data",
    "Perubahan",
)
PAGE_CHANGE_CHARS = 400  # what one row shows of its changes on the page (the CSV has all)


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


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity.replace("_", " "))


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " "))


def _duty_label(duty: str) -> str:
    try:
        return Duty(duty).label
    except ValueError:
        return duty


_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _zone_label(branch: Branch | None) -> str:
    try:
        return BranchTimeZone(branch.timezone).label if branch else "WIB"
    except ValueError:
        return ""


def _time_text(moment: datetime, branch: Branch | None) -> str:
    """'25 Nov 2026 14:03:09 WIB': a UTC moment in the branch's zone, with its name."""
    return f"{local_datetime_text(moment, branch)} {_zone_label(branch)}".strip()


def _value_text(field: str, value: Any, branch: Branch | None) -> str:
    """One recorded value as staff read it: labels for statuses, duties and yes/no,
    times in the branch's zone, dates as `25 Nov 2026`, lists joined."""
    if value is None or value == "" or value == []:
        return "(kosong)"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(field, v, branch) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)} {_value_text(k, v, branch)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    text = str(value)
    if field in ("duty", "main_duty", "extra_duties"):
        return _duty_label(text)
    if field == "status":
        return status_label(text)
    if field == "sync_status":
        try:
            return SYNC_LABELS[SyncStatus(text)]
        except ValueError:
            return text
    if field == "sex":
        try:
            return Sex(text).label
        except ValueError:
            return text
    if field == "timezone":
        try:
            return BranchTimeZone(text).label
        except ValueError:
            return text
    if _ISO_MOMENT.match(text):
        try:
            return _time_text(datetime.fromisoformat(text), branch)
        except ValueError:
            return text
    if _ISO_DAY.fullmatch(text):
        try:
            return format_date(date.fromisoformat(text))
        except ValueError:
            return text
    return text


def change_lines(
    before: dict[str, Any] | None, after: dict[str, Any] | None, branch: Branch | None
) -> list[str]:
    """What an audit row says changed, in words: `Nama: A → B` for each field a change
    changed; `Nama: A` for each filled field of what was added (only `after`) or removed
    (only `before`). Bookkeeping fields are left out."""
    if before and after:
        return [
            f"{field_label(f)}: {_value_text(f, before.get(f), branch)} → "
            f"{_value_text(f, after.get(f), branch)}"
            for f in audit.changed_fields(before, after)
            if f not in HIDDEN_FIELDS
        ]
    recorded = after or before or {}
    return [
        f"{field_label(f)}: {_value_text(f, v, branch)}"
        for f, v in recorded.items()
        if f not in HIDDEN_FIELDS and v not in (None, "", [])
    ]


def _changes(row: AuditLog, branch: Branch | None, limit: int | None = None) -> str:
    text = "; ".join(change_lines(row.before, row.after, branch))
    if limit is not None and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text


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
        at_text=_time_text(row.at, branch),
        username=row.username or "(sistem)",
        duty=_duty_label(row.duty),
        action=row.action,
        action_label=action_label(row.action),
        entity=entity_label(row.entity),
        entity_id=row.entity_id,
        changes=_changes(row, branch, PAGE_CHANGE_CHARS),
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


def audit_log_csv(session: Session, branch_id: int, flt: AuditFilter) -> CsvFile:
    """Every matching row up to EXPORT_LIMIT, newest first: times in the branch's zone,
    actions, records and fields in words, what changed as `Field: before → after`."""
    branch = session.get(Branch, branch_id)
    stmt = _statement(branch, branch_id, flt).limit(EXPORT_LIMIT)
    rows = [
        (
            _time_text(r.at, branch),
            r.username or "(sistem)",
            _duty_label(r.duty),
            action_label(r.action),
            entity_label(r.entity),
            r.entity_id,
            _changes(r, branch),
        )
        for r in session.exec(stmt)
    ]
    return csv_file(session, branch_id, CSV_NAME, to_csv(AUDIT_CSV_HEADERS, rows), len(rows))
