"""Laporan pendapatan: revenue per day, month, payment method, payer, unit and doctor on the
branch's local days, voided notas apart, shift reports, unpaid bills with their age, and the
CSV files; bills and payments made through the cashier's services, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from klinikita.models.billing import Bill, CashierShift, Payment
from klinikita.models.enums import Duty
from klinikita.services import billing, payments, shifts, tariffs
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ValidationFailed
from klinikita.services.payments import PaymentPart
from klinikita.services.reports import revenue
from klinikita.services.visit_queue import local_today
from tests.factories import make_clinic, make_user, make_visit_on
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)

NOV30, DEC1, DEC2 = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _actor(user, branch, duty: str) -> Actor:
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def clinic(db):
    """A branch in Jayapura (WIT, UTC+9) with its bills of 30 Nov - 2 Dec 2026, made, paid
    and voided through the cashier's services, then dated to chosen moments."""
    branch, unit, room, doctor, patient = make_clinic(db)
    branch.timezone = "Asia/Jayapura"
    db.add(branch)
    db.commit()
    admin = _actor(
        make_user(db, "admin-lap", branches=[branch], main_duty=Duty.ADMIN), branch, Duty.ADMIN
    )
    kasir = _actor(
        make_user(db, "kasir-lap", branches=[branch], main_duty=Duty.KASIR), branch, Duty.KASIR
    )
    insurer = tariffs.add_insurer(db, admin, "Sentosa", "80")
    tariffs.add_tariff(
        db,
        admin,
        tariffs.TariffInput(
            kind="consultation", name="Konsultasi", amount="100000", valid_from="2026-01-01"
        ),
    )
    db.commit()
    shift = shifts.open_shift(db, kasir, "100.000")
    db.commit()

    def visit(day: date, payer: str = "umum"):
        return make_visit_on(db, branch, unit, room, doctor, patient, day, payer=payer)

    def paid_bill(bill_id: int, parts: list[PaymentPart], at: datetime) -> Bill:
        payments.pay(db, kasir, bill_id, parts)
        db.commit()
        bill = db.get(Bill, bill_id)
        bill.paid_at = at
        db.add(bill)
        db.commit()
        return bill

    def visit_bill(day: date, payer: str = "umum") -> Bill:
        bill, _ = billing.open_visit_bill(db, kasir, visit(day, payer).id)
        db.commit()
        return bill

    # 23:30 WIT on 30 Nov: still 30 Nov; tunai and QRIS.
    umum = visit_bill(NOV30)
    paid_bill(
        umum.id,
        [PaymentPart("tunai", "60.000", "100.000"), PaymentPart("qris", "40000", reference="Q1")],
        _utc(2026, 11, 30, 14, 30),
    )
    # 00:30 WIT on 1 Dec (still 30 Nov in UTC): the insurer pays 80 %.
    insured = visit_bill(NOV30, "asuransi")
    billing.set_insurer(db, kasir, insured.id, insurer.id)
    db.commit()
    paid_bill(insured.id, [PaymentPart("debit", "20000")], _utc(2026, 11, 30, 15, 30))
    # BPJS pays everything; the patient nothing.
    bpjs = visit_bill(DEC1, "bpjs")
    paid_bill(bpjs.id, [], _utc(2026, 12, 1, 2, 0))
    # Paid by transfer, then voided by the admin: out of every figure, listed apart.
    voided = billing.new_counter_sale(db, kasir, "=1+2")
    db.commit()
    billing.add_line(
        db,
        kasir,
        voided.id,
        billing.LineInput(description="Surat", unit_price="30000", reason="minta"),
    )
    db.commit()
    paid_bill(voided.id, [PaymentPart("transfer", "30000", reference="BCA")], _utc(2026, 12, 1, 3))
    payments.void_bill(db, admin, voided.id, "Salah input")
    db.commit()
    # An over-the-counter sale on 2 Dec.
    sale = billing.new_counter_sale(db, kasir, "Bu Sari")
    db.commit()
    billing.add_line(
        db, kasir, sale.id, billing.LineInput(description="Masker", unit_price="5000", reason="x")
    )
    db.commit()
    paid_bill(sale.id, [PaymentPart("tunai", "5000")], _utc(2026, 12, 2, 1))
    # Not paid: a completed visit without a bill, one with an open bill, an open sale.
    visit(DEC1)
    open_bill = visit_bill(DEC2)
    counter = billing.new_counter_sale(db, kasir, "@SUM(A1)")
    counter.bill_date = DEC2
    db.add(counter)
    db.commit()
    # The shift closes on 1 Dec, 5.000 short in cash.
    shifts.close_shift(db, kasir, {"tunai": "160.000", "qris": "40000", "debit": "20000"}, "kurang")
    db.commit()
    closed = db.get(CashierShift, shift.id)
    closed.closed_at = _utc(2026, 12, 1, 8)
    db.add(closed)
    db.commit()
    return {
        "db": db,
        "branch": branch,
        "unit": unit,
        "doctor": doctor,
        "patient": patient,
        "admin": admin,
        "kasir": kasir,
        "insurer": insurer,
        "shift": shift,
        "open_bill": open_bill,
        "counter": counter,
    }


