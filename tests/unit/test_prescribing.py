"""Prescribing from the drug master: single lines and racikan, their numbering and removal,
the allergy warning and its confirmation, who may prescribe, and Selesai with a
prescription (no KFA code blocks it; completing queues the Dispense)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from klinikita import routes
from klinikita.models import AuditLog
from klinikita.models.allergies import AllergyKind
from klinikita.models.clinical import Prescription, PrescriptionIngredient, VisitStatus
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import Dispense, DispenseStatus
from klinikita.services import examination as exam
from klinikita.services import prescribing as rx
from klinikita.services import visit_completion as completion
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from tests.factories import make_branch, make_clinic, make_user, make_visit
from tests.pg import sqlite_and_postgresql
from tests.prescribing_support import (
    AMOXICILLIN_KFA,
    CTM_KFA,
    compound,
    make_allergy,
    make_item,
    make_items,
    single_line,
)

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    room.ihs_id = "LOC-1"
    db.add(room)
    db.commit()
    return branch, unit, room, doctor, patient


@pytest.fixture
def visit(db, clinic):
    return make_visit(db, *clinic)


@pytest.fixture
def items(db, clinic):
    return make_items(db, clinic[0])


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
    return _actor(db, clinic[0], Duty.DOKTER_UMUM, clinic[3])


def _audits(db, action: str) -> int:
    return db.exec(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    ).one()


# ----- single lines --------------------------------------------------------------------------
def test_a_single_line_takes_the_item_and_its_numbers(db, visit, doctor, items):
    line = rx.add_line(db, doctor, visit.id, single_line(items["paracetamol"]))
    db.commit()
    assert (line.line_no, line.item_id, line.is_compound) == (1, items["paracetamol"].id, False)
    assert line.medicine == "Paracetamol 500 mg tablet" and line.form == "Tablet"
    assert (line.quantity, line.dose_amount, line.times_per_day) == (10, 1.0, 3)
    assert (line.route, line.duration_days, line.instructions) == ("O", 3, "sesudah makan")
    assert db.get(type(visit), visit.id).status == VisitStatus.IN_EXAMINATION
    assert _audits(db, "prescription_add") == 1


def test_a_line_refuses_what_the_form_cannot_mean(db, visit, doctor, items):
    bad = single_line(
        items["paracetamol"],
        item_id="",
        quantity="2,5",
        route="XX",
        duration_days="0",
        dose="",
        frequency="",
        times_per_day="",
    )
    with pytest.raises(ValidationFailed) as refused:
        rx.add_line(db, doctor, visit.id, bad)
    assert set(refused.value.errors) == {
        "item_id",
        "quantity",
        "route",
        "duration_days",
        "dose",
        "times_per_day",
    }
    with pytest.raises(ValidationFailed) as zero:
        rx.add_line(db, doctor, visit.id, single_line(items["paracetamol"], quantity="0"))
    assert set(zero.value.errors) == {"quantity"}
    db.rollback()
    assert db.exec(select(func.count()).select_from(Prescription)).one() == 0


def test_an_item_of_another_branch_or_inactive_is_refused(db, clinic, visit, doctor):
    other = make_branch(db, "Cabang Lain")
    theirs = make_item(db, other, "Paracetamol 500 mg tablet", kfa_code="92000486")
    retired = make_item(db, clinic[0], "Obat lama", kfa_code="92000001", active=False)
    for item in (theirs, retired):
        with pytest.raises(ValidationFailed) as refused:
            rx.add_line(db, doctor, visit.id, single_line(item))
        assert set(refused.value.errors) == {"item_id"}
    db.rollback()


def test_lines_are_numbered_one_to_n_and_close_up(db, visit, doctor, items):
    first = rx.add_line(db, doctor, visit.id, single_line(items["paracetamol"]))
    second = rx.add_line(db, doctor, visit.id, single_line(items["ctm"]))
    third = rx.add_line(db, doctor, visit.id, single_line(items["vitamin"]))
    assert (first.line_no, second.line_no, third.line_no) == (1, 2, 3)
    rx.remove_line(db, doctor, visit.id, second.id)
    fourth = rx.add_line(db, doctor, visit.id, single_line(items["ctm"]))
    db.commit()
    lines = rx.lines_of(db, visit.id)
    assert [(p.id, p.line_no) for p in lines] == [(first.id, 1), (third.id, 2), (fourth.id, 3)]
    assert _audits(db, "prescription_remove") == 1


def test_frequency_number_is_read_from_the_text_when_not_given(db, visit, doctor, items):
    line = rx.add_line(
        db,
        doctor,
        visit.id,
        single_line(
            items["paracetamol"], frequency="2 x sehari", dose="½ tablet", dose_amount="0,5"
        ),  # fmt: skip
    )
    assert (line.times_per_day, line.dose_amount) == (2, 0.5)
    plain = rx.add_line(
        db, doctor, visit.id, single_line(items["ctm"], frequency="", times_per_day="1")
    )
    assert plain.frequency == "1 x sehari"
    db.rollback()


# ----- racikan -------------------------------------------------------------------------------
def test_a_racikan_keeps_its_ingredients(db, visit, doctor, items):
    line = rx.add_compound(db, doctor, visit.id, compound([items["paracetamol"], items["ctm"]]))
    db.commit()
    assert (line.is_compound, line.item_id, line.form, line.quantity) == (True, None, "puyer", 10)
    assert line.medicine == "Puyer batuk anak" and line.line_no == 1
    parts = db.exec(
        select(PrescriptionIngredient).where(PrescriptionIngredient.prescription_id == line.id)
    ).all()
    assert sorted((p.item_id, p.quantity, p.dose_text) for p in parts) == sorted(
        [(items["paracetamol"].id, 2, "1/5 tablet"), (items["ctm"].id, 2, "1/5 tablet")]
    )
    rx.remove_line(db, doctor, visit.id, line.id)
    db.commit()
    assert db.exec(select(func.count()).select_from(PrescriptionIngredient)).one() == 0


def test_a_racikan_needs_two_distinct_ingredients_and_a_form(db, visit, doctor, items):
    with pytest.raises(ValidationFailed) as one:
        rx.add_compound(db, doctor, visit.id, compound([items["paracetamol"]]))
    assert "ingredients" in one.value.errors
    twice = compound([items["paracetamol"], items["paracetamol"]], form="tablet", name="")
    with pytest.raises(ValidationFailed) as refused:
        rx.add_compound(db, doctor, visit.id, twice)
    assert {"ingredients.1.item_id", "form", "name"} <= set(refused.value.errors)
    bad_units = compound([items["paracetamol"], items["ctm"]])
    bad_units["ingredients"][1]["quantity"] = "0,5"
    with pytest.raises(ValidationFailed) as units:
        rx.add_compound(db, doctor, visit.id, bad_units)
    assert set(units.value.errors) == {"ingredients.1.quantity"}
    db.rollback()


# ----- allergies -----------------------------------------------------------------------------
def test_a_substance_allergy_warns_then_the_confirmation_is_audited(
    db, clinic, visit, doctor, items
):
    make_allergy(db, clinic[4], clinic[0], display="Penisilin")
    with pytest.raises(rx.AllergyWarning) as warned:
        rx.add_line(db, doctor, visit.id, single_line(items["amoxicillin"], dose="1 kapsul"))
    assert "Amoksisilin" in str(warned.value) and "Penisilin" in str(warned.value)
    assert db.exec(select(func.count()).select_from(Prescription)).one() == 0
    line = rx.add_line(
        db, doctor, visit.id, single_line(items["amoxicillin"], dose="1 kapsul"), confirm=True
    )
    db.commit()
    assert line.id is not None
    assert _audits(db, "prescription_allergy_confirm") == 1
    # Paracetamol is no penicillin: no warning.
    rx.add_line(db, doctor, visit.id, single_line(items["paracetamol"]))
    db.commit()
    assert _audits(db, "prescription_allergy_confirm") == 1


def test_a_drug_allergy_matches_the_item_or_its_kfa_code(db, clinic, visit, doctor, items):
    patient, branch = clinic[4], clinic[0]
    allergy = make_allergy(
        db, patient, branch, kind=AllergyKind.DRUG, display="Amoxicillin", code=AMOXICILLIN_KFA
    )
    other_product = make_item(
        db, branch, "Kalmoxillin 500 mg", kfa_code=AMOXICILLIN_KFA, kfa_display="x"
    )
    for item in (items["amoxicillin"], other_product):
        with pytest.raises(rx.AllergyWarning):
            rx.add_line(db, doctor, visit.id, single_line(item))
    # In a racikan too.
    with pytest.raises(rx.AllergyWarning):
        rx.add_compound(db, doctor, visit.id, compound([items["ctm"], other_product]))
    allergy.active = False  # withdrawn
    db.add(allergy)
    db.commit()
    rx.add_line(db, doctor, visit.id, single_line(items["amoxicillin"]))
    db.commit()


def test_allergy_matching_rules():
    item = make_allergy.__globals__["DrugItem"](
        id=1, branch_id=1, name="Asam mefenamat 500 mg", unit="tablet", kfa_code="92000001"
    )
    allergies = make_allergy.__globals__["PatientAllergy"]
    nsaid = allergies(
        id=7, patient_id=1, branch_id=1, kind="substance", display="NSAID", recorded_at=None
    )
    none = allergies(
        id=8, patient_id=1, branch_id=1, kind="none", display="Tidak ada", recorded_at=None
    )
    assert [m.allergy_id for m in rx.allergy_matches([nsaid, none], [item])] == [7]


# ----- who and when --------------------------------------------------------------------------
def test_only_the_medical_duty_prescribes(db, clinic, visit, items):
    nurse = _actor(db, clinic[0], Duty.PERAWAT)
    with pytest.raises(PermissionDenied):
        rx.add_line(db, nurse, visit.id, single_line(items["paracetamol"]))
    with pytest.raises(PermissionDenied):
        rx.search_items(db, nurse, "para")
    db.rollback()


def test_a_visit_of_another_branch_is_not_found(db, clinic, visit, items):
    other = make_branch(db, "Cabang Lain")
    stranger = _actor(db, other, Duty.DOKTER_UMUM)
    with pytest.raises(NotFound):
        rx.add_line(db, stranger, visit.id, single_line(items["paracetamol"]))
    db.rollback()


def test_a_complete_visit_prescription_is_closed(db, clinic, visit, doctor, items):
    line = rx.add_line(db, doctor, visit.id, single_line(items["paracetamol"]))
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    db.commit()
    completion.complete_visit(db, doctor, visit.id)
    db.commit()
    admin = _actor(db, clinic[0], Duty.ADMIN)
    for actor in (doctor, admin):
        with pytest.raises(ServiceError):
            rx.remove_line(db, actor, visit.id, line.id)
        with pytest.raises(ServiceError):
            rx.add_line(db, actor, visit.id, single_line(items["ctm"]))
        db.rollback()


def test_search_offers_active_items_of_the_branch(db, clinic, doctor, items):
    found = rx.search_items(db, doctor, "tablet")
    names = [f["name"] for f in found]
    assert names == sorted(names) and "Amoksisilin 500 mg kapsul" not in names
    assert {f["name"]: f["no_kfa"] for f in found}["Vitamin B kompleks tablet"] == "1"
    # The drug master's own search (drug_master.search_items): a KFA code's prefix finds it.
    assert [f["name"] for f in rx.search_items(db, doctor, CTM_KFA[:6])] == ["CTM 4 mg tablet"]
    assert rx.search_items(db, doctor, "p") == []
    assert rx.search_items(db, doctor, "100%_") == []


# ----- Selesai -------------------------------------------------------------------------------
def test_an_item_without_kfa_code_blocks_selesai_naming_it(db, visit, doctor, items):
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    rx.add_line(db, doctor, visit.id, single_line(items["vitamin"]))
    rx.add_compound(db, doctor, visit.id, compound([items["paracetamol"], items["vitamin"]]))
    db.commit()
    blockers = completion.completion_blockers(db, visit.id)
    prescription = [b for b in blockers if b.key == "prescription"]
    assert len(prescription) == 2 and all(b.link == routes.APOTEK_OBAT for b in prescription)
    assert "Vitamin B kompleks tablet" in prescription[0].message
    assert "bahan racikan Puyer batuk anak" in prescription[1].message
    with pytest.raises(completion.VisitNotReady):
        completion.complete_visit(db, doctor, visit.id)
    db.rollback()
    assert db.exec(select(func.count()).select_from(Dispense)).one() == 0


def test_completing_a_visit_with_lines_queues_its_dispense(db, visit, doctor, items):
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    rx.add_line(db, doctor, visit.id, single_line(items["paracetamol"]))
    db.commit()
    done = completion.complete_visit(db, doctor, visit.id)
    db.commit()
    dispense = db.exec(select(Dispense).where(Dispense.visit_id == visit.id)).one()
    assert dispense.status == DispenseStatus.WAITING and dispense.branch_id == visit.branch_id
    assert dispense.queued_at.replace(tzinfo=None) == done.completed_at.replace(tzinfo=None)
    assert _audits(db, "dispense_queue") == 1


def test_a_visit_without_prescription_gets_no_dispense(db, visit, doctor):
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    db.commit()
    completion.complete_visit(db, doctor, visit.id)
    db.commit()
    assert db.exec(select(func.count()).select_from(Dispense)).one() == 0
