"""Laporan and Resume handlers, called directly as the browser would call them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from klinikita import routes
from klinikita.models import AuditLog, SyncJob, SyncLog
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services.errors import PermissionDenied
from klinikita.services.job_notices import JobNotice
from klinikita.state.reports import AuditReportState, DashboardState, LaporanState, SyncLogState
from klinikita.state.resume import ResumeState
from tests.factories import make_clinic, make_completed_visit, make_user
from tests.state.conftest import logged_in


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    for username, duty in (
        ("admin", Duty.ADMIN),
        ("dokter", Duty.DOKTER_UMUM),
        ("kasir", Duty.KASIR),
        ("apoteker", Duty.APOTEKER),
        ("perawat_resume", Duty.PERAWAT),
    ):
        make_user(db, username, branches=[branch], main_duty=duty)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    visit.encounter_id = "enc-123"
    visit.sync_status = SyncStatus.SENT
    db.add(visit)
    db.add(
        SyncLog(
            at=datetime.now(UTC),
            branch_id=branch.id,
            patient_id=patient.id,
            resource_type="Encounter",
            method="POST",
            url="https://sim/Encounter",
            status_code=201,
            ok=True,
            duration_ms=87,
            request_body='{"resourceType": "Encounter", "note": "a, \\"b\\""}',
            response_body='{"id": "enc-123"}',
        )
    )
    db.add(
        SyncJob(
            kind=JobKind.PATIENT_LOOKUP,
            branch_id=branch.id,
            subject_type="patient",
            subject_id=patient.id,
            status=JobStatus.FAILED,
            attempts=1,
            last_error="NIK tidak ditemukan",
        )
    )
    db.commit()
    return branch, patient, visit


def _in_tab(root, as_path: str = "/", token: str = "tab-1") -> None:
    root.router = RouterData.from_router_data(
        {
            constants.RouteVar.CLIENT_TOKEN: token,
            constants.RouteVar.ORIGIN: as_path,
            constants.RouteVar.HEADERS: {"origin": "http://localhost:3000"},
        }
    )


def _download_text(events) -> str:  # noqa: ANN001
    """The CSV carried by an rx.download event (a base64 data: URL)."""
    spec = events[0] if isinstance(events, list) else events
    rendered = str(spec.args)
    marker = "data:text/csv;base64,"
    start = rendered.index(marker) + len(marker)
    end = start
    while end < len(rendered) and (rendered[end].isalnum() or rendered[end] in "+/="):
        end += 1
    return base64.b64decode(rendered[start:end]).decode("utf-8")


def _jobs(db) -> list[SyncJob]:
    db.expire_all()
    rows = list(db.exec(select(SyncJob)).all())
    db.commit()
    return rows


def test_a_duty_without_laporan_sees_nothing(db, root, clinic):
    _in_tab(root, routes.LAPORAN_SATUSEHAT)
    sync = logged_in(db, root, SyncLogState, "apoteker")
    sync.load()
    assert sync.rows == [] and sync.total == 0
    with pytest.raises(PermissionDenied):
        sync.export_csv()
    with pytest.raises(PermissionDenied):
        sync.open_detail("1")
    assert sync.detail == {}
    board = logged_in(db, root, DashboardState, "apoteker")
    board.load()
    assert board.weeks == [] and board.jobs == []
    with pytest.raises(PermissionDenied):
        board.refresh()
    audit = logged_in(db, root, AuditReportState, "apoteker")
    audit.load()
    assert not audit.page_allowed and audit.rows == []
    assert logged_in(db, root, LaporanState, "apoteker").open_default() is None


def test_laporan_aktivitas_is_the_admins(db, root, clinic):
    _in_tab(root, routes.LAPORAN_AKTIVITAS)
    audit = logged_in(db, root, AuditReportState, "dokter")
    audit.load()
    assert not audit.can_audit and not audit.page_allowed and audit.rows == []
    with pytest.raises(PermissionDenied):
        audit.export_csv()
    laporan = logged_in(db, root, LaporanState, "dokter")
    assert routes.LAPORAN_SATUSEHAT in str(laporan.open_default())

    admin = logged_in(db, root, AuditReportState, "admin")
    admin.load()
    assert admin.can_audit and admin.page_allowed
    assert admin.rows and all(r["action"] for r in admin.rows)
    assert "login" in {o["value"] for o in admin.action_options}
    assert routes.LAPORAN_AKTIVITAS in str(
        logged_in(db, root, LaporanState, "admin").open_default()
    )
    admin.set_filter("action", "login")
    assert {r["action"] for r in admin.rows} == {"login"}
    admin.set_filter("date_to", "2000-01-01")
    assert admin.rows == [] and admin.total == 0
    admin.set_filter("date_from", "2026-12-31")
    assert "date_to" in admin.errors  # the end before the start
    admin.reset_filters()
    assert admin.errors == {} and admin.total > 0


def test_sync_log_rows_detail_and_csv(db, root, clinic):
    branch, patient, visit = clinic
    _in_tab(root, routes.LAPORAN_SATUSEHAT)
    sync = logged_in(db, root, SyncLogState, "admin")
    sync.load()
    assert sync.page_allowed and sync.can_log
    [row] = sync.rows
    assert row["resource_type"] == "Encounter" and row["ok"] == "1"
    assert row["patient_name"] == "Ardianto Putra"
    sync.open_detail(row["id"])
    assert sync.detail_open
    assert sync.detail["duration_ms"] == "87" and sync.detail["status_code"] == "201"
    assert '"resourceType": "Encounter"' in sync.detail["request_text"]
    assert sync.detail["response_text"] == '{\n  "id": "enc-123"\n}'
    sync.set_detail_open(False)
    assert not sync.detail_open and sync.detail == {}
    sync.set_filter("result", "gagal")
    assert sync.rows == []
    events = sync.export_csv()
    assert "log-satusehat-" in str(events[0].args)
    text = _download_text(events).lstrip("\ufeff")
    assert text.splitlines() == [
        "Waktu,Hasil,Jenis resource,Metode,URL,Kode status,Durasi (ms),Pasien,No. RM,Galat"
    ]
    sync.set_filter("result", "semua")
    text = _download_text(sync.export_csv()).lstrip("\ufeff")
    assert len(text.splitlines()) == 2 and "Ardianto Putra" in text


def test_a_doctor_reads_the_log_rows_but_not_the_fhir_bodies(db, root, clinic):
    _in_tab(root, routes.LAPORAN_SATUSEHAT)
    sync = logged_in(db, root, SyncLogState, "dokter")
    sync.load()
    [row] = sync.rows
    assert row["method"] == "POST" and row["status_code"] == "201"
    sync.open_detail(row["id"])
    assert sync.detail_open and sync.detail["status_code"] == "201"
    assert sync.detail["bodies_shown"] == ""
    assert sync.detail["request_text"] == sync.detail["response_text"] == ""
    assert "enc-123" not in str(sync.detail) and "resourceType" not in str(sync.detail)


def test_sync_log_of_one_patient_from_a_link(db, root, clinic):
    branch, patient, visit = clinic
    _in_tab(root, f"{routes.LAPORAN_SATUSEHAT}?pasien={patient.id + 1}")
    sync = logged_in(db, root, SyncLogState, "dokter")
    sync.load()
    assert sync.patient_id == patient.id + 1 and sync.rows == []
    sync.reset_filters()
    assert len(sync.rows) == 1


def test_resend_all_refused_without_the_permission(db, root, clinic):
    _in_tab(root, routes.LAPORAN_DASHBOARD)
    board = logged_in(db, root, DashboardState, "kasir")
    board.load()
    assert not board.can_resend and board.failed_count == 1
    assert [w["number"] for w in board.weeks] == ["1", "2", "3", "4"]
    assert board.weeks[3]["visits_completed"] == "1"
    assert board.weeks[3]["encounters_accepted"] == "1"
    assert board.weeks[3]["encounter_share"] == "100%" and board.weeks[0]["encounter_share"] == "-"
    with pytest.raises(PermissionDenied):
        board.resend_all_failed()
    assert [j.status for j in _jobs(db)] == [JobStatus.FAILED]


def test_resend_all_puts_failed_jobs_back_in_the_queue(db, root, clinic):
    _in_tab(root, routes.LAPORAN_DASHBOARD)
    board = logged_in(db, root, DashboardState, "dokter")
    board.load()
    assert board.can_resend
    [job_row] = board.jobs
    assert job_row["subject"] == "Pasien Ardianto Putra (No. RM 000001)"
    board.resend_all_failed()
    [job] = _jobs(db)
    assert job.status == JobStatus.PENDING and job.attempts == 0
    assert board.failed_count == 0 and board.jobs == []
    audit = db.exec(select(AuditLog).where(AuditLog.action == "satusehat_resend_all")).one()
    db.commit()
    assert audit.username == "dokter"
    text = _download_text(board.export_csv()).lstrip("\ufeff")
    assert text.splitlines()[0].startswith("Minggu,Mulai (Senin)")
    assert len(text.splitlines()) == 5


def test_resume_opens_the_patient_from_the_url_and_searches(db, root, clinic):
    branch, patient, visit = clinic
    _in_tab(root, f"{routes.RESUME}?pasien={patient.id}")
    resume = logged_in(db, root, ResumeState, "perawat_resume")
    resume.load()
    assert resume.patient["name"] == "Ardianto Putra" and resume.total == 1
    [card] = resume.cards
    assert card.visit_id == visit.id and card.encounter_id == "enc-123"
    resume.change_patient()
    assert resume.patient_id == 0 and resume.cards == []
    resume.set_search_term("ardi")
    resume.search()
    assert [r["id"] for r in resume.results] == [str(patient.id)]
    resume.pick_patient(str(patient.id))
    assert resume.patient_id == patient.id and len(resume.cards) == 1


def test_resume_needs_its_permission(db, root, clinic):
    branch, patient, visit = clinic
    _in_tab(root, f"{routes.RESUME}?pasien={patient.id}")
    resume = logged_in(db, root, ResumeState, "kasir")  # Kasir has no Resume
    resume.load()
    assert resume.patient_id == 0 and resume.cards == []
    resume.set_search_term("ardi")
    resume.search()
    assert resume.results == []


def test_the_sync_log_pages_on_its_own_state(db, root, clinic):
    """The pager is shared by the report states (a mixin): it moves this page's rows."""
    branch = clinic[0]
    for n in range(30):
        db.add(
            SyncLog(
                at=datetime.now(UTC),
                branch_id=branch.id,
                resource_type="Patient",
                method="GET",
                url=f"https://sim/Patient?n={n}",
                status_code=200,
                ok=True,
            )
        )
    db.commit()
    sync = logged_in(db, root, SyncLogState, "dokter")
    sync.load()
    assert sync.total == 31 and sync.page_count == 2 and len(sync.rows) == 25
    first_page = [r["id"] for r in sync.rows]
    sync.next_page()
    assert sync.page == 2 and len(sync.rows) == 6
    assert not set(first_page) & {r["id"] for r in sync.rows}
    sync.prev_page()
    assert [r["id"] for r in sync.rows] == first_page


