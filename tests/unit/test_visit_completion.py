"""Selesai: the readiness check one blocker at a time, completion with its job in the same
transaction, a refusal that writes nothing, and the order of the statusHistory times."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from klinikita import routes
from klinikita.models import AuditLog, Branch, Employee, Patient, Room, SyncJob, User, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import examination as exam
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied
from klinikita.services.examination_view import as_completed, visit_record
from tests.factories import make_clinic, make_nurse, make_user, make_visit
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    room.ihs_id = "LOC-1"  # the room is already a Location
    db.add(room)
    db.commit()
    return branch, unit, room, doctor, patient


@pytest.fixture
def visit(db, clinic):
    return make_visit(db, *clinic)


def _actor(db, branch, duty, employee=None) -> Actor:
    user = make_user(
        db,
        duty.replace("_", ""),
        branches=[branch],
        main_duty=duty,
        employee_id=employee.id if employee is not None else None,
    )
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def doctor(db, clinic):
    """The visit's doctor, logged in."""
    return _actor(db, clinic[0], Duty.DOKTER_UMUM, clinic[3])


def _ready(db, visit, doctor):
    exam.save_vitals(db, doctor, visit.id, {"systolic": "120", "diastolic": "80"})
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    db.commit()


def _committed_read(db, read, *args, **kwargs):  # noqa: ANN001, ANN201
    """`read(session, *args, **kwargs)` in a session of its own once `db`'s work is
    committed, as the page reads."""
    db.commit()
    with Session(db.get_bind()) as session:
        return read(session, *args, **kwargs)


def _keys(db, visit) -> list[str]:
    db.expire_all()
    return [b.key for b in completion.completion_blockers(db, visit.id)]


def test_a_fresh_visit_lacks_only_its_diagnosis(db, visit):
    blockers = completion.completion_blockers(db, visit.id)
    assert [b.key for b in blockers] == ["diagnosis"]
    assert "Belum ada diagnosis" in blockers[0].message
    assert blockers[0].link == f"{routes.PEMERIKSAAN}?kunjungan={visit.id}#diagnosis"


def test_ready_when_diagnosed(db, visit, doctor):
    _ready(db, visit, doctor)
    assert completion.completion_blockers(db, visit.id) == []


def test_patient_without_nik_or_ihs_is_a_blocker_with_its_link(db, clinic, visit, doctor):
    _ready(db, visit, doctor)
    patient = db.get(Patient, clinic[4].id)
    patient.nik = None
    db.add(patient)
    db.commit()
    [blocker] = completion.completion_blockers(db, visit.id)
    assert blocker.key == "patient" and blocker.link == routes.KONTAK_PASIEN
    assert "belum punya NIK" in blocker.message and patient.name in blocker.message
    # An IHS number is enough on its own.
    patient.ihs_number = "P02478375538"
    db.add(patient)
    db.commit()
    assert _keys(db, visit) == []


def test_a_patient_not_found_by_nik_blocks(db, clinic, visit, doctor):
    _ready(db, visit, doctor)
    patient = db.get(Patient, clinic[4].id)
    patient.sync_status = SyncStatus.NOT_FOUND
    db.add(patient)
    db.commit()
    [blocker] = completion.completion_blockers(db, visit.id)
    assert blocker.key == "patient" and "nomor IHS" in blocker.message


def test_doctor_without_nik_or_ihs_is_a_blocker(db, clinic, visit, doctor):
    _ready(db, visit, doctor)
    employee = db.get(Employee, clinic[3].id)
    employee.nik = "123"
    db.add(employee)
    db.commit()
    [blocker] = completion.completion_blockers(db, visit.id)
    assert blocker.key == "doctor" and blocker.link == routes.KONTAK_KARYAWAN
    assert "tidak valid" in blocker.message


def _nurse_actor(db, branch, *, linked: bool = True):
    """A nurse's login; with `linked`, tied to her employee (the simulator knows her NIK)."""
    nurse, user = make_nurse(db, branch, username="sheila")
    if not linked:
        user.employee_id = None
        db.add(user)
        db.commit()
    return nurse, Actor(user.id, user.username, user.full_name, Duty.PERAWAT, branch.id)


