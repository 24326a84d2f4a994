"""Kasir in the browser, following the clinical flow live: the doctor's examination (a
diagnosis, a prescription, a sick-leave letter) is prepared through services, then the doctor
presses Selesai in the browser and the visit appears in the cashier's open list without a
reload. The cashier opens its bill while the prescription still waits at the pharmacy; the
pharmacist, in a browser session of their own, presses Siapkan obat and Serahkan, and the
cashier's open bill takes the drug lines by itself (no click) and says so. The cashier then
takes a split payment (tunai with change + QRIS with its reference), prints the 58 mm nota (the
printed page is 58 mm wide, the PDF download the same nota), the sick-leave letter of the visit
prints on A5, and the day's revenue report shows the payment by method."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from klinikita.db import session_scope
from klinikita.models import Branch, DrugItem, Employee, Patient, Room, ServiceUnit, User
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import Dispense
from klinikita.services import documents
from klinikita.services.audit import Actor
from tests.e2e.conftest import DESK
from tests.e2e.test_shell import login
from tests.factories import make_completed_visit
from tests.support import pharmacy_data as ph

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

LIVE = 15_000  # ms for the cashier's list to follow
MM_PER_PT = 25.4 / 72


def _actor(db, username: str, duty: Duty, branch_id: int) -> Actor:  # noqa: ANN001
    user = db.exec(select(User).where(User.username == username)).one()
    return Actor(user.id, user.username, user.full_name, duty, branch_id)


def _examined_visit() -> dict:
    """A visit of the demo clinic in examination: vitals, a diagnosis, a prescription of
    10 paracetamol tablets, and a sick-leave letter the doctor issued for today."""
    with session_scope() as db:
        branch = db.exec(select(Branch)).first()
        unit = db.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch.id)).first()
        room = db.exec(select(Room).where(Room.unit_id == unit.id)).first()
        room.ihs_id = "e2e-kasir-location"  # registered as a SATUSEHAT Location
        doctor = db.exec(select(Employee).where(Employee.main_duty == Duty.DOKTER_UMUM)).first()
        patient = db.exec(select(Patient).where(Patient.branch_id == branch.id)).first()
        para = db.exec(
            select(DrugItem).where(
                DrugItem.branch_id == branch.id, DrugItem.name == "Paracetamol 500 mg tablet"
            )
        ).one()
        ph.batch(db, para, "PCT-KASIR", 100)
        visit = make_completed_visit(
            db, branch, unit, room, doctor, patient, queue_number=7, codes=("A01.0",)
        )
        visit.status, visit.completed_at = VisitStatus.IN_EXAMINATION, None
        db.add(visit)
        ph.prescription(db, visit, [(para, 10, "3 x sehari", "1 tablet", "sesudah makan")])
        db.commit()
        doctor_actor = _actor(db, "dokter", Duty.DOKTER_UMUM, branch.id)
        today = date.today().strftime("%d/%m/%Y")
        letter = documents.issue_sick_leave(
            db, doctor_actor, visit.id, documents.SickLeaveInput(today, today, True)
        )
        db.commit()
        dispense = db.exec(select(Dispense).where(Dispense.visit_id == visit.id)).one()
        return {
            "branch_id": branch.id,
            "visit_id": visit.id,
            "dispense_id": dispense.id,
            "patient": patient.name,
            "letter_id": letter.id,
            "letter_number": letter.number,
        }


def _signed_in(browser: Browser, url: str, username: str, password: str, path: str) -> Page:
    """A page of its own browser session (another person's computer) at `path`."""
    tab = browser.new_context(viewport=DESK).new_page()
    login(tab, url, username, password)
    expect(tab.locator("#active-duty")).to_be_visible(timeout=30_000)
    tab.goto(f"{url}{path}")
    return tab


def _page_sizes_mm(pdf: bytes) -> set[tuple[int, int]]:
    boxes = re.findall(rb"MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
    assert boxes, "no page in the PDF"
    return {(round(float(w) * MM_PER_PT), round(float(h) * MM_PER_PT)) for w, h in boxes}


def _no_print_dialog(page: Page) -> None:
    """Count the page's print calls instead of opening Chrome's dialog."""
    page.evaluate("window.__prints = 0; window.print = () => { window.__prints += 1; }")


def test_cashier_follows_the_visit_live_takes_a_split_payment_and_prints(
    page: Page, browser: Browser, app_url: str
):
    made = _examined_visit()
    page.set_viewport_size(DESK)
    login(page, app_url, "pendaftaran", "Daftar#2026")
    expect(page.locator("#active-duty")).to_be_visible(timeout=30_000)

    # A shift first: the cashier counts the opening cash.
    page.goto(f"{app_url}/kasir/shift")
    page.locator("#shift-opening-cash").fill("200.000")
    page.locator("#shift-open").click()
    expect(page.locator("#shift-close")).to_be_visible(timeout=10_000)

    # The list is open before the visit is done; it appears when the doctor presses Selesai.
    page.goto(f"{app_url}/kasir")
    expect(page.get_by_text("Tidak ada kunjungan yang menunggu pembayaran.")).to_be_visible(
        timeout=30_000
    )
    page.evaluate("window.__sameLoad = true")  # a reload would drop it
    doctor = _signed_in(
        browser, app_url, "dokter", "Dokter#2026", f"/pemeriksaan?kunjungan={made['visit_id']}"
    )
    doctor.locator("#exam-complete").click()
    row = page.locator(f"[id^=kasir-waiting-{made['visit_id']}-]")
    expect(row).to_be_visible(timeout=LIVE)
    expect(row).to_contain_text(made["patient"])
    expect(row).to_contain_text("Menunggu")  # the prescription waits at the pharmacy

    # The bill, opened while the drugs are still being prepared: registration and
    # consultation at the day's tariffs, and a note that the drugs come later.
    page.locator(f"#kasir-open-{made['visit_id']}-0").click()
    bill = page.locator("#kasir-bill")
    expect(bill).to_contain_text("Resep masih disiapkan di apotek")
    expect(bill).not_to_contain_text("Paracetamol")
    before = int(re.sub(r"\D", "", page.locator("#kasir-total").inner_text()))
    expect(page.locator("#kasir-pay-amount-0")).to_have_value(str(before))

    # The pharmacist prepares and hands over the drugs on their own computer ...
    pharmacist = _signed_in(
        browser, app_url, "apoteker", "Apoteker#2026", f"/apotek?resep={made['dispense_id']}"
    )
    pharmacist.locator("#apotek-dispense").click()
    pharmacist.locator("#apotek-hand-over").click()
    expect(pharmacist.locator("#apotek-review")).to_contain_text("Diserahkan")
    pharmacist.context.close()

    # ... and the cashier's open bill takes the drug lines by itself and says so; the one
    # cash part follows the new total.
    expect(bill).to_contain_text("Paracetamol 500 mg tablet", timeout=LIVE)
    expect(page.locator("#kasir-bill-followed")).to_contain_text(
        "1 baris obat dari apotek ditambahkan"
    )
    expect(bill).not_to_contain_text("Resep masih disiapkan di apotek")
    expect(row).to_contain_text("Diserahkan")
    total_text = page.locator("#kasir-total").inner_text()
    total = int(re.sub(r"\D", "", total_text))
    assert total > before and total > 5000, total_text
    expect(page.locator("#kasir-pay-amount-0")).to_have_value(str(total))
    assert page.evaluate("window.__sameLoad") is True

    # Split: Rp 5.000 by QRIS with its reference, the rest in cash from a Rp 100.000 note.
    cash = total - 5000
    page.locator("#kasir-pay-amount-0").fill(str(cash))
    page.locator("#kasir-pay-cash-0").fill("100000")
    page.locator("#kasir-pay-split").click()
    page.locator("#kasir-pay-amount-1").fill("5000")
    page.locator("#kasir-pay-reference-1").fill("QRIS-7781234")
    page.locator("#kasir-pay").click()
    change = 100000 - cash
    change_text = f"Rp {change:,}".replace(",", ".")
    expect(page.locator("#kasir-change")).to_contain_text(change_text, timeout=10_000)
    nota_number = page.locator("#kasir-nota-number").inner_text().removeprefix("Nota ").strip()
    assert re.fullmatch(r"\d{8}-\d{4}", nota_number), nota_number
    expect(row).to_have_count(0)

    # The 58 mm nota opens in its own tab, from the print registry's template.
    with page.context.expect_page() as opened:
        page.locator("#kasir-print-58").click()
    nota = opened.value
    document = nota.locator("#printed-document article")
    expect(document).to_have_attribute("data-paper", "58", timeout=30_000)
    expect(document).to_contain_text(nota_number)
    expect(document).to_contain_text("QRIS-7781234")
    expect(document.locator("#nota-totals")).to_contain_text(change_text)
    expect(document).to_contain_text("rupiah")
    expect(document).not_to_contain_text("SALINAN")
    _no_print_dialog(nota)
    nota.locator("#nota-print").click()
    nota.wait_for_function("window.__prints === 1")
    # As printed: the page's own size, 58 mm wide and 297 mm long, the app's chrome hidden.
    printed = nota.pdf(prefer_css_page_size=True)
    assert _page_sizes_mm(printed) == {(58, 297)}
    # The PDF download is the same nota, now a copy: every print after the first is one.
    with nota.expect_download() as download:
        nota.locator("#nota-pdf").click()
    assert download.value.suggested_filename == f"{nota_number}-SALINAN.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    expect(nota.locator("#nota-print")).to_contain_text("Cetak ulang")
    nota.close()

    # The sick-leave letter of the visit, printed on A5 by the doctor (the cashier's duty
    # does not read clinical documents).
    doctor.goto(f"{app_url}/cetak?dok={made['letter_id']}")
    letter = doctor.locator("#printed-document article")
    expect(letter).to_contain_text(made["letter_number"], timeout=30_000)
    expect(letter).to_contain_text(made["patient"])
    _no_print_dialog(doctor)
    doctor.locator("#print-now").click()
    doctor.wait_for_function("window.__prints === 1")
    assert _page_sizes_mm(doctor.pdf(prefer_css_page_size=True)) == {(148, 210)}
    doctor.context.close()

    # The day's revenue report (Laporan > Pendapatan) shows the payment, split by method.
    page.goto(f"{app_url}/laporan/pendapatan")
    qris = page.locator("#pendapatan-method-row-qris")
    expect(qris).to_have_attribute("data-amount", "5000", timeout=30_000)
    expect(page.locator("#pendapatan-method-row-tunai")).to_have_attribute("data-amount", str(cash))
    expect(page.locator("#pendapatan-total")).to_have_attribute("data-total", str(cash + 5000))
