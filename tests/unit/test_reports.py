"""Laporan: audit trail and SATUSEHAT log filters, weekly dashboard, CSV, resend all."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Patient, SyncJob, SyncLog
from klinikita.models.clinical import Diagnosis, VisitStatus
from klinikita.models.enums import Duty, Sex
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ValidationFailed
from klinikita.services.report_csv import csv_filename, to_csv
from klinikita.services.reports import audit_log, dashboard, days, sync_log
from tests.factories import make_branch, make_clinic, make_completed_visit, make_user
from tests.pg import sqlite_and_postgresql

# Every report test runs on SQLite and on PostgreSQL (production): the bounds, the weekly
# CASE sums and the boolean filters must agree on both.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ----- audit trail ----------------------------------------------------------------------
@pytest.fixture
def trail(db):
    branch = make_branch(db, "Klinik A")
    other = make_branch(db, "Klinik B")
    admin = make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    nurse = make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    for row in db.exec(select(AuditLog)).all():  # user creation rows: not part of these tests
        db.delete(row)
    rows = [
        # 24 Nov 23:30 WIB
        AuditLog(at=_utc(2026, 11, 24, 16, 30), user_id=admin.id, username="admin",
                 duty="admin", branch_id=branch.id, action="create", entity="patient",
                 entity_id="1"),
        # 25 Nov 00:30 WIB: the next local day although the same UTC date
        AuditLog(at=_utc(2026, 11, 24, 17, 30), user_id=nurse.id, username="perawat",
                 duty="perawat", branch_id=branch.id, action="login", entity="login_session",
                 entity_id="7"),
        AuditLog(at=_utc(2026, 11, 25, 3, 0), user_id=admin.id, username="admin",
                 duty="admin", branch_id=branch.id, action="update", entity="patient",
                 entity_id="1", before={"name": "A", "phone": "1"},
                 after={"name": "B", "phone": "1"}),
        AuditLog(at=_utc(2026, 11, 26, 3, 0), user_id=nurse.id, username="perawat",
                 duty="perawat", branch_id=branch.id, action="logout", entity="login_session",
                 entity_id="7"),
        AuditLog(at=_utc(2026, 11, 25, 3, 0), user_id=admin.id, username="admin",
                 duty="admin", branch_id=other.id, action="create", entity="patient",
                 entity_id="9"),
    ]  # fmt: skip
    db.add_all(rows)
    db.commit()
    return branch, admin, nurse


def test_audit_rows_newest_first_only_of_the_branch(db, trail):
    branch, admin, nurse = trail
    found = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter())
    assert found.total == 4
    assert [r.action for r in found.rows] == ["logout", "update", "login", "create"]
    update = found.rows[1]
    assert update.changes == "Nama: A → B" and update.action_label == "ubah"
    assert update.at_text == "25 Nov 2026 10:00:00 WIB"
    assert update.duty == "Admin"


def test_audit_date_filter_uses_the_branch_local_day(db, trail):
    branch, *_ = trail
    day = date(2026, 11, 25)
    found = audit_log.audit_log_page(
        db, branch.id, audit_log.AuditFilter(date_from=day, date_to=day)
    )
    assert [r.action for r in found.rows] == ["update", "login"]
    only_from = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter(date_from=day))
    assert only_from.total == 3
    only_to = audit_log.audit_log_page(
        db, branch.id, audit_log.AuditFilter(date_to=date(2026, 11, 24))
    )
    assert [r.action for r in only_to.rows] == ["create"]
    with pytest.raises(ValidationFailed) as bad:
        audit_log.audit_log_page(
            db, branch.id, audit_log.AuditFilter(date_from=day, date_to=date(2026, 11, 1))
        )
    assert "date_to" in bad.value.errors


def test_audit_user_and_action_filters(db, trail):
    branch, admin, nurse = trail
    by_nurse = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter(user_id=nurse.id))
    assert [r.action for r in by_nurse.rows] == ["logout", "login"]
    creates = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter(action="create"))
    assert [(r.entity, r.entity_id) for r in creates.rows] == [("pasien", "1")]
    both = audit_log.audit_log_page(
        db, branch.id, audit_log.AuditFilter(user_id=admin.id, action="login")
    )
    assert both.total == 0 and both.rows == []


def test_audit_pages_and_options(db, trail):
    branch, admin, nurse = trail
    first = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter(), page=1, page_size=3)
    second = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter(), page=2, page_size=3)
    assert first.page_count == 2 and len(first.rows) == 3 and len(second.rows) == 1
    assert {r.id for r in first.rows}.isdisjoint({r.id for r in second.rows})
    options = audit_log.filter_options(db, branch.id)
    users, actions = options.users, options.actions
    assert [u.value for u in users] == [str(admin.id), str(nurse.id)]
    assert {a.value for a in actions} == {"create", "login", "update", "logout"}
    assert dict((a.value, a.label) for a in actions)["login"] == "masuk"


def test_audit_csv_has_every_matching_row(db, trail):
    branch, *_ = trail
    export = audit_log.audit_log_csv(db, branch.id, audit_log.AuditFilter())
    text, count = export.text, export.rows
    assert export.filename == f"laporan-aktivitas-{days.export_day(db, branch.id)}.csv"
    rows = _parse(text)
    assert rows[0] == list(audit_log.AUDIT_CSV_HEADERS)
    assert count == 4 and len(rows) == 5
    update = rows[2]
    assert update[0] == "25 Nov 2026 10:00:00 WIB"
    assert update[3:] == ["ubah", "pasien", "1", "Nama: A → B"]


# ----- SATUSEHAT log ------------------------------------------------------------------
@pytest.fixture
def exchanges(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    siti = Patient(
        branch_id=branch.id,
        mrn="000002",
        nik="3171012511900002",
        name="Siti Aminah",
        sex=Sex.FEMALE,
        birth_date=date(1990, 11, 25),
    )
    other = make_branch(db, "Klinik Lain")
    db.add(siti)
    db.commit()
    logs = [
        SyncLog(at=_utc(2026, 11, 24, 16, 30), branch_id=branch.id, patient_id=patient.id,
                resource_type="Patient", method="GET", url="https://x/Patient?identifier=1",
                status_code=200, ok=True, duration_ms=120, request_body="",
                response_body='{"resourceType":"Bundle","total":1}'),
        SyncLog(at=_utc(2026, 11, 25, 2, 0), branch_id=branch.id, patient_id=siti.id,
                resource_type="Encounter", method="POST", url="https://x/Encounter",
                status_code=400, ok=False, duration_ms=340,
                request_body='{"resourceType":"Encounter","status":"finished"}',
                response_body="Bad Gateway <html>", error="Ditolak"),
        SyncLog(at=_utc(2026, 11, 25, 3, 0), branch_id=branch.id, resource_type="Organization",
                method="POST", url="https://x/Organization", status_code=None, ok=False,
                duration_ms=10000, error="Waktu habis"),
        SyncLog(at=_utc(2026, 11, 25, 3, 0), branch_id=other.id, patient_id=patient.id,
                resource_type="Patient", method="GET", url="https://y/Patient", status_code=200,
                ok=True),
    ]  # fmt: skip
    db.add_all(logs)
    db.commit()
    return branch, patient, siti, logs


def _sync(db, branch, **filters) -> list[str]:
    found = sync_log.sync_log_page(db, branch.id, sync_log.SyncLogFilter(**filters))
    return [r.resource_type for r in found.rows]


def test_sync_log_newest_first_of_the_branch(db, exchanges):
    branch, patient, siti, logs = exchanges
    found = sync_log.sync_log_page(db, branch.id, sync_log.SyncLogFilter())
    assert [r.resource_type for r in found.rows] == ["Organization", "Encounter", "Patient"]
    organization, encounter, lookup = found.rows
    assert organization.status_code == "" and organization.result_label == "gagal"
    assert encounter.patient_name == "Siti Aminah" and encounter.mrn == "000002"
    assert lookup.ok and lookup.result_label == "berhasil"
    assert lookup.url_short == "/Patient?identifier=1"
    assert sync_log.short_url("https://api-satusehat.kemkes.go.id/fhir-r4/v1/Encounter/abc") == (
        "/Encounter/abc"
    )


def test_sync_log_filters_each_narrow(db, exchanges):
    branch, patient, siti, logs = exchanges
    assert _sync(db, branch, result="berhasil") == ["Patient"]
    assert _sync(db, branch, result="gagal") == ["Organization", "Encounter"]
    assert _sync(db, branch, resource_type="Encounter") == ["Encounter"]
    assert _sync(db, branch, patient_text="siti") == ["Encounter"]
    assert _sync(db, branch, patient_text="000001") == ["Patient"]  # No. RM
    assert _sync(db, branch, patient_text="3171012511900002") == ["Encounter"]  # NIK
    assert _sync(db, branch, patient_text="tidak ada") == []
    assert _sync(db, branch, patient_id=patient.id) == ["Patient"]
    day = date(2026, 11, 25)  # WIB: the lookup at 23:30 on the 24th is not in it
    assert _sync(db, branch, date_from=day, date_to=day) == ["Organization", "Encounter"]
    assert _sync(db, branch, date_to=date(2026, 11, 24)) == ["Patient"]
    assert _sync(db, branch, result="gagal", resource_type="Organization") == ["Organization"]


def test_sync_log_pages(db, exchanges):
    branch, *_ = exchanges
    first = sync_log.sync_log_page(db, branch.id, sync_log.SyncLogFilter(), page=1, page_size=2)
    second = sync_log.sync_log_page(db, branch.id, sync_log.SyncLogFilter(), page=2, page_size=2)
    assert first.total == 3 and first.page_count == 2
    assert [r.resource_type for r in first.rows + second.rows] == [
        "Organization",
        "Encounter",
        "Patient",
    ]


def test_sync_log_detail_pretty_json_or_raw_text(db, exchanges):
    branch, patient, siti, logs = exchanges
    detail = sync_log.sync_log_detail(db, branch.id, logs[1].id, duty=Duty.ADMIN)
    assert detail.request_text == json.dumps(
        {"resourceType": "Encounter", "status": "finished"}, indent=2
    )
    assert detail.response_text == "Bad Gateway <html>"  # not JSON: as stored
    assert detail.duration_ms == 340 and detail.status_code == "400"
    assert detail.method == "POST" and detail.url == "https://x/Encounter"
    assert detail.patient_name == "Siti Aminah (No. RM 000002)"
    # Another branch's exchange is not shown.
    assert sync_log.sync_log_detail(db, branch.id, logs[3].id, duty=Duty.ADMIN) is None


@pytest.mark.parametrize("duty", [Duty.PENDAFTARAN_KASIR, Duty.DOKTER_UMUM, Duty.LOGIN_KLINIK])
def test_the_log_bodies_are_the_admins(db, exchanges, duty):
    """The rows stay for whoever has the log; the FHIR bodies do not leave the server."""
    branch, patient, siti, logs = exchanges
    detail = sync_log.sync_log_detail(db, branch.id, logs[1].id, duty=duty)
    assert (detail.method, detail.status_code, detail.error) == ("POST", "400", "Ditolak")
    assert detail.request_text == detail.response_text == "" and not detail.bodies_shown
    assert "finished" not in repr(detail) and "Bad Gateway" not in repr(detail)
    assert sync_log.sync_log_detail(db, branch.id, logs[1].id, duty=Duty.ADMIN).bodies_shown
    with pytest.raises(PermissionDenied):
        sync_log.sync_log_detail(db, branch.id, logs[1].id, duty=Duty.KASIR)


def test_sync_log_csv(db, exchanges):
    branch, *_ = exchanges
    export = sync_log.sync_log_csv(db, branch.id, sync_log.SyncLogFilter(result="gagal"))
    text, count = export.text, export.rows
    rows = _parse(text)
    assert rows[0] == list(sync_log.SYNC_CSV_HEADERS)
    assert count == 2 and [r[2] for r in rows[1:]] == ["Organization", "Encounter"]
    assert rows[2][5] == "400" and rows[2][6] == "340" and rows[2][7] == "Siti Aminah"
    # Rows only: no request or response body is exported.
    assert "finished" not in text and "Bad Gateway" not in text


# ----- CSV ------------------------------------------------------------------------------
def test_csv_escapes_commas_quotes_and_newlines():
    text = to_csv(("Nama", "Catatan"), [("Budi, S.Kom", 'kata "penting"'), ("Ani", "baris\nkedua")])
    assert text.splitlines()[0] == "Nama,Catatan"
    assert '"Budi, S.Kom","kata ""penting"""' in text
    assert '"baris\nkedua"' in text
    assert _parse(text) == [
        ["Nama", "Catatan"],
        ["Budi, S.Kom", 'kata "penting"'],
        ["Ani", "baris\nkedua"],
    ]
    assert csv_filename("log-satusehat", date(2026, 11, 25)) == "log-satusehat-2026-11-25.csv"


