"""Kasir handlers, called directly as a browser could: the waiting list (live), the open bill
following the pharmacy live, a split payment (refused for a total the cashier did not see),
the nota print and its copy, a void and the pharmacy's return, tariffs and the shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import reflex as rx
from sqlmodel import select

from klinikita.models import AuditLog, Visit
from klinikita.models.billing import Bill, BillStatus
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DispenseStatus
from klinikita.services import dispensing
from klinikita.services.errors import PermissionDenied
from klinikita.services.visit_queue import local_today
from klinikita.state.kasir import KasirState, NotaState
from klinikita.state.kasir_admin import ShiftState, TariffState
from klinikita.state.pharmacy import PharmacyState
from tests.factories import make_clinic, make_user
from tests.state.conftest import logged_in, tab_at
from tests.support import pharmacy_data as ph


def _visit(db, branch, unit, room, doctor, patient, queue: int) -> Visit:
    now = datetime.now(UTC)
    visit = Visit(
        branch_id=branch.id,
        patient_id=patient.id,
        unit_id=unit.id,
        room_id=room.id,
        doctor_id=doctor.id,
        visit_date=local_today(branch),
        queue_number=queue,
        status=VisitStatus.COMPLETE,
        arrived_at=now - timedelta(minutes=30),
        completed_at=now,
    )
    db.add(visit)
    db.commit()
    return visit


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    make_user(db, "kasir", branches=[branch], main_duty=Duty.KASIR)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    return branch, unit, room, doctor, patient


def _tariffs(db, root):
    admin = logged_in(db, root, TariffState, "admin")
    admin.load()
    for field, value in {
        "kind": "consultation",
        "name": "Jasa dokter umum",
        "amount": "75.000",
        "valid_from": "01/01/2026",
    }.items():
        admin.set_field(field, value)
    admin.save()
    assert admin.errors == {} and admin.rows[0]["amount"] == "Rp 75.000"
    return admin


def test_cashier_takes_a_split_payment_and_prints_the_nota(db, root, clinic):
    branch, unit, room, doctor, patient = clinic
    _tariffs(db, rx.State())
    visit = _visit(db, branch, unit, room, doctor, patient, 3)
    kasir = logged_in(db, root, KasirState, "kasir")
    tab_at(root, "tab-kasir", "/kasir")
    kasir.load()
    assert [r["visit_id"] for r in kasir.rows] == [str(visit.id)]
    kasir.set_search("3")
    assert kasir.rows[0]["queue_number"] == "3"
    kasir.open_visit(str(visit.id))
    assert [line["description"] for line in kasir.lines] == ["Jasa dokter umum"]
    assert kasir.bill["patient_total_text"] == "Rp 75.000"
    assert kasir.bill["words"] == "tujuh puluh lima ribu rupiah"
    kasir.set_line_field("description", "Materai")
    kasir.set_line_field("unit_price", "10000")
    kasir.set_line_field("reason", "surat keterangan")
    kasir.add_line()
    assert kasir.bill["patient_total_text"] == "Rp 85.000"
    assert kasir.parts[0]["amount"] == "85000"  # the whole total proposed in cash
    # Paying needs an open shift.
    shift = logged_in(db, rx.State(), ShiftState, "kasir")
    shift.load()
    shift.set_opening_cash("100.000")
    shift.open_shift()
    assert shift.open_id
    kasir.set_part(0, "amount", "50000")
    kasir.set_part(0, "cash_received", "100000")
    kasir.add_part()
    kasir.set_part(1, "method", "qris")
    kasir.set_part(1, "amount", "35000")
    kasir.pay()
    assert kasir.pay_errors == ["Isi nomor referensi QRIS dari struk/aplikasi."]
    kasir.set_part(1, "reference", "QR123")
    kasir.pay()
    assert kasir.bill["status"] == BillStatus.PAID and kasir.bill["nota_number"].endswith("-0001")
    assert kasir.change_text == "Rp 50.000"
    assert kasir.rows == [] and kasir.paid_rows[0]["nota"] == kasir.bill["nota_number"]
    # The nota: first print, then a copy.
    nota_root = rx.State()
    nota = logged_in(db, nota_root, NotaState, "kasir")
    tab_at(nota_root, "tab-nota", f"/kasir/nota?tagihan={kasir.bill['id']}&kertas=80")
    nota.load()
    assert nota.paper == "80" and nota.bill["nota_number"] == kasir.bill["nota_number"]
    assert not nota.is_copy
    # The page shows the nota as print_render lays it out: 80 mm roll, the number, the total
    # in words.
    assert nota.paper_size == "80" and 'data-paper="80"' in nota.html
    assert kasir.bill["nota_number"] in nota.html and "rupiah" in nota.html
    assert "SALINAN" not in nota.html
    nota.print_nota()
    assert not nota.is_copy and "SALINAN" not in nota.html
    nota.print_nota()
    assert nota.is_copy and "SALINAN" in nota.html
    nota.load()
    assert nota.is_copy  # a reload after printing shows SALINAN
    reprints = db.exec(select(AuditLog).where(AuditLog.action == "nota_reprint")).all()
    assert len(reprints) == 1
    db.commit()  # the test's own read holds SQLite's write lock until it ends
    # Closing the shift: expected against counted.
    shift.set_count("tunai", "150000")
    shift.set_count("qris", "35000")
    shift.close_shift()
    tunai = next(r for r in shift.report_rows if r["method"] == "Tunai")
    assert (tunai["expected"], tunai["counted"], tunai["difference"]) == (
        "Rp 150.000",
        "Rp 150.000",
        "Rp 0",
    )


def test_the_list_follows_visits_completed_elsewhere(db, root, clinic):
    branch, unit, room, doctor, patient = clinic
    kasir = logged_in(db, root, KasirState, "kasir")
    tab_at(root, "tab-kasir", "/kasir")
    kasir.load()
    assert kasir.rows == []
    _visit(db, branch, unit, room, doctor, patient, 1)
    kasir._on_board_change("branch", frozenset())
    assert len(kasir.rows) == 1 and kasir.rows[0]["name"] == patient.name


def _prescribed(db, branch, visit) -> int:
    """Ten paracetamol tablets (Rp 500 each) prescribed in the visit, waiting at the
    pharmacy: the Dispense row's id."""
    para = ph.item(db, branch, "Paracetamol 500 mg tablet")
    para.price = 500
    ph.batch(db, para, "P-1", 40)
    return ph.prescription(db, visit, [(para, 10, "3 x sehari", "1 tablet", "")]).dispense.id


