"""Kasir: tariffs, the bill of a visit (every line source), shares, discounts, payments,
locking, voids, nota numbers and shifts, on the real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Procedure, Visit
from klinikita.models.billing import Bill, BillLine, BillStatus, Payment
from klinikita.models.clinical import Prescription, VisitStatus
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import (
    Dispense,
    DispenseLine,
    DispenseStatus,
    DrugItem,
    ItemCategory,
    StockBatch,
    StockMovement,
)
from klinikita.services import billing, payments, shifts, tariffs
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ServiceError, ValidationFailed
from klinikita.services.money import in_words, percent_of, rupiah, take_rupiah
from klinikita.services.payments import PaymentPart
from klinikita.services.visit_queue import local_today
from tests.factories import make_clinic, make_user


def _actor(user, branch, duty: str) -> Actor:
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    admin_user = make_user(db, "admin-kasir", branches=[branch], main_duty=Duty.ADMIN)
    kasir_user = make_user(db, "kasir-satu", branches=[branch], main_duty=Duty.KASIR)
    return {
        "branch": branch,
        "unit": unit,
        "room": room,
        "doctor": doctor,
        "patient": patient,
        "admin": _actor(admin_user, branch, Duty.ADMIN),
        "kasir": _actor(kasir_user, branch, Duty.KASIR),
    }


def _tariff(db, c, kind, name, amount, *, valid_from=None, **more):
    data = tariffs.TariffInput(
        kind=kind,
        name=name,
        amount=str(amount),
        valid_from=(valid_from or date(2026, 1, 1)).isoformat(),
        **{k: str(v) if not isinstance(v, bool) else v for k, v in more.items()},
    )
    row = tariffs.add_tariff(db, c["admin"], data)
    db.commit()
    return row


def _visit(db, c, *, payer="umum", bpjs_number=None, day=None, queue=1):
    now = datetime.now(UTC)
    visit = Visit(
        branch_id=c["branch"].id,
        patient_id=c["patient"].id,
        unit_id=c["unit"].id,
        room_id=c["room"].id,
        doctor_id=c["doctor"].id,
        visit_date=day or local_today(c["branch"]),
        queue_number=queue,
        payer=payer,
        bpjs_number=bpjs_number,
        status=VisitStatus.COMPLETE,
        arrived_at=now - timedelta(minutes=40),
        completed_at=now,
    )
    db.add(visit)
    db.commit()
    return visit


def _drug(db, c, name, price, *, category=ItemCategory.OBAT, stock=()):
    item = DrugItem(
        branch_id=c["branch"].id, name=name, unit="tablet", price=price, category=category
    )
    db.add(item)
    db.flush()
    for number, (qty, expiry) in enumerate(stock):
        db.add(
            StockBatch(
                branch_id=c["branch"].id,
                item_id=item.id,
                batch_number=f"B{number}",
                expiry_date=expiry,
                quantity=qty,
            )
        )
    db.commit()
    return item


def _dispensed(db, c, visit, items: list[tuple[DrugItem, int]], status=DispenseStatus.DISPENSED):
    """The pharmacy's work on the visit, written directly (one line per item and batch)."""
    dispense = Dispense(
        branch_id=c["branch"].id, visit_id=visit.id, status=status, queued_at=datetime.now(UTC)
    )
    db.add(dispense)
    db.flush()
    for item, qty in items:
        rx = Prescription(visit_id=visit.id, item_id=item.id, medicine=item.name, quantity=qty)
        batch = StockBatch(
            branch_id=c["branch"].id,
            item_id=item.id,
            batch_number=f"D{item.id}",
            expiry_date=date(2030, 1, 1),
            quantity=0,
        )
        db.add_all([rx, batch])
        db.flush()
        # two batches for the first half and the rest: one bill line per item all the same
        db.add(
            DispenseLine(
                dispense_id=dispense.id,
                prescription_id=rx.id,
                item_id=item.id,
                batch_id=batch.id,
                quantity=qty // 2,
            )
        )
        db.add(
            DispenseLine(
                dispense_id=dispense.id,
                prescription_id=rx.id,
                item_id=item.id,
                batch_id=batch.id,
                quantity=qty - qty // 2,
            )
        )
    db.commit()
    return dispense


