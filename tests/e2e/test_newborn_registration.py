"""A newborn without a NIK registered in a real browser: ticking "Bayi baru lahir (belum
punya NIK)" asks for the mother's NIK (messages at the field), and once saved the worker
creates the baby's SATUSEHAT record by that NIK: the IHS number appears in the list."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from klinikita.db import get_engine
from klinikita.services.dates import typed_date
from klinikita.services.regions import load_regions
from tests.e2e.conftest import DESK
from tests.e2e.test_master_data import pick
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_a_newborn_is_registered_with_the_mothers_nik(page: Page, app_url: str):
    with get_engine().begin() as conn:
        load_regions(conn)  # the official region list, as migration 0004 loads it
    page.set_viewport_size(DESK)
    page.goto(f"{app_url}/login")
    page.wait_for_load_state("networkidle")
    login(page, app_url, "pendaftaran", "Daftar#2026")
    expect(page.locator("#active-duty")).to_be_visible(timeout=20_000)
    page.goto(f"{app_url}/kontak/pasien")
    page.locator("#patient-new").click()
    expect(page.locator("#patient-form")).to_be_visible()

    page.locator("#patient-name").fill("Bayi Ny. Siti Aminah")
    page.locator("#patient-birth_date").fill(typed_date(date.today() - timedelta(days=3)))
    pick(page, "patient-sex", "Perempuan")
    expect(page.locator("#patient-mother_nik")).to_have_count(0)
    page.locator("#patient-is_newborn").click()
    mother = page.locator("#patient-mother_nik")
    expect(mother).to_be_visible()
    page.locator("#patient-save").click()
    expect(page.locator("#error-mother_nik")).to_contain_text("NIK ibu wajib diisi")
    expect(page.locator("#error-kk_number")).to_contain_text("No. KK wajib diisi")
    expect(page.locator("#error-village_code")).to_contain_text("kelurahan/desa")

    mother.fill("3174061208850001")  # coded male: a warning, not an error
    expect(page.locator("#warning-mother_nik")).to_contain_text("laki-laki")
    mother.fill("3174065208850001")
    expect(page.locator("#warning-mother_nik")).to_have_count(0)
    page.locator("#patient-kk_number").fill("3174060101260001")
    page.locator("#patient-region-search").press_sequentially("cilandak", delay=40)
    page.locator("#region-result-31\\.74\\.06\\.1001").click()
    expect(page.locator("#region-chosen")).to_contain_text("Cilandak Barat")
    page.locator("#patient-save").click()

    expect(page.locator("#patient-form")).to_have_count(0)
    row = page.locator("tr", has_text="Bayi Ny. Siti Aminah")
    expect(row).to_be_visible()
    # The worker inside the app creates the record in the mounted simulator.
    expect(row.locator("[id^=ihs-]")).to_have_text(re.compile(r"^P\d{11}$"), timeout=20_000)
