"""Pemeriksaan handlers, called directly as the browser would call them."""

from __future__ import annotations

from datetime import date

import pytest
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from klinikita.models import Diagnosis, Examination, Room, SyncJob, Visit
from klinikita.models.base import utcnow
from klinikita.models.billing import Tariff
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services.errors import PermissionDenied
from klinikita.services.job_notices import JobNotice
from klinikita.services.visit_queue import local_today
from klinikita.state import live
from klinikita.state.examination import VITALS_EMPTY, ExaminationState
from tests.factories import make_clinic, make_nurse, make_patient, make_user, make_visit
from tests.prescribing_support import make_allergy, make_items
from tests.state.conftest import logged_in, tab_at

VITALS = {"systolic": "118", "diastolic": "76", "pulse": "80", "temperature": "36,7"}


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    room.ihs_id = "LOC-1"
    db.add(room)
    db.commit()
    make_nurse(db, branch, username="perawat")
    make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=doctor.id)
    return branch, unit, room, doctor, patient


@pytest.fixture
def visit(db, clinic):
    return make_visit(db, *clinic)


def _in_tab(root, token: str) -> None:
    root.router = RouterData.from_router_data({constants.RouteVar.CLIENT_TOKEN: token})


def _open(db, root, username: str, visit_id: int, token: str = "tab-exam-1"):
    _in_tab(root, token)
    state = logged_in(db, root, ExaminationState, username)
    state.load()
    state.open_visit(str(visit_id))
    return state


def _visit(db, visit_id: int) -> Visit:
    db.expire_all()
    row = db.get(Visit, visit_id)
    db.commit()  # release SQLite's read snapshot before the next handler writes
    return row


def test_the_list_shows_todays_patients_and_opens_one(db, root, clinic, visit):
    _in_tab(root, "tab-list")
    state = logged_in(db, root, ExaminationState, "dokter")
    state.load()
    assert [r["id"] for r in state.rows] == [str(visit.id)]
    assert state.rows[0]["patient_name"] == clinic[4].name
    assert live.watchers(live.branch_topic(clinic[0].id)).get("tab-list") is ExaminationState
    state.open_visit(str(visit.id))
    assert state.visit_id == visit.id and state.header["mrn"] == clinic[4].mrn


def test_a_new_registration_appears_through_the_board(db, root, clinic, visit):
    _in_tab(root, "tab-board")
    state = logged_in(db, root, ExaminationState, "perawat")
    state.load()
    assert len(state.rows) == 1
    branch, unit, room, doctor, _ = clinic
    make_visit(db, branch, unit, room, doctor, make_patient(db, branch), queue_number=2)
    state._on_board_change(live.branch_topic(clinic[0].id), frozenset())
    assert [r["queue_number"] for r in state.rows] == ["1", "2"]


def test_nurse_saves_vitals_but_is_refused_soap_diagnosis_and_selesai(db, root, visit):
    state = _open(db, root, "perawat", visit.id)
    assert state.can_vitals and not state.can_medical and not state.can_complete
    for field, value in VITALS.items():
        state.set_vital(field, value)
    state.save_vitals()
    assert state.vitals_errors == {} and state.vitals["temperature"] == "36,7"
    row = _visit(db, visit.id)
    assert row.status == VisitStatus.IN_EXAMINATION and row.exam_started_at is not None
    state.set_soap("subjective", "Batuk")
    for refused in (state.save_soap, lambda: state.add_diagnosis("J06.9"), state.complete):
        with pytest.raises(PermissionDenied):
            refused()
    db.expire_all()
    exam = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert exam.subjective == "" and exam.temperature == 36.7
    assert db.exec(select(Diagnosis)).first() is None and db.exec(select(SyncJob)).first() is None
    assert _visit(db, visit.id).status == VisitStatus.IN_EXAMINATION


def test_a_wrong_vital_is_shown_at_its_field(db, root, visit):
    state = _open(db, root, "perawat", visit.id)
    state.set_vital("spo2", "120")
    state.save_vitals()
    assert "50–100 %" in state.vitals_errors["spo2"]
    assert _visit(db, visit.id).status == VisitStatus.REGISTERED


