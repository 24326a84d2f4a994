"""Laporan Dinkes in a browser: this month's visits drawn as bars, the ten most common
diagnoses listed and charted, and the CSV downloaded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from klinikita.db import get_engine
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit
from klinikita.services.visit_queue import local_today
from tests.e2e.conftest import DESK
from tests.e2e.test_shell import login
from tests.factories import make_visit_on

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def _visits_today() -> None:
    """Three completed visits of the demo clinic today: two ISPA, one hypertension."""
    with Session(get_engine(), expire_on_commit=False) as db:
        branch = db.exec(select(Branch).order_by(Branch.id)).first()
        unit = db.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch.id)).first()
        room = db.exec(select(Room).where(Room.unit_id == unit.id)).first()
        doctor = db.exec(
            select(Employee).where(
                Employee.branch_id == branch.id, Employee.main_duty == "dokter_umum"
            )
        ).first()
        patients = db.exec(select(Patient).where(Patient.branch_id == branch.id)).all()[:3]
        today = local_today(branch)
        for patient, code in zip(patients, ("J06.9", "J06.9", "I10"), strict=True):
            make_visit_on(db, branch, unit, room, doctor, patient, today, codes=(code,))


def test_the_dinkes_report_draws_this_months_figures(page: Page, app_url: str):
    _visits_today()
    page.set_viewport_size(DESK)
    login(page, app_url, "dokter", "Dokter#2026")
    # Beranda first (the dev server compiles a page on its first visit: allow for it).
    expect(page.locator("#beranda-exam_done")).to_have_text("3", timeout=60_000)
    page.goto(f"{app_url}/laporan/dinkes")
    expect(page.locator("#dinkes-visit-total")).to_have_text("3", timeout=60_000)
    # Recharts drew the day's bar and the diagnoses' bars.
    expect(page.locator("#dinkes-visits-chart .recharts-bar-rectangle path")).to_have_count(1)
    expect(page.locator("#dinkes-top-chart .recharts-bar-rectangle path")).to_have_count(2)
    expect(page.locator('[id="dinkes-top-row-J06.9"]')).to_contain_text("2")
    expect(page.locator('[id="dinkes-lb1-row-J06"]')).to_be_visible()
    with page.expect_download() as download:
        page.locator("#dinkes-top-csv").click()
    assert download.value.suggested_filename.startswith("10-besar-diagnosis-")
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("1,J06.9,")
