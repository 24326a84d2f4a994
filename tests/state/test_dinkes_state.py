"""Laporan Dinkes handlers: counts for every Laporan duty, diagnoses only for a duty that
reads clinical content, CSV downloads, field errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from klinikita import routes
from klinikita.models.enums import Duty, Sex
from klinikita.services.errors import PermissionDenied
from klinikita.services.visit_queue import local_today
from klinikita.state.reports import DinkesReportState, band_key
from tests.factories import make_clinic, make_user, make_visit_on
from tests.state.conftest import logged_in, tab_at
from tests.state.test_reports_state import _download_text


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    for username, duty in (
        ("admin", Duty.ADMIN),
        ("dokter", Duty.DOKTER_UMUM),
        ("kasir", Duty.KASIR),
        ("perawat", Duty.PERAWAT),
    ):
        make_user(db, username, branches=[branch], main_duty=duty)
    today = local_today(branch)
    make_visit_on(db, branch, unit, room, doctor, patient, today, codes=("J06.9",), payer="bpjs")
    if today.day > 1:  # an earlier visit this month: the patient returns today
        make_visit_on(db, branch, unit, room, doctor, patient, today.replace(day=1))
    make_visit_on(db, branch, unit, room, doctor, patient, today - timedelta(days=40))
    return branch, patient, today


def _open(db, root, username: str) -> DinkesReportState:
    state = logged_in(db, root, DinkesReportState, username)
    tab_at(root, "tab-1", routes.LAPORAN_DINKES)
    state.load()
    return state


def test_a_doctor_sees_every_report_of_this_month(db, root, clinic):
    _, patient, today = clinic
    state = _open(db, root, "dokter")
    assert state.page_allowed and state.can_clinical
    assert state.date_from == today.replace(day=1).isoformat()
    assert state.date_to == today.isoformat()
    assert state.month == today.strftime("%Y-%m")
    assert state.visit_total == (2 if today.day > 1 else 1)
    assert state.visit_payers[0] == {"label": "BPJS", "count": 1}
    assert (state.new_patients, state.returning_patients) == (0, 1)  # seen 40 days ago
    assert [(r["code"], r["count"]) for r in state.top_rows] == [("J06.9", 1)]
    [row] = state.lb1_rows
    assert row["code"] == "J06"
    assert row[band_key("20-44", Sex.MALE)] == 1  # born 1992
    assert (row["total"], row["old"]) == (1, 0)
    assert state.lb1_total == 1


def test_a_cashier_gets_counts_and_no_diagnosis(db, root, clinic):
    state = _open(db, root, "kasir")
    assert state.page_allowed and not state.can_clinical
    assert state.visit_total >= 1
    assert state.top_rows == [] and state.lb1_rows == [] and state.lb1_chapters == []
    state.set_month(clinic[2].strftime("%Y-%m"))
    assert state.top_rows == [] and state.lb1_rows == []
    refused = state.export_top()
    assert "data klinis" in str(refused)
    assert "J06" not in str(state.export_lb1())
    assert "Per penjamin" in _download_text(state.export_visits())


def test_a_nurse_has_no_laporan(db, root, clinic):
    state = _open(db, root, "perawat")
    assert not state.page_allowed
    assert state.visit_days == [] and state.top_rows == []
    with pytest.raises(PermissionDenied):
        state.set_filter("date_from", "2026-01-01")
    with pytest.raises(PermissionDenied):
        state.export_visits()


def test_filters_reload_and_errors_stay_at_their_field(db, root, clinic):
    _, _, today = clinic
    state = _open(db, root, "admin")
    state.set_filter("date_from", (today + timedelta(days=1)).isoformat())
    assert "date_to" in state.errors  # the end before the start
    state.set_month("bukan-bulan")
    assert "month" in state.errors and "date_to" in state.errors
    assert state.export_lb1() is None
    state.set_filter("date_from", (today - timedelta(days=45)).isoformat())
    assert "date_to" not in state.errors and "month" in state.errors
    assert state.visit_total == (3 if today.day > 1 else 2)
    state.set_month(today.strftime("%Y-%m"))
    assert state.errors == {}
    text = _download_text(state.export_lb1())
    assert text.splitlines()[0].startswith("\ufeffBab ICD-10")  # BOM: read as UTF-8
    assert ",J06," in text
    top = _download_text(state.export_top())
    assert "J06.9" in top
    mix = _download_text(state.export_new_returning())
    assert "Jumlah pasien (orang)" in mix