def test_empty_vitals_are_refused_at_the_form(db, root, visit):
    state = _open(db, root, "perawat", visit.id)
    toast = state.save_vitals()
    message = state.vitals_errors[VITALS_EMPTY]
    assert "masih kosong" in message and "nadi" in message
    assert message in str(toast)
    assert state.vitals_time == ""
    assert _visit(db, visit.id).status == VisitStatus.REGISTERED
    assert db.exec(select(Examination)).first() is None


def test_blockers_are_shown_when_not_ready(db, root, clinic, visit):
    room = db.get(Room, clinic[2].id)
    room.ihs_id = None
    db.add(room)
    db.commit()
    state = _open(db, root, "dokter", visit.id)
    state.complete()
    keys = [b["key"] for b in state.blockers]
    assert keys == ["room", "diagnosis"]
    assert state.blockers[0]["link"] == "/referensi/ruangan"
    assert _visit(db, visit.id).status == VisitStatus.REGISTERED
    assert db.exec(select(SyncJob)).first() is None
    db.commit()  # release SQLite's write lock (reads begin IMMEDIATE)
    # The list shrinks as things are fixed.
    state.add_diagnosis("J06.9")
    assert [b["key"] for b in state.blockers] == ["room"]


def test_doctor_examines_and_completes_then_the_notice_shows_the_encounter(db, root, visit):
    state = _open(db, root, "dokter", visit.id, token="tab-doctor")
    for field, value in VITALS.items():
        state.set_vital(field, value)
    state.save_vitals()
    for field, text in {"subjective": "Batuk pilek 3 hari", "assessment": "ISPA"}.items():
        state.set_soap(field, text)
    state.save_soap()
    state.search_icd("j06")
    assert "J06.9" in [r["code"] for r in state.icd_results]
    state.add_diagnosis("J06.9")
    state.add_diagnosis("R50.9")
    assert [(d["code"], d["primary"]) for d in state.diagnoses] == [("J06.9", "1"), ("R50.9", "")]
    state.set_procedure_field("description", "Nebulisasi")
    state.add_procedure()
    items = make_items(db, clinic_of(db, visit))
    state.search_rx_item("paracetamol")
    state.pick_rx_item(str(items["paracetamol"].id))
    for field, value in {"dose": "1 tablet", "frequency": "3 x sehari", "quantity": "10"}.items():
        state.set_rx_field(field, value)
    state.add_rx_line()
    assert len(state.procedures) == 1 and len(state.prescriptions) == 1
    state.complete()
    assert state.blockers == []
    assert state.is_complete and state.sync_status == SyncStatus.SENDING
    # Selesai shows the completed visit without reading it back: as a reload shows it.
    shown = (dict(state.header), state.status, state.sync_status, state.encounter_id)
    assert shown[0]["status_label"] == "selesai" and shown[0]["completed_time"] != "-"
    state._load_record()
    assert (state.header, state.status, state.sync_status, state.encounter_id) == shown
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.VISIT_SEND)).one()
    assert job.client_token == "tab-doctor"
    db.commit()
    # The worker wrote the encounter back; its notice reaches this tab.
    row = db.get(Visit, visit.id, populate_existing=True)  # as the worker reads it
    row.encounter_id, row.sync_status = "ENC-123", SyncStatus.SENT
    db.add(row)
    db.commit()
    assert ExaminationState in live.listeners("visit")
    state._on_sync_notice(
        JobNotice(job.id, JobKind.VISIT_SEND, row.branch_id, "visit", row.id, "done", "", "t")
    )
    assert state.encounter_id == "ENC-123" and state.sync_status == SyncStatus.SENT


def test_a_failed_send_shows_satusehat_text_and_resends(db, root, visit):
    state = _open(db, root, "dokter", visit.id, token="tab-doctor")
    state.add_diagnosis("J06.9")
    state.complete()
    job = db.exec(select(SyncJob)).one()
    job.status = "dead"
    row = db.get(Visit, visit.id, populate_existing=True)  # as the worker reads it
    row.sync_status, row.sync_error = SyncStatus.FAILED, "Patient tidak valid (SATUSEHAT)"
    db.add_all([job, row])
    db.commit()
    state._on_sync_notice(
        JobNotice(job.id, JobKind.VISIT_SEND, row.branch_id, "visit", row.id, "dead", "", "t")
    )
    assert state.sync_failed and state.sync_error == "Patient tidak valid (SATUSEHAT)"
    state.resend()
    assert state.sync_status == SyncStatus.SENDING
    db.expire_all()
    assert db.get(SyncJob, job.id).status == "pending"