def _pharmacist(db, branch, dispense_id: int) -> PharmacyState:
    """The pharmacist's Apotek tab with the prescription open."""
    make_user(db, "apt.rina", branches=[branch], main_duty=Duty.APOTEKER)
    root = rx.State()
    tab_at(root, "tab-apt", "/apotek")
    state = logged_in(db, root, PharmacyState, "apt.rina")
    state.load()
    state.open_dispense(str(dispense_id))
    return state


def _kasir_tab(db, root) -> KasirState:
    kasir = logged_in(db, root, KasirState, "kasir")
    tab_at(root, "tab-kasir", "/kasir")
    kasir.load()
    return kasir


def _open_shift(db) -> None:
    shift = logged_in(db, rx.State(), ShiftState, "kasir")
    shift.load()
    shift.set_opening_cash("0")
    shift.open_shift()
    assert shift.open_id


def test_the_open_bill_follows_the_pharmacy_live(db, root, clinic):
    branch, unit, room, doctor, patient = clinic
    _tariffs(db, rx.State())
    visit = _visit(db, branch, unit, room, doctor, patient, 1)
    apotek = _pharmacist(db, branch, _prescribed(db, branch, visit))
    kasir = _kasir_tab(db, root)
    kasir.open_visit(str(visit.id))
    assert [line["description"] for line in kasir.lines] == ["Jasa dokter umum"]
    assert any("apotek" in note for note in kasir.notes)
    assert kasir.parts[0]["amount"] == "75000"
    apotek.dispense()
    apotek.hand_over()
    kasir._on_board_change("branch", frozenset({visit.id + 1}))
    assert len(kasir.lines) == 1 and kasir.followed == []  # another visit changed
    # The hand-over reaches the open bill: its lines, its total, the one cash part.
    kasir._on_board_change("branch", frozenset({visit.id}))
    assert [line["description"] for line in kasir.lines] == [
        "Jasa dokter umum",
        "Paracetamol 500 mg tablet (tablet)",
    ]
    assert kasir.followed == [
        "1 baris obat dari apotek ditambahkan: Paracetamol 500 mg tablet (tablet)."
    ]
    assert kasir.bill["patient_total"] == "80000" and kasir.parts[0]["amount"] == "80000"
    assert kasir.pay_review == "" and kasir.notes == []
    # The cashier splits the payment; the patient brings the drugs back meanwhile: the parts
    # stay as typed and are marked for review.
    kasir.set_part(0, "amount", "50000")
    kasir.add_part()
    kasir.set_part(1, "amount", "30000")
    apotek.open_return()
    apotek.set_cancel_reason("pasien tidak jadi menebus")
    apotek.confirm_return()
    assert not apotek.cancel_open and apotek.head["status"] == DispenseStatus.CANCELLED
    kasir._on_board_change("branch", frozenset())
    assert kasir.bill["patient_total"] == "75000"
    assert [p["amount"] for p in kasir.parts] == ["50000", "30000"]
    assert "Rp 80.000" in kasir.pay_review and "Rp 75.000" in kasir.pay_review
    assert "Paracetamol" in kasir.followed[-1] and "dihapus" in kasir.followed[-1]
    removed = [line for line in kasir.lines if line["removed"] == "True"]
    assert [line["description"] for line in removed] == ["Paracetamol 500 mg tablet (tablet)"]
    kasir.set_part(1, "amount", "25000")
    assert kasir.pay_review == ""