def test_a_cashier_gets_the_dashboard_but_not_the_log_with_its_diagnoses(db, root, clinic):
    _in_tab(root, routes.LAPORAN)
    laporan = logged_in(db, root, LaporanState, "kasir")
    redirect = laporan.open_default()
    assert routes.LAPORAN_DASHBOARD in str(redirect.args)
    _in_tab(root, routes.LAPORAN_SATUSEHAT)
    sync = logged_in(db, root, SyncLogState, "kasir")
    sync.load()
    assert not sync.page_allowed and not sync.can_log and sync.rows == []
    [log_id] = db.exec(select(SyncLog.id)).all()
    for refused in (lambda: sync.open_detail(str(log_id)), sync.export_csv):
        with pytest.raises(PermissionDenied):
            refused()
    assert sync.detail == {} and not sync.detail_open


def test_the_pharmacy_resume_holds_prescriptions_and_no_soap_or_diagnoses(db, root, clinic):
    from klinikita.models import Prescription

    branch, patient, visit = clinic
    db.add(Prescription(visit_id=visit.id, medicine="Amoxicillin 500 mg", quantity=15))
    db.commit()
    _in_tab(root, f"{routes.RESUME}?pasien={patient.id}")
    resume = logged_in(db, root, ResumeState, "apoteker")
    resume.load()
    assert resume.show_prescriptions and not resume.show_clinical
    [card] = resume.cards
    assert card.prescriptions == ["Amoxicillin 500 mg, jumlah 15"]
    assert card.diagnoses == card.soap == card.vitals == card.procedures == []
    sent = str(root.dict())
    assert "J06.9" not in sent and "Batuk pilek" not in sent


