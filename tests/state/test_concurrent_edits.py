"""Two tabs edit the same record: the first save wins, the second is refused (it does not
overwrite), keeps what its user typed and names who changed the record and when.

One test per record kind that has an edit form: patient, employee, user, service unit, room,
branch, visit (the cancel dialog) and examination (vitals and SOAP)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
import reflex as rx
from sqlmodel import select

from klinikita.models import (
    AuditLog,
    Branch,
    Employee,
    Examination,
    Patient,
    Room,
    ServiceUnit,
    User,
    Visit,
)
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import BranchTimeZone, Duty
from klinikita.state.branch_settings import BranchSettingsState
from klinikita.state.employees import EmployeeState
from klinikita.state.examination import ExaminationState
from klinikita.state.patients import PatientState
from klinikita.state.referensi import RoomState, UnitState
from klinikita.state.registration import RegistrationState
from klinikita.state.user_admin import UserAdminState
from tests.factories import make_clinic, make_user, make_visit
from tests.state.conftest import logged_in, tab_at
from tests.support.toasts import toasts_of

STALE = "stale"  # where a form shows the refusal (state.master_list.STALE_ERROR)


@pytest.fixture
def clinic(db):
    """A branch in Jayapura (WIT, UTC+9): the refusal's time is the branch's clock, not UTC."""
    branch, unit, room, doctor, patient = make_clinic(db)
    branch.timezone = BranchTimeZone.WIT
    db.add(branch)
    db.commit()
    for username in ("admin", "admin2"):
        make_user(db, username, branches=[branch], main_duty=Duty.ADMIN)
    for username in ("daftar", "daftar2"):
        make_user(db, username, branches=[branch], main_duty=Duty.PENDAFTARAN)
    for username in ("perawat", "perawat2"):
        make_user(db, username, branches=[branch], main_duty=Duty.PERAWAT)
    for username in ("dokter", "dokter2"):
        make_user(db, username, branches=[branch], main_duty=Duty.DOKTER_UMUM)
    return branch, unit, room, doctor, patient


def _tab(db, cls: type[rx.State], username: str, path: str = "/") -> rx.State:
    """`cls` in a browser tab of its own, logged in as `username`."""
    root = rx.State()
    tab_at(root, f"tab-{username}", path)
    return logged_in(db, root, cls, username)


def _refusal(db, entity: str, entity_id: int, username: str) -> str:
    """The refusal the other tab must see: the name of the user who saved first, and the
    time of that save on the branch's clock (WIT)."""
    db.expire_all()
    row = db.exec(
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.id.desc())
    ).first()
    user = db.exec(select(User).where(User.username == username)).one()
    db.commit()
    assert row is not None and row.username == username
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    hhmm = at.astimezone(ZoneInfo("Asia/Jayapura")).strftime("%H:%M")
    return (
        f"Data ini sudah diubah oleh {user.full_name} pukul {hhmm}. "
        "Muat ulang untuk melihat perubahan."
    )


def _toast_says(event, message: str) -> None:
    """The handler's returned toast is an error carrying `message`."""
    assert ("error", message) in toasts_of(event)


def _row(db, model, row_id: int):
    db.expire_all()
    row = db.get(model, row_id)
    db.commit()  # release SQLite's write lock before the next handler writes
    return row


# The forms of Kontak and Referensi: (state, model, audit entity, the clinic's row, field).
MASTER_FORMS = [
    (PatientState, Patient, "patient", 4, "phone"),
    (EmployeeState, Employee, "employee", 3, "phone"),
    (UnitState, ServiceUnit, "service_unit", 1, "name"),
    (RoomState, Room, "room", 2, "name"),
]
TYPED = {"phone": ("081111111111", "082222222222"), "name": ("Nama Pagi", "Nama Sore")}


@pytest.mark.parametrize(("cls", "model", "entity", "index", "field"), MASTER_FORMS)
def test_patient_employee_unit_room_two_tabs_change_one_field(
    db, clinic, cls, model, entity, index, field
):
    row = clinic[index]
    first, second = TYPED[field]
    a = _tab(db, cls, "admin")
    b = _tab(db, cls, "admin2")
    for tab in (a, b):
        if cls in (UnitState, RoomState):
            tab.load()  # their forms start from the rows on screen
        tab.start_edit(str(row.id))
    a.set_field(field, first)
    a.save()
    assert not a.form_open and a.errors == {}
    b.set_field(field, second)
    toast = b.save()
    message = _refusal(db, entity, row.id, "admin")
    assert b.form_open and b.errors == {STALE: message}
    assert b.form[field] == second and b.editing_id == row.id
    _toast_says(toast, message)
    assert getattr(_row(db, model, row.id), field) == first