@pytest.mark.parametrize(
    ("unknown", "says"),
    [({"nik": None}, "belum punya NIK"), ({"sync_status": SyncStatus.NOT_FOUND}, "nomor IHS")],
)
def test_the_nurse_who_measured_without_an_ihs_number_refuses_selesai(
    db, clinic, visit, doctor, unknown, says
):
    nurse, sheila = _nurse_actor(db, clinic[0])
    exam.save_vitals(db, sheila, visit.id, {"pulse": "80"})
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    db.commit()
    assert _keys(db, visit) == []  # her NIK is valid: the worker looks her up first
    nurse = db.get(Employee, nurse.id)
    for key, value in unknown.items():
        setattr(nurse, key, value)
    db.add(nurse)
    db.commit()
    with pytest.raises(completion.VisitNotReady) as refused:
        completion.complete_visit(db, doctor, visit.id)
    [blocker] = refused.value.blockers
    assert (blocker.key, blocker.link) == ("vitals_by", routes.KONTAK_KARYAWAN)
    assert blocker.link_label == "Kontak > Karyawan"
    assert "Perawat Sheila Annisa S.Kep (yang mengukur tanda vital)" in blocker.message
    assert says in blocker.message
    db.rollback()
    assert db.get(Visit, visit.id).status == VisitStatus.IN_EXAMINATION
    nurse = db.get(Employee, nurse.id)
    nurse.ihs_number = "10014058550"
    db.add(nurse)
    db.commit()
    assert _keys(db, visit) == []


def test_vitals_saved_by_a_user_without_an_employee_refuse_selesai(db, clinic, visit, doctor):
    nurse, sheila = _nurse_actor(db, clinic[0], linked=False)
    exam.save_vitals(db, sheila, visit.id, {"pulse": "80"})
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    db.commit()
    [blocker] = completion.completion_blockers(db, visit.id)
    assert (blocker.key, blocker.link) == ("vitals_by", routes.PENGATURAN_PENGGUNA)
    assert "Tanda vital diukur oleh Sheila (pengguna sheila)" in blocker.message
    assert "tidak terhubung ke data karyawan" in blocker.message
    # Linking her login to her employee afterwards names her as the one who measured.
    user = db.get(User, sheila.user_id)
    user.employee_id = nurse.id
    db.add(user)
    db.commit()
    assert _keys(db, visit) == []


def test_room_without_location_is_a_blocker(db, clinic, visit, doctor):
    _ready(db, visit, doctor)
    room = db.get(Room, clinic[2].id)
    room.ihs_id = None
    db.add(room)
    db.commit()
    [blocker] = completion.completion_blockers(db, visit.id)
    assert blocker.key == "room" and blocker.link == routes.REFERENSI_RUANGAN
    assert room.name in blocker.message and "Location" in blocker.message


def test_missing_branch_credentials_are_a_blocker(db, clinic, visit, doctor):
    _ready(db, visit, doctor)
    branch = db.get(Branch, clinic[0].id)
    branch.ss_client_id = ""
    branch.ss_secret_encrypted = ""
    db.add(branch)
    db.commit()
    [blocker] = completion.completion_blockers(db, visit.id)
    assert blocker.key == "credentials"
    assert "Client ID" in blocker.message and "Secret Key" in blocker.message
    assert blocker.link == f"{routes.PENGATURAN}?cabang={branch.id}"


def test_implausible_times_are_a_blocker(db, visit, doctor):
    _ready(db, visit, doctor)
    row = db.get(Visit, visit.id)
    row.exam_started_at = utcnow() + timedelta(hours=2)  # a wrong clock
    db.add(row)
    db.commit()
    keys = _keys(db, visit)
    assert keys and set(keys) == {"times"}


def test_every_missing_thing_is_listed_at_once(db, clinic, visit):
    patient, employee, room = (
        db.get(Patient, clinic[4].id),
        db.get(Employee, clinic[3].id),
        db.get(Room, clinic[2].id),
    )
    patient.nik, employee.nik, room.ihs_id = None, None, None
    db.add_all([patient, employee, room])
    db.commit()
    assert _keys(db, visit) == ["patient", "doctor", "room", "diagnosis"]


def test_complete_writes_status_time_and_job_together(db, visit, doctor):
    _ready(db, visit, doctor)
    done = completion.complete_visit(db, doctor, visit.id, client_token="tab-9")
    db.commit()
    db.expire_all()
    row = db.get(Visit, visit.id)
    assert row.status == VisitStatus.COMPLETE and row.completed_at is not None
    assert row.sync_status == SyncStatus.SENDING and done.id == row.id
    job = db.exec(select(SyncJob).where(SyncJob.subject_id == visit.id)).one()
    assert (job.kind, job.status, job.client_token) == (
        JobKind.VISIT_SEND,
        JobStatus.PENDING,
        "tab-9",
    )
    assert db.exec(select(AuditLog).where(AuditLog.action == "exam_complete")).one()


