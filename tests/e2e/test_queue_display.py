"""The waiting-room TV and Pemeriksaan in two browsers: "Panggil" pressed by a nurse shows
the number on the TV within seconds, with the spoken call produced (speech cannot be heard
headless: the page's hook records the text it passed on)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from klinikita.db import get_engine
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, User, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty
from klinikita.services import auth as auth_service
from klinikita.services import display_tokens
from klinikita.services.audit import Actor
from klinikita.services.seed import DEMO_CLINIC
from klinikita.services.visit_queue import local_today
from tests.e2e.conftest import DESK, TABLET_LANDSCAPE

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

LIVE = 10_000  # ms for the TV to follow
DEMO_PASSWORDS = {"perawat": "Perawat#2026"}
SPOKEN = "Nomor antrean A 1, silakan ke Ruang Periksa 1"


def _waiting_visit_and_token() -> tuple[int, str]:
    """A patient waiting in Poli Umum with number 1, and a TV link for the clinic."""
    with Session(get_engine(), expire_on_commit=False) as session:
        branch = session.exec(select(Branch).where(Branch.name == DEMO_CLINIC)).one()
        unit = session.exec(select(ServiceUnit).where(ServiceUnit.name == "Poli Umum")).one()
        room = session.exec(select(Room).where(Room.unit_id == unit.id)).one()
        doctor = session.exec(
            select(Employee).where(
                Employee.branch_id == branch.id, Employee.main_duty == Duty.DOKTER_UMUM
            )
        ).first()
        patient = session.exec(select(Patient).where(Patient.branch_id == branch.id)).first()
        visit = Visit(
            branch_id=branch.id,
            patient_id=patient.id,
            unit_id=unit.id,
            room_id=room.id,
            doctor_id=doctor.id,
            visit_date=local_today(branch),
            queue_number=1,
            status=VisitStatus.REGISTERED,
            arrived_at=datetime.now(UTC) - timedelta(minutes=5),
        )
        session.add(visit)
        admin = session.exec(select(User).where(User.username == "admin")).one()
        actor = Actor(admin.id, admin.username, admin.full_name, Duty.ADMIN, branch.id)
        created = display_tokens.create_token(session, actor, "TV ruang tunggu", "")
        session.commit()
        return visit.id, created.token


def _login(username: str) -> str:
    with Session(get_engine()) as session:
        token = auth_service.login(session, username, DEMO_PASSWORDS[username]).token
        session.commit()
    return token


def test_panggil_shows_the_number_on_the_tv_and_speaks_it(browser: Browser, app_url: str):
    visit_id, token = _waiting_visit_and_token()
    tv_context = browser.new_context(viewport=DESK)
    nurse_context = browser.new_context(viewport=TABLET_LANDSCAPE)
    try:
        tv = tv_context.new_page()
        tv.goto(f"{app_url}/antrean/tampil?token={token}")
        expect(tv.locator("#antrean-clinic")).to_have_text(DEMO_CLINIC, timeout=LIVE)
        expect(tv.locator("#antrean-call")).to_have_attribute("data-ready", "1")
        expect(tv.locator(".antrean-waiting").first).to_have_text("A 1")
        expect(tv.locator("#antrean-clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))

        # The nurse's tablet holds her session (logged in through the login service: the
        # login form itself is tested in test_shell.py).
        nurse_context.add_init_script(
            f"window.localStorage.setItem('klinikita_session', {json.dumps(_login('perawat'))})"
        )
        nurse = nurse_context.new_page()
        nurse.goto(f"{app_url}/pemeriksaan")
        expect(nurse.locator("#active-duty")).to_be_visible(timeout=LIVE)
        button = nurse.locator(f"#exam-call-{visit_id}")
        expect(button).to_have_text("Panggil A 1")
        button.click()
        expect(button).to_have_text("Panggil ulang A 1")

        expect(tv.locator("#antrean-current-label")).to_have_text("A 1", timeout=LIVE)
        expect(tv.locator("#antrean-room")).to_have_text("Ruang Periksa 1")
        expect(tv.locator("body")).to_have_attribute("data-spoken", SPOKEN, timeout=LIVE)
        assert tv.evaluate("window.klinikitaQueueDisplay.spoken") == [SPOKEN]
        assert "Ardianto" not in tv.locator("body").inner_text()  # numbers only on the TV

        # Panggil ulang is announced again.
        button.click()
        expect(tv.locator("body")).to_have_attribute("data-spoken-count", "2", timeout=LIVE)

        # A wrong link shows a message and nothing of the branch.
        tv.goto(f"{app_url}/antrean/tampil?token=salah")
        expect(tv.locator("#antrean-invalid")).to_be_visible(timeout=LIVE)
        expect(tv.locator("#antrean-clinic")).to_have_count(0)
    finally:
        tv_context.close()
        nurse_context.close()
