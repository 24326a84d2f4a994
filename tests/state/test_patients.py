"""Kontak -> Pasien handlers, called directly as the browser would call them."""

from __future__ import annotations

import pytest
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from klinikita.models import AuditLog, Patient, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services.errors import PermissionDenied
from klinikita.state import live
from klinikita.state.patients import PatientState
from tests.factories import make_branch, make_user
from tests.patients_support import add_regions
from tests.state.conftest import logged_in, tab_at

FORM = {
    "name": "Budi Santoso",
    "birth_date": "1990-11-25",
    "sex": "male",
    "nik": "3171012511900001",
    "phone": "081234567890",
}


@pytest.fixture
def clinic(db):
    branch = make_branch(db, "Klinik A")
    add_regions(db)
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    make_user(db, "daftar", branches=[branch], main_duty=Duty.PENDAFTARAN)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    return branch


def _in_tab(root, token: str = "tab-desk-1") -> None:
    """The browser tab's client token, as Reflex fills it from the websocket."""
    root.router = RouterData.from_router_data({constants.RouteVar.CLIENT_TOKEN: token})


def _fill(state: PatientState, **changes) -> None:
    for key, value in {**FORM, **changes}.items():
        state.set_field(key, value)


def _register(state: PatientState, **changes):
    state.load()
    state.open_create()
    _fill(state, **changes)
    return state.save()


def _patients(db) -> list[Patient]:
    db.expire_all()
    rows = list(db.exec(select(Patient).order_by(Patient.id)).all())
    db.commit()  # on SQLite an open read would hold the write lock the handlers need
    return rows


def test_desk_registers_a_patient_and_the_lookup_is_queued_for_this_tab(db, root, clinic):
    _in_tab(root)
    state = logged_in(db, root, PatientState, "daftar")
    state.load()
    assert state.can_create and not state.can_edit and not state.can_delete
    state.open_create()
    assert state.mrn_label.startswith("000001")
    assert len(state.province_options) == 2 and state.city_options == []
    state.pick_region("province_code", "31")
    assert [o["value"] for o in state.city_options] == ["31.71"]
    state.pick_region("city_code", "31.71")
    state.pick_region("district_code", "31.71.01")
    assert {o["label"] for o in state.village_options} == {"Gambir", "Cideng"}
    _fill(state)
    state.set_field("village_code", "31.71.01.1002")
    state.save()
    assert state.errors == {} and not state.form_open
    [patient] = _patients(db)
    assert (patient.mrn, patient.village_code) == ("000001", "31.71.01.1002")
    job = db.exec(select(SyncJob)).one()
    db.commit()
    assert job.kind == JobKind.PATIENT_LOOKUP and job.subject_id == patient.id
    assert job.client_token == "tab-desk-1"
    # The list shows the new patient with its badge.
    assert [r["name"] for r in state.rows] == ["Budi Santoso"]
    assert state.rows[0]["sync_status"] == SyncStatus.SENDING


def test_picking_another_province_clears_the_levels_below(db, root, clinic):
    state = logged_in(db, root, PatientState, "daftar")
    state.load()
    state.open_create()
    state.pick_region("province_code", "31")
    state.pick_region("city_code", "31.71")
    state.pick_region("province_code", "32")
    assert state.form["city_code"] == "" and state.district_options == []
    assert [o["label"] for o in state.city_options] == ["Kota Bandung"]


def test_field_errors_stay_in_the_form_and_nothing_is_saved(db, root, clinic):
    state = logged_in(db, root, PatientState, "daftar")
    _register(state, nik="123", rt="12345", name="")
    assert set(state.errors) >= {"nik", "rt", "name"} and state.form_open
    assert _patients(db) == []
    # A NIK whose birth part differs only warns.
    state.set_field("nik", "3171010101900001")
    assert "nik" in state.warnings


def test_same_nik_blocks_and_names_the_existing_patient(db, root, clinic):
    state = logged_in(db, root, PatientState, "daftar")
    _register(state)
    _register(state, name="Orang Lain")
    assert "Budi Santoso" in state.errors["nik"] and "000001" in state.errors["nik"]
    assert len(_patients(db)) == 1


