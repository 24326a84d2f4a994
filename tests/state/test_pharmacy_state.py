"""Apotek -> Resep, handlers called as the browser calls them: the queue (live when a
visit is completed elsewhere), review, dispense with a changed quantity, hand over, cancel,
permissions, and the labels page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import reflex as rx
from sqlmodel import select

from klinikita.models import AuditLog, PatientAllergy, StockBatch
from klinikita.models.allergies import AllergyKind
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import Dispense, DispenseStatus
from klinikita.services.errors import PermissionDenied
from klinikita.state import live
from klinikita.state.pharmacy import LabelState, PharmacyState
from tests.factories import make_clinic, make_completed_visit, make_patient, make_user
from tests.state.conftest import logged_in, tab_at
from tests.support import pharmacy_data as ph


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    make_user(db, "apt.rina", branches=[branch], main_duty=Duty.APOTEKER)
    make_user(db, "asisten", branches=[branch], main_duty=Duty.ASISTEN_APOTEKER)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    para = ph.item(db, branch, "Paracetamol 500 mg tablet")
    amox = ph.item(db, branch, "Amoxicillin 500 mg kapsul", unit="kapsul", kfa="93000002")
    ph.batch(db, para, "P-1", 40, date.today() + timedelta(days=60))
    ph.batch(db, amox, "A-1", 30, date.today() + timedelta(days=60))
    db.add(
        PatientAllergy(
            patient_id=patient.id,
            branch_id=branch.id,
            kind=AllergyKind.SUBSTANCE,
            display="Seafood",
            reaction="gatal",
            recorded_at=utcnow(),
        )
    )
    rx_ = ph.prescription(
        db,
        visit,
        [
            (para, 10, "3 x sehari", "1 tablet", "sesudah makan"),
            (amox, 15, "3 x sehari", "1 kapsul", "dihabiskan"),
        ],
    )
    return {
        "branch": branch,
        "unit": unit,
        "room": room,
        "doctor": doctor,
        "rx": rx_,
        "items": (para, amox),
    }


def _tab(db, root: rx.State, username: str, token: str, path: str = "/apotek") -> PharmacyState:
    tab_at(root, token, path)
    return logged_in(db, root, PharmacyState, username)


def test_queue_is_live_when_a_visit_is_completed_elsewhere(db, root, clinic):
    state = _tab(db, root, "apt.rina", "tab-apt")
    state.load()
    assert [r["patient"] for r in state.queue] == ["Ardianto Putra"]
    topic = live.branch_topic(clinic["branch"].id)
    assert live.watchers(topic) == {"tab-apt": PharmacyState}
    # A doctor completes another visit with a prescription (the Dispense row appears) and
    # the examination page publishes the branch's board.
    other = make_patient(db, clinic["branch"], 1)
    visit = make_completed_visit(
        db,
        clinic["branch"],
        clinic["unit"],
        clinic["room"],
        clinic["doctor"],
        other,
        queue_number=2,
    )
    ph.prescription(db, visit, [(clinic["items"][0], 6, "2 x sehari", "1 tablet", "")])
    live.publish(topic, exclude="tab-doctor", visit_id=visit.id)
    state._on_board_change(topic, frozenset({visit.id}))
    assert len(state.queue) == 2
    assert all(r["status"] == DispenseStatus.WAITING for r in state.queue)


def test_the_review_gives_the_allergy_banner_its_rows(db, root, clinic):
    """components/allergy_banner.py reads display, reaction, severity_label and is_none; a
    recorded "tidak ada alergi" is its one row."""
    state = _tab(db, root, "apt.rina", "tab-apt")
    state.load()
    state.open_dispense(str(clinic["rx"].dispense.id))
    assert state.allergies == [
        {"display": "Seafood", "reaction": "gatal", "severity": "", "severity_label": "",
         "is_none": "False"}
    ]  # fmt: skip
    allergy = db.exec(select(PatientAllergy)).one()
    allergy.active = False
    db.add(PatientAllergy(patient_id=allergy.patient_id, branch_id=allergy.branch_id,
                          kind=AllergyKind.NONE, code="716186003", display="Tidak ada alergi",
                          recorded_at=utcnow()))  # fmt: skip
    db.commit()
    state.open_dispense(str(clinic["rx"].dispense.id))
    assert [(a["display"], a["is_none"]) for a in state.allergies] == [("Tidak ada alergi", "True")]
    assert state.no_known_allergy


def test_review_dispense_with_a_changed_quantity_then_hand_over(db, root, clinic):
    state = _tab(db, root, "apt.rina", "tab-apt")
    state.load()
    state.open_dispense(str(clinic["rx"].dispense.id))
    assert [a["display"] for a in state.allergies] == ["Seafood"]
    needs = [r for r in state.rows if r["kind"] == "need"]
    assert [r["batches"].split(" ")[0] for r in needs] == ["P-1", "A-1"]
    amox_key = needs[1]["key"]
    state.set_quantity(amox_key, "6")
    state.dispense()  # no reason yet: refused at the field, nothing written
    assert f"reason:{amox_key}" in state.errors
    db.expire_all()
    assert db.get(Dispense, clinic["rx"].dispense.id).status == DispenseStatus.WAITING
    db.rollback()  # the test's session holds no transaction while the handlers write
    state.set_reason(amox_key, "sisa obat di rumah")
    state.dispense()
    assert state.head["status"] == DispenseStatus.DISPENSED
    db.expire_all()
    quantities = sorted(db.exec(select(StockBatch.quantity)).all())
    db.rollback()
    assert quantities == [24, 30]
    given = {r["key"]: r["qty"] for r in state.rows if r["kind"] == "need"}
    assert given[amox_key] == "6"
    state.hand_over()
    assert state.head["status"] == DispenseStatus.HANDED_OVER
    assert state.queue[0]["status"] == DispenseStatus.HANDED_OVER
    # The head follows the saved row without reading the review again; the lines stay.
    db.expire_all()
    saved = db.get(Dispense, clinic["rx"].dispense.id)
    assert (state.selected_version, state.head["sync"]) == (saved.version, saved.sync_status)
    db.rollback()
    assert {r["key"]: r["qty"] for r in state.rows if r["kind"] == "need"} == given


def test_a_second_tab_with_an_old_version_is_refused(db, root, clinic):
    first = _tab(db, root, "apt.rina", "tab-1")
    first.load()
    first.open_dispense(str(clinic["rx"].dispense.id))
    second_root = rx.State()
    second = _tab(db, second_root, "asisten", "tab-2")
    second.load()
    second.open_dispense(str(clinic["rx"].dispense.id))
    first.dispense()
    with pytest.raises(Exception, match="sudah diubah"):
        second.dispense()


def test_permissions_of_the_page(db, root, clinic):
    nurse = _tab(db, root, "perawat", "tab-n")
    nurse.load()
    assert not nurse.page_allowed and nurse.queue == []
    with pytest.raises(PermissionDenied):
        nurse.open_dispense(str(clinic["rx"].dispense.id))
    assistant = _tab(db, rx.State(), "asisten", "tab-a")
    assistant.load()
    assert assistant.can_dispense and not assistant.can_cancel
    assistant.open_dispense(str(clinic["rx"].dispense.id))
    assistant.cancel_reason = "salah"
    with pytest.raises(PermissionDenied):
        assistant.confirm_cancel()


def test_cancel_needs_a_reason_and_returns_stock(db, root, clinic):
    state = _tab(db, root, "apt.rina", "tab-apt")
    state.load()
    state.open_dispense(str(clinic["rx"].dispense.id))
    state.dispense()
    state.open_cancel()
    state.confirm_cancel()
    assert state.cancel_open and state.cancel_error
    state.set_cancel_reason("dokter mengganti resep")
    state.confirm_cancel()
    assert not state.cancel_open
    assert state.head["status"] == DispenseStatus.CANCELLED
    db.expire_all()
    assert sorted(db.exec(select(StockBatch.quantity)).all()) == [30, 40]


def test_labels_page_small_and_a4(db, root, clinic):
    d = clinic["rx"].dispense.id
    tab_at(root, "tab-label", f"/apotek/etiket?resep={d}&ukuran=a4")
    labels = logged_in(db, root, LabelState, "apt.rina")
    labels.load()
    assert not labels.small and labels.problem == ""
    assert [lb["item"] for lb in labels.labels] == [
        "Paracetamol 500 mg tablet",
        "Amoxicillin 500 mg kapsul",
    ]
    assert labels.labels[0]["instructions"] == "3 x sehari 1 tablet sesudah makan"
    assert labels.labels[0]["branch"] == "Klinik Simulator"
    # The A4 sheet from the print registry: each label on it, no SALINAN before a print.
    assert labels.paper == "A4" and labels.html.count('class="etiket"') == 2
    assert not labels.is_copy and "SALINAN" not in labels.html
    labels.print_labels()
    assert not labels.is_copy
    labels.print_labels()
    assert labels.is_copy and "SALINAN" in labels.html
    actions = db.exec(
        select(AuditLog.action).where(AuditLog.entity == "dispense", AuditLog.entity_id == str(d))
    ).all()
    assert actions.count("etiket_print") == 1 and actions.count("etiket_reprint") == 1
    db.commit()
    other_root = rx.State()
    tab_at(other_root, "tab-label-2", f"/apotek/etiket?resep={d}")
    registration = make_user(db, "daftar", branches=[clinic["branch"]], main_duty=Duty.PENDAFTARAN)
    assert registration
    denied = logged_in(db, other_root, LabelState, "daftar")
    denied.load()
    assert denied.small and denied.labels == [] and denied.problem