def _open(db, c, visit, who="kasir"):
    bill, notes = billing.open_visit_bill(db, c[who], visit.id)
    db.commit()
    return bill, notes


def _shift(db, c, who="kasir", cash="100.000"):
    shift = shifts.open_shift(db, c[who], cash)
    db.commit()
    return shift


def _lines(db, bill):
    return db.exec(select(BillLine).where(BillLine.bill_id == bill.id).order_by(BillLine.id)).all()


# ----- money ---------------------------------------------------------------------------------
def test_money_is_formatted_the_indonesian_way_and_in_words():
    assert rupiah(125000) == "Rp 125.000"
    assert rupiah(0) == "Rp 0"
    assert in_words(125000) == "seratus dua puluh lima ribu rupiah"
    assert in_words(1_500_250) == "satu juta lima ratus ribu dua ratus lima puluh rupiah"
    assert percent_of(12345, 10) == 1235  # 1.234,5 rounded half up
    assert percent_of(12344, 10) == 1234
    errors: dict[str, str] = {}
    assert take_rupiah(errors, "x", "Rp 12.500", label="Harga") == 12500
    assert take_rupiah(errors, "x", "12 500", label="Harga") == 12500
    assert not errors
    assert take_rupiah(errors, "x", "12,5", label="Harga") == 0
    assert "tanpa koma" in errors["x"]


# ----- tariffs -------------------------------------------------------------------------------
def test_the_most_specific_tariff_of_the_day_applies(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi dokter umum", 50000, unit_id=c["unit"].id)
    _tariff(
        db,
        c,
        "consultation",
        "Konsultasi dr. Alexander",
        75000,
        unit_id=c["unit"].id,
        doctor_id=c["doctor"].id,
    )
    _tariff(db, c, "consultation", "Konsultasi (BPJS)", 0, unit_id=c["unit"].id, payer="bpjs")
    raised = _tariff(
        db,
        c,
        "consultation",
        "Konsultasi dr. Alexander",
        90000,
        unit_id=c["unit"].id,
        doctor_id=c["doctor"].id,
        valid_from=date(2026, 7, 1),
    )
    find = tariffs.find_tariff
    kw = {"unit_id": c["unit"].id, "doctor_id": c["doctor"].id}
    branch = c["branch"].id
    assert find(db, branch, "consultation", date(2026, 3, 1), payer="umum", **kw).amount == 75000
    assert find(db, branch, "consultation", date(2026, 7, 1), payer="umum", **kw).id == raised.id
    other = find(db, branch, "consultation", date(2026, 3, 1), payer="umum", unit_id=c["unit"].id)
    assert other.amount == 50000
    assert find(db, branch, "consultation", date(2026, 3, 1), payer="bpjs", **kw).amount == 0
    assert find(db, branch, "consultation", date(2025, 12, 31), payer="umum", **kw) is None
    tariffs.end_tariff(db, c["admin"], raised.id, "01/08/2026")
    db.commit()
    assert find(db, branch, "consultation", date(2026, 8, 1), payer="umum", **kw).amount == 75000
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "tariff")).all()
    assert actions.count("tariff_add") == 4 and "tariff_end" in actions


def test_tariffs_are_admin_work_and_checked(db, clinic):
    c = clinic
    with pytest.raises(PermissionDenied):
        tariffs.add_tariff(
            db, c["kasir"], tariffs.TariffInput("registration", "Daftar", "10000", "2026-01-01")
        )
    with pytest.raises(ValidationFailed) as refused:
        tariffs.add_tariff(
            db, c["admin"], tariffs.TariffInput("registration", "", "10,5", "31/02/2026")
        )
    assert set(refused.value.errors) == {"name", "amount", "valid_from"}