def test_revenue_counts_paid_bills_on_the_branchs_local_day(clinic):
    c = clinic
    found = revenue.revenue(c["db"], c["kasir"], NOV30, DEC2)
    t = found.total
    assert (t.bills, t.paid, t.covered, t.total) == (4, 125000, 180000, 305000)
    assert all(isinstance(v, int) for v in (t.paid, t.covered, t.total))
    assert [(d.key, d.bills, d.paid, d.covered) for d in found.days] == [
        ("2026-11-30", 1, 100000, 0),  # 23:30 WIT
        ("2026-12-01", 2, 20000, 180000),  # 00:30 WIT and the BPJS bill
        ("2026-12-02", 1, 5000, 0),
    ]
    assert [(m.label, m.bills, m.total) for m in found.months] == [
        ("November 2026", 1, 100000),
        ("Desember 2026", 3, 205000),
    ]
    assert found.chart == found.days
    # One day only: the day the e2e checks.
    one = revenue.revenue(c["db"], c["kasir"], DEC2, DEC2)
    assert one.total.paid == 5000 and [d.key for d in one.days] == ["2026-12-02"]


def test_revenue_per_method_payer_unit_and_doctor(clinic):
    c = clinic
    found = revenue.revenue(c["db"], c["kasir"], NOV30, DEC2)
    methods = {m.method: (m.payments, m.amount) for m in found.methods}
    assert methods == {
        "tunai": (2, 65000),  # what the bills kept, not the cash handed over
        "transfer": (0, 0),  # the voided nota's
        "debit": (1, 20000),
        "kredit": (0, 0),
        "qris": (1, 40000),
    }
    assert [m.method for m in found.methods] == ["tunai", "transfer", "debit", "kredit", "qris"]
    payers = {p.label: (p.key, p.bills, p.paid, p.covered) for p in found.payers}
    assert payers == {
        "Umum": ("umum", 2, 105000, 0),
        "BPJS": ("bpjs", 1, 0, 100000),
        "Asuransi Sentosa": (f"asuransi:{c['insurer'].id}", 1, 20000, 80000),
    }
    assert [p.label for p in found.payers] == ["Umum", "Asuransi Sentosa", "BPJS"]  # ties by name
    assert [(u.label, u.bills, u.total) for u in found.units] == [
        ("Poli Umum", 3, 300000),
        ("Penjualan bebas", 1, 5000),
    ]
    assert [(d.label, d.bills) for d in found.doctors] == [
        (c["doctor"].name, 3),
        ("Penjualan bebas", 1),
    ]
    assert [(v.name, v.reason, v.paid) for v in found.voided] == [("=1+2", "Salah input", 30000)]
    assert found.voided[0].nota_number and found.voided[0].voided_at


def test_a_long_range_is_charted_per_month_and_bad_ranges_refused(clinic):
    c = clinic
    found = revenue.revenue(c["db"], c["kasir"], date(2026, 1, 1), date(2026, 12, 31))
    assert len(found.days) == 365 and len(found.months) == 12
    assert found.chart == found.months
    assert found.months[10].total == 100000 and found.months[11].total == 205000
    assert found.total.total == 305000
    with pytest.raises(ValidationFailed) as bad:
        revenue.revenue(c["db"], c["kasir"], DEC2, NOV30)
    assert "date_to" in bad.value.errors
    with pytest.raises(ValidationFailed):
        revenue.revenue(c["db"], c["kasir"], None, DEC2)


def test_only_cashiers_and_admin_read_revenue(clinic):
    c = clinic
    db, branch = c["db"], c["branch"]
    revenue.revenue(db, c["admin"], NOV30, DEC2)
    for duty in (Duty.PENDAFTARAN_KASIR,):
        user = make_user(db, f"u-{duty.value}", branches=[branch], main_duty=duty)
        revenue.pendapatan(db, _actor(user, branch, duty), NOV30, DEC2)
    for duty in (Duty.DOKTER_UMUM, Duty.PERAWAT, Duty.LOGIN_KLINIK, Duty.APOTEKER):
        user = make_user(db, f"u-{duty.value}", branches=[branch], main_duty=duty)
        with pytest.raises(PermissionDenied):
            revenue.pendapatan(db, _actor(user, branch, duty), NOV30, DEC2)
        with pytest.raises(PermissionDenied):
            revenue.revenue_csv(db, _actor(user, branch, duty), NOV30, DEC2)


