"""Pendaftaran in two browser tabs: what one desk registers or cancels appears live in the
other's queue (the branch board over the websocket), at desk and tablet sizes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESK, TABLET_LANDSCAPE
from tests.e2e.test_master_data import pick
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

LIVE = 10_000  # ms for the other tab's queue to follow


def _open_registration(page: Page, url: str, username: str, password: str) -> None:
    login(page, url, username, password)
    expect(page.locator("#active-duty")).to_be_visible()
    page.goto(f"{url}/pendaftaran")
    expect(page.locator("#reg-patient-search")).to_be_visible()


def _register(page: Page, term: str, payer: str) -> None:
    page.locator("#reg-patient-search").fill(term)  # listed as typed, no Enter needed
    page.locator("[id^=reg-patient-result-]").first.click()
    expect(page.locator("#reg-patient-chosen")).to_be_visible()
    pick(page, "reg-unit", "Poli Umum")
    pick(page, "reg-payer", payer)
    if payer == "BPJS":
        page.locator("#reg-bpjs-number").fill("0001234567890")
    page.locator("#reg-submit").click()


def test_two_desks_see_each_others_registrations_and_cancellations(
    page: Page, browser: Browser, app_url: str
):
    page.set_viewport_size(DESK)
    _open_registration(page, app_url, "pendaftaran", "Daftar#2026")
    other = browser.new_page(viewport=TABLET_LANDSCAPE)
    _open_registration(other, app_url, "admin", "Admin#2026")
    expect(other.locator("#queue-empty")).to_be_visible()

    _register(page, "ardianto", "BPJS")
    expect(page.locator("#reg-queue-number")).to_have_text("1")
    expect(page.locator("#reg-queue-unit")).to_have_text("Poli Umum")
    row = page.locator("[id^=queue-row-]")
    expect(row).to_have_count(1)
    visit_id = row.first.get_attribute("id").removeprefix("queue-row-")
    # The other desk registers the next patient; both queues follow.
    expect(other.locator(f"#queue-row-{visit_id}")).to_contain_text("menunggu", timeout=LIVE)
    _register(other, "claudia", "Umum")
    expect(other.locator("#reg-queue-number")).to_have_text("2")
    expect(page.locator("[id^=queue-row-]")).to_have_count(2, timeout=LIVE)

    # Cancel needs a reason; the cancelled row says batal at both desks.
    page.locator(f"#queue-cancel-{visit_id}").click()
    page.locator("#cancel-confirm").click()
    expect(page.locator("#error-reason")).to_have_text("Alasan pembatalan wajib diisi.")
    page.locator("#cancel-reason").fill("Pasien pulang sebelum diperiksa")
    page.locator("#cancel-confirm").click()
    expect(page.locator(f"#queue-row-{visit_id}")).to_contain_text("batal")
    expect(page.locator(f"#queue-cancel-{visit_id}")).to_have_count(0)
    expect(other.locator(f"#queue-row-{visit_id}")).to_contain_text("batal", timeout=LIVE)
    other.close()
