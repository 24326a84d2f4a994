"""Obat & BHP end to end: an apoteker imports a small CSV and reads its report, then maps the
imported, unmapped medicine to a KFA product after seeing the product's detail (the KFA
subset served by the simulator mounted on the app's backend)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import TABLET_LANDSCAPE
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

CSV = (
    "nama;sediaan;kekuatan;satuan;harga;kode_kfa\n"
    "Loratadine 10 mg tablet;Tablet;10 mg;tablet;1.200;\n"
    "Obat salah;Pil ajaib;;tablet;500;\n"
)
LORATADINE = "93019375"  # Loratadine 10 mg Tablet (PYLOR), a real KFA product


def test_import_a_csv_then_map_the_unmapped_item_to_kfa(page: Page, app_url: str, tmp_path: Path):
    page.set_viewport_size(TABLET_LANDSCAPE)
    login(page, app_url, "apoteker", "Apoteker#2026")
    # The dev server compiles a page on its first visit: allow for it.
    expect(page.locator("#active-duty")).to_be_visible(timeout=60_000)
    page.goto(f"{app_url}/apotek/obat")
    expect(page.locator("#drug-search")).to_be_visible(timeout=60_000)

    # The import and its report: one added but unmapped, one refused with the reason.
    csv_file = tmp_path / "obat.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.locator("#drug-csv input[type=file]").set_input_files(csv_file)
    page.locator("#drug-import").click()
    summary = page.locator("#drug-import-summary")
    expect(summary).to_contain_text("1 ditambahkan", timeout=20_000)
    expect(summary).to_contain_text("1 gagal")
    expect(page.locator("#drug-import-failed")).to_contain_text("Pil ajaib")
    expect(page.locator("#drug-import-unmapped")).to_contain_text("Loratadine 10 mg tablet")

    # The imported item is listed as not mapped yet.
    page.locator("#drug-search").fill("lorat")
    row = page.locator("tr.drug-row", has_text="Loratadine 10 mg tablet")
    expect(row).to_have_count(1)
    expect(row.locator("[id^=drug-unmapped-]")).to_be_visible()

    # Petakan ke KFA: searched at once by its name; the detail shows before choosing.
    row.get_by_role("button", name="Petakan ke KFA").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Loratadine 10 mg tablet")
    page.locator(f"#kfa-result-{LORATADINE}").click(timeout=20_000)
    detail = page.locator("#kfa-detail")
    expect(detail).to_contain_text("Loratadine 10 mg Tablet (PYLOR)", timeout=20_000)
    expect(detail).to_contain_text("Tablet (BS066)")
    expect(detail).to_contain_text("PYLOR")
    page.locator("#kfa-choose").click()
    expect(dialog).to_have_count(0)
    expect(row).to_contain_text(LORATADINE)
    expect(row.locator("[id^=drug-unmapped-]")).to_have_count(0)