def test_pay_refuses_a_total_the_cashier_did_not_see(db, root, clinic):
    branch, unit, room, doctor, patient = clinic
    _tariffs(db, rx.State())
    visit = _visit(db, branch, unit, room, doctor, patient, 1)
    kasir = _kasir_tab(db, root)
    kasir.open_visit(str(visit.id))
    _open_shift(db)
    # A second tab adds a line; this tab was not told (it still shows Rp 75.000).
    other = logged_in(db, rx.State(), KasirState, "kasir")
    other.load()
    other.open_visit(str(visit.id))
    other.set_line_field("description", "Materai")
    other.set_line_field("unit_price", "10000")
    other.set_line_field("reason", "surat keterangan")
    other.add_line()
    assert other.bill["patient_total"] == "85000"
    kasir.pay()
    assert kasir.pay_errors and "berubah" in kasir.pay_errors[0]
    assert kasir.bill["status"] == BillStatus.OPEN and kasir.bill["patient_total"] == "85000"
    assert kasir.parts[0]["amount"] == "85000"  # the one untouched part follows
    assert db.exec(select(AuditLog).where(AuditLog.action == "bill_pay")).all() == []
    db.commit()  # the test's own read holds SQLite's write lock until it ends
    kasir.pay()
    assert kasir.bill["status"] == BillStatus.PAID and kasir.pay_errors == []


