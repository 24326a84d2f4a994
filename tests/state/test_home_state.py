"""Beranda per duty: today's numbers of the person's work, with links; the admin's readiness
and weekly compliance; counts only; live again when another tab changes a visit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita import routes
from klinikita.models import Employee, Prescription, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.services.errors import PermissionDenied
from klinikita.services.visit_queue import local_today
from klinikita.state import live
from klinikita.state.home import HomeState
from tests.factories import make_clinic, make_user, make_visit_on, sandbox_patient
from tests.state.conftest import logged_in, tab_at


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    other_doctor = Employee(branch_id=branch.id, name="dr. Lain", main_duty=Duty.DOKTER_UMUM)
    db.add(other_doctor)
    db.commit()
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM, employee_id=doctor.id)
    for username, duty in (
        ("daftar", Duty.PENDAFTARAN),
        ("kasir", Duty.KASIR),
        ("perawat", Duty.PERAWAT),
        ("apoteker", Duty.APOTEKER),
    ):
        make_user(db, username, branches=[branch], main_duty=duty)
    today = local_today(branch)
    patients = [patient] + [sandbox_patient(branch, i) for i in range(1, 6)]
    db.add_all(patients[1:])
    db.commit()

    def visit(p, status, who=doctor, **kw):
        return make_visit_on(db, branch, unit, room, who, p, today, status=status, **kw)

    visit(patients[0], "registered")
    visit(patients[1], "registered", who=other_doctor)
    visit(patients[2], "in_examination")
    done = visit(patients[3], "complete", codes=("J06.9",))
    done.encounter_id, done.sync_status = "enc-1", SyncStatus.SENT
    db.add(Prescription(visit_id=done.id, medicine="Paracetamol 500 mg", quantity=10))
    failed = visit(patients[4], "complete", who=other_doctor)
    failed.sync_status = SyncStatus.FAILED
    db.add(failed)
    db.add(done)
    visit(patients[5], "cancelled")
    db.commit()
    return branch


def _figures(state: HomeState) -> dict[str, str]:
    return {f.key: f.value for g in state.groups for f in g.figures}


def _open(db, root, username: str) -> HomeState:
    state = logged_in(db, root, HomeState, username)
    tab_at(root, f"tab-{username}", routes.BERANDA)
    state.load()
    return state


def test_the_desk_sees_registrations_and_nothing_clinical(db, root, clinic):
    state = _open(db, root, "daftar")
    assert _figures(state) == {"desk_registered": "5", "desk_waiting": "2", "desk_cancelled": "1"}
    links = {f.key: f.link for g in state.groups for f in g.figures}
    assert links["desk_waiting"] == routes.PENDAFTARAN
    assert not state.is_admin and state.readiness == [] and state.compliance == {}


def test_a_doctor_sees_own_patients_first_and_satusehat(db, root, clinic):
    state = _open(db, root, "dokter")
    assert [g.key for g in state.groups] == ["own", "exam", "satusehat"]
    figures = _figures(state)
    assert (figures["own_waiting"], figures["own_in_exam"], figures["own_done"]) == ("1", "1", "1")
    assert (figures["exam_waiting"], figures["exam_in_exam"], figures["exam_done"]) == (
        "2",
        "1",
        "2",
    )
    assert (figures["ss_sent"], figures["ss_failed"]) == ("1", "1")
    failed = next(f for g in state.groups for f in g.figures if f.key == "ss_failed")
    assert failed.tone == "red" and failed.link == routes.LAPORAN_DASHBOARD


def test_nurse_pharmacy_and_cashier(db, root, clinic):
    nurse = _figures(_open(db, root, "perawat"))
    assert "own_waiting" not in nurse and nurse["exam_waiting"] == "2"
    assert nurse["ss_failed"] == "1"
    pharmacy = _figures(_open(db, root, "apoteker"))
    assert pharmacy == {"pharmacy_with_rx": "1"}  # no clinical duty: no SATUSEHAT figures
    cashier = _figures(_open(db, root, "kasir"))
    assert cashier["cashier_done"] == "2" and "ss_sent" not in cashier


def test_the_admin_sees_readiness_and_this_weeks_compliance(db, root, clinic):
    state = _open(db, root, "admin")
    assert state.is_admin
    assert {r["key"] for r in state.readiness} >= {"units", "rooms", "doctors"}
    assert all(r["link"] for r in state.readiness)
    assert state.compliance["completed"] == "2"
    assert state.compliance["encounters"] == "1"
    assert state.compliance["share"] == "50%"


def test_the_numbers_follow_other_tabs_live(db, root, clinic):
    state = _open(db, root, "daftar")
    assert live.watchers(live.branch_topic(clinic.id))["tab-daftar"] is HomeState
    waiting = db.exec(select(Visit).where(Visit.status == "registered")).first()
    waiting.status = "cancelled"
    db.add(waiting)
    db.commit()
    state._on_board_change(live.branch_topic(clinic.id), frozenset({waiting.id}))
    assert _figures(state)["desk_waiting"] == "1"
    assert _figures(state)["desk_cancelled"] == "2"


def test_refresh_needs_a_login(db, root, clinic):
    state = _open(db, root, "daftar")
    state.auth_token = ""
    with pytest.raises(PermissionDenied):
        state.refresh()