def _two_user_forms(db) -> tuple[User, UserAdminState, UserAdminState]:
    """Two admins' tabs with the nurse's user form open."""
    nurse = db.exec(select(User).where(User.username == "perawat")).one()
    db.commit()
    a = _tab(db, UserAdminState, "admin")
    b = _tab(db, UserAdminState, "admin2")
    a.start_edit(str(nurse.id))
    b.start_edit(str(nurse.id))
    return nurse, a, b


def test_user_two_tabs_change_the_email_and_the_name(db, clinic):
    nurse, a, b = _two_user_forms(db)
    a.set_field("email", "perawat@klinik.id")
    a.save({})
    assert a.mode == "" and a.errors == {}
    b.set_field("full_name", "Perawat Senior")
    toast = b.save({})
    message = _refusal(db, "user", nurse.id, "admin")
    assert b.mode == "edit" and b.errors == {STALE: message}
    assert b.form["full_name"] == "Perawat Senior" and b.form["email"] == ""
    _toast_says(toast, message)
    saved = _row(db, User, nurse.id)
    assert (saved.email, saved.full_name) == ("perawat@klinik.id", "Perawat")


def test_a_users_duty_change_alone_conflicts_too(db, clinic):
    """Duties live in rows of their own: a save of only those still moves the version."""
    nurse, a, b = _two_user_forms(db)
    a.toggle_extra_duty(Duty.BIDAN, True)
    a.save({})
    assert a.errors == {}
    b.set_field("email", "perawat@klinik.id")
    b.save({})
    assert b.errors == {STALE: _refusal(db, "user", nurse.id, "admin")}
    assert _row(db, User, nurse.id).email is None


def test_branch_two_tabs_change_the_phone(db, clinic):
    branch = clinic[0]
    a = _tab(db, BranchSettingsState, "admin")
    b = _tab(db, BranchSettingsState, "admin2")
    a.start_edit(str(branch.id))
    b.start_edit(str(branch.id))
    a.set_field("phone", "0967-111")
    a.save({})
    assert a.editing_id == 0 and a.errors == {}
    b.set_field("phone", "0967-222")
    toast = b.save({})
    message = _refusal(db, "branch", branch.id, "admin")
    assert b.editing_id == branch.id and b.errors == {STALE: message}
    assert b.form["phone"] == "0967-222"
    _toast_says(toast, message)
    assert _row(db, Branch, branch.id).phone == "0967-111"


def test_visit_two_desks_cancel_it_with_different_reasons(db, clinic):
    visit = make_visit(db, *clinic)
    a = _tab(db, RegistrationState, "daftar")
    b = _tab(db, RegistrationState, "daftar2")
    for desk in (a, b):
        desk.load()
        desk.open_cancel(str(visit.id))
    a.set_cancel_reason("Pasien pulang")
    a.confirm_cancel()
    assert not a.cancel_open
    b.set_cancel_reason("Salah poli")
    toast = b.confirm_cancel()
    message = _refusal(db, "visit", visit.id, "daftar")
    assert b.cancel_open and b.cancel_error == message and b.cancel_reason == "Salah poli"
    _toast_says(toast, message)
    saved = _row(db, Visit, visit.id)
    assert (saved.status, saved.cancel_reason) == (VisitStatus.CANCELLED, "Pasien pulang")


def test_visit_cancel_is_refused_once_the_nurse_started_the_examination(db, clinic):
    visit = make_visit(db, *clinic)
    desk = _tab(db, RegistrationState, "daftar")
    desk.load()
    desk.open_cancel(str(visit.id))
    desk.set_cancel_reason("Pasien pulang")
    nurse = _tab(db, ExaminationState, "perawat")
    nurse.load()
    nurse.open_visit(str(visit.id))
    nurse.start_exam()
    desk.confirm_cancel()
    assert desk.cancel_error == _refusal(db, "visit", visit.id, "perawat")
    assert desk.cancel_open and desk.cancel_reason == "Pasien pulang"
    assert _row(db, Visit, visit.id).status == VisitStatus.IN_EXAMINATION


def _exam_tab(db, username: str, visit_id: int) -> ExaminationState:
    state = _tab(db, ExaminationState, username, "/pemeriksaan")
    state.load()
    state.open_visit(str(visit_id))
    return state


def _examination(db, visit_id: int) -> Examination:
    db.expire_all()
    row = db.exec(select(Examination).where(Examination.visit_id == visit_id)).one()
    db.commit()
    return row