def test_a_visit_held_by_refused_keys_says_so_and_satusehat_text_goes_under_detail(
    db, root, clinic, visit
):
    state = _open(db, root, "dokter", visit.id, token="tab-doctor")
    state.add_diagnosis("J06.9")
    state.complete()
    assert state.sync_sending and not state.key_refused
    branch = db.get(type(clinic[0]), clinic[0].id, populate_existing=True)
    branch.ss_key_refused_at, branch.ss_key_refusal = utcnow(), "ditolak"
    job = db.exec(select(SyncJob)).one()
    job.waiting_for = "Nomor IHS pasien sedang dicari"
    db.add_all([branch, job])
    db.commit()
    state._on_sync_notice(
        JobNotice(job.id, JobKind.VISIT_SEND, branch.id, "visit", visit.id, "pending", "", "t")
    )
    assert state.key_refused and state.sync_hint.startswith("Kunci SATUSEHAT ditolak")
    assert "admin" in state.sync_hint and state.sync_link == ""  # a doctor calls the admin

    raw = "HTTP 400: Encounter.period.start is required (RuleNumber: 10120)"
    row = db.get(Visit, visit.id, populate_existing=True)
    row.sync_status, row.sync_error = SyncStatus.FAILED, raw
    db.add(row)
    db.commit()
    state._on_sync_notice(
        JobNotice(job.id, JobKind.VISIT_SEND, branch.id, "visit", visit.id, "failed", "", "t")
    )
    assert state.sync_hint.startswith("Waktu kunjungan") and state.sync_detail == raw
    assert state.sync_link == f"/pemeriksaan?kunjungan={visit.id}"
    assert state.sync_error == raw  # stored as it came

    state.load()  # today's list says it too
    assert state.branch_key_refused["message"].startswith("Kunci SATUSEHAT ditolak")


def test_unsaved_forms_survive_a_board_reload_and_block_selesai(db, root, clinic, visit):
    state = _open(db, root, "dokter", visit.id)
    state.set_soap("plan", "Kontrol 3 hari")
    state._on_board_change(live.branch_topic(clinic[0].id), frozenset())
    assert state.soap["plan"] == "Kontrol 3 hari"
    state.complete()
    assert _visit(db, visit.id).status == VisitStatus.REGISTERED


def test_a_link_with_kunjungan_opens_the_visit_and_the_menu_shows_the_list(db, root, visit):
    root.router = RouterData.from_router_data(
        {
            constants.RouteVar.CLIENT_TOKEN: "tab-link",
            constants.RouteVar.HEADERS: {"origin": "http://klinik.test"},
            constants.RouteVar.ORIGIN: f"/pemeriksaan?kunjungan={visit.id}",
        }
    )
    state = logged_in(db, root, ExaminationState, "dokter")
    state.load()
    assert state.visit_id == visit.id and state.header["patient_name"]
    _in_tab(root, "tab-link")  # the plain menu link, no ?kunjungan=
    state.load()
    assert state.visit_id == 0 and len(state.rows) == 1


def test_ganti_tugas_on_the_open_page_loads_it_again_for_the_new_duty(db, root, clinic, visit):
    """A nurse who is also a doctor switches duty on Pemeriksaan: the page runs its loads
    again, so SOAP, diagnoses and Selesai open without a reload."""
    make_user(db, "dr.perawat", branches=[clinic[0]], extra_duties=(Duty.DOKTER_UMUM,))
    tab_at(root, "tab-switch", "/pemeriksaan")
    state = logged_in(db, root, ExaminationState, "dr.perawat")
    state.load()
    assert state.can_vitals and not state.can_medical
    events = state.switch_duty(Duty.DOKTER_UMUM)
    names = [e.fn.__qualname__ for e in events if hasattr(e, "fn")]
    assert names == ["AuthState.check_login", "ExaminationState.load"]
    for handler in events[1:]:
        handler.fn(state)  # what the browser's next events run
    assert state.duty == Duty.DOKTER_UMUM and state.can_medical and state.can_complete


