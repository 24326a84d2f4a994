"""The outpatient SATUSEHAT module end to end (issue 25): for a patient allergic to a drug,
the doctor prescribes it (warned, confirmed) and a racikan, adds a diagnosis and a procedure
and completes; the pharmacist's queue shows the prescription without a reload, the review
shows the allergy and the FEFO batches, the drugs are dispensed, the label prints on a
60 x 40 mm page and the hand-over reaches the cashier's list live; the simulator accepts the
Encounter, Conditions, Observations, Procedure, AllergyIntolerance, MedicationRequests and
MedicationDispenses, and the Resume shows their ids."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session, select

from klinikita.db import get_engine
from klinikita.models import Branch, Diagnosis, Employee, Patient, Room, ServiceUnit, User, Visit
from klinikita.models.allergies import AllergyKind, PatientAllergy
from klinikita.models.clinical import Examination, Prescription, Procedure
from klinikita.models.pharmacy import Dispense, DrugItem
from klinikita.services import allergies, examination
from klinikita.services.audit import Actor
from klinikita.services.seed import DEMO_CLINIC
from tests.e2e.conftest import DESK, TABLET_LANDSCAPE, admin_session_headers
from tests.e2e.test_clinical_flow import PATIENT_NIK, UUID, _sync_clinic_master_data, login_as
from tests.e2e.test_master_data import backend_url
from tests.factories import make_visit
from tests.support import pharmacy_data as ph

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

LIVE = 45_000  # ms for a live board change or the worker's answer to reach a page
ALLERGEN = "Amoxicillin sirup kering 125 mg/5 mL"
RACIKAN = ("Paracetamol 500 mg tablet", "Diclofenac sodium 25 mg tablet")


def _actor(db: Session, username: str) -> Actor:
    user = db.exec(select(User).where(User.username == username)).one()
    employee = db.get(Employee, user.employee_id)
    return Actor(user.id, user.username, user.full_name, employee.main_duty, employee.branch_id)


def _visit_with_allergy_and_vitals() -> dict[str, int]:
    """The sandbox patient registered to the demo doctor today, the vitals taken by the
    nurse and an allergy to the amoxicillin syrup recorded in this visit (services, as the
    desk and the nurse leave it); paracetamol gets an expired and an early batch beside the
    demo one, so FEFO has something to choose."""
    with Session(get_engine()) as db:
        branch = db.exec(select(Branch).where(Branch.name == DEMO_CLINIC)).one()
        unit = db.exec(
            select(ServiceUnit).where(
                ServiceUnit.branch_id == branch.id, ServiceUnit.name == "Poli Umum"
            )
        ).one()
        room = db.exec(select(Room).where(Room.unit_id == unit.id)).first()
        doctor = _actor(db, "dokter")
        nurse = _actor(db, "perawat")
        patient = db.exec(
            select(Patient).where(Patient.branch_id == branch.id, Patient.nik == PATIENT_NIK)
        ).one()
        doctor_employee = db.get(User, doctor.user_id).employee_id
        visit = make_visit(
            db, branch, unit, room, db.get(Employee, doctor_employee), patient, minutes_ago=20
        )
        vitals = {
            "systolic": "120",
            "diastolic": "80",
            "pulse": "84",
            "respiratory_rate": "18",
            "temperature": "36,8",
            "weight": "61,5",
            "height": "165",
            "spo2": "98",
        }
        examination.save_vitals(db, nurse, visit.id, vitals)
        items = {
            name: db.exec(
                select(DrugItem).where(DrugItem.branch_id == branch.id, DrugItem.name == name)
            ).one()
            for name in (ALLERGEN, *RACIKAN)
        }
        allergies.record_allergy(
            db,
            doctor,
            visit.id,
            {
                "kind": AllergyKind.DRUG,
                "item_id": items[ALLERGEN].id,
                "reaction": "ruam kulit",
                "severity": "sedang",
            },
        )
        para = items[RACIKAN[0]]
        ph.batch(db, para, "PCT-OLD", 50, date.today() - timedelta(days=3))
        ph.batch(db, para, "PCT-EARLY", 4, date.today() + timedelta(days=20))
        db.commit()
        return {
            "visit": visit.id,
            "patient": patient.id,
            **{name: item.id for name, item in items.items()},
        }


def _pick_drug(page: Page, prefix: str, text: str, item_id: int) -> None:
    page.locator(f"#{prefix}-search").fill(text)
    page.locator(f"#{prefix}-result-{item_id}").click()


def _fill(page: Page, prefix: str, values: dict[str, str]) -> None:
    for field, value in values.items():
        page.locator(f"#{prefix}-{field}").fill(value)


def _doctor_prescribes_and_completes(page: Page, url: str, ids: dict[str, int]) -> None:
    page.set_viewport_size(TABLET_LANDSCAPE)
    login_as(page, url, "dokter", "Dokter#2026")
    page.goto(f"{url}/pemeriksaan?kunjungan={ids['visit']}")
    expect(page.locator("#allergies .allergy-present")).to_contain_text("Amoxicillin")
    expect(page.locator("#vital-systolic")).to_have_value("120")  # the nurse's

    page.locator("#icd-search").fill("J06.9")
    page.locator('[id="icd-result-J06.9"]').click()
    expect(page.locator('[id="diagnosis-J06.9"]')).to_be_visible()

    page.locator("#procedure-search").fill("93.94")
    page.locator('[id="procedure-result-93.94"]').click()
    expect(page.locator("#procedure-code")).to_have_value("93.94")
    page.locator("#procedure-add").click()
    expect(page.locator("#procedures")).to_contain_text("93.94")

    # R/1: the drug the patient is allergic to: warned, and confirmed.
    _pick_drug(page, "rx", "amoxicillin sirup", ids[ALLERGEN])
    expect(page.locator("#rx-item-chosen")).to_have_text(ALLERGEN)
    _fill(
        page,
        "rx",
        {
            "dose": "5 mL",
            "dose_amount": "5",
            "frequency": "3 x sehari",
            "times_per_day": "3",
            "duration_days": "5",
            "quantity": "1",
            "instructions": "sesudah makan, dihabiskan",
        },
    )
    page.locator("#rx-add").click()
    expect(page.locator("#rx-allergy-warning")).to_contain_text("Amoxicillin")
    page.locator("#rx-allergy-confirm").click()
    expect(page.locator("#rx-allergy-warning")).to_have_count(0)
    lines = page.locator("#prescriptions [id^=prescription-]:not([id*=remove])")
    expect(lines).to_have_count(1)

    # R/2: a racikan of two items.
    _fill(page, "racikan", {"name": "Puyer nyeri", "quantity": "10"})
    _pick_drug(page, "racikan", "paracetamol 500", ids[RACIKAN[0]])
    expect(page.locator("#racikan-quantity-0")).to_be_visible()
    _pick_drug(page, "racikan", "diclofenac sodium", ids[RACIKAN[1]])
    expect(page.locator("#racikan-quantity-1")).to_be_visible()
    _fill(
        page,
        "racikan",
        {
            "quantity-0": "5",
            "dose-0": "250 mg",
            "quantity-1": "2",
            "dose-1": "5 mg",
            "dose": "1 bungkus",
            "dose_amount": "1",
            "frequency": "3 x sehari",
            "times_per_day": "3",
            "duration_days": "3",
            "instructions": "bila nyeri",
        },
    )
    page.locator("#racikan-add").click()
    expect(lines).to_have_count(2)
    expect(page.locator("#prescriptions")).to_contain_text("racikan")

    page.evaluate("window.__sameLoad = true")  # a reload would drop it
    page.locator("#exam-complete").click()


def _open_board(context: BrowserContext, url: str, path: str, user: str, password: str) -> Page:
    tab = context.new_page()
    tab.set_viewport_size(DESK)
    login_as(tab, url, user, password)
    tab.goto(f"{url}{path}")
    return tab


def _dispense_of(visit_id: int) -> int:
    with Session(get_engine()) as db:
        return db.exec(select(Dispense.id).where(Dispense.visit_id == visit_id)).one()


def _all_sent(visit_id: int) -> dict[str, list[str]]:
    """The ids SATUSEHAT gave the visit's resources, once every one of them has its id."""
    deadline = time.monotonic() + LIVE / 1000
    while time.monotonic() < deadline:
        with Session(get_engine()) as db:
            visit = db.get(Visit, visit_id)
            exam = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
            found = {
                "Encounter": [visit.encounter_id],
                "Condition": [
                    d.condition_id
                    for d in db.exec(select(Diagnosis).where(Diagnosis.visit_id == visit_id))
                ],
                "Observation": list((exam.observation_ids or {}).values()),
                "Procedure": [
                    p.resource_id
                    for p in db.exec(select(Procedure).where(Procedure.visit_id == visit_id))
                ],
                "AllergyIntolerance": [
                    a.resource_id
                    for a in db.exec(
                        select(PatientAllergy).where(PatientAllergy.recorded_visit_id == visit_id)
                    )
                ],
                "MedicationRequest": [],
                "MedicationDispense": [],
            }
            for line in db.exec(select(Prescription).where(Prescription.visit_id == visit_id)):
                found["MedicationRequest"].append(line.medication_request_id)
                found["MedicationDispense"].append(line.medication_dispense_id)
        if all(ids and all(ids) for ids in found.values()):
            return found
        time.sleep(0.3)
    raise AssertionError(f"not every resource of the visit was accepted in time: {found}")