def test_another_branch_sees_none_of_it(clinic):
    c = clinic
    db = c["db"]
    other, *_ = make_clinic(db, name="Klinik Lain", org_id="10000005")
    admin_b = make_user(db, "admin-b", branches=[other], main_duty=Duty.ADMIN)
    found = revenue.pendapatan(db, _actor(admin_b, other, Duty.ADMIN), NOV30, DEC2)
    assert found.revenue.total.bills == 0 and found.revenue.voided == []
    assert found.shifts == [] and found.unpaid.rows == []


def test_closed_shifts_show_expected_against_counted(clinic):
    c = clinic
    found = revenue.closed_shifts(c["db"], c["kasir"], NOV30, DEC2)
    assert len(found) == 1
    s = found[0]
    assert s.cashier == c["kasir"].full_name
    assert s.bills == 4 and s.note == "kurang" and s.closed.startswith("01/12/2026")
    per = {m.method: (m.expected, m.counted, m.difference) for m in s.methods}
    assert per["tunai"] == (165000, 160000, -5000)  # 100.000 opening + 65.000
    assert per["qris"] == (40000, 40000, 0)
    assert per["transfer"] == (0, 0, 0)  # the voided nota's transfer is not expected
    assert (s.expected, s.counted, s.difference) == (225000, 220000, -5000)
    assert revenue.closed_shifts(c["db"], c["kasir"], DEC2, DEC2) == []


def test_unpaid_lists_visits_without_a_paid_bill_and_open_bills_with_age(clinic):
    c = clinic
    found = revenue.unpaid(c["db"], c["kasir"], NOV30, DEC2)
    today = local_today(c["branch"])
    rows = [(r.day, r.state, r.amount, r.unit) for r in found.rows]
    assert rows == [
        (DEC1, "Belum ada tagihan", None, "Poli Umum"),
        (DEC2, "Tagihan terbuka", 100000, "Poli Umum"),
        (DEC2, "Tagihan terbuka", 0, "Penjualan bebas"),
    ]
    assert found.rows[0].age_days == (today - DEC1).days
    assert found.rows[0].age == f"{(today - DEC1).days} hari"
    assert found.rows[0].name == c["patient"].name and found.rows[0].mrn == c["patient"].mrn
    assert found.total == 100000 and not found.limited
    # Paid: off the list.
    db = c["db"]
    shifts.open_shift(db, c["kasir"], "0")
    payments.pay(db, c["kasir"], c["open_bill"].id, [PaymentPart("tunai", "100000")])
    db.commit()
    assert len(revenue.unpaid(db, c["kasir"], NOV30, DEC2).rows) == 2


def test_csv_exports_keep_numbers_and_defuse_formulas(clinic):
    c = clinic
    db = c["db"]
    made = revenue.revenue_csv(db, c["kasir"], NOV30, DEC2)
    assert made.filename.startswith("laporan-pendapatan-") and made.filename.endswith(".csv")
    rows = _parse(made.text)
    assert rows[0] == list(revenue.REVENUE_CSV_HEADERS)
    assert ["Per cara bayar", "Tunai", "2", "65000", "0", "65000", ""] in rows
    assert ["Per penjamin", "BPJS", "1", "0", "100000", "100000", "0"] in rows
    voided = next(r for r in rows if r[0] == "Nota batal")
    assert voided[1].startswith("'") or "=1+2" not in voided[1][:1]
    assert rows[-1][0] == "Total" and rows[-1][2:6] == ["4", "125000", "180000", "305000"]
    assert made.rows == len(rows) - 1

    shifts_file = revenue.shifts_csv(db, c["kasir"], NOV30, DEC2)
    srows = _parse(shifts_file.text)
    tunai = next(r for r in srows if r[4] == "Tunai")
    assert tunai[5:8] == ["165000", "160000", "-5000"]  # a negative number stays a number
    assert srows[-1][4] == "Total" and srows[-1][8] == "kurang"

    unpaid_file = revenue.unpaid_csv(db, c["kasir"], NOV30, DEC2)
    urows = _parse(unpaid_file.text)
    assert urows[0] == list(revenue.UNPAID_CSV_HEADERS)
    assert ["'@SUM(A1)"] == [r[2] for r in urows if "SUM" in r[2]]
    assert urows[1][8] == ""  # no bill yet: no amount
    assert urows[2][8] == "100000"


def test_the_tab_opens_on_the_branchs_today(clinic):
    c = clinic
    db = c["db"]
    opened = revenue.opening(db, c["kasir"])
    today = local_today(c["branch"])
    assert opened.date_from == opened.date_to == today
    # A payment made now (not re-dated) is today's revenue, on its method's row.
    shifts.open_shift(db, c["kasir"], "0")
    payments.pay(db, c["kasir"], c["open_bill"].id, [PaymentPart("qris", "100000", reference="Q")])
    db.commit()
    opened = revenue.opening(db, c["kasir"])
    assert opened.revenue.total.paid == 100000
    assert {m.method: m.amount for m in opened.revenue.methods}["qris"] == 100000
    assert db.get(Payment, 1) is not None