# ----- the bill of a visit -------------------------------------------------------------------
def test_a_visit_bill_has_every_line_source_at_the_price_of_its_day(db, clinic):
    c = clinic
    _tariff(db, c, "registration", "Biaya pendaftaran", 10000)
    _tariff(db, c, "consultation", "Jasa dokter umum", 50000, unit_id=c["unit"].id)
    _tariff(db, c, "procedure", "Nebulizer", 35000, code="93.94")
    _tariff(db, c, "procedure", "Jahit luka", 80000)
    visit = _visit(db, c)
    db.add_all(
        [
            Procedure(visit_id=visit.id, code="93.94", description="Nebu salbutamol"),
            Procedure(visit_id=visit.id, code="", description="jahit luka"),
            Procedure(visit_id=visit.id, code="99.99", description="Tanpa tarif"),
        ]
    )
    db.commit()
    para = _drug(db, c, "Paracetamol 500 mg", 500)
    kasa = _drug(db, c, "Kasa steril", 2000, category=ItemCategory.BHP)
    _dispensed(db, c, visit, [(para, 10), (kasa, 3)])
    bill, notes = _open(db, c, visit)
    lines = _lines(db, bill)
    assert [(li.source, li.description, li.quantity, li.unit_price) for li in lines] == [
        ("registration", "Biaya pendaftaran", 1, 10000),
        ("consultation", "Jasa dokter umum", 1, 50000),
        ("procedure", "Nebulizer", 1, 35000),
        ("procedure", "Jahit luka", 1, 80000),
        ("bhp", "Kasa steril (tablet)", 3, 2000),
        ("drug", "Paracetamol 500 mg (tablet)", 10, 500),
    ]
    assert any("kode 99.99" in n for n in notes)
    assert all("Tanpa tarif" not in n for n in notes)  # the clinical note is not repeated
    assert bill.subtotal == 10000 + 50000 + 35000 + 80000 + 6000 + 5000
    assert bill.patient_total == bill.subtotal and bill.covered_total == 0
    # A new price later does not change the bill; opening it again adds nothing twice.
    _tariff(db, c, "registration", "Biaya pendaftaran", 15000, valid_from=date.today())
    bill2, _ = _open(db, c, visit)
    assert bill2.id == bill.id and len(_lines(db, bill)) == 6 and bill2.subtotal == bill.subtotal


