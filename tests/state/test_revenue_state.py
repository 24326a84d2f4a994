"""Laporan pendapatan handlers: today's payment on its method's row for a cashier, a month
or a range, field errors, CSV downloads, and no revenue for doctors or nurses."""

from __future__ import annotations

from datetime import date

import pytest

from klinikita import routes
from klinikita.models.enums import Duty
from klinikita.services import billing, payments, shifts, tariffs
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied
from klinikita.services.payments import PaymentPart
from klinikita.services.visit_queue import local_today
from klinikita.state.reports import PendapatanState
from tests.factories import make_clinic, make_user, make_visit_on
from tests.state.conftest import logged_in, tab_at
from tests.state.test_reports_state import _download_text


@pytest.fixture
def clinic(db):
    """Today: one visit paid Rp 125.000 split over tunai and QRIS, one completed visit
    without a bill."""
    branch, unit, room, doctor, patient = make_clinic(db)
    users = {}
    for username, duty in (
        ("admin", Duty.ADMIN),
        ("dokter", Duty.DOKTER_UMUM),
        ("kasir", Duty.KASIR),
        ("perawat", Duty.PERAWAT),
        ("desk", Duty.LOGIN_KLINIK),
    ):
        users[username] = make_user(db, username, branches=[branch], main_duty=duty)
    admin = Actor(users["admin"].id, "admin", "Admin", Duty.ADMIN, branch.id)
    kasir = Actor(users["kasir"].id, "kasir", "Kasir", Duty.KASIR, branch.id)
    tariffs.add_tariff(
        db,
        admin,
        tariffs.TariffInput(
            kind="consultation", name="Konsultasi", amount="125000", valid_from="2026-01-01"
        ),
    )
    today = local_today(branch)
    visit = make_visit_on(db, branch, unit, room, doctor, patient, today)
    make_visit_on(db, branch, unit, room, doctor, patient, today)
    shifts.open_shift(db, kasir, "0")
    bill, _ = billing.open_visit_bill(db, kasir, visit.id)
    payments.pay(
        db,
        kasir,
        bill.id,
        [PaymentPart("tunai", "100000"), PaymentPart("qris", "25000", reference="Q-1")],
    )
    db.commit()
    return today, patient


def _open(db, root, username: str) -> PendapatanState:
    state = logged_in(db, root, PendapatanState, username)
    tab_at(root, "tab-1", routes.LAPORAN_PENDAPATAN)
    state.load()
    return state


def test_a_cashier_sees_todays_payment_on_its_methods(db, root, clinic):
    today, patient = clinic
    state = _open(db, root, "kasir")
    assert state.page_allowed and state.can_revenue
    assert state.date_from == state.date_to == today.isoformat()
    assert (state.total, state.total_paid, state.total_covered) == (
        "Rp 125.000",
        "Rp 125.000",
        "Rp 0",
    )
    assert state.total_value == 125000 and state.total_bills == 1
    methods = {m["method"]: (m["amount"], m["amount_value"]) for m in state.methods}
    assert methods["tunai"] == ("Rp 100.000", 100000)
    assert methods["qris"] == ("Rp 25.000", 25000)
    assert methods["transfer"] == ("Rp 0", 0)
    assert [p["label"] for p in state.payers] == ["Umum"]
    assert [u["label"] for u in state.units] == ["Poli Umum"]
    assert state.chart == state.days and state.chart[0]["dibayar"] == 125000
    assert state.shifts == []  # still open
    [waiting] = state.unpaid
    assert waiting["name"] == patient.name and waiting["state"] == "Belum ada tagihan"
    assert waiting["age"] == "hari ini" and waiting["amount"] == "-"


def test_a_month_or_range_reads_again_and_bad_dates_stay_at_the_field(db, root, clinic):
    today, _ = clinic
    state = _open(db, root, "kasir")
    state.set_month(today.strftime("%Y-%m"))
    assert state.date_from == today.replace(day=1).isoformat()
    assert state.total_value == 125000 and len(state.days) >= today.day
    state.set_month("2026-13")
    assert state.errors == {"month": "Bulan tidak valid."}
    state.set_filter("date_from", "2026-01-01")
    state.set_filter("date_to", "2025-12-31")
    assert "date_to" in state.errors
    state.set_filter("date_to", "2026-01-31")
    assert state.errors == {} and state.total_value == 0 and state.range_label
    state.set_filter("date_from", "2020-01-01")
    assert "366" in state.errors["date_to"]
    assert state.export_revenue() is None  # the long range: nothing downloaded


def test_the_exports_download_the_pages_range(db, root, clinic):
    today, patient = clinic
    state = _open(db, root, "kasir")
    text = _download_text(state.export_revenue())
    assert "Per cara bayar,Tunai,1,100000,0,100000," in text
    assert text.splitlines()[-1].startswith("Total,")
    assert "Kasir" in _download_text(state.export_shifts())
    assert patient.name in _download_text(state.export_unpaid())


def test_the_admin_gets_the_tab_and_a_closed_shift(db, root, clinic):
    state = _open(db, root, "kasir")
    kasir = state._current_actor()
    shifts.close_shift(db, kasir, {"tunai": "100000", "qris": "25000"})
    db.commit()
    admin = _open(db, root, "admin")
    assert admin.can_revenue and admin.page_allowed
    [shift] = admin.shifts
    assert shift["difference"] == "Rp 0" and shift["short"] == ""
    assert "QRIS: seharusnya Rp 25.000, dihitung Rp 25.000" in shift["detail"]


@pytest.mark.parametrize("username", ["dokter", "perawat", "desk"])
def test_no_revenue_for_doctors_nurses_or_the_shared_desk(db, root, clinic, username):
    state = _open(db, root, username)
    assert not state.page_allowed and not state.can_revenue
    assert state.methods == [] and state.unpaid == [] and state.total == ""
    for handler in (state.export_revenue, state.export_unpaid, state.export_shifts):
        with pytest.raises(PermissionDenied):
            handler()
    with pytest.raises(PermissionDenied):
        state.set_month(date(2026, 1, 1).strftime("%Y-%m"))
