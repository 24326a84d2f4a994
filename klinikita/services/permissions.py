"""Who may do what: the one table from duty to allowed actions.

Every mutating handler asks `require(duty, action)` (through the state's shared guard),
and every menu is shown only for the duties whose actions include its `view` action.
Editing or deleting what has already been recorded is `RECORD_EDIT` / `RECORD_DELETE`,
which only admin has.

Opening a page is one action; reading the clinical content on it is another, checked by
the service that builds what the page shows: `VIEW_CLINICAL` (SOAP, diagnoses, vital signs,
procedures), `VIEW_PRESCRIPTION` (prescriptions, and allergies once they are recorded) and
`VIEW_SATUSEHAT_BODIES` (the request and response bodies of the SATUSEHAT log). A duty
without them gets the administrative part only: dates, unit, doctor, payer, status.
"""

from __future__ import annotations

from enum import StrEnum

from klinikita.models.enums import Duty
from klinikita.services.errors import PermissionDenied


class Action(StrEnum):
    # Menus (reading)
    VIEW_BERANDA = "view_beranda"
    VIEW_PENDAFTARAN = "view_pendaftaran"
    VIEW_PEMERIKSAAN = "view_pemeriksaan"
    VIEW_RESUME = "view_resume"
    VIEW_KONTAK = "view_kontak"
    VIEW_REFERENSI = "view_referensi"
    VIEW_LAPORAN = "view_laporan"
    VIEW_PENGATURAN = "view_pengaturan"
    # Apotek: the dispensing queue, the drug master (Obat & BHP) and the stock.
    VIEW_APOTEK = "view_apotek"
    # Kasir: bills waiting for payment, the nota, tariffs (read) and the cashier's shift.
    VIEW_KASIR = "view_kasir"
    # Laporan aktivitas (the audit trail: staff logins, password events, every change):
    # admin only, unlike the other reports.
    VIEW_AUDIT = "view_audit"
    # Log server SATUSEHAT: the rows (method, URL, status, time, patient) of each exchange.
    VIEW_SATUSEHAT_LOG = "view_satusehat_log"
    # Laporan pendapatan (revenue, shift reports, unpaid bills): the cashiers and admin.
    VIEW_PENDAPATAN = "view_pendapatan"
    # Clinical content wherever it is shown (Resume and its print): SOAP, diagnoses,
    # vital signs, procedures.
    VIEW_CLINICAL = "view_clinical"
    # Prescriptions (and allergies): what the pharmacy dispenses against.
    VIEW_PRESCRIPTION = "view_prescription"
    # The FHIR request and response bodies of the SATUSEHAT log: they carry diagnoses and
    # vital signs of every patient sent; admin only.
    VIEW_SATUSEHAT_BODIES = "view_satusehat_bodies"
    # Creating new records
    PATIENT_CREATE = "patient_create"
    VISIT_REGISTER = "visit_register"
    VISIT_CANCEL = "visit_cancel"
    EXAM_VITALS = "exam_vitals"
    EXAM_MEDICAL = "exam_medical"
    EXAM_COMPLETE = "exam_complete"
    # "Panggil" on Pemeriksaan: calls a queue number to a room on the waiting-room display.
    QUEUE_CALL = "queue_call"
    PAYMENT_RECORD = "payment_record"
    # A discount on a bill (with a reason): the cashier on duty and admin, not a shared login.
    BILL_DISCOUNT = "bill_discount"
    # Voiding (batal) a paid bill, with a reason: admin only.
    BILL_VOID = "bill_void"
    # The branch's tariffs and insurers: admin only.
    TARIFF_EDIT = "tariff_edit"
    DISPENSE_RECORD = "dispense_record"
    # Cancelling a dispensing (its units go back to stock): the apoteker in charge, admin.
    DISPENSE_CANCEL = "dispense_cancel"
    # Allergies of a patient (or "tidak ada alergi"), from the exam page or the pharmacy.
    ALLERGY_RECORD = "allergy_record"
    # Goods receipts (penerimaan) into the branch's stock.
    STOCK_RECEIVE = "stock_receive"
    # Adjustments and stock-take (stok opname): they change counted stock, with a reason.
    STOCK_ADJUST = "stock_adjust"
    # The drug master: items, prices, minimum stock, KFA mapping, CSV import.
    DRUG_MASTER_EDIT = "drug_master_edit"
    SATUSEHAT_RESEND = "satusehat_resend"
    # Sending every completed visit of a date range that SATUSEHAT does not have yet (admin)
    SATUSEHAT_BACKFILL = "satusehat_backfill"
    # Master data and settings (admin)
    EMPLOYEE_CREATE = "employee_create"
    UNIT_CREATE = "unit_create"
    ROOM_CREATE = "room_create"
    USER_CREATE = "user_create"
    BRANCH_SETTINGS = "branch_settings"
    # The waiting-room TVs' display tokens: creating and revoking them (admin).
    QUEUE_DISPLAY_MANAGE = "queue_display_manage"
    # Changing what is already recorded (admin only)
    RECORD_EDIT = "record_edit"
    RECORD_DELETE = "record_delete"