def test_a_return_waits_for_the_void_of_a_paid_nota(db, root, clinic):
    branch, unit, room, doctor, patient = clinic
    _tariffs(db, rx.State())
    visit = _visit(db, branch, unit, room, doctor, patient, 1)
    apotek = _pharmacist(db, branch, _prescribed(db, branch, visit))
    apotek.dispense()
    apotek.hand_over()
    kasir = _kasir_tab(db, root)
    kasir.open_visit(str(visit.id))
    _open_shift(db)
    kasir.pay()
    assert kasir.bill["status"] == BillStatus.PAID and kasir.bill["patient_total"] == "80000"
    apotek.open_return()
    apotek.set_cancel_reason("alergi")
    apotek.confirm_return()
    assert apotek.cancel_open and apotek.cancel_error == dispensing.PAID_VISIT
    assert apotek.head["status"] == DispenseStatus.HANDED_OVER
    # The admin voids the nota: the visit waits for payment again.
    admin = logged_in(db, rx.State(), KasirState, "admin")
    admin.load()
    admin.open_bill(kasir.bill["id"])
    admin.set_void_reason("obat dikembalikan")
    admin.void()
    kasir._on_board_change("branch", frozenset({visit.id}))
    assert kasir.bill["status"] == BillStatus.VOID  # a void bill stays as it was
    assert [(r["visit_id"], r["bill_id"]) for r in kasir.rows] == [(str(visit.id), "0")]
    apotek.confirm_return()
    assert not apotek.cancel_open and apotek.head["status"] == DispenseStatus.CANCELLED
    kasir.open_visit(str(visit.id))
    assert [line["description"] for line in kasir.lines] == ["Jasa dokter umum"]
    assert kasir.bill["patient_total"] == "75000"


def test_void_and_discount_follow_the_duty(db, root, clinic):
    branch, unit, room, doctor, patient = clinic
    _tariffs(db, rx.State())
    visit = _visit(db, branch, unit, room, doctor, patient, 1)
    kasir = logged_in(db, root, KasirState, "kasir")
    kasir.load()
    assert kasir.can_pay and kasir.can_discount and not kasir.can_void
    kasir.open_visit(str(visit.id))
    kasir.set_discount_field("kind", "percent")
    kasir.set_discount_field("value", "10")
    kasir.apply_discount()
    assert "discount_reason" in kasir.errors
    kasir.set_discount_field("reason", "keluarga karyawan")
    kasir.apply_discount()
    assert kasir.bill["patient_total_text"] == "Rp 67.500"
    with pytest.raises(PermissionDenied):
        kasir.void()
    admin = logged_in(db, rx.State(), KasirState, "admin")
    admin.load()
    admin.open_bill(kasir.bill["id"])
    admin.void()
    assert "void_reason" in admin.errors
    admin.set_void_reason("salah pasien")
    admin.void()
    assert db.get(Bill, int(kasir.bill["id"])).status == BillStatus.VOID
    db.commit()
    nurse = logged_in(db, rx.State(), KasirState, "perawat")
    nurse.load()
    assert not nurse.page_allowed and nurse.rows == []


def test_tariff_page_is_read_only_for_the_cashier(db, root, clinic):
    _tariffs(db, rx.State())
    state = logged_in(db, root, TariffState, "kasir")
    state.load()
    assert not state.can_edit and state.rows[0]["name"] == "Jasa dokter umum"
    with pytest.raises(PermissionDenied):
        state.save()


def test_a_procedure_tariff_code_is_found_by_words_and_checked(db, root, clinic):
    admin = logged_in(db, root, TariffState, "admin")
    admin.load()
    admin.set_field("kind", "procedure")
    admin.search_code("nebu")
    assert admin.code_results[0] == {"code": "93.94", "display": "Nebulisasi"}
    admin.pick_code("93.94")
    assert (admin.form["code"], admin.form["name"], admin.code_results) == (
        "93.94", "Nebulisasi", []
    )  # fmt: skip
    admin.set_field("amount", "35000")
    admin.save()
    assert admin.errors == {} and admin.rows[0]["code"] == "93.94"
    admin.set_field("kind", "procedure")
    admin.set_field("name", "Tindakan khusus")
    admin.set_field("amount", "10000")
    admin.search_code("13.34")
    admin.save()
    assert "tidak dikenal" in admin.errors["code"]