def test_csv_export_is_every_row_not_a_page(db):
    branch = make_branch(db)
    db.add_all(
        AuditLog(branch_id=branch.id, action="create", entity="patient", entity_id=str(n))
        for n in range(audit_log.PAGE_SIZE * 2 + 3)
    )
    db.commit()
    export = audit_log.audit_log_csv(db, branch.id, audit_log.AuditFilter())
    text, count = export.text, export.rows
    assert count == audit_log.PAGE_SIZE * 2 + 3 == len(_parse(text)) - 1


# ----- dashboard ----------------------------------------------------------------------
NOW = _utc(2026, 11, 25, 5, 0)  # Wednesday 25 Nov 2026, 12:00 WIB


@pytest.fixture
def clinic(db):
    return make_clinic(db)


def _done(db, clinic, number: int, at: datetime, *, encounter: bool, conditions=(), status=None):
    visit = make_completed_visit(db, *clinic, queue_number=number, codes=())
    visit.completed_at = at
    visit.visit_date = at.date()
    visit.encounter_id = f"enc-{number}" if encounter else None
    if status:
        visit.status = status
    db.add(visit)
    for rank, condition in enumerate(conditions, start=1):
        db.add(Diagnosis(visit_id=visit.id, rank=rank, icd10_code="J06.9", condition_id=condition))
    db.commit()
    return visit


