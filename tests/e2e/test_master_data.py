"""Master data end to end: from an empty branch to units, rooms, a doctor, a patient and a user,
with SATUSEHAT ids appearing live (the in-app worker and the mounted simulator)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESK, TABLET_LANDSCAPE, admin_session_headers
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

NEW_BRANCH = "Klinik Uji Kosong"
# SATUSEHAT's published sandbox data, seeded in the simulator.
DOCTOR_NIK, DOCTOR_IHS = "3322071302900002", "10006926841"  # dr. Yoga Yandika, Sp.A
PATIENT_NIK, PATIENT_IHS = "9204014804000002", "P03647103112"  # Claudia Sintia
LIVE = 30_000  # ms to wait for the worker's result to arrive on the page


def pick(page: Page, trigger_id: str, option: str) -> None:
    page.locator(f"#{trigger_id}").click()
    page.get_by_role("option", name=option, exact=True).click()
    # The list closes before the next click, or that click only closes it.
    expect(page.get_by_role("listbox")).to_have_count(0)


def backend_url(app_harness) -> str:  # noqa: ANN001
    host, port = app_harness.backend.servers[0].sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"


def _create_empty_branch_with_simulator_keys(page: Page, url: str) -> None:
    page.goto(f"{url}/pengaturan")
    page.locator("#branch-add").click()
    page.locator("#branch-name").fill(NEW_BRANCH)
    pick(page, "branch-ss_environment", "Simulator (latihan, tidak terkirim ke Kemenkes)")
    page.locator("#branch-ss_organization_id").fill("10000004")
    page.locator("#branch-ss_client_id").fill("demo-klinik")
    page.locator("#branch-ss_secret").fill("demo-klinik-secret")
    page.locator("#branch-save").click()
    row = page.locator("tr", has_text=NEW_BRANCH)
    expect(row).to_be_visible()
    # The secret never comes back: the form shows it masked.
    row.get_by_role("button", name="Ubah").click()
    expect(page.locator("#branch-secret-saved")).to_be_visible()
    expect(page.locator("#branch-ss_secret")).to_have_count(0)
    page.get_by_role("button", name="Tes koneksi").first.click()
    expect(page.locator(".connection-result").first).to_contain_text("berhasil", timeout=LIVE)
    # Work in the new, empty branch from now on.
    page.locator("#switch-branch").click()
    page.get_by_role("menuitem", name=NEW_BRANCH).click()
    expect(page.locator("#active-branch")).to_have_text(NEW_BRANCH)


def _add_unit_and_room(page: Page, url: str) -> None:
    page.goto(f"{url}/referensi/unit")
    page.locator("#unit-add").click()
    page.locator("#unit-name").fill("Poli Anak")
    page.locator("#unit-save").click()
    unit_row = page.locator(".unit-row", has_text="Poli Anak")
    # The Organization id appears without a reload.
    expect(unit_row.locator("[id^=unit-ihs-]")).to_have_text(
        re.compile(r"^[0-9a-f-]{36}$"), timeout=LIVE
    )
    page.goto(f"{url}/referensi/ruangan")
    page.locator("#room-add").click()
    page.locator("#room-name").fill("Ruang Anak 1")
    pick(page, "room-unit_id", "Poli Anak")
    page.locator("#room-save").click()
    room_row = page.locator(".room-row", has_text="Ruang Anak 1")
    # The new branch has no coordinates yet: the room is not sent, and the row says where
    # to fill them in (SATUSEHAT refuses a Location without a position).
    expect(room_row).to_contain_text("Koordinat ruangan", timeout=LIVE)
    expect(room_row).to_contain_text("Pengaturan > Cabang")
    _fill_branch_coordinates(page, url)
    page.goto(f"{url}/referensi/ruangan")
    room_row = page.locator(".room-row", has_text="Ruang Anak 1")
    expect(room_row.locator("[id^=room-ihs-]")).to_have_text(
        re.compile(r"^[0-9a-f-]{36}$"), timeout=LIVE
    )


def _fill_branch_coordinates(page: Page, url: str) -> None:
    """The readiness panel names the missing coordinates; the branch form takes them, with
    the hint on reading them from a map; a swapped pair is refused at its field."""
    page.goto(f"{url}/pengaturan")
    expect(page.locator("[id$=-position]", has_text="Koordinat cabang")).to_be_visible()
    page.locator("tr", has_text=NEW_BRANCH).get_by_role("button", name="Ubah").click()
    expect(page.locator("#branch-position-hint")).to_contain_text("Google Maps")
    page.locator("#branch-latitude").fill("106.8324")
    page.locator("#branch-longitude").fill("-6.2311")
    page.locator("#branch-save").click()
    expect(page.locator("#error-latitude")).to_contain_text("tertukar")
    page.locator("#branch-latitude").fill("-6.2311, 106.8324")  # pasted from the map
    page.locator("#branch-longitude").fill("")
    page.locator("#branch-save").click()
    expect(page.get_by_text("Pengaturan cabang disimpan.")).to_be_visible()


def _add_doctor(page: Page, url: str) -> None:
    page.goto(f"{url}/kontak/karyawan")
    page.locator("#employee-add").click()
    page.locator("#employee-name").fill("dr. Yoga Yandika, Sp.A")
    pick(page, "employee-main_duty", "Dokter spesialis")
    page.locator("#employee-nik").fill(DOCTOR_NIK)
    pick(page, "employee-sex", "Laki-laki")
    page.locator("#employee-save").click()
    row = page.locator("tr", has_text="dr. Yoga Yandika")
    expect(row.locator("[id^=employee-ihs-]")).to_have_text(DOCTOR_IHS, timeout=LIVE)


def _add_patient(page: Page, url: str) -> None:
    page.goto(f"{url}/kontak/pasien")
    page.locator("#patient-new").click()
    page.locator("#patient-nik").fill(PATIENT_NIK)
    page.locator("#patient-name").fill("Claudia Sintia")
    page.locator("#patient-birth_date").fill("03/11/1989")
    pick(page, "patient-sex", "Perempuan")
    page.locator("#patient-save").click()
    row = page.locator("tr", has_text="Claudia Sintia")
    expect(row.locator("[id^=ihs-]")).to_have_text(PATIENT_IHS, timeout=LIVE)


def _add_user_who_logs_in(page: Page, url: str) -> None:
    page.goto(f"{url}/pengaturan/pengguna")
    page.locator("#user-add").click()
    page.locator("#user-username").fill("yoga")
    page.locator("#user-full_name").fill("dr. Yoga Yandika, Sp.A")
    page.locator("#user-email").fill("yoga@klinik.id")
    pick(page, "user-main_duty", "Dokter spesialis")
    # The active branch is offered already ticked.
    expect(
        page.locator("#user-branches").get_by_role("checkbox", name=NEW_BRANCH)
    ).to_have_attribute("data-state", "checked")
    page.locator("#user-password").fill("Kelinci-Biru#58")
    page.locator("#user-password_confirm").fill("Kelinci-Biru#58")
    page.locator("#user-save").click()
    expect(page.locator("#user-row-yoga")).to_be_visible()
    page.locator("#logout").click()
    expect(page).to_have_url(re.compile(r"/login"))
    login(page, url, "yoga", "Kelinci-Biru#58")
    expect(page.locator("#page-title")).to_have_text("Beranda")
    expect(page.locator("#active-branch")).to_have_text(NEW_BRANCH)
    expect(page.locator("#active-duty")).to_have_text("Dokter spesialis")


def test_from_an_empty_branch_to_sent_master_data_and_a_new_user(page: Page, app_url: str):
    page.set_viewport_size(DESK)
    login(page, app_url, "admin", "Admin#2026")
    expect(page.locator("#page-title")).to_have_text("Beranda")
    _create_empty_branch_with_simulator_keys(page, app_url)
    _add_unit_and_room(page, app_url)
    _add_doctor(page, app_url)
    _add_patient(page, app_url)
    _add_user_who_logs_in(page, app_url)


def test_a_simulator_failure_shows_on_the_row_and_is_resent(page: Page, app_url: str, app_harness):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "value",
                "details": {"text": "Simulasi: organisasi ditolak sementara"},
            }
        ],
    }
    httpx.post(
        f"{backend_url(app_harness)}/satusehat-sim/_sim/faults",
        json={
            "kind": "http_error",
            "count": 1,
            "status": 400,
            "path": "/fhir-r4/v1/Organization",
            "body": json.dumps(outcome),
            "content_type": "application/json",
        },
        headers=admin_session_headers(),
    ).raise_for_status()
    page.set_viewport_size(TABLET_LANDSCAPE)
    login(page, app_url, "admin", "Admin#2026")
    expect(page.locator("#page-title")).to_have_text("Beranda")
    page.goto(f"{app_url}/referensi/unit")
    page.locator("#unit-add").click()
    page.locator("#unit-name").fill("Poli Gizi")
    page.locator("#unit-save").click()
    row = page.locator(".unit-row", has_text="Poli Gizi")
    expect(row).to_contain_text("Simulasi: organisasi ditolak sementara", timeout=LIVE)
    expect(row).to_contain_text("gagal")
    row.get_by_role("button", name="Kirim ulang").click()
    expect(row.locator("[id^=unit-ihs-]")).to_have_text(
        re.compile(r"^[0-9a-f-]{36}$"), timeout=LIVE
    )
    expect(row).to_contain_text("terkirim")
