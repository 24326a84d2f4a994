"""Login, the app shell, duty and branch switching, logout and lockout in real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESK, TABLET_LANDSCAPE, TABLET_PORTRAIT

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def login(page: Page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()


def sidebar_labels(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#sidebar-menu a").all_inner_texts() if t.strip()]


def open_menu_if_collapsed(page: Page) -> None:
    if page.locator("#open-menu").is_visible():
        page.locator("#open-menu").click()


@pytest.mark.parametrize(
    "viewport",
    [DESK, TABLET_LANDSCAPE, TABLET_PORTRAIT],
    ids=["desk", "tablet-landscape", "tablet-portrait"],
)
def test_admin_switches_duty_and_branch_then_logs_out(page: Page, app_url: str, viewport):
    page.set_viewport_size(viewport)
    page.goto(app_url)
    expect(page).to_have_url(re.compile(r"/login"))
    login(page, app_url, "admin", "Admin#2026")
    expect(page.locator("#page-title")).to_have_text("Beranda")
    expect(page.locator("#active-branch")).to_have_text("Klinik Kita Sehat")
    expect(page.locator("#active-duty")).to_have_text("Admin")

    open_menu_if_collapsed(page)
    menu = page.locator("#sidebar-menu").locator("visible=true")
    expect(menu.get_by_text("Pengaturan")).to_be_visible()
    page.keyboard.press("Escape")

    # Ganti tugas -> Dokter umum: the menus change at once, without a reload.
    page.locator("#switch-duty").click()
    page.get_by_role("menuitem", name="Dokter umum").click()
    expect(page.locator("#active-duty")).to_have_text("Dokter umum")
    open_menu_if_collapsed(page)
    menu = page.locator("#sidebar-menu").locator("visible=true")
    expect(menu.get_by_text("Pemeriksaan")).to_be_visible()
    expect(menu.get_by_text("Pengaturan")).to_have_count(0)
    page.keyboard.press("Escape")

    # Pengaturan is now refused, even by typing its address.
    page.goto(f"{app_url}/pengaturan")
    expect(page.locator("#page-not-allowed")).to_be_visible()

    # Ganti cabang
    page.locator("#switch-branch").click()
    page.get_by_role("menuitem", name="Praktik Dokter Mandiri dr. Sari").click()
    expect(page.locator("#active-branch")).to_have_text("Praktik Dokter Mandiri dr. Sari")
    # The choice lives on the server: a reload keeps it.
    page.reload()
    expect(page.locator("#active-branch")).to_have_text("Praktik Dokter Mandiri dr. Sari")
    expect(page.locator("#active-duty")).to_have_text("Dokter umum")

    page.locator("#logout").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(f"{app_url}/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_five_wrong_passwords_then_the_sixth_try_must_wait(page: Page, app_url: str):
    page.set_viewport_size(TABLET_LANDSCAPE)
    login(page, app_url, "perawat", "Salah#2026")
    expect(page.locator("#login-error")).to_have_text("Nama pengguna atau kata sandi salah.")
    for _ in range(4):
        page.locator("#login-submit").click()  # waits while the last try is checked
    # Sixth try with the right password: not even checked, and the message says to wait.
    page.locator("#password").fill("Perawat#2026")
    page.locator("#login-submit").click()
    expect(page.locator("#login-error")).to_contain_text("Terlalu banyak percobaan")
    expect(page.locator("#login-error")).to_contain_text("15 menit")
    expect(page).to_have_url(re.compile(r"/login"))


def test_nurse_sees_only_her_menus_and_what_her_duty_may_do(page: Page, app_url: str):
    page.set_viewport_size(DESK)
    login(page, app_url, "perawat", "Perawat#2026")
    expect(page.locator("#page-title")).to_have_text("Beranda")
    assert sidebar_labels(page) == ["Beranda", "Pendaftaran", "Pemeriksaan", "Resume", "Kontak"]
    page.locator("#menu-pemeriksaan").click()
    expect(page.locator("#exam-duty-hint")).to_contain_text("tanda vital")
