"""SATUSEHAT's refusals as staff meet them: a visit sent, then the branch's secret wrong.
The doctor's page says "Kunci SATUSEHAT ditolak" (not that the patient's IHS number is
being looked up), Pengaturan and the dashboard say so too, the admin fixes the key in
Pengaturan > Cabang, and the waiting visit goes out by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from klinikita.db import get_engine
from klinikita.integrations.satusehat.config import branch_destination
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit
from klinikita.services.secrets_store import encrypt_secret
from klinikita.services.seed import DEMO_CLINIC
from tests.e2e.conftest import DESK, admin_session_headers
from tests.e2e.test_clinical_flow import (
    LIVE,
    PATIENT_NIK,
    _doctor_examines_and_completes,
    _expect_encounter_live,
    _nurse_takes_vitals,
    _register,
    _sync_clinic_master_data,
    login_as,
)
from tests.e2e.test_master_data import backend_url
from tests.factories import make_completed_visit

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def _break_the_secret() -> int:
    """The branch's stored secret replaced by a wrong one, as a mistyped key would be."""
    with Session(get_engine()) as db:
        branch = db.exec(select(Branch).where(Branch.name == DEMO_CLINIC)).one()
        branch.ss_secret_encrypted = encrypt_secret(
            "kunci-yang-salah", bound_to=branch_destination(branch)
        )
        db.add(branch)
        db.commit()
        return branch.id


def _simulator_clock(app_harness, seconds: float) -> None:  # noqa: ANN001
    httpx.post(
        f"{backend_url(app_harness)}/satusehat-sim/_sim/clock",
        json={"advance_seconds": seconds},
        headers=admin_session_headers(),
    ).raise_for_status()


def test_a_refused_secret_reaches_the_doctor_and_the_fixed_key_sends_the_visit(
    page: Page, browser: Browser, app_url: str, app_harness
):
    _sync_clinic_master_data()
    # A visit on a room with coordinates, vitals by the nurse (with SpO2): sent.
    _, first_visit = _register(browser, app_url)
    _nurse_takes_vitals(browser, app_url, first_visit)
    _doctor_examines_and_completes(page, app_url, first_visit, "J06.9")
    _expect_encounter_live(page)
    page.locator("#logout").click()

    # The same again with the branch's secret wrong.
    branch_id = _break_the_secret()
    _, visit_id = _register(browser, app_url, queue_number="2")
    _nurse_takes_vitals(browser, app_url, visit_id)
    _doctor_examines_and_completes(page, app_url, visit_id, "J06.9")
    refused = page.locator("#exam-key-refused")
    expect(refused).to_contain_text("Kunci SATUSEHAT ditolak", timeout=LIVE)
    expect(refused).to_contain_text("Hubungi admin")  # a doctor cannot fix the keys
    expect(page.locator("#exam-sync-status")).not_to_contain_text("sedang dicari")
    expect(page.locator("#exam-encounter-id")).to_have_count(0)

    admin = browser.new_page(viewport=DESK)
    login_as(admin, app_url, "admin", "Admin#2026")
    admin.goto(f"{app_url}/laporan/dashboard-satusehat")
    expect(admin.locator("#dashboard-key-refused")).to_contain_text("Kunci SATUSEHAT ditolak")
    admin.locator("#dashboard-key-fix").click()
    expect(admin.locator(f"#readiness-{branch_id}-key_refused")).to_contain_text(
        "Kunci SATUSEHAT ditolak"
    )
    expect(admin.locator(f"#ready-{branch_id}")).to_have_count(0)  # not "Siap mengirim"
    expect(admin.locator("#branch-form")).to_be_visible()  # the link opens the branch's form
    # SATUSEHAT takes no token request for a minute after a refused secret (API.md 2): the
    # simulator's clock skips that minute rather than the test waiting for it.
    _simulator_clock(app_harness, 61)
    admin.locator("#branch-secret-replace").click()
    admin.locator("#branch-ss_secret").fill("demo-klinik-secret")
    admin.locator("#branch-save").click()
    expect(admin.locator("#branch-form")).to_have_count(0)
    expect(admin.locator(f"#readiness-{branch_id}-key_refused")).to_have_count(0)
    admin.close()

    # The doctor's page, left open, follows the send to its encounter id.
    _expect_encounter_live(page)
    expect(page.locator("#exam-key-refused")).to_have_count(0)


def _completed_visit_never_sent() -> None:
    """A visit completed before the clinic started sending: no job, no Encounter id."""
    with Session(get_engine()) as db:
        branch = db.exec(select(Branch).where(Branch.name == DEMO_CLINIC)).one()
        unit = db.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch.id)).first()
        room = db.exec(
            select(Room).where(Room.branch_id == branch.id, Room.ihs_id.is_not(None))
        ).first()
        doctor = db.exec(
            select(Employee).where(
                Employee.branch_id == branch.id, Employee.ihs_number.is_not(None)
            )
        ).first()
        patient = db.exec(
            select(Patient).where(Patient.branch_id == branch.id, Patient.nik == PATIENT_NIK)
        ).one()
        make_completed_visit(db, branch, unit, room, doctor, patient, queue_number=50)


def test_the_admin_sends_the_unsent_visits_of_a_range_and_watches_them_go(page: Page, app_url: str):
    _sync_clinic_master_data()
    _completed_visit_never_sent()
    page.set_viewport_size(DESK)
    login_as(page, app_url, "admin", "Admin#2026")
    page.goto(f"{app_url}/laporan/dashboard-satusehat")
    expect(page.locator("#dashboard-week-4")).to_contain_text("0 (0%)")
    today = datetime.now(UTC).date()
    page.locator("#backfill-date_from").fill((today - timedelta(days=2)).isoformat())
    page.locator("#backfill-date_to").fill((today + timedelta(days=1)).isoformat())
    page.evaluate("window.__sameLoad = true")
    page.locator("#backfill-send").click()
    expect(page.locator("#backfill-progress")).to_contain_text("1 dari 1 terkirim", timeout=LIVE)
    expect(page.locator("#dashboard-week-4")).to_contain_text("1 (100%)")
    assert page.evaluate("window.__sameLoad") is True  # live, without a reload