def _unsent_visit(db, branch, days_ago: int = 2):
    from klinikita.models import Employee, Patient, Room, ServiceUnit

    unit = db.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch.id)).first()
    room = db.exec(select(Room).where(Room.branch_id == branch.id)).first()
    doctor = db.exec(select(Employee).where(Employee.branch_id == branch.id)).first()
    patient = db.exec(select(Patient).where(Patient.branch_id == branch.id)).first()
    return make_completed_visit(
        db, branch, unit, room, doctor, patient, queue_number=7, minutes_ago=days_ago * 24 * 60
    )


def test_admin_sends_the_unsent_visits_of_a_range_and_sees_the_progress_live(db, root, clinic):
    branch, _, sent = clinic
    unsent_id, sent_id, branch_id = _unsent_visit(db, branch).id, sent.id, branch.id
    db.commit()  # the test's reads end (SQLite: the handler writes)
    _in_tab(root, routes.LAPORAN_DASHBOARD)
    board = logged_in(db, root, DashboardState, "admin")
    board.load()
    assert board.can_backfill and board.key_refused == {}
    today = datetime.now(UTC).date()
    board.set_backfill_day("backfill_from", (today - timedelta(days=7)).isoformat())
    board.set_backfill_day("backfill_to", today.isoformat())
    board.send_unsent()
    assert board.backfill_errors == {}
    [job] = [j for j in _jobs(db) if j.kind == JobKind.VISIT_SEND]
    assert job.subject_id == unsent_id and job.client_token == "tab-1"  # not the sent one
    assert (board.backfill_total, board.backfill_sent, board.backfill_running) == (1, 0, True)

    job.status = JobStatus.DONE
    db.add(job)
    notice = JobNotice(job.id, job.kind, branch_id, "visit", unsent_id, "done", "", "tab-1")
    db.commit()
    board._on_sync_notice(notice)
    assert (board.backfill_sent, board.backfill_failed, board.backfill_running) == (1, 0, False)
    assert sent_id != unsent_id