def test_drugs_are_billed_once_the_pharmacy_gave_them(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Jasa dokter", 50000)
    visit = _visit(db, c)
    para = _drug(db, c, "Paracetamol 500 mg", 500)
    dispense = _dispensed(db, c, visit, [(para, 10)], status=DispenseStatus.WAITING)
    bill, notes = _open(db, c, visit)
    assert [li.source for li in _lines(db, bill)] == ["consultation"]
    assert any("apotek" in n for n in notes)
    dispense.status = DispenseStatus.HANDED_OVER
    db.add(dispense)
    db.commit()
    bill, _ = _open(db, c, visit)
    assert [li.source for li in _lines(db, bill)] == ["consultation", "drug"]
    assert bill.patient_total == 55000


def test_bpjs_patient_pays_nothing_for_covered_services(db, clinic):
    c = clinic
    _tariff(db, c, "registration", "Pendaftaran", 10000)
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    _tariff(db, c, "procedure", "Surat sehat", 25000, payer="bpjs", covered=False)
    visit = _visit(db, c, payer="bpjs", bpjs_number="0001234567890")
    db.add(Procedure(visit_id=visit.id, description="Surat sehat"))
    db.commit()
    para = _drug(db, c, "Paracetamol 500 mg", 500)
    _dispensed(db, c, visit, [(para, 10)])
    bill, _ = _open(db, c, visit)
    assert bill.bpjs_number == "0001234567890"
    assert bill.covered_total == 10000 + 50000 + 5000
    assert bill.patient_total == 25000  # the service BPJS does not cover
    view = billing.bill_view(db, c["kasir"], bill.id)
    assert view.bpjs_number == "0001234567890" and view.covered_label == "Ditanggung BPJS"


def test_insurer_pays_its_share_and_the_patient_the_rest(db, clinic):
    c = clinic
    insurer = tariffs.add_insurer(db, c["admin"], "Asuransi Sehat Sentosa", "80")
    db.commit()
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    _tariff(
        db,
        c,
        "consultation",
        "Konsultasi (Sentosa)",
        60000,
        payer="asuransi",
        insurer_id=insurer.id,
    )
    visit = _visit(db, c, payer="asuransi")
    bill, notes = _open(db, c, visit)
    assert "asuransi" in notes[0].lower()
    assert bill.patient_total == 50000 and bill.covered_total == 0
    billing.set_insurer(db, c["kasir"], bill.id, insurer.id)
    db.commit()
    assert (bill.covered_total, bill.patient_total) == (40000, 10000)
    # A manual line is the patient's.
    billing.add_line(
        db,
        c["kasir"],
        bill.id,
        billing.LineInput(description="Fotokopi", unit_price="1.333", quantity="3", reason="minta"),
    )
    db.commit()
    assert (bill.covered_total, bill.patient_total) == (40000, 10000 + 3999)


def test_insurer_share_is_rounded_to_whole_rupiah(db, clinic):
    c = clinic
    insurer = tariffs.add_insurer(db, c["admin"], "Asuransi Ganjil", "75")
    db.commit()
    _tariff(db, c, "consultation", "Konsultasi", 33333)
    bill, _ = _open(db, c, _visit(db, c, payer="asuransi"))
    billing.set_insurer(db, c["kasir"], bill.id, insurer.id)
    db.commit()
    assert bill.covered_total == 25000  # 24.999,75 rounded half up
    assert bill.patient_total == 8333
    assert isinstance(bill.covered_total, int) and isinstance(bill.patient_total, int)


def test_lines_are_added_and_removed_with_a_reason(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    bill, _ = _open(db, c, _visit(db, c))
    with pytest.raises(ValidationFailed) as refused:
        billing.add_line(
            db, c["kasir"], bill.id, billing.LineInput(description="Materai", unit_price="10000")
        )
    assert "reason" in refused.value.errors
    db.rollback()
    line = billing.add_line(
        db,
        c["kasir"],
        bill.id,
        billing.LineInput(description="Materai", unit_price="10.000", reason="surat"),
    )
    db.commit()
    assert bill.patient_total == 60000
    with pytest.raises(ValidationFailed):
        billing.remove_line(db, c["kasir"], line.id, "  ")
    db.rollback()
    billing.remove_line(db, c["kasir"], line.id, "tidak jadi")
    db.commit()
    kept = db.get(BillLine, line.id)
    assert kept.removed and kept.removed_reason == "tidak jadi"
    assert db.get(Bill, bill.id).patient_total == 50000
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "bill_line")).all()
    assert actions == ["bill_line_add", "bill_line_remove"]


def test_discounts_percent_rounded_or_amount_by_allowed_duties(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 33335)
    bill, _ = _open(db, c, _visit(db, c))
    with pytest.raises(ValidationFailed) as refused:
        billing.set_discount(db, c["kasir"], bill.id, "percent", "10", "")
    assert "discount_reason" in refused.value.errors
    db.rollback()
    billing.set_discount(db, c["kasir"], bill.id, "percent", "10", "keluarga karyawan")
    db.commit()
    assert bill.discount_amount == 3334 and bill.patient_total == 30001  # 3.333,5 -> 3.334
    with pytest.raises(ValidationFailed):
        billing.set_discount(db, c["kasir"], bill.id, "percent", "101", "x")
    db.rollback()
    with pytest.raises(ValidationFailed):
        billing.set_discount(db, c["kasir"], bill.id, "amount", "40000", "x")  # above the share
    db.rollback()
    billing.set_discount(db, c["kasir"], bill.id, "amount", "5.000", "promo")
    db.commit()
    assert bill.patient_total == 28335
    nurse = make_user(db, "perawat-x", branches=[c["branch"]], main_duty=Duty.LOGIN_KLINIK)
    with pytest.raises(PermissionDenied):
        billing.set_discount(
            db, _actor(nurse, c["branch"], Duty.LOGIN_KLINIK), bill.id, "amount", "1", "x"
        )


