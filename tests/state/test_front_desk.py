"""Pendaftaran at the speed of a queue (issue 27): search as you type, the region picker,
BPJS card numbers, the branch that lacks a doctor, unit or room, and stale error toasts."""

from __future__ import annotations

import json

import pytest
import reflex as rx
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from klinikita import routes
from klinikita.models import Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.enums import Duty
from klinikita.state.patients import PatientState
from klinikita.state.registration import ERROR_TOAST, RegistrationState
from tests.factories import make_branch, make_clinic, make_user
from tests.patients_support import add_regions
from tests.state.conftest import logged_in

BPJS = "0001234567890"


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    add_regions(db)
    make_user(db, "daftar", branches=[branch], main_duty=Duty.PENDAFTARAN)
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    return branch, unit, room, doctor, patient


def _tab(db, cls, username: str = "daftar", token: str = "tab-desk-1"):
    root = rx.State()
    root.router = RouterData.from_router_data({constants.RouteVar.CLIENT_TOKEN: token})
    state = logged_in(db, root, cls, username)
    state.load()
    return state


def _visits(db) -> list[Visit]:
    db.expire_all()
    rows = list(db.exec(select(Visit).order_by(Visit.id)).all())
    db.commit()
    return rows


def _events(result) -> str:
    """The events a handler returned, as text (what the browser is told to do)."""
    items = result if isinstance(result, list) else [result]
    return json.dumps([str(e) for e in items if e is not None])


# ----- search as you type -----------------------------------------------------------------
def test_typing_part_of_a_name_lists_the_patient_without_enter(db, clinic):
    state = _tab(db, RegistrationState)
    state.set_search_term("ardi")  # what the debounced box sends; no Enter, no Cari
    assert [r["name"] for r in state.results] == ["Ardianto Putra"]
    state.set_search_term("ardix")
    assert state.results == [] and state.searched
    state.set_search_term("")
    assert state.results == [] and not state.searched


def test_the_patient_page_searches_as_you_type_too(db, clinic):
    state = _tab(db, PatientState, "admin")
    state.set_search_term("Ardi")
    assert [r["name"] for r in state.rows] == ["Ardianto Putra"]
    state.set_search_term("0812")  # a phone prefix nobody has
    assert state.rows == []


def test_enter_picks_the_only_match_and_moves_to_daftarkan(db, clinic):
    state = _tab(db, RegistrationState)
    state.set_search_term("000001")
    result = state.search_on_enter("Enter")
    assert state.patient["name"] == "Ardianto Putra"
    assert "ref_reg_submit" in _events(result)  # focus goes to the Daftarkan button


def test_a_bpjs_number_finds_the_patient(db, clinic):
    patient = clinic[4]
    patient.bpjs_number = BPJS
    db.add(patient)
    db.commit()
    state = _tab(db, RegistrationState)
    state.set_search_term("0001 2345 67890")
    assert [r["name"] for r in state.results] == ["Ardianto Putra"]


# ----- BPJS on the visit ------------------------------------------------------------------
def test_a_bpjs_visit_needs_the_card_number_and_keeps_it(db, clinic):
    state = _tab(db, RegistrationState)
    state.set_search_term("ardi")
    state.pick_patient(state.results[0]["id"])
    state.set_choice("payer", "bpjs")
    result = state.register()
    assert "wajib" in state.errors["bpjs_number"] and _visits(db) == []
    assert ERROR_TOAST in _events(result)
    for wrong in ("12345", "00012345678901", "０００１２３４５６７８９０"):  # full-width digits
        state.set_choice("bpjs_number", wrong)
        state.register()
        assert state.errors["bpjs_number"], wrong
    assert _visits(db) == []
    state.set_choice("bpjs_number", BPJS)
    result = state.register()
    assert state.errors == {} and state.last_number == "1"
    [visit] = _visits(db)
    assert visit.payer == "bpjs" and visit.bpjs_number == BPJS
    # The success closes the error toast the refused attempts left open.
    assert f"dismiss('{ERROR_TOAST}')" in _events(result)


def test_the_patients_card_number_is_prefilled_and_an_umum_visit_keeps_none(db, clinic):
    patient = clinic[4]
    patient.bpjs_number = BPJS
    db.add(patient)
    db.commit()
    state = _tab(db, RegistrationState)
    state.pick_patient(str(patient.id))
    assert state.choice["bpjs_number"] == BPJS
    state.register()  # Umum: the number is not the visit's
    [visit] = _visits(db)
    assert visit.payer == "umum" and visit.bpjs_number is None


def test_the_patient_form_checks_and_stores_the_bpjs_number(db, clinic):
    state = _tab(db, PatientState, "admin")
    state.open_create()
    for key, value in {
        "name": "Budi Santoso",
        "birth_date": "25-11-1990",
        "sex": "male",
        "nik": "3171012511900001",
        "bpjs_number": "12345",
    }.items():
        state.set_field(key, value)
    state.save()
    assert "13 digit" in state.errors["bpjs_number"]
    state.set_field("bpjs_number", "0001 2345 67890")
    state.save_on_enter("Enter")  # Enter in a field saves, as Simpan does
    assert state.errors == {} and not state.form_open
    db.expire_all()
    saved = db.exec(select(Patient).where(Patient.name == "Budi Santoso")).one()
    db.commit()
    assert saved.bpjs_number == BPJS