def test_a_refusal_writes_nothing_and_lists_the_blockers(db, visit, doctor):
    exam.start_examination(db, doctor, visit.id)
    db.commit()
    audits = db.exec(select(func.count()).select_from(AuditLog)).one()
    with pytest.raises(completion.VisitNotReady) as refused:
        completion.complete_visit(db, doctor, visit.id, client_token="tab-9")
    assert [b.key for b in refused.value.blockers] == ["diagnosis"]
    assert "Belum ada diagnosis" in refused.value.message
    db.rollback()
    db.expire_all()
    row = db.get(Visit, visit.id)
    assert row.status == VisitStatus.IN_EXAMINATION and row.completed_at is None
    assert row.sync_status == SyncStatus.NOT_SENT
    assert db.exec(select(SyncJob)).first() is None
    assert db.exec(select(func.count()).select_from(AuditLog)).one() == audits


def test_a_nurse_cannot_complete(db, clinic, visit, doctor):
    _ready(db, visit, doctor)
    nurse = _actor(db, clinic[0], Duty.PERAWAT)
    with pytest.raises(PermissionDenied):
        completion.complete_visit(db, nurse, visit.id)


def test_completing_twice_is_refused(db, visit, doctor):
    _ready(db, visit, doctor)
    completion.complete_visit(db, doctor, visit.id)
    db.commit()
    with pytest.raises(completion.VisitNotReady) as again:
        completion.complete_visit(db, doctor, visit.id)
    assert "sudah selesai" in again.value.message


def test_status_history_order_arrived_started_completed(db, visit, doctor):
    _ready(db, visit, doctor)
    completion.complete_visit(db, doctor, visit.id)
    db.commit()
    db.expire_all()
    row = db.get(Visit, visit.id)
    assert row.arrived_at <= row.exam_started_at <= row.completed_at
    # And the bundle the worker will build carries them in that order.
    from klinikita.services.satusehat_rules import checked_visit_bundle

    patient = db.get(Patient, row.patient_id)
    patient.ihs_number = "P1"
    employee = db.get(Employee, row.doctor_id)
    employee.ihs_number = "N1"
    built = checked_visit_bundle(
        visit=row,
        patient=patient,
        doctor=employee,
        room=db.get(Room, row.room_id),
        examination=exam.examination_of(db, row.id),
        diagnoses=exam.diagnoses_of(db, row.id),
        branch=db.get(Branch, row.branch_id),
        now=utcnow(),
    )
    history = built.bundle["entry"][0]["resource"]["statusHistory"]
    assert [h["status"] for h in history] == ["arrived", "in-progress", "finished"]
    starts = [h["period"]["start"] for h in history]
    assert starts == sorted(starts)


def test_resend_goes_through_the_failed_job(db, visit, doctor):
    _ready(db, visit, doctor)
    completion.complete_visit(db, doctor, visit.id)
    db.commit()
    job = db.exec(select(SyncJob)).one()
    job.status = JobStatus.DEAD
    row = db.get(Visit, visit.id)
    row.sync_status, row.sync_error = SyncStatus.FAILED, "ditolak"
    db.add_all([job, row])
    db.commit()
    again = completion.resend_visit(db, doctor, visit.id, client_token="tab-2")
    db.commit()
    assert again.id == job.id and again.status == JobStatus.PENDING
    assert again.client_token == "tab-2"
    assert db.get(Visit, visit.id).sync_status == SyncStatus.SENDING


def test_the_page_after_selesai_is_what_reading_the_visit_again_shows(db, clinic, visit, doctor):
    """Selesai shows the completed visit without reading it back (`as_completed`): it
    must be what a read shows, in the branch's own time zone (WIT here, not WIB)."""
    branch = clinic[0]
    branch.timezone = "Asia/Jayapura"
    db.add(branch)
    _ready(db, visit, doctor)
    before = _committed_read(db, visit_record, branch.id, visit.id, lists=())
    done = completion.complete_visit(db, doctor, visit.id)
    db.commit()
    shown = as_completed(before, done)
    again = _committed_read(db, visit_record, branch.id, visit.id, lists=())
    assert shown == again
    assert shown.status_label == "selesai" and shown.completed_time
    assert shown.sync_status == SyncStatus.SENDING


# ----- Selesai as the page runs it: a click's own session --------------------------------------
def _exam_completes(db) -> list[AuditLog]:
    db.expire_all()
    return db.exec(select(AuditLog).where(AuditLog.action == "exam_complete")).all()


def _click(db, work):  # noqa: ANN001, ANN201
    """`work(session)` in a session of its own (a click's), committed at its end."""
    with Session(db.get_bind(), expire_on_commit=False) as session:
        done = work(session)
        session.commit()
    return done


