"""Apotek in the browser: two pharmacists' queues follow each other live; the review shows
the allergy and the FEFO batches; a changed quantity needs its reason; the labels print on
60 x 40 mm pages, one per label, or together on A4."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from klinikita.db import session_scope
from klinikita.models import Branch, Employee, Patient, PatientAllergy, Room, ServiceUnit
from klinikita.models.allergies import AllergyKind
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty
from tests.e2e.conftest import DESK
from tests.e2e.test_shell import login
from tests.factories import make_completed_visit
from tests.support import pharmacy_data as ph

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

LIVE = 10_000  # ms for the other tab's queue to follow


def _prescriptions() -> list[int]:
    """Two waiting prescriptions of the demo branch; the first patient is allergic to
    amoxicillin, and paracetamol has an expired, an early and a late batch."""
    with session_scope() as db:
        branch = db.exec(select(Branch)).first()
        unit = db.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch.id)).first()
        room = db.exec(select(Room).where(Room.unit_id == unit.id)).first()
        doctor = db.exec(select(Employee).where(Employee.main_duty == Duty.DOKTER_UMUM)).first()
        patients = db.exec(select(Patient).where(Patient.branch_id == branch.id)).all()[:2]
        # Not the demo drug master's paracetamol (its demo batch would join the FEFO plan).
        para = ph.item(db, branch, "Paracetamol 500 mg tablet (uji)")
        amox = ph.item(db, branch, "Amoxicillin 500 mg kapsul", unit="kapsul", kfa="93000002")
        ph.batch(db, para, "PCT-OLD", 50, date.today() - timedelta(days=2))
        ph.batch(db, para, "PCT-EARLY", 8, date.today() + timedelta(days=40))
        ph.batch(db, para, "PCT-LATE", 200, date.today() + timedelta(days=400))
        ph.batch(db, amox, "AMX-1", 40)
        db.add(
            PatientAllergy(
                patient_id=patients[0].id,
                branch_id=branch.id,
                kind=AllergyKind.DRUG,
                display="Amoxicillin",
                item_id=amox.id,
                reaction="ruam kulit",
                recorded_at=utcnow(),
            )
        )
        db.commit()
        ids = []
        for n, patient in enumerate(patients):
            visit = make_completed_visit(
                db, branch, unit, room, doctor, patient, queue_number=n + 1, minutes_ago=20 - n
            )
            rx = ph.prescription(
                db,
                visit,
                [
                    (para, 10, "3 x sehari", "1 tablet", "sesudah makan"),
                    (amox, 15, "3 x sehari", "1 kapsul", "dihabiskan"),
                ],
            )
            ids.append(rx.dispense.id)
        return ids


def _open_apotek(page: Page, url: str, username: str, password: str) -> None:
    login(page, url, username, password)
    expect(page.locator("#active-duty")).to_be_visible(timeout=30_000)
    page.goto(f"{url}/apotek")
    expect(page.locator("#apotek-queue")).to_be_visible(timeout=30_000)


def test_two_pharmacists_dispense_with_fefo_reason_and_labels(
    page: Page, browser: Browser, app_url: str
):
    first, second = _prescriptions()
    page.set_viewport_size(DESK)
    _open_apotek(page, app_url, "apoteker", "Apoteker#2026")
    other = browser.new_page(viewport=DESK)
    _open_apotek(other, app_url, "admin", "Admin#2026")
    expect(other.locator(f"#apotek-row-{first}")).to_contain_text("Menunggu")

    page.locator(f"#apotek-open-{first}").click()
    expect(page.locator("#apotek-allergies")).to_contain_text("Amoxicillin")
    review = page.locator("#apotek-review")
    expect(review).to_contain_text("PCT-EARLY")
    expect(review).to_contain_text("PCT-LATE")
    expect(review).not_to_contain_text("PCT-OLD")
    page.locator("[id^=apotek-qty-]").nth(1).fill("6")
    page.locator("#apotek-dispense").click()
    expect(review).to_contain_text("tulis alasannya")
    page.locator("[id^=apotek-reason-]").nth(1).fill("sisa obat di rumah")
    page.locator("#apotek-dispense").click()
    expect(page.locator("#apotek-hand-over")).to_be_visible()
    # The other pharmacist's queue follows without a reload.
    expect(other.locator(f"#apotek-row-{first}")).to_contain_text("Disiapkan", timeout=LIVE)
    other.locator(f"#apotek-open-{second}").click()
    other.locator("#apotek-dispense").click()
    expect(page.locator(f"#apotek-row-{second}")).to_contain_text("Disiapkan", timeout=LIVE)

    labels = page.context.new_page()
    labels.goto(f"{app_url}/apotek/etiket?resep={first}&ukuran=kecil")
    expect(labels.locator(".etiket")).to_have_count(2)
    expect(labels.locator(".etiket").nth(1)).to_contain_text("6 kapsul")
    expect(labels.locator(".etiket").first).to_contain_text("3 x sehari 1 tablet sesudah makan")
    small = labels.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", small)
    assert len(boxes) == 2 and all(  # one page per label
        round(float(w) / 72 * 25.4) == 60 and round(float(h) / 72 * 25.4) == 40 for w, h in boxes
    )
    labels.goto(f"{app_url}/apotek/etiket?resep={first}&ukuran=a4")
    # The A4 sheet, not the small labels the tab showed a moment ago: only A4 has a footer.
    expect(labels.locator(".kk-etiket .kk-foot")).to_be_visible()
    expect(labels.locator(".etiket")).to_have_count(2)
    a4 = labels.pdf(prefer_css_page_size=True)
    [(w, h)] = set(re.findall(rb"MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", a4))
    assert (round(float(w) / 72 * 25.4), round(float(h) / 72 * 25.4)) == (210, 297)

    page.locator("#apotek-hand-over").click()
    expect(page.locator(f"#apotek-row-{first}")).to_contain_text("Diserahkan")
    expect(other.locator(f"#apotek-row-{first}")).to_contain_text("Diserahkan", timeout=LIVE)
    other.close()
