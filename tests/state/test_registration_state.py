"""Pendaftaran handlers, called directly as the browser would call them."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from klinikita.models import AuditLog, Patient, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty
from klinikita.services.errors import PermissionDenied
from klinikita.state import live
from klinikita.state.patients import PatientState
from klinikita.state.registration import RegistrationState
from tests.factories import GOOD_PASSWORD, make_clinic, make_user
from tests.state.conftest import logged_in, substate, tab_at


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    make_user(db, "daftar", branches=[branch], main_duty=Duty.PENDAFTARAN)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    return branch, unit, room, doctor, patient


def _in_tab(root: rx.State, token: str) -> None:
    """The browser tab's client token, as Reflex fills it from the websocket."""
    root.router = RouterData.from_router_data({constants.RouteVar.CLIENT_TOKEN: token})


def _desk(db, username: str = "daftar", token: str = "tab-desk-1") -> RegistrationState:
    root = rx.State()
    _in_tab(root, token)
    state = logged_in(db, root, RegistrationState, username)
    state.load()
    return state


def _visits(db) -> list[Visit]:
    db.expire_all()
    rows = list(db.exec(select(Visit).order_by(Visit.id)).all())
    db.commit()  # on SQLite an open read would hold the write lock the handlers need
    return rows


def _find_and_pick(state: RegistrationState, term: str) -> None:
    state.set_search_term(term)
    state.search()
    assert state.results, f"nothing found for {term!r}"
    state.pick_patient(state.results[0]["id"])


def test_the_desk_finds_the_patient_registers_and_sees_the_number(db, clinic):
    branch, unit, room, doctor, patient = clinic
    state = _desk(db)
    assert state.page_allowed and state.can_register and state.can_cancel
    # One unit, one room and one doctor: already chosen; Umum by default.
    assert state.choice == {
        "unit_id": str(unit.id),
        "room_id": str(room.id),
        "doctor_id": str(doctor.id),
        "payer": "umum",
        "bpjs_number": "",
    }
    assert state.queue == []
    for term in ("9271060312000001", "000001", "ardi"):  # NIK, No. RM, name
        state.set_search_term(term)
        state.search()
        assert [r["name"] for r in state.results] == ["Ardianto Putra"], term
    state.pick_patient(state.results[0]["id"])
    assert state.patient["mrn"] == "000001" and state.results == []
    state.set_choice("payer", "bpjs")
    state.set_choice("bpjs_number", "0001234567890")
    state.register()
    assert state.errors == {} and state.last_number == "1"
    assert state.last_unit == "Poli Umum" and state.last_patient == "Ardianto Putra"
    assert state.patient == {}  # ready for the next patient
    [row] = state.queue
    assert row["number"] == "1" and row["patient"] == "Ardianto Putra" and row["mrn"] == "000001"
    assert row["room"] == "Ruang Periksa 1" and row["doctor"] == "dr. Alexander"
    assert row["payer"] == "BPJS" and row["status_label"] == "menunggu" and row["arrived"]
    [visit] = _visits(db)
    assert visit.payer == "bpjs" and visit.queue_number == 1
    assert visit.bpjs_number == "0001234567890"
    # The same patient again in the same unit: refused at the patient, with the number.
    _find_and_pick(state, "000001")
    state.set_choice("bpjs_number", "0001234567890")
    state.register()
    assert "nomor antrean 1" in state.errors["patient_id"]
    assert len(_visits(db)) == 1


def test_missing_choices_are_shown_at_their_fields(db, clinic):
    state = _desk(db)
    state.pick_unit("")
    state.set_choice("doctor_id", "")
    state.register()
    assert set(state.errors) == {"patient_id", "unit_id", "room_id", "doctor_id"}
    assert state.last_number == "" and _visits(db) == []
    # Choosing fixes the field's message.
    state.set_choice("doctor_id", str(clinic[3].id))
    assert "doctor_id" not in state.errors


def test_many_matches_say_how_many_more(db, clinic):
    from datetime import date

    branch = clinic[0]
    for n in range(12):
        db.add(
            Patient(
                branch_id=branch.id,
                mrn=f"1{n:05d}",
                name=f"Siti Aminah {n:02d}",
                sex="female",
                birth_date=date(1990, 1, 1),
            )
        )
    db.commit()
    state = _desk(db)
    state.set_search_term("siti")
    state.search_on_enter("Enter")
    assert len(state.results) == 8 and state.results_more == "8 dari 12"
    state.set_search_term("zzz")
    state.search()
    assert state.results == [] and state.results_more == "" and state.searched


def test_choosing_a_unit_loads_its_rooms(db, clinic):
    from klinikita.models import Room, ServiceUnit

    branch, unit, room, _, _ = clinic
    gigi = ServiceUnit(branch_id=branch.id, name="Poli Gigi")
    db.add(gigi)
    db.flush()
    db.add_all(
        [
            Room(branch_id=branch.id, unit_id=gigi.id, name="Ruang Gigi 1"),
            Room(branch_id=branch.id, unit_id=gigi.id, name="Ruang Gigi 2"),
        ]
    )
    db.commit()
    state = _desk(db)
    assert state.choice["unit_id"] == ""  # two units: the desk chooses
    assert state.room_options == []
    state.pick_unit(str(gigi.id))
    assert [o["label"] for o in state.room_options] == ["Ruang Gigi 1", "Ruang Gigi 2"]
    assert state.choice["room_id"] == ""
    state.pick_unit(str(unit.id))
    assert state.choice["room_id"] == str(room.id)