def test_examination_two_nurses_save_the_pulse(db, clinic):
    visit = make_visit(db, *clinic)
    a = _exam_tab(db, "perawat", visit.id)
    b = _exam_tab(db, "perawat2", visit.id)
    a.set_vital("pulse", "80")
    b.set_vital("pulse", "96")
    a.save_vitals()  # the visit's first examination write
    assert a.vitals_errors == {} and a.vitals["pulse"] == "80"
    # The live update reaches B while B has typed: B's typing stays, and so does the
    # version B's form was filled from.
    b._on_board_change("", frozenset({visit.id}))
    assert b.vitals["pulse"] == "96"
    exam = _examination(db, visit.id)
    toast = b.save_vitals()
    message = _refusal(db, "examination", exam.id, "perawat")
    assert b.vitals_errors == {STALE: message} and b.vitals["pulse"] == "96" and b.vitals_dirty
    _toast_says(toast, message)
    assert _examination(db, visit.id).pulse == 80


def test_examination_two_doctors_save_the_plan(db, clinic):
    visit = make_visit(db, *clinic)
    first = _exam_tab(db, "dokter", visit.id)
    first.set_soap("subjective", "Batuk")
    first.save_soap()  # the examination exists before both tabs open it
    a = _exam_tab(db, "dokter", visit.id)
    b = _exam_tab(db, "dokter2", visit.id)
    a.set_soap("plan", "Paracetamol 3 x 500 mg")
    a.save_soap()
    assert a.soap_errors == {}
    b.set_soap("plan", "Istirahat, kontrol 3 hari")
    toast = b.save_soap()
    exam = _examination(db, visit.id)
    message = _refusal(db, "examination", exam.id, "dokter")
    assert b.soap_errors == {STALE: message} and b.soap["plan"] == "Istirahat, kontrol 3 hari"
    _toast_says(toast, message)
    assert exam.plan == "Paracetamol 3 x 500 mg" and exam.subjective == "Batuk"


def test_a_tabs_own_vitals_save_does_not_refuse_its_unsaved_soap(db, clinic):
    """Vitals and SOAP share the examination's version: this tab's own save moves it, and
    the SOAP typed meanwhile in the same tab still saves."""
    visit = make_visit(db, *clinic)
    tab = _exam_tab(db, "dokter", visit.id)
    tab.set_soap("plan", "Kontrol 3 hari")
    tab.set_vital("pulse", "88")
    tab.save_vitals()
    assert tab.soap_dirty and tab.soap["plan"] == "Kontrol 3 hari"
    tab.save_soap()
    assert tab.soap_errors == {}
    exam = _examination(db, visit.id)
    assert (exam.pulse, exam.plan, exam.version) == (88, "Kontrol 3 hari", 2)


def test_the_nurses_vitals_and_the_doctors_soap_typed_at_once_both_save(db, clinic):
    """A save of the other section in between is no conflict: the doctor's SOAP was typed
    from an examination whose notes nobody has changed since."""
    visit = make_visit(db, *clinic)
    first = _exam_tab(db, "perawat", visit.id)
    first.set_vital("pulse", "80")
    first.save_vitals()  # the examination exists before both tabs open it
    nurse = _exam_tab(db, "perawat", visit.id)
    doctor = _exam_tab(db, "dokter", visit.id)
    doctor.set_soap("plan", "Kontrol 3 hari")
    nurse.set_vital("pulse", "92")
    nurse.save_vitals()
    doctor._on_board_change("", frozenset({visit.id}))  # the nurse's save, told live
    doctor.save_soap()
    assert doctor.soap_errors == {}
    nurse.set_vital("spo2", "97")  # the nurse's form now follows the doctor's save
    nurse._on_board_change("", frozenset({visit.id}))
    nurse.save_vitals()
    assert nurse.vitals_errors == {}
    exam = _examination(db, visit.id)
    assert (exam.pulse, exam.spo2, exam.plan, exam.version) == (92, 97, "Kontrol 3 hari", 4)


def test_a_soap_changed_in_between_still_refuses_after_a_vitals_save(db, clinic):
    visit = make_visit(db, *clinic)
    first = _exam_tab(db, "dokter", visit.id)
    first.set_soap("plan", "Awal")
    first.save_soap()
    a = _exam_tab(db, "dokter", visit.id)
    b = _exam_tab(db, "dokter2", visit.id)
    nurse = _exam_tab(db, "perawat", visit.id)
    a.set_soap("plan", "Paracetamol")
    a.save_soap()
    nurse.set_vital("pulse", "90")
    nurse.save_vitals()
    b.set_soap("plan", "Istirahat")
    b.save_soap()
    assert STALE in b.soap_errors
    assert _examination(db, visit.id).plan == "Paracetamol"