def test_selesai_names_its_new_job_in_the_audit(db, visit, doctor):
    _ready(db, visit, doctor)
    done = _click(
        db, lambda s: completion.complete_visit(s, doctor, visit.id, client_token="tab-1")
    )
    assert done.status == VisitStatus.COMPLETE
    job = db.exec(select(SyncJob).where(SyncJob.subject_id == visit.id)).one()
    assert (job.kind, job.status, job.client_token) == (
        JobKind.VISIT_SEND,
        JobStatus.PENDING,
        "tab-1",
    )
    [logged] = _exam_completes(db)
    assert logged.after["job"] == job.id
    assert db.get(Visit, visit.id).sync_status == SyncStatus.SENDING


def test_an_open_job_of_the_visit_is_reused_not_doubled(db, clinic, visit, doctor):
    """Whatever left a visit's job open before Selesai, the visit still gets one job."""
    _ready(db, visit, doctor)
    waiting = SyncJob(
        kind=JobKind.VISIT_SEND, branch_id=clinic[0].id, subject_type="visit",
        subject_id=visit.id,
    )  # fmt: skip
    db.add(waiting)
    db.commit()
    _click(db, lambda s: completion.complete_visit(s, doctor, visit.id, client_token="tab-2"))
    db.expire_all()
    [job] = db.exec(select(SyncJob).where(SyncJob.subject_id == visit.id)).all()
    assert (job.id, job.client_token) == (waiting.id, "tab-2")
    assert _exam_completes(db)[0].after["job"] == waiting.id


@pytest.mark.postgres
def test_two_tabs_pressing_selesai_at_once_complete_the_visit_once(db, visit, doctor):
    """Selesai locks the visit's row with its first read: a second tab's Selesai waits
    there until the first commits, then finds the visit complete and is refused; one job,
    one audit row."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    _ready(db, visit, doctor)
    engine = db.get_bind()
    first_read, commit_first = threading.Event(), threading.Event()
    second: list[str] = []

    def first_tab() -> None:
        with Session(engine) as session:
            completion.complete_visit(session, doctor, visit.id, client_token="tab-1")
            first_read.set()
            commit_first.wait(10)
            session.commit()

    def second_tab() -> None:
        try:
            with Session(engine) as session:
                completion.complete_visit(session, doctor, visit.id, client_token="tab-2")
                second.append("read the visit")
                session.commit()
        except completion.VisitNotReady as refused:
            second.append(refused.message)

    tabs = [threading.Thread(target=first_tab), threading.Thread(target=second_tab)]
    tabs[0].start()
    assert first_read.wait(10)
    tabs[1].start()
    tabs[1].join(0.5)
    assert second == []  # waiting on the visit's row
    commit_first.set()
    for tab in tabs:
        tab.join(10)
    assert len(second) == 1 and "sudah selesai" in second[0], second
    assert len(db.exec(select(SyncJob).where(SyncJob.subject_id == visit.id)).all()) == 1
    assert len(_exam_completes(db)) == 1


def test_a_drug_allergy_without_kfa_and_an_unknown_performer_block_selesai(
    db, clinic, visit, doctor
):
    from klinikita.models.allergies import PatientAllergy
    from klinikita.models.clinical import Procedure

    _ready(db, visit, doctor)
    branch, patient = clinic[0], clinic[4]
    stranger = Employee(branch_id=branch.id, name="Tanpa NIK", main_duty=Duty.PERAWAT)
    nurse, _ = make_nurse(db, branch)  # a NIK the worker can look up: no blocker
    db.add(stranger)
    db.commit()
    proc = Procedure(visit_id=visit.id, code="93.94", description="Nebu",
                     performed_by_id=nurse.id)  # fmt: skip
    db.add(proc)
    db.add(
        Procedure(visit_id=visit.id, code="", description="Kompres", performed_by_id=stranger.id)
    )
    db.commit()
    assert _keys(db, visit) == []
    proc.performed_by_id = stranger.id
    db.add(proc)
    db.add(
        PatientAllergy(patient_id=patient.id, branch_id=branch.id, kind="drug", code="",
                       display="Obat X", recorded_visit_id=visit.id, recorded_at=utcnow())
    )  # fmt: skip
    db.commit()
    blockers = completion.completion_blockers(db, visit.id)
    assert [b.key for b in blockers] == ["procedures", "allergies"]
    assert "Tanpa NIK" in blockers[0].message and "KFA" in blockers[1].message
    assert blockers[1].link.endswith("#allergies")