def test_a_category_with_subcodes_is_offered_them_before_it_is_kept(db, root, visit):
    state = _open(db, root, "dokter", visit.id)
    state.search_icd("a09")
    state.add_diagnosis("A09")
    # Not added yet: the warning offers the more specific codes.
    assert state.diagnoses == []
    assert state.icd_category == "A09"
    assert [s["code"] for s in state.icd_subcodes] == ["A09.0", "A09.9"]
    state.add_diagnosis("A09.9")
    assert [d["code"] for d in state.diagnoses] == ["A09.9"]
    assert (state.icd_category, state.icd_subcodes) == ("", [])
    # Picked again after the warning, the category is kept as the doctor chose.
    state.add_diagnosis("E11")
    assert [d["code"] for d in state.diagnoses] == ["A09.9"]
    state.add_diagnosis("E11")
    assert [d["code"] for d in state.diagnoses] == ["A09.9", "E11"]
    # A specific code goes in at once.
    state.add_diagnosis("J06.9")
    assert [d["code"] for d in state.diagnoses][-1] == "J06.9"


def test_diagnoses_are_searched_and_shown_in_indonesian_with_the_english_under(db, root, visit):
    state = _open(db, root, "dokter", visit.id)
    state.search_icd("ispa")
    first = state.icd_results[0]
    assert (first["code"], first["display"]) == ("J06.9", "Infeksi saluran pernapasan atas akut")
    assert first["english"] == "Acute upper respiratory infection, unspecified"
    state.search_icd("cholera")  # not in the Indonesian list: the English alone
    assert state.icd_results[0]["english"] == ""
    state.add_diagnosis("J06.9")
    (shown,) = state.diagnoses
    assert shown["display"] == "Infeksi saluran pernapasan atas akut"
    assert shown["english"] == "Acute upper respiratory infection, unspecified"
    state.search_icd("a09")
    state.add_diagnosis("A09")
    assert {"code": "A09.9", "display": "Gastroenteritis akut"} in state.icd_subcodes


def test_a_nurse_cannot_search_diagnoses(db, root, visit):
    state = _open(db, root, "perawat", visit.id)
    with pytest.raises(PermissionDenied):
        state.search_icd("ispa")


def test_a_procedure_is_found_by_its_indonesian_name_and_fills_the_form(db, root, visit):
    state = _open(db, root, "dokter", visit.id)
    state.search_procedure("hecting")
    first = state.procedure_results[0]
    assert (first["code"], first["display"]) == ("86.59", "Penjahitan luka")
    state.pick_procedure("86.59")
    assert state.procedure_form["code"] == "86.59"
    assert state.procedure_form["description"] == "Penjahitan luka"
    assert (state.procedure_query, state.procedure_results) == ("", [])
    state.set_procedure_field("note", "3 jahitan")
    state.add_procedure()
    assert [(p["code"], p["description"]) for p in state.procedures] == [
        ("86.59", "Penjahitan luka")
    ]
    state.set_procedure_field("code", "13.34")
    state.set_procedure_field("description", "Tindakan lain")
    state.add_procedure()
    assert "tidak dikenal" in state.procedure_errors["code"]
    # A code outside the Indonesian list: its English title, with the code.
    state.search_procedure("appendectomy")
    shown = {r["code"]: r for r in state.procedure_results}
    assert shown["47.09"]["display"] == "Other appendectomy" and shown["47.09"]["english"] == ""


def test_the_clinics_own_procedure_names_come_first_and_fill_the_form(db, root, clinic, visit):
    branch = clinic[0]
    today = local_today(branch)
    for name, code, payer, ended in [
        ("Hecting luka kecil", "86.59", "", None),
        ("Hecting luka kecil", "86.59", "bpjs", None),  # another payer: listed once
        ("Hecting lama", "86.59", "", today),  # ended today: not offered
    ]:
        db.add(Tariff(branch_id=branch.id, kind="procedure", name=name, code=code, payer=payer,
                      amount=50000, valid_from=date(2026, 1, 1), ended_on=ended))  # fmt: skip
    db.commit()
    state = _open(db, root, "dokter", visit.id)
    state.search_procedure("hecting")
    first, second = state.procedure_results[:2]
    assert (first["display"], first["code"], first["clinic"]) == (
        "Hecting luka kecil",
        "86.59",
        "1",
    )
    assert first["english"] == "Closure of skin and subcutaneous tissue of other sites"
    assert (second["display"], second["clinic"]) == ("Penjahitan luka", "")
    assert [r["display"] for r in state.procedure_results].count("Hecting luka kecil") == 1
    state.pick_procedure(first["key"])
    assert state.procedure_form["code"] == "86.59"
    assert state.procedure_form["description"] == "Hecting luka kecil"
    state.add_procedure()
    assert [(p["code"], p["description"]) for p in state.procedures] == [
        ("86.59", "Hecting luka kecil")
    ]
    nurse = _open(db, root, "perawat", visit.id, token="tab-exam-2")
    with pytest.raises(PermissionDenied):
        nurse.search_procedure("hecting")