# ----- the region picker ------------------------------------------------------------------
def test_typing_a_village_and_picking_it_fills_the_four_levels(db, clinic):
    state = _tab(db, PatientState, "admin")
    state.open_create()
    state.set_region_term("cid")
    assert [r["code"] for r in state.region_results] == ["31.71.01.1002"]
    assert state.region_results[0]["label"] == (
        "Cideng, Kec. Gambir, Kota Administrasi Jakarta Pusat, Daerah Khusus Ibukota Jakarta"
    )
    state.pick_village("31.71.01.1002")
    assert [state.form[f] for f in ("province_code", "city_code", "district_code")] == [
        "31",
        "31.71",
        "31.71.01",
    ]
    assert state.form["village_code"] == "31.71.01.1002"
    assert {o["value"] for o in state.village_options} == {"31.71.01.1001", "31.71.01.1002"}
    assert state.region_label.startswith("Cideng") and state.region_results == []
    # A kecamatan's name lists its villages; Enter picks the first.
    state.set_region_term("gambir")
    assert {r["code"] for r in state.region_results} == {"31.71.01.1001", "31.71.01.1002"}
    state.region_on_enter("Enter")
    assert state.form["village_code"] == "31.71.01.1001"
    # A made-up code is refused at the field.
    state.pick_village("99.99.99.9999")
    assert state.errors["village_code"]


# ----- a branch that lacks what registering needs -----------------------------------------
def test_a_branch_without_doctor_unit_or_room_says_so_with_links(db):
    bare = make_branch(db, "Praktik Baru")
    make_user(db, "daftar", branches=[bare], main_duty=Duty.PENDAFTARAN)
    state = _tab(db, RegistrationState)
    assert [g["key"] for g in state.setup_gaps] == ["unit", "room", "doctor"]
    hrefs = {g["key"]: g["href"] for g in state.setup_gaps}
    assert hrefs == {
        "unit": routes.REFERENSI_UNIT,
        "room": routes.REFERENSI_RUANGAN,
        "doctor": routes.KONTAK_KARYAWAN,
    }
    unit = ServiceUnit(branch_id=bare.id, name="Praktik Umum")
    db.add(unit)
    db.flush()
    db.add(Room(branch_id=bare.id, unit_id=unit.id, name="Ruang Praktik"))
    db.commit()
    state.load()
    [gap] = state.setup_gaps
    assert gap["key"] == "doctor" and "dokter" in gap["message"]
    db.add(Employee(branch_id=bare.id, name="dr. Sari", main_duty=Duty.DOKTER_UMUM))
    db.commit()
    state.load()
    assert state.setup_gaps == [] and len(state.doctor_options) == 1


# ----- mail honesty -----------------------------------------------------------------------
def test_without_mail_the_reset_page_says_ask_the_admin_and_makes_no_link(db, clinic):
    from klinikita.models import PasswordResetToken
    from klinikita.services.password_reset import NO_MAIL_REPLY
    from klinikita.state.passwords import ForgotPasswordState
    from klinikita.state.user_admin import UserAdminState
    from tests.state.conftest import substate

    forgot = substate(rx.State(), ForgotPasswordState)
    forgot.open()
    assert not forgot.mail_ready and forgot.no_mail_message == NO_MAIL_REPLY
    forgot.submit({"identifier": "daftar"})
    assert not forgot.sent and forgot.message == ""  # never "email sent"
    assert db.exec(select(PasswordResetToken)).all() == []
    db.commit()
    admin = _tab(db, UserAdminState, "admin")
    assert not admin.mail_ready and "tidak dapat dikirim" in admin.no_mail_warning


def test_with_mail_the_reset_page_offers_the_link_and_email_is_required(db, clinic, mail_server):
    from klinikita.state.passwords import ForgotPasswordState
    from klinikita.state.user_admin import UserAdminState
    from tests.state.conftest import substate

    forgot = substate(rx.State(), ForgotPasswordState)
    forgot.open()
    assert forgot.mail_ready
    admin = _tab(db, UserAdminState, "admin")
    assert admin.mail_ready
    admin.start_create()
    for key, value in {
        "username": "wulan",
        "full_name": "Pengguna Baru",
        "main_duty": Duty.PERAWAT.value,
    }.items():
        admin.set_field(key, value)
    sandi = {"password": "Baru#Sandi2027", "password_confirm": "Baru#Sandi2027"}
    admin.save(sandi)
    assert "Email wajib" in admin.errors["email"]
    admin.set_field("email", "wulan@klinik.test")
    admin.save(sandi)
    assert admin.errors == {} and admin.mode == ""