def _simulator_holds(app_harness, resource_type: str) -> set[str]:  # noqa: ANN001
    got = httpx.get(
        f"{backend_url(app_harness)}/satusehat-sim/_sim/resources/{resource_type}",
        headers=admin_session_headers(),
    )
    got.raise_for_status()
    return {r["id"] for r in got.json()["resources"]}


def test_prescribe_with_allergy_dispense_fefo_label_and_send_the_whole_visit(
    page: Page, browser: Browser, app_url: str, app_harness
):
    _sync_clinic_master_data()
    ids = _visit_with_allergy_and_vitals()

    # The pharmacist and the cashier watch their lists in their own browser sessions.
    pharmacy = browser.new_context()
    apotek = _open_board(pharmacy, app_url, "/apotek", "apoteker", "Apoteker#2026")
    expect(apotek.locator("#apotek-queue-empty")).to_be_visible()
    apotek.evaluate("window.__sameLoad = true")
    cashier = browser.new_context()
    kasir = _open_board(cashier, app_url, "/kasir", "pendaftaran", "Daftar#2026")
    expect(kasir.locator("body")).to_contain_text("Kasir")

    _doctor_prescribes_and_completes(page, app_url, ids)
    encounter = page.locator("#exam-encounter-id")
    expect(encounter).to_have_text(UUID, timeout=LIVE)
    assert page.evaluate("window.__sameLoad") is True
    # The visit has prescription lines: its documents box offers the resep.
    expect(page.locator("#document-print-resep")).to_be_visible()

    # The prescription appears in the pharmacist's queue without a reload.
    dispense_id = _dispense_of(ids["visit"])
    row = apotek.locator(f"#apotek-row-{dispense_id}")
    expect(row).to_contain_text("Menunggu", timeout=LIVE)
    assert apotek.evaluate("window.__sameLoad") is True
    apotek.locator(f"#apotek-open-{dispense_id}").click()
    expect(apotek.locator("#apotek-allergies .allergy-present")).to_contain_text("Amoxicillin")
    review = apotek.locator("#apotek-review")
    expect(review).to_contain_text("Puyer nyeri")
    # FEFO: the batch expiring first, then the demo batch; never the expired one.
    expect(review).to_contain_text("PCT-EARLY")
    expect(review).to_contain_text(f"DEMO{ids[RACIKAN[0]]:04d}")
    expect(review).not_to_contain_text("PCT-OLD")
    apotek.locator("#apotek-dispense").click()
    expect(apotek.locator("#apotek-hand-over")).to_be_visible()
    expect(row).to_contain_text("Disiapkan")

    # The label (etiket): one per line, on the small label printer's 60 x 40 mm pages.
    labels = pharmacy.new_page()
    labels.goto(f"{app_url}/apotek/etiket?resep={dispense_id}&ukuran=kecil")
    expect(labels.locator(".etiket")).to_have_count(2)
    expect(labels.locator(".etiket").first).to_contain_text("sesudah makan")
    pdf = labels.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
    assert len(boxes) == 2 and all(
        (round(float(w) / 72 * 25.4), round(float(h) / 72 * 25.4)) == (60, 40) for w, h in boxes
    )
    labels.close()

    # "Cetak resep" (in another tab of the pharmacist): the resep's print page on A5, its
    # R/ lines with the quantity in Roman numerals and the racikan's "m.f. pulv. dtd".
    resep = pharmacy.new_page()
    resep.set_viewport_size(DESK)
    resep.goto(f"{app_url}/apotek?resep={dispense_id}")
    resep.locator("#apotek-print-resep").click()
    expect(resep).to_have_url(re.compile(r"/cetak\?dok=\d+$"))
    sheet = resep.locator("article.kk-resep")
    expect(sheet).to_contain_text("Resep")
    expect(sheet.locator("[id^=resep-line-]")).to_have_count(2)
    expect(sheet).to_contain_text("No. I (1)")
    expect(sheet).to_contain_text("m.f. pulv. dtd No. X (10)")
    expect(sheet).to_contain_text("S. 3 x sehari 1 bungkus bila nyeri")
    expect(sheet).to_contain_text("61,5 kg")
    pdf = resep.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
    assert boxes and all(
        (round(float(w) / 72 * 25.4), round(float(h) / 72 * 25.4)) == (148, 210) for w, h in boxes
    )
    resep.close()

    # The hand-over reaches the cashier's list live.
    apotek.locator("#apotek-hand-over").click()
    expect(row).to_contain_text("Diserahkan")
    kasir_row = kasir.locator("tr", has=kasir.locator(f"[id^=kasir-open-{ids['visit']}-]"))
    expect(kasir_row).to_contain_text("Diserahkan", timeout=LIVE)

    # Everything was accepted by SATUSEHAT (the simulator holds it) ...
    sent = _all_sent(ids["visit"])
    assert len(sent["Observation"]) == 8 and len(sent["MedicationDispense"]) == 2
    for resource_type, resource_ids in sent.items():
        assert set(resource_ids) <= _simulator_holds(app_harness, resource_type), resource_type
    assert sent["Encounter"] == [encounter.inner_text()]

    # ... and the Resume shows every id.
    page.goto(f"{app_url}/resume?pasien={ids['patient']}")
    ids_box = page.locator(f"#resume-encounter-{ids['visit']}")
    card = page.locator(f"#resume-visit-{ids['visit']}")
    expect(ids_box).to_contain_text(sent["Encounter"][0])
    for resource_type in ("Condition", "Observation", "Procedure", "AllergyIntolerance"):
        for resource_id in sent[resource_type]:
            expect(ids_box).to_contain_text(resource_id)
    for resource_type in ("MedicationRequest", "MedicationDispense"):
        for resource_id in sent[resource_type]:
            expect(card).to_contain_text(f"{resource_type} {resource_id}")
    pharmacy.close()
    cashier.close()
