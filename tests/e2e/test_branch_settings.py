"""Pengaturan -> Cabang end to end: new server addresses ask for the Secret Key again, and a
stranger's listener named in them never receives the stored one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from klinikita.integrations.satusehat.simulator.seed import DEMO_CLIENTS
from klinikita.services.seed import DEMO_CLINIC
from tests.e2e.conftest import DESK
from tests.e2e.test_clinical_flow import login_as
from tests.e2e.test_master_data import pick
from tests.support.listener import recording_listener

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_moved_addresses_need_the_secret_again_and_get_only_the_new_one(page: Page, app_url: str):
    page.set_viewport_size(DESK)
    login_as(page, app_url, "admin", "Admin#2026")  # the app's first page may take a while
    expect(page.locator("#active-branch")).to_be_visible()
    page.goto(f"{app_url}/pengaturan")
    page.locator("tr", has_text=DEMO_CLINIC).get_by_role("button", name="Ubah").click()
    expect(page.locator("#branch-secret-saved")).to_be_visible()
    with recording_listener() as listener:
        pick(page, "branch-ss_environment", "URL khusus")
        page.locator("#branch-ss_auth_url").fill(listener.auth_url)
        page.locator("#branch-ss_fhir_url").fill(listener.fhir_url)
        # The page says at once that the stored secret will not follow the new addresses.
        expect(page.locator("#branch-secret-moved")).to_be_visible()
        expect(page.locator("#branch-secret-saved")).to_have_count(0)
        page.locator("#branch-save").click()
        expect(page.locator("#error-ss_secret")).to_contain_text("ketik ulang Secret Key")
        page.locator("#branch-test-connection").click()
        expect(page.locator("#error-ss_secret")).to_contain_text("belum disimpan")
        assert listener.received == []
        # Typed again in the same save: saved, and only the new secret goes there.
        page.locator("#branch-ss_secret").fill("rahasia-alamat-baru")
        page.locator("#branch-save").click()
        expect(page.locator("#branch-form")).to_have_count(0)
        card = page.locator("[id^=readiness-card-]", has_text=DEMO_CLINIC)
        card.get_by_role("button", name="Tes koneksi").click()
        expect(card.locator(".connection-result")).to_be_visible(timeout=15_000)
        assert len(listener.received) == 1
        assert "rahasia-alamat-baru" in listener.received[0]
        assert DEMO_CLIENTS[0].client_secret not in listener.received[0]
