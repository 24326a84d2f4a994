"""Pendaftaran in a real browser: the patient list follows the typing (no Enter), and a
new patient's address is found by typing the kelurahan's name."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from klinikita.db import get_engine
from klinikita.services.regions import load_regions
from tests.e2e.conftest import TABLET_LANDSCAPE
from tests.e2e.test_master_data import pick
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_search_as_you_type_and_the_region_picker(page: Page, app_url: str):
    # The official region list, as migration 0004 loads it (the demo reset makes tables only).
    with get_engine().begin() as conn:
        load_regions(conn)
    page.set_viewport_size(TABLET_LANDSCAPE)
    # The first page of a fresh dev server compiles slowly: let it finish before typing.
    page.goto(f"{app_url}/login")
    page.wait_for_load_state("networkidle")
    login(page, app_url, "pendaftaran", "Daftar#2026")
    expect(page.locator("#active-duty")).to_be_visible(timeout=20_000)
    page.goto(f"{app_url}/pendaftaran")
    search = page.locator("#reg-patient-search")
    expect(search).to_be_visible()
    # Touch targets: 44 px at least (the text field's box holds the input element).
    assert search.locator("xpath=..").bounding_box()["height"] >= 44
    assert page.locator("#reg-new-patient").bounding_box()["height"] >= 44

    # Part of a name, typed key by key, lists the patient; nobody presses Enter.
    search.press_sequentially("clau", delay=60)
    expect(page.locator("[id^=reg-patient-result-]")).to_have_count(1)
    expect(page.locator("[id^=reg-patient-result-]").first).to_contain_text("Claudia Sintia")
    search.fill("")

    # A new patient: type "cilandak", pick Cilandak Barat; the four levels are filled.
    page.locator("#reg-new-patient").click()
    region = page.locator("#patient-region-search")
    expect(region).to_be_visible()
    region.press_sequentially("cilandak", delay=40)
    village = page.locator("#region-result-31\\.74\\.06\\.1001")
    expect(village).to_contain_text("Cilandak Barat, Kec. Cilandak")
    village.click()
    expect(page.locator("#region-chosen")).to_contain_text("Cilandak Barat")
    expect(page.locator("#patient-province_code")).to_contain_text("Jakarta")
    expect(page.locator("#patient-city_code")).to_contain_text("Jakarta Selatan")
    expect(page.locator("#patient-district_code")).to_contain_text("Cilandak")
    expect(page.locator("#patient-village_code")).to_contain_text("Cilandak Barat")

    page.locator("#patient-name").fill("Budi Santoso")
    page.locator("#patient-nik").fill("3174062511900001")
    page.locator("#patient-bpjs_number").fill("0001234567890")
    page.locator("#patient-birth_date").fill("25-11-1990")
    pick(page, "patient-sex", "Laki-laki")
    page.locator("#patient-street").fill("Jl. Cilandak KKO No. 3")
    page.locator("#patient-street").press("Enter")  # Enter saves
    expect(page.locator("#reg-patient-chosen")).to_contain_text("Budi Santoso")

    # BPJS: the card number comes from the patient; Enter there registers.
    pick(page, "reg-unit", "Poli Umum")
    pick(page, "reg-doctor", "dr. Alexander")
    pick(page, "reg-payer", "BPJS")
    number = page.locator("#reg-bpjs-number")
    expect(number).to_have_value("0001234567890")
    number.press("Enter")
    expect(page.locator("#reg-queue-number")).to_have_text("1")