def test_backfill_range_errors_show_at_the_fields_and_only_admin_may_send(db, root, clinic):
    _in_tab(root, routes.LAPORAN_DASHBOARD)
    board = logged_in(db, root, DashboardState, "admin")
    board.load()
    board.set_backfill_day("backfill_from", "2026-12-07")
    board.set_backfill_day("backfill_to", "2026-12-01")
    board.send_unsent()
    assert "date_to" in board.backfill_errors and board.backfill_total == 0
    board.set_backfill_day("backfill_to", "")
    board.send_unsent()
    assert "date_to" in board.backfill_errors

    doctor = logged_in(db, root, DashboardState, "dokter")
    doctor.load()
    assert not doctor.can_backfill
    with pytest.raises(PermissionDenied):
        doctor.send_unsent()


def test_refused_keys_are_shown_on_the_dashboard_with_the_link_for_the_admin(db, root, clinic):
    branch = clinic[0]
    branch.ss_key_refused_at, branch.ss_key_refusal = datetime.now(UTC), "ditolak"
    db.add(branch)
    db.commit()
    _in_tab(root, routes.LAPORAN_DASHBOARD)
    board = logged_in(db, root, DashboardState, "admin")
    board.load()
    assert board.key_refused["message"].startswith("Kunci SATUSEHAT ditolak")
    assert board.key_refused["link"] == f"{routes.PENGATURAN}?cabang={branch.id}"
    cashier = logged_in(db, root, DashboardState, "kasir")
    cashier.load()
    assert "admin" in cashier.key_refused["message"] and cashier.key_refused["link"] == ""
    [job_row] = cashier.jobs
    assert (
        job_row["hint"] == "NIK tidak ditemukan" and job_row["last_error"] == "NIK tidak ditemukan"
    )