def test_same_name_and_birth_date_asks_then_saves_when_confirmed(db, root, clinic):
    state = logged_in(db, root, PatientState, "daftar")
    _register(state)
    _register(state, nik="", no_nik_reason="Belum punya KTP")
    assert "no_nik_reason" not in state.errors and state.errors.get("nik")
    state.set_flag("no_nik", True)
    state.save()
    assert [m["mrn"] for m in state.similar] == ["000001"] and len(_patients(db)) == 1
    state.confirm_save()
    assert state.similar == [] and [p.mrn for p in _patients(db)] == ["000001", "000002"]


def test_non_admin_cannot_edit_deactivate_or_open_the_edit_form(db, root, clinic):
    admin = logged_in(db, root, PatientState, "admin")
    _register(admin)
    [patient] = _patients(db)
    for username in ("daftar", "perawat"):
        state = logged_in(db, root, PatientState, username)
        state.load()
        with pytest.raises(PermissionDenied):
            state.start_edit(str(patient.id))
        # A crafted call straight to save with an edit id is refused too.
        state.editing_id = patient.id
        state.form = {**FORM, "name": "Diganti"}
        with pytest.raises(PermissionDenied):
            state.save()
        with pytest.raises(PermissionDenied):
            state.deactivate(str(patient.id))
    [after] = _patients(db)
    assert (after.name, after.is_active) == ("Budi Santoso", True)
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "patient")).all()
    assert actions == ["create"]
    # The nurse only reads.
    nurse = logged_in(db, root, PatientState, "perawat")
    nurse.load()
    assert not nurse.can_create and [r["name"] for r in nurse.rows] == ["Budi Santoso"]
    with pytest.raises(PermissionDenied):
        nurse.open_create()


def test_admin_edits_and_deactivates(db, root, clinic):
    state = logged_in(db, root, PatientState, "admin")
    _register(state)
    [patient] = _patients(db)
    state.start_edit(str(patient.id))
    assert state.form["nik"] == "3171012511900001" and state.mrn_label == "000001"
    assert state.form["birth_date"] == "25/11/1990"  # day first, as it is typed
    state.set_field("name", "Budi Santoso Putra")
    state.save()
    assert _patients(db)[0].name == "Budi Santoso Putra"
    state.deactivate(str(patient.id))
    assert _patients(db)[0].is_active is False and state.rows == []


def test_the_link_of_a_satusehat_message_opens_the_patient_for_the_admin(db, root, clinic):
    desk = logged_in(db, root, PatientState, "daftar")
    _register(desk)
    [patient] = _patients(db)
    tab_at(root, "tab-admin", f"/kontak/pasien?pasien={patient.id}")
    admin = logged_in(db, root, PatientState, "admin")
    admin.load()
    assert admin.form_open and admin.editing_id == patient.id
    assert admin.form["nik"] == "3171012511900001"
    tab_at(root, "tab-desk", f"/kontak/pasien?pasien={patient.id}")
    desk = logged_in(db, root, PatientState, "daftar")
    desk.load()  # may not change it: the list only
    assert not desk.form_open


def test_search_pages_on_the_server(db, root, clinic):
    state = logged_in(db, root, PatientState, "admin")
    state.load()
    for n in range(25):
        state.open_create()
        _fill(state, name=f"Rahmat {n:02d}", nik=f"31710125119{n:05d}")
        state.save()
    state.set_search_kind("name")
    state.set_search_term("rahmat")
    state.search()
    assert len(state.rows) == 20 and state.page_count == 2 and state.total_text == "25"
    state.next_page()
    assert [r["name"] for r in state.rows][0] == "Rahmat 20" and state.page == 2
    state.set_search_kind("name_contains")
    state.set_search_term("hm")
    state.search()
    assert state.rows == [] and "minimal 3" in state.search_problem


def test_the_page_follows_a_finished_job_without_a_reload(db, root, clinic):
    assert PatientState in live.listeners("patient")
    state = logged_in(db, root, PatientState, "daftar")
    _register(state)
    [patient] = _patients(db)
    patient.ihs_number, patient.sync_status = "P02478375538", SyncStatus.SENT
    db.commit()
    from klinikita.services.job_notices import JobNotice

    state._on_sync_notice(
        JobNotice(
            1, JobKind.PATIENT_LOOKUP, patient.branch_id, "patient", patient.id, "done", "", "t"
        )
    )
    assert state.rows[0]["ihs_number"] == "P02478375538"
    assert state.rows[0]["sync_status"] == SyncStatus.SENT
