"""The version rule (services/versions.py, models.base.Versioned) on SQLite and PostgreSQL:
a save from a form loaded at an older version is refused before anything is written, a save
committed between another save's read and its write is refused too, and bookkeeping writes
(the SATUSEHAT worker's results, login counters) keep the version."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

from klinikita.models import AuditLog, Examination, Patient, User, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty, SyncStatus
from klinikita.services import examination as exam
from klinikita.services import registration, versions, visit_completion
from klinikita.services.audit import Actor
from klinikita.services.errors import StaleEdit
from klinikita.services.job_outcomes import apply_updates
from klinikita.services.job_results import RowUpdate
from klinikita.services.patient_records import PatientInput, update_patient
from tests.factories import make_clinic, make_user, make_visit
from tests.pg import require_pg, sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def clinic(db):
    return make_clinic(db)


def _actor(db, branch, username: str, duty: str = Duty.ADMIN) -> Actor:
    user = make_user(db, username, branches=[branch], main_duty=duty)
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


def _input(patient: Patient, **changes) -> PatientInput:
    values = {
        "name": patient.name,
        "nik": patient.nik or "",
        "sex": patient.sex,
        "birth_date": patient.birth_date.strftime("%d/%m/%Y"),
        "phone": patient.phone,
        **changes,
    }
    return PatientInput(**values)


def _fresh(db, model, row_id: int):
    db.expire_all()
    row = db.get(model, row_id)
    db.commit()
    return row


def _audit_rows(db, entity: str) -> int:
    count = db.exec(
        select(func.count()).select_from(AuditLog).where(AuditLog.entity == entity)
    ).one()
    db.commit()
    return count


def test_an_edit_moves_the_version_and_a_save_from_the_old_form_is_refused(db, clinic):
    branch, patient = clinic[0], clinic[4]
    first, second = _actor(db, branch, "admin"), _actor(db, branch, "admin2")
    assert patient.version == 1
    update_patient(db, first, patient.id, _input(patient, phone="081111111111"), expected_version=1)
    db.commit()
    assert _fresh(db, Patient, patient.id).version == 2
    audits = _audit_rows(db, "patient")
    with pytest.raises(StaleEdit) as refused:
        update_patient(
            db, second, patient.id, _input(patient, phone="082222222222"), expected_version=1
        )
    db.rollback()
    assert refused.value.message.startswith("Data ini sudah diubah oleh Admin pukul ")
    assert refused.value.message.endswith(". Muat ulang untuk melihat perubahan.")
    saved = _fresh(db, Patient, patient.id)
    assert (saved.phone, saved.version) == ("081111111111", 2)
    assert _audit_rows(db, "patient") == audits  # nothing of the refused save was written


def test_a_save_from_the_current_form_goes_through(db, clinic):
    branch, patient = clinic[0], clinic[4]
    actor = _actor(db, branch, "admin")
    for expected, phone in ((1, "081111111111"), (2, "082222222222"), (3, "083333333333")):
        update_patient(
            db, actor, patient.id, _input(patient, phone=phone), expected_version=expected
        )
        db.commit()
    saved = _fresh(db, Patient, patient.id)
    assert (saved.phone, saved.version) == ("083333333333", 4)


def test_a_change_committed_between_the_read_and_the_write_is_refused(db, clinic):
    """The UPDATE carries the version read: when another writer moved it on after the save
    read the row (simulated here on the save's own connection), no row matches and the save
    is refused with the same message instead of the ORM's StaleDataError."""
    branch, patient = clinic[0], clinic[4]
    actor = _actor(db, branch, "admin")
    row = db.get(Patient, patient.id)
    versions.check(db, row, 1, entity="patient", branch_id=branch.id)  # the form's version
    table = Patient.__table__  # a plain UPDATE: the session's copy keeps the version it read
    db.connection().execute(
        update(table).where(table.c.id == patient.id).values(version=table.c.version + 1)
    )
    row.phone = "089999999999"
    with pytest.raises(StaleEdit) as refused:
        versions.save(db, row, entity="patient", branch_id=actor.branch_id)
    assert "Muat ulang" in refused.value.message
    assert _fresh(db, Patient, patient.id).phone == ""


def test_background_and_bookkeeping_writes_keep_the_version(db, clinic):
    branch, patient = clinic[0], clinic[4]
    actor = _actor(db, branch, "admin")
    # The SATUSEHAT worker writes the IHS number it found (plain UPDATEs, as it does).
    apply_updates(
        db,
        [RowUpdate("patient", patient.id, {"ihs_number": "P0001", "sync_status": "sent"})],
    )
    db.commit()
    # Login bookkeeping on the user row (a failure count, a lock), written through the ORM.
    user = db.get(User, actor.user_id)
    user.failed_logins, user.locked_until = 1, utcnow()
    db.add(user)
    db.commit()
    # The outbox marks a row as sending through the ORM.
    row = db.get(Patient, patient.id)
    row.sync_status = SyncStatus.SENDING
    db.add(row)
    db.commit()
    assert _fresh(db, Patient, patient.id).version == 1
    user = _fresh(db, User, actor.user_id)
    assert (user.failed_logins, user.version) == (1, 1)
    # So the desk's form, loaded before all of that, still saves.
    update_patient(db, actor, patient.id, _input(patient, phone="081111111111"), expected_version=1)
    db.commit()
    saved = _fresh(db, Patient, patient.id)
    assert (saved.phone, saved.ihs_number, saved.version) == ("081111111111", "P0001", 2)


def test_a_stale_save_without_an_audit_trail_still_says_to_reload(db, clinic):
    branch, patient = clinic[0], clinic[4]
    refusal = versions.stale_edit(db, "patient", patient.id, branch.id)
    assert refusal.message == versions.STALE_UNKNOWN


# ----- the visit and its examination --------------------------------------------------------
def _exam_row(db, visit_id: int) -> Examination:
    db.expire_all()
    row = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    db.commit()
    return row


def test_vitals_and_soap_saves_check_and_move_the_examinations_version(db, clinic):
    branch = clinic[0]
    visit = make_visit(db, *clinic)
    nurse = _actor(db, branch, "perawat", Duty.PERAWAT)
    doctor = _actor(db, branch, "dokter", Duty.DOKTER_UMUM)
    exam.save_vitals(db, nurse, visit.id, {"pulse": "80"}, expected_version=0)
    db.commit()
    assert _exam_row(db, visit.id).version == 1
    # A second nurse's form was filled before there was an examination.
    with pytest.raises(StaleEdit) as refused:
        exam.save_vitals(db, nurse, visit.id, {"pulse": "96"}, expected_version=0)
    db.rollback()
    assert "oleh Perawat pukul" in refused.value.message
    exam.save_soap(db, doctor, visit.id, {"plan": "Kontrol"}, expected_version=1)
    db.commit()
    with pytest.raises(StaleEdit) as refused:
        exam.save_soap(db, doctor, visit.id, {"plan": "Istirahat"}, expected_version=1)
    db.rollback()
    assert "oleh Dokter pukul" in refused.value.message
    row = _exam_row(db, visit.id)
    assert (row.pulse, row.plan, row.version) == (80, "Kontrol", 2)


def test_the_visits_version_moves_with_its_status_not_with_its_sending(db, clinic):
    branch = clinic[0]
    visit = make_visit(db, *clinic)
    user = make_user(
        db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=clinic[3].id
    )
    doctor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    exam.start_examination(db, doctor, visit.id)
    db.commit()
    assert _fresh(db, Visit, visit.id).version == 2  # registered -> in examination
    exam.save_vitals(db, doctor, visit.id, {"pulse": "80", "temperature": "36,8"})
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    db.commit()
    assert _fresh(db, Visit, visit.id).version == 2  # its examination and diagnoses changed
    room = clinic[2]
    room.ihs_id = "LOC-1"
    db.add(room)
    db.commit()
    visit_completion.complete_visit(db, doctor, visit.id)
    db.commit()
    done = _fresh(db, Visit, visit.id)
    assert (done.status, done.sync_status, done.version) == (
        VisitStatus.COMPLETE,
        SyncStatus.SENDING,
        3,
    )
    apply_updates(
        db,
        [RowUpdate("visit", visit.id, {"encounter_id": "ENC-1", "sync_status": "sent"})],
    )
    db.commit()
    assert _fresh(db, Visit, visit.id).version == 3  # the worker's write keeps it


def test_cancel_from_a_dialog_opened_before_another_change_is_refused(db, clinic):
    branch = clinic[0]
    visit = make_visit(db, *clinic)
    desk = _actor(db, branch, "daftar", Duty.PENDAFTARAN)
    nurse = _actor(db, branch, "perawat", Duty.PERAWAT)
    opened_at = registration.cancel_form_version(db, desk, visit.id)
    db.commit()
    exam.start_examination(db, nurse, visit.id)
    db.commit()
    with pytest.raises(StaleEdit) as refused:
        registration.cancel_visit(db, desk, visit.id, "Pulang", expected_version=opened_at)
    db.rollback()
    assert "oleh Perawat pukul" in refused.value.message
    assert _fresh(db, Visit, visit.id).status == VisitStatus.IN_EXAMINATION


# ----- real races on PostgreSQL ----------------------------------------------------------------
# SQLite takes its write lock at BEGIN (db.make_engine), so a save's read and write are never
# split by another writer there; on PostgreSQL they are, and the UPDATE's version check is
# what refuses the second save.
def _in_thread(work) -> tuple[threading.Thread, list]:  # noqa: ANN001
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # noqa: BLE001 (handed to the test)
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _race(db, first_save, second_save) -> object:  # noqa: ANN001
    """`first_save(session)` runs and keeps its transaction open; `second_save(session)`
    starts on another connection (its read sees the row as it was) and must wait for the
    first's row lock; the first then commits. What the second save raised or returned."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the read-time check covers it")
    require_pg()
    engine = db.get_bind()
    with Session(engine, expire_on_commit=False) as one, Session(engine) as two:
        first_save(one)
        thread, outcome = _in_thread(lambda: second_save(two))
        time.sleep(0.5)  # the second save has read the row and waits for its lock
        assert thread.is_alive(), "the second save did not wait for the first"
        one.commit()
        thread.join(10)
        two.rollback()
    return outcome[0]


def test_two_patient_saves_at_once_on_postgresql(db, clinic):
    branch, patient = clinic[0], clinic[4]
    first, second = _actor(db, branch, "admin"), _actor(db, branch, "admin2")
    got = _race(
        db,
        lambda s: update_patient(
            s, first, patient.id, _input(patient, phone="081111111111"), expected_version=1
        ),
        lambda s: update_patient(
            s, second, patient.id, _input(patient, phone="082222222222"), expected_version=1
        ),
    )
    assert isinstance(got, StaleEdit) and "oleh Admin pukul" in got.message
    saved = _fresh(db, Patient, patient.id)
    assert (saved.phone, saved.version) == ("081111111111", 2)


def test_two_soap_saves_at_once_on_postgresql(db, clinic):
    branch = clinic[0]
    visit = make_visit(db, *clinic)
    first = _actor(db, branch, "dokter", Duty.DOKTER_UMUM)
    second = _actor(db, branch, "dokter2", Duty.DOKTER_UMUM)
    exam.save_soap(db, first, visit.id, {"subjective": "Batuk"})
    db.commit()
    got = _race(
        db,
        lambda s: exam.save_soap(s, first, visit.id, {"plan": "A"}, expected_version=1),
        lambda s: exam.save_soap(s, second, visit.id, {"plan": "B"}, expected_version=1),
    )
    assert isinstance(got, StaleEdit) and "oleh Dokter pukul" in got.message
    row = _exam_row(db, visit.id)
    assert (row.plan, row.version) == ("A", 2)


def test_a_nurse_and_a_doctor_starting_one_visit_at_once_both_save_on_postgresql(db, clinic):
    """Both first writes would start the visit: the second waits for the first (the visit's
    row is locked by each examination write), then finds it started and saves."""
    branch = clinic[0]
    visit = make_visit(db, *clinic)
    nurse = _actor(db, branch, "perawat", Duty.PERAWAT)
    doctor = _actor(db, branch, "dokter", Duty.DOKTER_UMUM)
    got = _race(
        db,
        lambda s: exam.save_vitals(s, nurse, visit.id, {"pulse": "80"}, expected_version=0),
        lambda s: (exam.add_diagnosis(s, doctor, visit.id, "J06.9"), s.commit())[0],
    )
    assert not isinstance(got, Exception), got
    started = _fresh(db, Visit, visit.id)
    assert (started.status, started.version) == (VisitStatus.IN_EXAMINATION, 2)
    assert _exam_row(db, visit.id).pulse == 80
    assert [d.icd10_code for d in exam.diagnoses_of(db, visit.id)] == ["J06.9"]