def test_a_nurse_sees_the_queue_but_is_refused_and_nothing_is_written(db, clinic):
    state = _desk(db, "perawat")
    assert state.page_allowed and not state.can_register and not state.can_cancel
    _find_and_pick(state, "000001")
    with pytest.raises(PermissionDenied, match="Perawat"):
        state.register()
    assert _visits(db) == []
    assert db.exec(select(AuditLog).where(AuditLog.entity == "visit")).all() == []
    db.commit()


def test_cancel_requires_a_reason_then_the_row_says_batal(db, clinic):
    state = _desk(db)
    _find_and_pick(state, "000001")
    state.register()
    visit_id = state.queue[0]["id"]
    assert state.queue[0]["cancellable"] == "1"
    state.open_cancel(visit_id)
    assert state.cancel_open and "Poli Umum nomor 1: Ardianto Putra" == state.cancel_label
    state.set_cancel_reason("   ")
    state.confirm_cancel()
    assert state.cancel_error == "Alasan pembatalan wajib diisi." and state.cancel_open
    assert _visits(db)[0].status == VisitStatus.REGISTERED
    state.set_cancel_reason("Pasien pulang sebelum diperiksa")
    state.confirm_cancel()
    assert not state.cancel_open
    [row] = state.queue
    assert row["status_label"] == "batal" and row["cancellable"] == ""
    assert row["cancel_reason"] == "Pasien pulang sebelum diperiksa"
    [visit] = _visits(db)
    assert visit.status == VisitStatus.CANCELLED and visit.cancelled_at is not None


def test_a_nurse_cannot_open_the_cancel_dialog(db, clinic):
    desk = _desk(db)
    _find_and_pick(desk, "000001")
    desk.register()
    nurse = _desk(db, "perawat", token="tab-nurse")
    with pytest.raises(PermissionDenied):
        nurse.open_cancel(nurse.queue[0]["id"])
    with pytest.raises(PermissionDenied):
        nurse.confirm_cancel()


def test_a_new_patient_saved_from_pendaftaran_is_picked(db, clinic):
    root = rx.State()
    _in_tab(root, "tab-desk-1")
    reg_state = logged_in(db, root, RegistrationState, "daftar")
    reg_state.load()
    form = substate(root, PatientState)
    form.open_create_for_registration()
    assert form.form_open and form.pick_after_save
    for key, value in {
        "name": "Budi Santoso",
        "birth_date": "1990-11-25",
        "sex": "male",
        "nik": "3171012511900001",
    }.items():
        form.set_field(key, value)
    events = form.save()
    assert not form.form_open and not form.pick_after_save
    db.expire_all()
    budi = db.exec(select(Patient).where(Patient.name == "Budi Santoso")).one()
    db.commit()
    # The save hands the new patient to the registration form.
    pick = events[-1]
    assert pick.handler.fn.__qualname__ == "RegistrationState.pick_patient"
    assert [value for _, value in pick.args][0].equals(rx.Var.create(str(budi.id)))
    reg_state.pick_patient(str(budi.id))
    assert reg_state.patient["name"] == "Budi Santoso"
    # Kontak -> Pasien's own "Pasien baru" does not pick anything.
    form.open_create()
    assert not form.pick_after_save


def test_another_tab_reloads_its_queue_when_a_desk_registers(db, clinic):
    branch = clinic[0]
    other = _desk(db, token="tab-desk-2")
    assert other.queue == []
    topic = live.branch_topic(branch.id)
    assert live.watchers(topic).get("tab-desk-2") is RegistrationState
    desk = _desk(db, token="tab-desk-1")
    _find_and_pick(desk, "000001")
    desk.register()
    other._on_board_change(topic, frozenset())
    assert [r["patient"] for r in other.queue] == ["Ardianto Putra"]


async def test_publish_reaches_the_other_tab_through_the_app(db, clinic):
    """The real app's state manager: a tab watching the branch gets its queue reloaded."""
    from klinikita.klinikita import app

    branch = clinic[0]
    from klinikita.services import auth

    session_token = auth.login(db, "daftar", GOOD_PASSWORD).token
    db.commit()
    watcher = rx.BaseStateToken(ident="tab-watching", cls=RegistrationState)
    async with app.modify_state(watcher) as root:
        _in_tab(root, "tab-watching")
        state = await root.get_state(RegistrationState)
        state.auth_token = session_token
        state.load()
        assert state.queue == []
    desk = _desk(db, token="tab-acting")
    _find_and_pick(desk, "000001")
    desk.register()
    await live.publish_now(app, live.branch_topic(branch.id), exclude="tab-acting")
    async with app.modify_state(watcher) as root:
        state = await root.get_state(RegistrationState)
        assert [r["number"] for r in state.queue] == ["1"]
    live.unwatch_tab("tab-watching")


def test_ganti_cabang_loads_the_desk_again_with_the_other_branchs_queue(db, clinic):
    from tests.factories import make_branch, make_visit

    branch, unit, room, doctor, patient = clinic
    other = make_branch(db, "Klinik Cabang Dua")
    make_user(db, "dua.cabang", branches=[branch, other], main_duty=Duty.PENDAFTARAN)
    make_visit(db, branch, unit, room, doctor, patient)
    root = rx.State()
    tab_at(root, "tab-branch", "/pendaftaran")
    state = logged_in(db, root, RegistrationState, "dua.cabang")
    state.load()
    assert [r["patient"] for r in state.queue] == [patient.name]
    events = state.switch_branch(str(other.id))
    loads = [e for e in events if hasattr(e, "fn")]
    assert [e.fn.__qualname__ for e in loads] == [
        "AuthState.check_login",
        "PatientState.cancel",
        "RegistrationState.load",
    ]
    loads[-1].fn(state)  # what the browser's next events run
    assert state.branch_name == "Klinik Cabang Dua" and state.queue == []
    assert state.unit_options == []  # the other branch has no units yet
