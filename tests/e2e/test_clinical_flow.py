"""The whole product in a browser: registration at the desk, vitals by the nurse and the
examination by the doctor on tablets, Selesai, the encounter id arriving live, the Resume and
the SATUSEHAT log. Then the same with SATUSEHAT failing twice first, and with a rejection that
staff fix and resend. The app runs its own worker against the simulator mounted on it."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from klinikita.db import get_engine
from klinikita.models import Branch, Diagnosis, Employee, Room, ServiceUnit, Visit
from klinikita.models.satusehat import JobKind
from klinikita.services import outbox
from klinikita.services.employees import PRACTITIONER_DUTIES
from klinikita.services.job_notices import wake_workers
from klinikita.services.seed import DEMO_CLINIC
from tests.e2e.conftest import DESK, TABLET_LANDSCAPE, TABLET_PORTRAIT, admin_session_headers
from tests.e2e.test_master_data import backend_url, pick
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

PATIENT_NIK = "9271060312000001"  # Ardianto Putra, SATUSEHAT's published sandbox patient
NURSE_NIK = "3313096403900009"  # the demo nurse, in SATUSEHAT's published practitioner table
UUID = re.compile(r"^[0-9a-f-]{36}$")
LIVE = 45_000  # ms for the worker's answer to reach the page


def _sync_clinic_master_data() -> None:
    """The demo clinic's units and rooms sent and its doctors, nurse and pharmacist looked
    up, as an admin does once (covered in test_master_data); the worker in the app does the
    sending."""
    engine = get_engine()
    with Session(engine) as db:
        branch = db.exec(select(Branch).where(Branch.name == DEMO_CLINIC)).one()
        for unit in db.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch.id)):
            outbox.enqueue(db, JobKind.ORGANIZATION_CREATE, branch.id, unit.id)
        rooms = list(db.exec(select(Room).where(Room.branch_id == branch.id)))
        for room in rooms:
            outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
        doctors = [
            e
            for e in db.exec(select(Employee).where(Employee.branch_id == branch.id))
            if e.main_duty in PRACTITIONER_DUTIES
        ]
        for doctor in doctors:
            outbox.enqueue(db, JobKind.PRACTITIONER_LOOKUP, branch.id, doctor.id)
        db.commit()
        wanted = [r.id for r in rooms], [d.id for d in doctors]
    wake_workers()
    deadline = time.monotonic() + LIVE / 1000
    while time.monotonic() < deadline:
        with Session(engine) as db:
            rooms_done = all(db.get(Room, i).ihs_id for i in wanted[0])
            doctors_done = all(db.get(Employee, i).ihs_number for i in wanted[1])
        if rooms_done and doctors_done:
            return
        time.sleep(0.2)
    raise AssertionError("the demo clinic's rooms and practitioners were not sent in time")


def login_as(page: Page, url: str, username: str, password: str) -> None:
    login(page, url, username, password)
    # Signed in and sent on; the first page of a freshly started app may take a while.
    expect(page).not_to_have_url(re.compile(r"/login"), timeout=30_000)


def _register(browser: Browser, url: str, queue_number: str = "1") -> tuple[str, str]:
    """At the desk: find the sandbox patient by NIK and register to Poli Umum.
    Returns (patient id, visit id)."""
    desk = browser.new_page(viewport=DESK)
    login_as(desk, url, "pendaftaran", "Daftar#2026")
    desk.goto(f"{url}/pendaftaran")
    desk.locator("#reg-patient-search").fill(PATIENT_NIK)  # listed as typed
    result = desk.locator("[id^=reg-patient-result-]").first
    patient_id = result.get_attribute("id").removeprefix("reg-patient-result-")
    result.click()
    expect(desk.locator("#reg-patient-chosen")).to_contain_text("Ardianto Putra")
    pick(desk, "reg-unit", "Poli Umum")
    pick(desk, "reg-doctor", "dr. Alexander")
    pick(desk, "reg-payer", "Umum")
    desk.locator("#reg-submit").click()
    expect(desk.locator("#reg-queue-number")).to_have_text(queue_number)
    row = desk.locator("[id^=queue-row-]", has_text="menunggu").first
    expect(row).to_contain_text("menunggu")
    visit_id = row.get_attribute("id").removeprefix("queue-row-")
    desk.close()
    return patient_id, visit_id


def _nurse_takes_vitals(browser: Browser, url: str, visit_id: str) -> None:
    nurse = browser.new_page(viewport=TABLET_PORTRAIT)
    login_as(nurse, url, "perawat", "Perawat#2026")
    nurse.goto(f"{url}/pemeriksaan")
    nurse.locator(f"#exam-visit-{visit_id}").click()
    for field, value in (
        ("systolic", "120"),
        ("diastolic", "80"),
        ("pulse", "84"),
        ("respiratory_rate", "18"),
        ("temperature", "36,8"),
        ("weight", "61,5"),
        ("height", "165"),
        ("spo2", "98"),
    ):
        nurse.locator(f"#vital-{field}").fill(value)
    nurse.locator("#vitals-save").click()
    expect(nurse.get_by_text("Tanda vital disimpan.")).to_be_visible()
    # A nurse records vitals only: Selesai is the doctor's.
    expect(nurse.locator("#exam-complete")).to_have_count(0)
    nurse.close()


def _doctor_examines_and_completes(page: Page, url: str, visit_id: str, code: str) -> None:
    page.set_viewport_size(TABLET_LANDSCAPE)
    login_as(page, url, "dokter", "Dokter#2026")
    page.goto(f"{url}/pemeriksaan")
    page.locator(f"#exam-visit-{visit_id}").click()
    expect(page.locator("#vital-systolic")).to_have_value("120")  # the nurse's
    page.locator("#soap-subjective").fill("Batuk pilek 3 hari, demam ringan")
    page.locator("#soap-objective").fill("Faring hiperemis, paru bersih")
    page.locator("#soap-assessment").fill("ISPA")
    page.locator("#soap-plan").fill("Paracetamol 3 x 500 mg")
    page.locator("#soap-save").click()
    expect(page.get_by_text("SOAP disimpan.")).to_be_visible()
    page.locator("#icd-search").fill(code)
    page.locator(f'[id="icd-result-{code}"]').click()
    expect(page.locator(f'[id="diagnosis-{code}"]')).to_be_visible()
    # Marks this page load: a reload would drop it.
    page.evaluate("window.__sameLoad = true")
    page.locator("#exam-complete").click()


def _expect_encounter_live(page: Page) -> str:
    encounter = page.locator("#exam-encounter-id")
    expect(encounter).to_have_text(UUID, timeout=LIVE)
    assert page.evaluate("window.__sameLoad") is True  # it came without a reload
    return encounter.inner_text()


def _expect_corrected(visit_id: int, code: str) -> None:
    """The worker sent the visit's latest revision, `code` got its Condition, and the
    Encounter stayed the same one."""
    deadline = time.monotonic() + LIVE / 1000
    while time.monotonic() < deadline:
        with Session(get_engine()) as db:
            visit = db.get(Visit, visit_id)
            added = db.exec(
                select(Diagnosis).where(
                    Diagnosis.visit_id == visit_id, Diagnosis.icd10_code == code
                )
            ).first()
            if visit.sent_revision == visit.sync_revision > 0 and added and added.condition_id:
                return
        time.sleep(0.2)
    raise AssertionError("the correction did not reach SATUSEHAT in time")


def _performers(app_harness, encounter_id: str) -> set[str]:  # noqa: ANN001
    """The Practitioners the simulator's stored Observations of the encounter name."""
    got = httpx.get(
        f"{backend_url(app_harness)}/satusehat-sim/_sim/resources/Observation",
        headers=admin_session_headers(),
    )
    got.raise_for_status()
    return {
        performer["reference"]
        for observation in got.json()["resources"]
        if observation["encounter"]["reference"] == f"Encounter/{encounter_id}"
        for performer in observation["performer"]
    }