def clinic_of(db, visit):  # noqa: ANN001, ANN201
    from klinikita.models import Branch

    branch = db.get(Branch, visit.branch_id)
    db.commit()
    return branch


def test_the_doctor_prescribes_a_line_and_a_racikan_and_removes_one(db, root, clinic, visit):
    items = make_items(db, clinic[0])
    state = _open(db, root, "dokter", visit.id)
    assert state.can_prescribe
    state.search_rx_item("ctm")
    assert [r["name"] for r in state.rx_results] == ["CTM 4 mg tablet"]
    state.pick_rx_item(state.rx_results[0]["id"])
    assert state.rx_form["item_name"] == "CTM 4 mg tablet" and state.rx_results == []
    state.set_rx_field("dose", "1 tablet")
    state.add_rx_line()  # no quantity, no frequency
    assert set(state.rx_errors) == {"quantity", "times_per_day"}
    state.set_rx_field("frequency", "2 x sehari")
    state.set_rx_field("quantity", "6")
    state.add_rx_line()
    assert state.rx_errors == {} and state.rx_form["item_id"] == ""
    state.set_racikan_field("name", "Puyer batuk")
    state.set_racikan_field("quantity", "10")
    state.set_racikan_field("dose", "1 bungkus")
    state.set_racikan_field("frequency", "3 x sehari")
    for name in ("paracetamol", "ctm"):
        state.search_racikan_item(name)
        state.pick_racikan_item(str(items[name].id))
    state.pick_racikan_item(str(items["ctm"].id))  # not in the results any more: ignored
    assert [r["name"] for r in state.racikan_rows] == ["Paracetamol 500 mg tablet",
                                                       "CTM 4 mg tablet"]  # fmt: skip
    state.add_racikan()  # no units yet
    assert set(state.racikan_errors) == {"ingredients.0.quantity", "ingredients.1.quantity"}
    state.set_racikan_row(0, "quantity", "2")
    state.set_racikan_row(1, "quantity", "1")
    state.set_racikan_row(1, "dose_text", "0,4 mg")
    state.add_racikan()
    assert state.racikan_rows == [] and state.racikan_errors == {}
    assert [(p["line_no"], p["compound"]) for p in state.prescriptions] == [("1", ""), ("2", "1")]
    assert "CTM 4 mg tablet 1 tablet (tiap racikan 0,4 mg)" in state.prescriptions[1]["ingredients"]
    state.remove_prescription(state.prescriptions[0]["id"])
    assert [p["line_no"] for p in state.prescriptions] == ["1"]


def test_an_allergy_warning_waits_for_the_doctor(db, root, clinic, visit):
    items = make_items(db, clinic[0])
    make_allergy(db, clinic[4], clinic[0], display="Penisilin")
    state = _open(db, root, "dokter", visit.id)
    state.search_rx_item("amoks")
    state.pick_rx_item(str(items["amoxicillin"].id))
    for field, value in {"dose": "1 kapsul", "frequency": "3 x sehari", "quantity": "15"}.items():
        state.set_rx_field(field, value)
    state.add_rx_line()
    assert "Penisilin" in state.rx_warning and state.prescriptions == []
    state.cancel_rx_allergy()
    assert state.rx_warning == "" and state.rx_form["item_id"] != ""  # the form stays
    state.add_rx_line()
    state.confirm_rx_allergy()
    assert state.rx_warning == "" and len(state.prescriptions) == 1


def test_a_nurse_cannot_prescribe(db, root, clinic, visit):
    make_items(db, clinic[0])
    state = _open(db, root, "perawat", visit.id)
    assert not state.can_prescribe
    with pytest.raises(PermissionDenied):
        state.search_rx_item("para")
    with pytest.raises(PermissionDenied):
        state.add_rx_line()