def test_weeks_are_monday_based_in_the_branch_zone(db, clinic):
    # Sunday 22 Nov 23:30 WIB (16:30 UTC): the week of 16 Nov.
    _done(db, clinic, 1, _utc(2026, 11, 22, 16, 30), encounter=True, conditions=("c1", None))
    # Monday 23 Nov 00:30 WIB (17:30 UTC, still Sunday in UTC): this week.
    _done(db, clinic, 2, _utc(2026, 11, 22, 17, 30), encounter=True, conditions=("c2", "c3"))
    _done(db, clinic, 3, _utc(2026, 11, 24, 3, 0), encounter=False, conditions=(None,))
    # Week of 2 Nov (the oldest shown) and one before it (not shown).
    _done(db, clinic, 4, _utc(2026, 11, 2, 3, 0), encounter=True, conditions=("c4",))
    _done(db, clinic, 5, _utc(2026, 11, 1, 3, 0), encounter=True, conditions=("c5",))
    # A cancelled visit is not a completed one.
    _done(db, clinic, 6, _utc(2026, 11, 24, 4, 0), encounter=False, status=VisitStatus.CANCELLED)

    weeks = dashboard.weekly_counts(db, clinic[0].id, now=NOW)

    assert [w.start for w in weeks] == [
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    assert weeks[3].label == "23 Nov 2026 - 29 Nov 2026"
    counts = [(w.visits_completed, w.encounters_accepted, w.conditions_accepted) for w in weeks]
    assert counts == [(1, 1, 1), (0, 0, 0), (1, 1, 1), (2, 1, 2)]


def test_weeks_follow_the_branch_zone(db, clinic):
    branch = clinic[0]
    # Sunday 22 Nov 22:30 WIB is already Monday 00:30 in Jayapura (WIT).
    _done(db, clinic, 1, _utc(2026, 11, 22, 15, 30), encounter=True)
    wib = dashboard.weekly_counts(db, branch.id, now=NOW)
    assert (wib[2].visits_completed, wib[3].visits_completed) == (1, 0)
    branch.timezone = "Asia/Jayapura"
    db.add(branch)
    db.commit()
    wit = dashboard.weekly_counts(db, branch.id, now=NOW)
    assert (wit[2].visits_completed, wit[3].visits_completed) == (0, 1)


def test_dashboard_lists_failed_and_dead_jobs(db, clinic):
    branch, unit, room, doctor, patient = clinic
    visit = _done(db, clinic, 1, NOW - timedelta(hours=1), encounter=False)
    db.add_all(
        [
            SyncJob(kind=JobKind.VISIT_SEND, branch_id=branch.id, subject_type="visit",
                    subject_id=visit.id, status=JobStatus.FAILED, attempts=1,
                    last_error="Kode ICD-10 ditolak"),
            SyncJob(kind=JobKind.PATIENT_LOOKUP, branch_id=branch.id, subject_type="patient",
                    subject_id=patient.id, status=JobStatus.DEAD, attempts=8,
                    last_error="Waktu habis"),
            SyncJob(kind=JobKind.ORGANIZATION_CREATE, branch_id=branch.id,
                    subject_type="service_unit", subject_id=unit.id, status=JobStatus.DONE),
        ]
    )  # fmt: skip
    db.commit()
    board = dashboard.dashboard(db, branch.id, now=NOW)
    assert (board.failed_count, board.dead_count) == (1, 1)
    assert {j.subject for j in board.jobs} == {
        f"Kunjungan Ardianto Putra (No. RM 000001), {visit.visit_date.day} Nov 2026",
        "Pasien Ardianto Putra (No. RM 000001)",
    }
    dead = next(j for j in board.jobs if j.status == JobStatus.DEAD)
    assert dead.attempts == 8 and dead.status_label == "berhenti dicoba"
    weeks = _parse(dashboard.weeks_csv(db, branch.id, now=NOW).text)
    assert weeks[0] == list(dashboard.WEEK_CSV_HEADERS) and len(weeks) == 5
    assert weeks[4][1:6] == ["2026-11-23", "2026-11-29", "1", "0", "0"]
    assert weeks[4][6:] == ["0"] * len(dashboard.SENT_KINDS)  # Procedure ... MedicationDispense
    jobs = _parse(dashboard.problem_jobs_csv(db, branch.id).text)
    assert len(jobs) == 3 and {r[3] for r in jobs[1:]} == {"Kode ICD-10 ditolak", "Waktu habis"}


def test_resend_all_needs_the_permission_and_requeues(db, clinic):
    branch, unit, room, doctor, patient = clinic
    job = SyncJob(kind=JobKind.PATIENT_LOOKUP, branch_id=branch.id, subject_type="patient",
                  subject_id=patient.id, status=JobStatus.DEAD, attempts=8)  # fmt: skip
    db.add(job)
    db.commit()
    kasir = make_user(db, "kasir", branches=[branch], main_duty=Duty.KASIR)
    dokter = make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    cashier = Actor(kasir.id, "kasir", "Kasir", Duty.KASIR, branch.id)
    with pytest.raises(PermissionDenied):
        dashboard.resend_all(db, cashier)
    db.rollback()
    doctor_actor = Actor(dokter.id, "dokter", "Dokter", Duty.DOKTER_UMUM, branch.id)
    assert dashboard.resend_all(db, doctor_actor) == 1
    db.commit()
    db.refresh(job)
    assert job.status == JobStatus.PENDING and job.attempts == 0
    audit = db.exec(select(AuditLog).where(AuditLog.action == "satusehat_resend_all")).one()
    assert audit.after == {"count": 1}


def test_procedures_allergies_and_medications_accepted_are_counted_per_week(db, clinic):
    from klinikita.models.allergies import PatientAllergy
    from klinikita.models.clinical import Prescription, Procedure

    branch, patient = clinic[0], clinic[4]
    this_week = _done(db, clinic, 1, _utc(2026, 11, 24, 3, 0), encounter=True)
    last_week = _done(db, clinic, 2, _utc(2026, 11, 17, 3, 0), encounter=True)
    for visit, rid in ((this_week, "p1"), (this_week, None), (last_week, "p2")):
        db.add(Procedure(visit_id=visit.id, code="93.94", description="Nebu", resource_id=rid))
    db.add(
        PatientAllergy(patient_id=patient.id, branch_id=branch.id, kind="none",
                       code="716186003", display="Tidak ada alergi",
                       recorded_visit_id=this_week.id, recorded_at=NOW, resource_id="a1")
    )  # fmt: skip
    # Two lines sent this week, one of them dispensed; last week's line only requested.
    for n, (visit, request, dispense) in enumerate(
        ((this_week, "mr1", "md1"), (this_week, "mr2", None), (last_week, "mr3", None),
         (last_week, None, None)), start=1,
    ):  # fmt: skip
        line = Prescription(visit_id=visit.id, line_no=n, medicine="Paracetamol")
        line.medication_request_id, line.medication_dispense_id = request, dispense
        db.add(line)
    db.commit()
    weeks = dashboard.weekly_counts(db, branch.id, now=NOW)
    none = {"procedure": 0, "allergy": 0, "medication_request": 0, "medication_dispense": 0}
    assert [w.accepted for w in weeks] == [
        none,
        none,
        {"procedure": 1, "allergy": 0, "medication_request": 1, "medication_dispense": 0},
        {"procedure": 1, "allergy": 1, "medication_request": 2, "medication_dispense": 1},
    ]
    assert [k.key for k in dashboard.SENT_KINDS] == [
        "procedure", "allergy", "medication_request", "medication_dispense"
    ]  # fmt: skip
    assert "MedicationDispense diterima" in dashboard.WEEK_CSV_HEADERS
