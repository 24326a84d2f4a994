"""The diagnosis picker in a browser: a category that has subcodes (A09) is not added at
once; the warning offers its subcodes, and one of them is added instead."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import TABLET_LANDSCAPE
from tests.e2e.test_clinical_flow import _register, login_as

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_a_category_with_subcodes_is_offered_them(page: Page, browser: Browser, app_url: str):
    _, visit_id = _register(browser, app_url)
    page.set_viewport_size(TABLET_LANDSCAPE)
    login_as(page, app_url, "dokter", "Dokter#2026")
    page.goto(f"{app_url}/pemeriksaan")
    page.locator(f"#exam-visit-{visit_id}").click()
    page.locator("#icd-search").fill("A09")
    page.locator('[id="icd-result-A09"]').click()
    warning = page.locator("#icd-category-warning")
    expect(warning).to_contain_text("Kode A09 adalah kategori; pilih subkode yang lebih spesifik:")
    expect(page.locator('[id="diagnosis-A09"]')).to_have_count(0)
    expect(page.locator("#icd-keep-category")).to_contain_text("Tetap pakai A09")
    page.locator('[id="icd-subcode-A09.9"]').click()
    expect(page.locator('[id="diagnosis-A09.9"]')).to_be_visible()
    expect(warning).to_have_count(0)