ACTION_LABELS: dict[Action, str] = {
    Action.VIEW_BERANDA: "membuka Beranda",
    Action.VIEW_PENDAFTARAN: "membuka Pendaftaran",
    Action.VIEW_PEMERIKSAAN: "membuka Pemeriksaan",
    Action.VIEW_RESUME: "membuka Resume",
    Action.VIEW_KONTAK: "membuka Kontak",
    Action.VIEW_REFERENSI: "membuka Referensi",
    Action.VIEW_LAPORAN: "membuka Laporan",
    Action.VIEW_PENGATURAN: "membuka Pengaturan",
    Action.VIEW_APOTEK: "membuka Apotek",
    Action.VIEW_KASIR: "membuka Kasir",
    Action.VIEW_AUDIT: "membuka Laporan aktivitas",
    Action.VIEW_SATUSEHAT_LOG: "membuka Log server SATUSEHAT",
    Action.VIEW_PENDAPATAN: "membaca laporan pendapatan kasir",
    Action.VIEW_CLINICAL: "membaca SOAP, diagnosis, tanda vital dan tindakan",
    Action.VIEW_PRESCRIPTION: "membaca resep dan alergi",
    Action.VIEW_SATUSEHAT_BODIES: "membaca isi pertukaran dengan SATUSEHAT",
    Action.PATIENT_CREATE: "menambah pasien",
    Action.VISIT_REGISTER: "mendaftarkan kunjungan",
    Action.VISIT_CANCEL: "membatalkan kunjungan",
    Action.EXAM_VITALS: "mengisi tanda vital",
    Action.EXAM_MEDICAL: "mengisi SOAP dan diagnosis",
    Action.EXAM_COMPLETE: "menyelesaikan pemeriksaan",
    Action.QUEUE_CALL: "memanggil nomor antrean",
    Action.PAYMENT_RECORD: "mencatat pembayaran",
    Action.BILL_DISCOUNT: "memberi diskon tagihan",
    Action.BILL_VOID: "membatalkan nota yang sudah dibayar",
    Action.TARIFF_EDIT: "mengubah tarif dan asuransi",
    Action.DISPENSE_RECORD: "mencatat penyerahan obat",
    Action.DISPENSE_CANCEL: "membatalkan penyerahan obat",
    Action.ALLERGY_RECORD: "mencatat alergi pasien",
    Action.STOCK_RECEIVE: "mencatat penerimaan obat",
    Action.STOCK_ADJUST: "menyesuaikan stok dan stok opname",
    Action.DRUG_MASTER_EDIT: "mengubah data obat & BHP",
    Action.SATUSEHAT_RESEND: "mengirim ulang ke SATUSEHAT",
    Action.SATUSEHAT_BACKFILL: "mengirim kunjungan yang belum terkirim ke SATUSEHAT",
    Action.EMPLOYEE_CREATE: "menambah karyawan",
    Action.UNIT_CREATE: "menambah unit layanan",
    Action.ROOM_CREATE: "menambah ruangan",
    Action.USER_CREATE: "menambah pengguna",
    Action.BRANCH_SETTINGS: "mengubah pengaturan cabang",
    Action.QUEUE_DISPLAY_MANAGE: "mengatur layar antrean",
    Action.RECORD_EDIT: "mengubah data yang sudah tercatat",
    Action.RECORD_DELETE: "menghapus data yang sudah tercatat",
}