# ----- paying --------------------------------------------------------------------------------
def test_a_split_payment_gives_change_a_number_and_locks_the_bill(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 125000)
    bill, _ = _open(db, c, _visit(db, c))
    with pytest.raises(ServiceError, match="shift"):
        payments.pay(db, c["kasir"], bill.id, [PaymentPart("tunai", "125000")])
    db.rollback()
    _shift(db, c)
    with pytest.raises(ValidationFailed) as refused:
        payments.pay(
            db,
            c["kasir"],
            bill.id,
            [PaymentPart("tunai", "50.000", "40.000"), PaymentPart("qris", "75000")],
        )
    assert {"cash_0", "reference_1"} <= set(refused.value.errors)
    db.rollback()
    with pytest.raises(ValidationFailed) as refused:
        payments.pay(db, c["kasir"], bill.id, [PaymentPart("debit", "100000")])
    assert "Rp 125.000" in refused.value.errors["payments"]
    db.rollback()
    paid = payments.pay(
        db,
        c["kasir"],
        bill.id,
        [
            PaymentPart("tunai", "50.000", "100.000"),
            PaymentPart("qris", "60000", reference="QR-778899"),
            PaymentPart("debit", "15000", reference="APPR01"),
        ],
    )
    db.commit()
    assert paid.change == 50000
    day = db.get(Bill, bill.id).bill_date
    assert paid.nota_number == f"{day:%Y%m%d}-0001"
    bill = db.get(Bill, bill.id)
    assert bill.status == BillStatus.PAID and bill.paid_by_user_id == c["kasir"].user_id
    rows = db.exec(select(Payment).where(Payment.bill_id == bill.id)).all()
    assert sorted((p.method, p.amount) for p in rows) == [
        ("debit", 15000),
        ("qris", 60000),
        ("tunai", 50000),
    ]
    with pytest.raises(billing.BillLocked):
        billing.add_line(
            db, c["kasir"], bill.id, billing.LineInput(description="x", unit_price="1", reason="y")
        )
    db.rollback()
    with pytest.raises(billing.BillLocked):
        billing.set_discount(db, c["kasir"], bill.id, "amount", "1000", "x")
    db.rollback()
    with pytest.raises(billing.BillLocked):
        payments.pay(db, c["kasir"], bill.id, [PaymentPart("tunai", "125000")])
    db.rollback()
    # The next bill of the day gets the next number; a BPJS bill of Rp 0 is paid with none.
    _tariff(db, c, "registration", "Pendaftaran", 10000)
    other, _ = _open(db, c, _visit(db, c, payer="bpjs", queue=2))
    assert other.patient_total == 0
    assert payments.pay(db, c["kasir"], other.id, []).nota_number.endswith("-0002")
    db.commit()