def _fault(app_harness, **rule) -> None:  # noqa: ANN001
    httpx.post(
        f"{backend_url(app_harness)}/satusehat-sim/_sim/faults",
        json=rule,
        headers=admin_session_headers(),
    ).raise_for_status()


def test_register_examine_complete_and_see_the_encounter_everywhere(
    page: Page, browser: Browser, app_url: str, app_harness
):
    _sync_clinic_master_data()
    patient_id, visit_id = _register(browser, app_url)
    _nurse_takes_vitals(browser, app_url, visit_id)
    _doctor_examines_and_completes(page, app_url, visit_id, "J06.9")
    encounter_id = _expect_encounter_live(page)
    expect(page.locator("#exam-sync-status")).to_contain_text("Terkirim ke SATUSEHAT")
    # The nurse who took the vitals is their performer in SATUSEHAT, not the doctor.
    with Session(get_engine()) as db:
        nurse = db.exec(select(Employee).where(Employee.nik == NURSE_NIK)).one()
    assert nurse.ihs_number and _performers(app_harness, encounter_id) == {
        f"Practitioner/{nurse.ihs_number}"
    }

    # Resume: the encounter code under the visit's date.
    page.goto(f"{app_url}/resume?pasien={patient_id}")
    expect(page.locator(f"#resume-encounter-{visit_id}")).to_contain_text(encounter_id)
    expect(page.locator(f"#resume-visit-{visit_id}")).to_contain_text("J06.9")

    # The registration desk's Resume, printed: the visit and its encounter, no diagnosis.
    desk = browser.new_page(viewport=DESK)
    login_as(desk, app_url, "pendaftaran", "Daftar#2026")
    desk.goto(f"{app_url}/resume?pasien={patient_id}")
    desk.emulate_media(media="print")
    expect(desk.locator(f"#resume-encounter-{visit_id}")).to_contain_text(encounter_id)
    expect(desk.locator("#resume-scope-note")).to_be_visible()
    expect(desk.locator(f"#resume-visit-{visit_id}")).to_contain_text("Poli Umum")
    expect(desk.locator(f"#resume-visit-{visit_id}")).not_to_contain_text("J06.9")
    expect(desk.locator(f"#resume-visit-{visit_id}")).not_to_contain_text("Diagnosis")
    desk.close()

    # Log server SATUSEHAT: the doctor sees the transaction, not the FHIR bodies (admin's).
    page.goto(f"{app_url}/laporan/satusehat")
    bundle_row = page.locator("[id^=synclog-row-]", has_text="Bundle").first
    expect(bundle_row).to_contain_text("200")
    bundle_row.click()
    expect(page.locator("#synclog-detail")).to_be_visible()
    expect(page.locator("#synclog-bodies-admin-only")).to_be_visible()
    expect(page.locator("#synclog-response")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#synclog-detail")).to_have_count(0)
    page.locator("#logout").click()

    # The admin reads SATUSEHAT's answer with the encounter id, and no secret in the request.
    login_as(page, app_url, "admin", "Admin#2026")
    page.goto(f"{app_url}/laporan/satusehat")
    page.locator("[id^=synclog-row-]", has_text="Bundle").first.click()
    expect(page.locator("#synclog-response")).to_contain_text(encounter_id)
    expect(page.locator("#synclog-request")).not_to_contain_text("demo-klinik-secret")
    page.keyboard.press("Escape")
    expect(page.locator("#synclog-detail")).to_have_count(0)

    # The admin corrects the completed visit: SATUSEHAT gets the new diagnosis as an update
    # of the same Encounter, and the page follows it live.
    page.goto(f"{app_url}/pemeriksaan?kunjungan={visit_id}")
    expect(page.locator("#exam-admin-edit")).to_contain_text("koreksi")
    expect(page.locator("#exam-encounter-id")).to_have_text(encounter_id)
    page.evaluate("window.__sameLoad = true")
    page.locator("#icd-search").fill("R05")
    page.locator('[id="icd-result-R05"]').click()
    expect(page.locator('[id="diagnosis-R05"]')).to_be_visible()
    _expect_corrected(int(visit_id), "R05")
    assert _expect_encounter_live(page) == encounter_id


def test_satusehat_failing_twice_is_retried_until_the_encounter_arrives(
    page: Page, browser: Browser, app_url: str, app_harness
):
    _sync_clinic_master_data()
    _fault(app_harness, kind="http_error", status=503, count=2, method="POST", path="/fhir-r4/v1")
    _, visit_id = _register(browser, app_url)
    _nurse_takes_vitals(browser, app_url, visit_id)
    _doctor_examines_and_completes(page, app_url, visit_id, "J06.9")
    expect(page.locator("#exam-sync-status")).to_contain_text("Mengirim")
    _expect_encounter_live(page)  # after two refusals, with no one pressing anything


def test_a_rejection_shows_satusehat_message_and_the_fixed_visit_is_resent(
    page: Page, browser: Browser, app_url: str, app_harness
):
    _sync_clinic_master_data()
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "code-invalid",
                "details": {"text": "Simulasi: diagnosis J06.8 tidak sesuai dengan SOAP"},
            }
        ],
    }
    _fault(
        app_harness,
        kind="http_error",
        status=400,
        count=1,
        method="POST",
        path="/fhir-r4/v1",
        body=json.dumps(outcome),
        content_type="application/json",
    )
    _, visit_id = _register(browser, app_url)
    _nurse_takes_vitals(browser, app_url, visit_id)
    _doctor_examines_and_completes(page, app_url, visit_id, "J06.8")
    expect(page.locator("#exam-sync-error")).to_contain_text(
        "diagnosis J06.8 tidak sesuai", timeout=LIVE
    )
    # In words: no bare status line; SATUSEHAT's own answer is kept under Detail.
    expect(page.locator("#exam-sync-error")).to_contain_text("SATUSEHAT menolak")
    expect(page.locator("#exam-sync-error")).not_to_contain_text("HTTP 400")
    expect(page.locator("#exam-sync-detail")).to_contain_text("HTTP 400")
    expect(page.locator("#exam-resend")).to_be_visible()

    # The doctor cannot change a completed examination; the admin (also a doctor) fixes the
    # diagnosis and sends it again.
    page.locator("#logout").click()
    login_as(page, app_url, "admin", "Admin#2026")
    page.goto(f"{app_url}/pemeriksaan?kunjungan={visit_id}")
    page.locator("#icd-search").fill("J06.9")
    page.locator('[id="icd-result-J06.9"]').click()
    expect(page.locator('[id="diagnosis-J06.9"]')).to_be_visible()
    page.locator('[id="diagnosis-remove-J06.8"]').click()
    expect(page.locator('[id="diagnosis-J06.8"]')).to_have_count(0)
    page.evaluate("window.__sameLoad = true")
    page.locator("#exam-resend").click()
    _expect_encounter_live(page)