_A = Action
_DESK = {_A.VIEW_BERANDA, _A.VIEW_PENDAFTARAN, _A.VIEW_RESUME, _A.VIEW_KONTAK}
_REGISTRATION = _DESK | {_A.PATIENT_CREATE, _A.VISIT_REGISTER, _A.VISIT_CANCEL}
_CASHIER = {_A.VIEW_BERANDA, _A.VIEW_PENDAFTARAN, _A.VIEW_KONTAK, _A.VIEW_LAPORAN}
# The cashier's desk registers visits too (the Pendaftaran: pendaftaran, kasir, admin).
_CASHIER |= {_A.PAYMENT_RECORD, _A.PATIENT_CREATE, _A.VISIT_REGISTER, _A.VISIT_CANCEL}
_CASHIER |= {_A.VIEW_KASIR}
_NURSE = {_A.VIEW_BERANDA, _A.VIEW_PENDAFTARAN, _A.VIEW_PEMERIKSAAN, _A.VIEW_RESUME}
_NURSE |= {_A.VIEW_KONTAK, _A.EXAM_VITALS, _A.VIEW_CLINICAL, _A.VIEW_PRESCRIPTION}
_NURSE |= {_A.ALLERGY_RECORD, _A.QUEUE_CALL}
_DOCTOR = {_A.VIEW_BERANDA, _A.VIEW_PEMERIKSAAN, _A.VIEW_RESUME, _A.VIEW_KONTAK}
_DOCTOR |= {_A.VIEW_CLINICAL, _A.VIEW_PRESCRIPTION}
_DOCTOR |= {_A.VIEW_REFERENSI, _A.VIEW_LAPORAN, _A.EXAM_VITALS, _A.EXAM_MEDICAL}
_DOCTOR |= {_A.EXAM_COMPLETE, _A.SATUSEHAT_RESEND, _A.ALLERGY_RECORD, _A.QUEUE_CALL}
# The pharmacy reads the prescriptions it dispenses against, not the SOAP or diagnoses.
_PHARMACY = {_A.VIEW_BERANDA, _A.VIEW_RESUME, _A.VIEW_KONTAK, _A.DISPENSE_RECORD}
_PHARMACY |= {_A.VIEW_PRESCRIPTION, _A.VIEW_APOTEK, _A.ALLERGY_RECORD, _A.STOCK_RECEIVE}
# The pharmacist in charge (apoteker) keeps the drug master and corrects counted stock.
_PHARMACIST = _PHARMACY | {_A.DRUG_MASTER_EDIT, _A.STOCK_ADJUST, _A.DISPENSE_CANCEL}
# The shared desk account does the day's work of a small practice but never changes
# or removes what is recorded.
_SHARED_DESK = _REGISTRATION | _NURSE | _DOCTOR | _CASHIER | _PHARMACY

PERMISSIONS: dict[Duty, frozenset[Action]] = {
    Duty.ADMIN: frozenset(Action),
    Duty.LOGIN_KLINIK: frozenset(_SHARED_DESK),
    Duty.LOGIN_PRAKTIK: frozenset(_SHARED_DESK),
    Duty.PENDAFTARAN: frozenset(_REGISTRATION),
    # A discount is given by a named cashier (not the shared desk login), with a reason.
    # The revenue report is read by a named cashier and admin, not by the shared desk login.
    Duty.KASIR: frozenset(_CASHIER | {_A.BILL_DISCOUNT, _A.VIEW_PENDAPATAN}),
    Duty.PENDAFTARAN_KASIR: frozenset(
        _REGISTRATION | _CASHIER | {_A.BILL_DISCOUNT, _A.VIEW_PENDAPATAN}
    ),
    Duty.PERAWAT: frozenset(_NURSE),
    Duty.BIDAN: frozenset(_NURSE),
    Duty.DOKTER_UMUM: frozenset(_DOCTOR),
    Duty.DOKTER_SPESIALIS: frozenset(_DOCTOR),
    Duty.DOKTER_GIGI: frozenset(_DOCTOR),
    Duty.DOKTER_MCU: frozenset(_DOCTOR),
    Duty.APOTEKER: frozenset(_PHARMACIST),
    Duty.ASISTEN_APOTEKER: frozenset(_PHARMACY),
}


# The SATUSEHAT log's rows name patients and what was sent for them: a duty with the Laporan
# menu gets them only if it opens the Resume anyway. A cashier keeps the dashboard's counts.
# The bodies (VIEW_SATUSEHAT_BODIES) stay with admin.
for _duty, _actions in PERMISSIONS.items():
    if {_A.VIEW_LAPORAN, _A.VIEW_RESUME} <= _actions:
        PERMISSIONS[_duty] = _actions | {_A.VIEW_SATUSEHAT_LOG}


def allows(duty: Duty | str, action: Action) -> bool:
    try:
        return action in PERMISSIONS[Duty(duty)]
    except ValueError:
        return False


def require(duty: Duty | str, action: Action) -> None:
    """Raise PermissionDenied, with a message staff understand, unless `duty` may `action`."""
    if not allows(duty, action):
        try:
            who = Duty(duty).label
        except ValueError:
            who = str(duty)
        raise PermissionDenied(
            f"Tugas aktif Anda ({who}) tidak berwenang {ACTION_LABELS[action]}. "
            "Ganti tugas atau hubungi admin."
        )
