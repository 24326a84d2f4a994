"""The screenshots of docs/panduan.md: a clinic's day driven through the running demo app.

How to run it (the demo must be running, e.g. `make run` on http://localhost:3000):

    .venv/bin/python scripts/screenshots.py                      # http://localhost:3000
    .venv/bin/python scripts/screenshots.py --url http://localhost:3224 --out docs/screenshots

It uses the demo accounts (README, "Demo accounts") and works like staff would, through the
pages only: the cashier opens a shift, the front desk registers a new adult patient with BPJS
and a newborn, the nurse takes vitals, the doctor records an allergy, a diagnosis, a
prescription with a racikan and a sick-leave letter and presses Selesai, the pharmacist
dispenses and prints the labels, the cashier takes a split payment and prints the 58 mm nota,
then the reports and the admin's set-up pages. Every step is saved twice, at 1366x768 and at
1280x800 (the viewport only), as docs/screenshots/<name>-<width>x<height>.png.

Each run adds a new patient with a new NIK, so it can run again on the same demo database.
The browser is Playwright's Chromium, or Debian's (`--chromium /usr/bin/chromium`, the default
when it exists). The waiting-room TV's screenshots (layar-antrean-*) come from
docs/layar-antrean.md's own walk and are not made here.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, expect, sync_playwright

SIZES = ((1366, 768), (1280, 800))
ROOT = Path(__file__).resolve().parent.parent
PASSWORDS = {
    "admin": "Admin#2026",
    "dokter": "Dokter#2026",
    "perawat": "Perawat#2026",
    "pendaftaran": "Daftar#2026",
    "apoteker": "Apoteker#2026",
}
# People the demo's SATUSEHAT simulator knows by NIK (so the visit can be sent) who are not
# yet patients of the demo clinic: each run registers the first one not registered yet.
NEW_PATIENTS = (
    ("Syarif Muhammad", "9210060207000010", "02-07-2000", "Laki-laki"),
    ("Budi Hartono", "3273010503799902", "05-03-1979", "Laki-laki"),
    ("I Made Wirawan", "5171011409909906", "14-09-1990", "Laki-laki"),
    ("Agus Setiawan", "3471013001689904", "30-01-1968", "Laki-laki"),
    ("Dewi Lestari Putri", "3578016711929903", "27-11-1992", "Perempuan"),
    ("Sonia Herdianti", "9201394901000008", "08-06-1996", "Perempuan"),
    ("Ghina Assyifa", "9104224606000005", "21-08-2004", "Perempuan"),
    ("Nancy Wang", "9201076407000009", "10-10-1955", "Perempuan"),
)
MOTHERS = ("Siti Aminah", "Rina Marlina", "Dewi Anggraini", "Sri Wahyuni", "Nur Hasanah")
SLOW = 30_000  # ms: the worker's answers and a cold page


class Walk:
    """One browser page that signs in as each duty in turn and saves the screenshots."""

    def __init__(self, page: Page, url: str, out: Path) -> None:
        self.page, self.url, self.out = page, url.rstrip("/"), out
        self.saved: list[str] = []

    def go(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")
        self.page.wait_for_load_state("networkidle")

    def login(self, username: str) -> None:
        page = self.page
        page.context.clear_cookies()
        self.go("/login")
        page.evaluate("window.localStorage.clear(); window.sessionStorage.clear()")
        self.go("/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(PASSWORDS[username])
        page.locator("#login-submit").click()
        expect(page.locator("#active-duty")).to_be_visible(timeout=SLOW)

    def snap(self, name: str, focus: Locator | None = None, page: Page | None = None) -> None:
        """Save the viewport at both sizes; `focus` is scrolled to the top of the view."""
        page = page or self.page
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(400)
            if focus is not None:
                # to the top, below the app's sticky header
                focus.evaluate("e => { e.scrollIntoView({block: 'start'}); scrollBy(0, -72); }")
                page.wait_for_timeout(300)
            path = self.out / f"{name}-{width}x{height}.png"
            page.screenshot(path=str(path))
            _shrink(path)
            self.saved.append(path.name)
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})

    def pick(self, trigger_id: str, option: str | re.Pattern[str]) -> None:
        """Choose `option` in the select whose trigger has `trigger_id`."""
        page = self.page
        page.locator(f"#{trigger_id}").click()
        page.get_by_role("option", name=option).first.click()
        expect(page.get_by_role("listbox")).to_have_count(0)


def _shrink(path: Path) -> None:
    """Store the PNG with a 256-colour palette (a third of the size; the UI's flat colours
    survive it). Pillow comes with WeasyPrint."""
    from PIL import Image

    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _nik(region: str = "317406", female: bool = False) -> str:
    """A NIK of the region with a random birth date and serial (valid in form); a woman's
    day of birth is written plus 40."""
    day = random.randint(1, 28) + (40 if female else 0)
    month = random.randint(1, 12)
    year = random.randint(70, 99)
    return f"{region}{day:02d}{month:02d}{year:02d}{random.randint(1, 9999):04d}"


def _typed(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def cashier_opens_the_shift(w: Walk) -> None:
    w.login("pendaftaran")
    w.snap("beranda-pendaftaran")
    w.go("/kasir/shift")
    page = w.page
    opening = page.locator("#shift-opening-cash")
    if opening.count():
        opening.fill("200.000")
        w.snap("kasir-shift-buka")
        page.locator("#shift-open").click()
    expect(page.locator("#shift-close")).to_be_visible(timeout=SLOW)


def front_desk_registers(w: Walk, patient: dict) -> str:
    """A new adult patient with a BPJS card, the address by the region picker, registered to
    Poli Umum (payer Umum).
    Returns the visit id."""
    page = w.page
    w.go("/pendaftaran")
    search = page.locator("#reg-patient-search")
    for name, nik, born, sex in NEW_PATIENTS:
        search.fill(nik)
        page.wait_for_timeout(1500)  # the debounced search
        if page.locator("[id^=reg-patient-result-]").count() == 0:
            patient.update(name=name, nik=nik, born=born, sex=sex)
            break
    else:
        raise SystemExit("every demo person is registered already: start a fresh demo database")
    search.fill("")
    page.wait_for_timeout(800)
    search.press_sequentially("clau", delay=80)
    expect(page.locator("[id^=reg-patient-result-]").first).to_be_visible(timeout=SLOW)
    w.snap("pendaftaran-cari-pasien")
    search.fill("")

    page.locator("#reg-new-patient").click()
    region = page.locator("#patient-region-search")
    expect(region).to_be_visible()
    page.locator("#patient-name").fill(patient["name"])
    page.locator("#patient-nik").fill(patient["nik"])
    page.locator("#patient-bpjs_number").fill(patient["bpjs"])
    page.locator("#patient-birth_date").fill(patient["born"])
    w.pick("patient-sex", patient["sex"])
    region.click()  # as a user does: the closed select hands the focus back first
    page.wait_for_timeout(300)
    region.press_sequentially("cilandak", delay=60)
    village = page.locator("#region-result-31\\.74\\.06\\.1001")
    expect(village).to_be_visible(timeout=SLOW)
    w.snap("pendaftaran-pilih-wilayah", focus=region)
    village.click()
    expect(page.locator("#region-chosen")).to_contain_text("Cilandak Barat")
    page.locator("#patient-street").fill("Jl. Cilandak KKO No. 3")
    page.locator("#patient-street").press("Enter")
    expect(page.locator("#reg-patient-chosen")).to_contain_text(patient["name"], timeout=SLOW)

    w.pick("reg-unit", "Poli Umum")
    w.pick("reg-doctor", re.compile("Alexander"))
    w.pick("reg-payer", "BPJS")
    expect(page.locator("#reg-bpjs-number")).to_have_value(patient["bpjs"])
    w.snap("pendaftaran-bpjs")
    # The visit itself is paid by the patient (Umum), so the cashier's split payment shows.
    w.pick("reg-payer", "Umum")
    page.locator("#reg-submit").click()
    expect(page.locator("#reg-queue-patient")).to_contain_text(patient["name"], timeout=SLOW)
    row = page.locator("[id^=queue-row-]", has_text=patient["name"]).first
    expect(row).to_be_visible()
    w.snap("pendaftaran-nomor-antrean")
    return row.get_attribute("id").removeprefix("queue-row-")


def front_desk_registers_a_newborn(w: Walk, mother_nik: str) -> None:
    page = w.page
    w.go("/kontak/pasien")
    page.locator("#patient-new").click()
    expect(page.locator("#patient-form")).to_be_visible()
    page.locator("#patient-name").fill(f"Bayi Ny. {random.choice(MOTHERS)}")
    page.locator("#patient-birth_date").fill(_typed(date.today() - timedelta(days=3)))
    w.pick("patient-sex", "Perempuan")
    page.locator("#patient-is_newborn").click()
    page.locator("#patient-mother_nik").fill(mother_nik)
    page.locator("#patient-kk_number").fill("3174060101260" + f"{random.randint(1, 999):03d}")
    page.locator("#patient-region-search").click()
    page.wait_for_timeout(300)
    page.locator("#patient-region-search").press_sequentially("cilandak", delay=60)
    page.locator("#region-result-31\\.74\\.06\\.1001").click()
    expect(page.locator("#region-chosen")).to_contain_text("Cilandak Barat")
    w.snap("pasien-bayi-baru-lahir", focus=page.locator("#patient-form"))
    page.locator("#patient-save").click()
    same_name = page.get_by_role("button", name="Tetap simpan")
    try:
        same_name.wait_for(timeout=3_000)
        same_name.click()  # an earlier run's baby of the same name and day
    except Exception:  # noqa: BLE001 - no such warning: saved at once
        pass
    expect(page.locator("#patient-form")).to_have_count(0, timeout=SLOW)


def nurse_calls_and_takes_vitals(w: Walk, visit_id: str) -> None:
    page = w.page
    w.login("perawat")
    w.go("/pemeriksaan")
    expect(page.locator(f"#exam-visit-{visit_id}")).to_be_visible(timeout=SLOW)
    w.snap("pemeriksaan-daftar-panggil")
    page.locator(f"#exam-visit-{visit_id}").click()
    for field, value in (
        ("systolic", "150"),
        ("diastolic", "95"),
        ("pulse", "88"),
        ("respiratory_rate", "20"),
        ("temperature", "38,2"),
        ("weight", "68"),
        ("height", "170"),
        ("spo2", "97"),
    ):
        page.locator(f"#vital-{field}").fill(value)
    page.locator("#vitals-save").click()
    expect(page.get_by_text("Diukur pukul")).to_be_visible(timeout=SLOW)
    w.snap("pemeriksaan-tanda-vital", focus=page.locator("#vital-systolic"))


def doctor_examines(w: Walk, visit_id: str) -> None:
    page = w.page
    w.login("dokter")
    w.snap("beranda-dokter-pagi")
    w.go(f"/pemeriksaan?kunjungan={visit_id}")
    expect(page.locator("#allergies")).to_be_visible(timeout=SLOW)
    start = page.locator("#exam-start")
    if start.count() and start.is_visible():
        start.click()

    # Alergi: a drug from the branch's list.
    allergies = page.locator("#allergies")
    page.locator("#allergy-kind").get_by_role("radio", name="Obat").click()
    page.locator("#allergy-drug-search").press_sequentially("amoxi", delay=60)
    page.locator("[id^=allergy-drug-]").filter(has_text="Amoxicillin").first.click()
    page.locator("#allergy-reaction").fill("ruam kulit, gatal")
    w.pick("allergy-severity", "Sedang")
    w.snap("pemeriksaan-alergi", focus=allergies)
    page.locator("#allergy-add").click()
    expect(page.locator("[id^=allergy-]", has_text="ruam kulit").first).to_be_visible()

    # SOAP.
    page.locator("#soap-subjective").fill("Batuk pilek 3 hari, demam, nyeri tenggorokan")
    page.locator("#soap-objective").fill("Faring hiperemis, paru bersih")
    page.locator("#soap-assessment").fill("ISPA, hipertensi")
    page.locator("#soap-plan").fill("Obat simptomatik, kontrol 3 hari")
    page.locator("#soap-save").click()
    page.wait_for_timeout(1500)

    # Diagnosis in Bahasa Indonesia: "ispa" finds J06.9.
    icd = page.locator("#icd-search")
    icd.press_sequentially("ispa", delay=80)
    result = page.locator('[id="icd-result-J06.9"]')
    expect(result).to_be_visible(timeout=SLOW)
    w.snap("pemeriksaan-diagnosis", focus=page.get_by_role("heading", name="Diagnosis ICD-10"))
    result.click()
    expect(page.locator('[id="diagnosis-J06.9"]')).to_be_visible(timeout=SLOW)

    # Tindakan (ICD-9-CM), if the search lists one for "injeksi".
    procedure = page.locator("#procedure-search")
    if procedure.count():
        procedure.press_sequentially("injeksi", delay=60)
        found = page.locator("[id^=procedure-result-]").first
        try:
            found.wait_for(timeout=5_000)
            found.click()  # fills the code and the name
            page.locator("#procedure-add").click()
        except Exception:  # noqa: BLE001 - a screenshot walk goes on without the procedure
            procedure.fill("")

    # Resep: one line of paracetamol.
    page.locator("#rx-search").press_sequentially("paracet", delay=60)
    page.locator("[id^=rx-result-]").filter(has_text="Paracetamol 500 mg tablet").first.click()
    expect(page.locator("#rx-item-chosen")).to_contain_text("Paracetamol")
    for field, value in (
        ("dose", "1 tablet"),
        ("dose_amount", "1"),
        ("frequency", "3 x sehari"),
        ("times_per_day", "3"),
        ("duration_days", "3"),
        ("quantity", "10"),
        ("instructions", "sesudah makan, bila demam"),
    ):
        page.locator(f"#rx-{field}").fill(value)
    w.pick("rx-route", re.compile("Oral"))
    page.locator("#rx-add").click()
    expect(page.locator("[id^=prescription-]", has_text="Paracetamol").first).to_be_visible()

    # Racikan: a puyer of two ingredients.
    page.locator("#racikan-name").fill("Puyer batuk")
    w.pick("racikan-form", "Puyer")
    page.locator("#racikan-quantity").fill("10")
    for n, (name, amount, dose) in enumerate((("Ambroxol", "3", "9 mg"), ("CTM", "2", "0,8 mg"))):
        page.locator("#racikan-search").fill("")
        page.locator("#racikan-search").press_sequentially(name.lower(), delay=60)
        page.locator("[id^=racikan-result-]").filter(has_text=name).first.click()
        quantity = page.locator(f"#racikan-quantity-{n}")
        expect(quantity).to_be_visible()  # the ingredient's row is there
        quantity.fill(amount)
        page.locator(f"#racikan-dose-{n}").fill(dose)
    for field, value in (
        ("dose", "1 bungkus"),
        ("dose_amount", "1"),
        ("frequency", "3 x sehari"),
        ("times_per_day", "3"),
        ("duration_days", "3"),
        ("instructions", "sesudah makan"),
    ):
        page.locator(f"#racikan-{field}").fill(value)
    w.pick("racikan-route", re.compile("Oral"))
    w.snap("pemeriksaan-resep-racikan", focus=page.locator("#racikan-name"))
    page.locator("#racikan-add").click()
    expect(page.locator("[id^=prescription-]", has_text="Puyer batuk").first).to_be_visible(
        timeout=SLOW
    )
    w.snap("pemeriksaan-resep", focus=page.locator("#prescriptions"))

    # Surat keterangan sakit: today and tomorrow, then it opens to print.
    page.locator("#document-new-sks").click()
    today = date.today()
    page.locator("#document-start").fill(today.strftime("%d/%m/%Y"))
    page.locator("#document-end").fill((today + timedelta(days=1)).strftime("%d/%m/%Y"))
    w.snap("pemeriksaan-surat-sakit")
    page.locator("#document-issue").click()
    letter = page.locator("#printed-document article")
    expect(letter).to_be_visible(timeout=SLOW)
    w.snap("surat-keterangan-sakit")

    # Selesai: the visit goes to SATUSEHAT in the background.
    w.go(f"/pemeriksaan?kunjungan={visit_id}")
    page.locator("#exam-complete").click()
    try:
        expect(page.locator("#exam-encounter-id")).to_be_visible(timeout=SLOW)
    except AssertionError:
        pass  # the screenshot shows what the page says instead
    w.snap("pemeriksaan-selesai-satusehat", focus=page.locator("#exam-sync-status"))


def pharmacist_dispenses(w: Walk, patient_name: str) -> None:
    page = w.page
    w.login("apoteker")
    w.go("/apotek")
    row = page.locator("[id^=apotek-row-]", has_text=patient_name).first
    expect(row).to_be_visible(timeout=SLOW)
    w.snap("apotek-antrean-resep")
    dispense_id = row.get_attribute("id").removeprefix("apotek-row-")
    page.locator(f"#apotek-open-{dispense_id}").click()
    expect(page.locator("#apotek-review")).to_be_visible(timeout=SLOW)
    w.snap("apotek-menyiapkan", focus=page.locator("#apotek-review"))
    page.locator("#apotek-dispense").click()
    expect(page.locator("#apotek-hand-over")).to_be_visible(timeout=SLOW)

    labels = page.context.new_page()
    labels.goto(f"{w.url}/apotek/etiket?resep={dispense_id}&ukuran=a4")
    expect(labels.locator(".etiket").first).to_be_visible(timeout=SLOW)
    w.snap("apotek-etiket", page=labels)
    labels.close()
    page.locator("#apotek-hand-over").click()
    expect(row).to_contain_text("Diserahkan", timeout=SLOW)


def pharmacist_maps_kfa_and_checks_stock(w: Walk) -> None:
    page = w.page
    w.go("/apotek/obat")
    w.snap("apotek-obat-bhp")
    page.locator("#drug-search").fill("metformin")
    row = page.locator("tr.drug-row", has_text="Metformin 500 mg tablet").first
    expect(row).to_be_visible(timeout=SLOW)
    row.get_by_role("button", name="Petakan ke KFA").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    first = page.locator("[id^=kfa-result-]").first
    try:
        first.wait_for(timeout=SLOW)
        first.click()
        expect(page.locator("#kfa-detail")).to_be_visible(timeout=SLOW)
    except Exception:  # noqa: BLE001 - the dialog as it is, then
        pass
    w.snap("apotek-petakan-kfa")
    page.keyboard.press("Escape")

    w.go("/apotek/stok")
    w.snap("apotek-stok")
    count = page.locator("#count-form")
    if count.count():
        w.snap("apotek-stok-opname", focus=count)


def cashier_takes_payment(w: Walk, visit_id: str) -> None:
    page = w.page
    w.login("pendaftaran")
    w.go("/kasir")
    opener = page.locator(f"#kasir-open-{visit_id}-0")
    expect(opener).to_be_visible(timeout=SLOW)
    w.snap("kasir-daftar-tagihan")
    opener.click()
    expect(page.locator("#kasir-bill")).to_be_visible(timeout=SLOW)
    w.snap("kasir-tagihan", focus=page.locator("#kasir-bill"))
    total = int(re.sub(r"\D", "", page.locator("#kasir-total").inner_text()))
    split = min(5000, total // 2)
    cash = total - split
    page.locator("#kasir-pay-amount-0").fill(str(cash))
    page.locator("#kasir-pay-cash-0").fill(str(((cash // 50_000) + 1) * 50_000))
    page.locator("#kasir-pay-split").click()
    page.locator("#kasir-pay-amount-1").fill(str(split))
    page.locator("#kasir-pay-reference-1").fill("QRIS-7781234")
    w.snap("kasir-pembayaran-terpisah", focus=page.locator("#kasir-pay-amount-0"))
    page.locator("#kasir-pay").click()
    expect(page.locator("#kasir-change")).to_be_visible(timeout=SLOW)
    w.snap("kasir-lunas", focus=page.locator("#kasir-bill"))
    with page.context.expect_page() as opened:
        page.locator("#kasir-print-58").click()
    nota = opened.value
    expect(nota.locator("#printed-document article")).to_be_visible(timeout=SLOW)
    w.snap("kasir-nota-58mm", page=nota)
    nota.close()


def cashier_closes_the_shift(w: Walk) -> None:
    page = w.page
    w.go("/kasir/shift")
    expect(page.locator("#shift-close")).to_be_visible(timeout=SLOW)
    w.snap("kasir-shift-tutup")


def reports_and_admin(w: Walk) -> None:
    page = w.page
    w.login("dokter")
    w.snap("beranda-dokter")
    w.login("admin")
    page.wait_for_timeout(1500)
    w.snap("beranda-admin")
    w.go("/laporan/dinkes")
    expect(page.locator("#dinkes-visit-total")).to_be_visible(timeout=SLOW)
    page.wait_for_timeout(1500)  # the charts' animation
    w.snap("laporan-dinkes")
    lb1 = page.locator("[id^=dinkes-lb1-row-]").first
    if lb1.count():
        w.snap("laporan-dinkes-lb1", focus=lb1)
    w.go("/laporan/pendapatan")
    expect(page.locator("#pendapatan-total")).to_be_visible(timeout=SLOW)
    page.wait_for_timeout(1000)
    w.snap("laporan-pendapatan")
    w.go("/laporan/dashboard-satusehat")
    page.wait_for_timeout(1500)
    w.snap("laporan-satusehat")
    for path, name in (
        ("/pengaturan", "admin-cabang"),
        ("/referensi/unit", "admin-unit"),
        ("/referensi/ruangan", "admin-ruangan"),
        ("/kontak/karyawan", "admin-karyawan"),
        ("/pengaturan/pengguna", "admin-pengguna"),
        ("/kasir/tarif", "admin-tarif"),
    ):
        w.go(path)
        page.wait_for_timeout(1000)
        w.snap(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:3000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or None)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    patient = {
        "bpjs": f"000{random.randint(10**9, 10**10 - 1)}",
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=args.chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(
            viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, locale="id-ID"
        )
        context.set_default_timeout(15_000)
        walk = Walk(context.new_page(), args.url, args.out)
        try:
            cashier_opens_the_shift(walk)
            visit_id = front_desk_registers(walk, patient)
            front_desk_registers_a_newborn(walk, _nik(female=True))
            nurse_calls_and_takes_vitals(walk, visit_id)
            doctor_examines(walk, visit_id)
            pharmacist_dispenses(walk, patient["name"])
            pharmacist_maps_kfa_and_checks_stock(walk)
            cashier_takes_payment(walk, visit_id)
            cashier_closes_the_shift(walk)
            reports_and_admin(walk)
        except Exception:
            failed = Path(tempfile.gettempdir()) / "klinikita-screenshots-failed.png"
            walk.page.screenshot(path=str(failed), full_page=True)
            print(f"stopped at {walk.page.url}; the page as it was: {failed}")
            raise
        finally:
            browser.close()
    print(f"{len(walk.saved)} screenshots in {args.out}:")
    for name in walk.saved:
        print(" ", name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