def test_a_void_needs_an_admin_and_a_reason_and_keeps_the_original(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    visit = _visit(db, c)
    bill, _ = _open(db, c, visit)
    _shift(db, c)
    payments.pay(db, c["kasir"], bill.id, [PaymentPart("tunai", "50000")])
    db.commit()
    with pytest.raises(PermissionDenied):
        payments.void_bill(db, c["kasir"], bill.id, "salah")
    with pytest.raises(ValidationFailed):
        payments.void_bill(db, c["admin"], bill.id, "")
    db.rollback()
    payments.void_bill(db, c["admin"], bill.id, "Salah pasien")
    db.commit()
    voided = db.get(Bill, bill.id)
    assert voided.status == BillStatus.VOID and voided.void_reason == "Salah pasien"
    assert voided.nota_number and voided.patient_total == 50000  # kept as it was
    assert db.exec(select(Payment).where(Payment.bill_id == bill.id)).all()
    trail = db.exec(select(AuditLog).where(AuditLog.action == "bill_void")).one()
    assert trail.before["status"] == "paid" and trail.after["reason"] == "Salah pasien"
    # The visit can be billed again.
    again, _ = _open(db, c, visit)
    assert again.id != bill.id and again.status == BillStatus.OPEN


def test_a_voided_visit_waits_for_payment_again_and_its_new_bill_follows_what_happened(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    visit = _visit(db, c)
    para = _drug(db, c, "Paracetamol 500 mg", 500)
    _dispensed(db, c, visit, [(para, 10)], status=DispenseStatus.HANDED_OVER)
    bill, _ = _open(db, c, visit)
    _shift(db, c)
    payments.pay(db, c["kasir"], bill.id, [PaymentPart("tunai", "55000")])
    db.commit()
    assert billing.waiting_list(db, c["kasir"]) == []
    payments.void_bill(db, c["admin"], bill.id, "Salah tarif")
    db.commit()
    # Back in the list, without a bill: the next one is built anew.
    rows = billing.waiting_list(db, c["kasir"])
    assert [(r.visit_id, r.bill_id) for r in rows] == [(visit.id, 0)]
    again, _ = _open(db, c, visit)
    assert again.id != bill.id and again.status == BillStatus.OPEN
    # The drugs handed over stay out with the patient (no return): billed again.
    assert [li.description for li in _lines(db, again)] == [
        "Konsultasi",
        "Paracetamol 500 mg (tablet)",
    ]
    assert again.patient_total == 55000


def test_an_open_bill_follows_the_pharmacy_and_says_what_changed(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    visit = _visit(db, c)
    para = _drug(db, c, "Paracetamol 500 mg", 500)
    amox = _drug(db, c, "Amoxicillin 500 mg", 1000)
    dispense = _dispensed(db, c, visit, [(para, 10), (amox, 10)], status=DispenseStatus.WAITING)
    bill, _ = _open(db, c, visit)
    unchanged = billing.follow_visit_bill(db, c["kasir"], bill.id)
    assert unchanged.changes == [] and unchanged.total_after == 50000
    # The pharmacy hands the drugs over.
    dispense.status = DispenseStatus.HANDED_OVER
    db.add(dispense)
    db.commit()
    followed = billing.follow_visit_bill(db, c["kasir"], bill.id)
    db.commit()
    assert followed.changes == [
        "2 baris obat dari apotek ditambahkan: Amoxicillin 500 mg (tablet), "
        "Paracetamol 500 mg (tablet)."
    ]
    assert (followed.total_before, followed.total_after) == (50000, 65000)
    # It gave 8 amoxicillin, not 10.
    amox_line = db.exec(select(DispenseLine).where(DispenseLine.item_id == amox.id)).first()
    amox_line.quantity -= 2
    db.add(amox_line)
    db.commit()
    followed = billing.follow_visit_bill(db, c["kasir"], bill.id)
    db.commit()
    assert followed.changes == ["Jumlah Amoxicillin 500 mg (tablet) diubah 10 → 8."]
    assert followed.total_after == 63000
    # The drugs come back to the pharmacy: their lines leave the bill, marked with why.
    dispense.status = DispenseStatus.CANCELLED
    db.add(dispense)
    db.commit()
    followed = billing.follow_visit_bill(db, c["kasir"], bill.id)
    db.commit()
    assert len(followed.changes) == 2 and all("dihapus" in t for t in followed.changes)
    assert followed.total_after == 50000
    gone = [li for li in _lines(db, bill) if li.item_id is not None]
    assert all(li.removed and "apotek" in li.removed_reason for li in gone)
    trail = db.exec(select(AuditLog).where(AuditLog.action == "bill_follow")).all()
    assert [t.after["patient_total"] for t in trail] == [65000, 63000, 50000]
    # A paid bill never follows.
    _shift(db, c)
    payments.pay(db, c["kasir"], bill.id, [PaymentPart("tunai", "50000")])
    db.commit()
    dispense.status = DispenseStatus.HANDED_OVER
    db.add(dispense)
    db.commit()
    assert billing.follow_visit_bill(db, c["kasir"], bill.id).changes == []
    assert db.get(Bill, bill.id).patient_total == 50000


def test_money_is_taken_only_for_the_total_the_cashier_saw(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    visit = _visit(db, c)
    para = _drug(db, c, "Paracetamol 500 mg", 500)
    dispense = _dispensed(db, c, visit, [(para, 10)], status=DispenseStatus.WAITING)
    bill, _ = _open(db, c, visit)
    _shift(db, c)
    seen = billing.bill_view(db, c["kasir"], bill.id)
    # Another tab adds a line after this view was built.
    billing.add_line(
        db,
        c["kasir"],
        bill.id,
        billing.LineInput(description="Materai", unit_price="10000", reason="surat"),
    )
    db.commit()
    with pytest.raises(billing.BillChanged, match="berubah"):
        payments.pay(
            db,
            c["kasir"],
            bill.id,
            [PaymentPart("tunai", "50000")],
            expected_version=seen.version,
        )
    db.rollback()
    assert db.get(Bill, bill.id).status == BillStatus.OPEN
    assert db.exec(select(Payment)).all() == []
    # The pharmacy hands the drugs over after the fresh view, before the bill followed.
    seen = billing.bill_view(db, c["kasir"], bill.id)
    assert seen.patient_total == 60000
    dispense.status = DispenseStatus.HANDED_OVER
    db.add(dispense)
    db.commit()
    with pytest.raises(billing.BillChanged, match="Paracetamol"):
        payments.pay(
            db,
            c["kasir"],
            bill.id,
            [PaymentPart("tunai", "60000")],
            expected_version=seen.version,
        )
    db.rollback()
    assert len(_lines(db, bill)) == 2  # nothing written by the refusal
    assert db.exec(select(Payment)).all() == []
    # The cashier's page follows, shows the new total, and that is paid.
    billing.follow_visit_bill(db, c["kasir"], bill.id)
    db.commit()
    seen = billing.bill_view(db, c["kasir"], bill.id)
    assert seen.patient_total == 65000
    paid = payments.pay(
        db, c["kasir"], bill.id, [PaymentPart("tunai", "65000")], expected_version=seen.version
    )
    db.commit()
    assert paid.nota_number.endswith("-0001")  # the refusals took no number
    assert db.get(Bill, bill.id).status == BillStatus.PAID


def test_prints_after_the_first_are_copies_and_audited(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    bill, _ = _open(db, c, _visit(db, c))
    with pytest.raises(ServiceError):
        payments.record_print(db, c["kasir"], bill.id, "58")
    db.rollback()
    _shift(db, c)
    payments.pay(db, c["kasir"], bill.id, [PaymentPart("transfer", "50000", reference="BCA")])
    assert payments.record_print(db, c["kasir"], bill.id, "58") is False
    assert payments.record_print(db, c["kasir"], bill.id, "a5") is True
    db.commit()
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "bill")).all()
    assert actions.count("nota_print") == 1 and actions.count("nota_reprint") == 1


# ----- over the counter ----------------------------------------------------------------------
def test_an_over_the_counter_sale_takes_stock_first_expiry_first_and_a_void_returns_it(db, clinic):
    c = clinic
    vit = _drug(
        db,
        c,
        "Vitamin C 500 mg",
        1000,
        stock=[(5, date(2031, 1, 1)), (3, date(2030, 1, 1)), (9, date(2020, 1, 1))],
    )
    sale = billing.new_counter_sale(db, c["kasir"], "Bu Sari")
    db.commit()
    listed = billing.waiting_list(db, c["kasir"])
    assert [(r.bill_id, r.name, r.unit) for r in listed] == [
        (sale.id, "Bu Sari", "Penjualan bebas")
    ]
    with pytest.raises(ValidationFailed) as refused:
        billing.add_line(db, c["kasir"], sale.id, billing.LineInput(item_id=vit.id, quantity="9"))
    assert "tinggal 8" in refused.value.errors["quantity"]  # the expired batch does not count
    db.rollback()
    billing.add_line(db, c["kasir"], sale.id, billing.LineInput(item_id=vit.id, quantity="4"))
    db.commit()
    assert sale.patient_total == 4000
    _shift(db, c)
    payments.pay(db, c["kasir"], sale.id, [PaymentPart("tunai", "4000", "5000")])
    db.commit()
    batches = {
        b.batch_number: b.quantity
        for b in db.exec(select(StockBatch).where(StockBatch.item_id == vit.id))
    }
    assert batches == {"B0": 4, "B1": 0, "B2": 9}  # the 2030 batch first, then 2031
    payments.void_bill(db, c["admin"], sale.id, "Batal beli")
    db.commit()
    batches = {
        b.batch_number: b.quantity
        for b in db.exec(select(StockBatch).where(StockBatch.item_id == vit.id))
    }
    assert batches == {"B0": 5, "B1": 3, "B2": 9}
    kinds = db.exec(select(StockMovement.kind).where(StockMovement.item_id == vit.id)).all()
    assert sorted(kinds) == ["dispense", "dispense", "return", "return"]


# ----- the waiting list ----------------------------------------------------------------------
def test_waiting_list_shows_unpaid_completed_visits_of_today(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    first = _visit(db, c, queue=7)
    _visit(db, c, queue=8, day=local_today(c["branch"]) - timedelta(days=1))
    rows = billing.waiting_list(db, c["kasir"])
    assert [r.visit_id for r in rows] == [first.id]
    assert billing.waiting_list(db, c["kasir"], "7")[0].queue_number == 7
    assert billing.waiting_list(db, c["kasir"], "000001")[0].visit_id == first.id
    assert billing.waiting_list(db, c["kasir"], "ardianto")[0].visit_id == first.id
    assert billing.waiting_list(db, c["kasir"], "siapa") == []
    bill, _ = _open(db, c, first)
    _shift(db, c)
    payments.pay(db, c["kasir"], bill.id, [PaymentPart("tunai", "50000")])
    db.commit()
    assert billing.waiting_list(db, c["kasir"]) == []
    assert billing.paid_today(db, c["kasir"])[0]["nota"] == bill.nota_number


# ----- shifts --------------------------------------------------------------------------------
def test_a_shift_closes_with_expected_against_counted_per_method(db, clinic):
    c = clinic
    _tariff(db, c, "consultation", "Konsultasi", 50000)
    shift = _shift(db, c, cash="200.000")
    with pytest.raises(ServiceError):
        shifts.open_shift(db, c["kasir"], "0")
    db.rollback()
    for queue, parts in (
        (1, [PaymentPart("tunai", "50000", "100000")]),
        (2, [PaymentPart("tunai", "20000"), PaymentPart("qris", "30000", reference="Q1")]),
        (3, [PaymentPart("kredit", "50000")]),
    ):
        bill, _ = _open(db, c, _visit(db, c, queue=queue))
        payments.pay(db, c["kasir"], bill.id, parts)
        db.commit()
    payments.void_bill(db, c["admin"], bill.id, "dobel")  # the card payment is undone
    db.commit()
    closed = shifts.close_shift(
        db, c["kasir"], {"tunai": "265.000", "qris": "30000", "kredit": ""}, "selisih 5 ribu"
    )
    db.commit()
    assert closed.expected == {
        "tunai": 270000,
        "transfer": 0,
        "debit": 0,
        "kredit": 0,
        "qris": 30000,
    }
    report = shifts.shift_report(db, c["kasir"], shift.id)
    tunai = next(r for r in report.rows if r.method == "Tunai")
    assert (tunai.expected, tunai.counted, tunai.difference, tunai.short) == (
        "Rp 270.000",
        "Rp 265.000",
        "-Rp 5.000",
        True,
    )
    assert report.bills == 2
    assert shifts.open_shift_of(db, c["kasir"]) is None
    with pytest.raises(ServiceError):
        payments.pay(db, c["kasir"], 999, [])


def test_the_demo_clinic_has_prices_and_an_insurer(db):
    from klinikita.models import Branch
    from klinikita.models.billing import Insurer, Tariff
    from klinikita.services.seed import seed_demo

    seed_demo(db, queue_satusehat=False)
    db.commit()
    clinic = db.exec(select(Branch).order_by(Branch.id)).first()
    kinds = {t.kind for t in db.exec(select(Tariff).where(Tariff.branch_id == clinic.id))}
    assert kinds == {"registration", "consultation", "procedure"}
    assert db.exec(select(Insurer).where(Insurer.branch_id == clinic.id)).first()
