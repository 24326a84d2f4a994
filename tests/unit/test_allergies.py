"""Alergi rules: the common-allergen list, drugs of the branch's drug master, "tidak ada
alergi" and how it gives way, withdrawing with a reason, who may record and read."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog
from klinikita.models.allergies import PatientAllergy
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem
from klinikita.services import allergies
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.terminology import allergens
from tests.factories import make_branch, make_clinic, make_user, make_visit
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def clinic(db):
    return make_clinic(db)


@pytest.fixture
def visit(db, clinic):
    return make_visit(db, *clinic)


def _actor(db, branch, duty: str) -> Actor:
    user = make_user(db, duty.replace("_", ""), branches=[branch], main_duty=duty)
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def nurse(db, clinic):
    return _actor(db, clinic[0], Duty.PERAWAT)


def _drug(db, branch, **changes) -> DrugItem:
    values = dict(branch_id=branch.id, name="Amoxicillin 500 mg tablet", unit="tablet",
                  kfa_code="93001019")  # fmt: skip
    item = DrugItem(**(values | changes))
    db.add(item)
    db.commit()
    return item


def test_the_allergen_list_is_coded_in_snomed_with_three_categories():
    found = allergens.allergens()
    assert len(found) >= 15
    assert {a.category for a in found} == {"medication", "food", "environment"}
    assert all(a.snomed.isdigit() and a.name_id and a.name_en for a in found)
    assert len({a.key for a in found}) == len(found)
    assert allergens.by_key("penisilin").snomed == "764146007"


def test_an_allergen_is_recorded_with_reaction_and_severity(db, visit, nurse):
    row = allergies.record_allergy(
        db, nurse, visit.id,
        {"kind": "substance", "allergen": "udang", "reaction": " gatal ", "severity": "berat"},
    )  # fmt: skip
    db.commit()
    assert (row.code, row.category, row.severity, row.reaction) == (
        "735977009", "food", "severe", "gatal")  # fmt: skip
    assert row.recorded_visit_id == visit.id and row.active
    shown = allergies.patient_allergies(db, nurse, visit.patient_id)
    assert [a["display"] for a in shown] == [row.display]
    assert shown[0]["severity_label"] == "Berat"
    assert allergies.status_of(shown) == allergies.STATUS_ALLERGIES
    audit = db.exec(select(AuditLog).where(AuditLog.action == "allergy_record")).one()
    assert audit.entity_id == str(row.id)


def test_bad_input_is_refused_at_the_field(db, visit, nurse):
    with pytest.raises(ValidationFailed) as caught:
        allergies.record_allergy(
            db, nurse, visit.id,
            {"kind": "substance", "allergen": "nope", "severity": "parah",
             "reaction": "x" * 300},
        )  # fmt: skip
    assert set(caught.value.errors) == {"allergen", "severity", "reaction"}
    with pytest.raises(ValidationFailed) as caught:
        allergies.record_allergy(db, nurse, visit.id, {"kind": "other"})
    assert "kind" in caught.value.errors


def test_a_drug_of_the_branch_master_is_coded_by_its_kfa_code(db, clinic, visit, nurse):
    item = _drug(db, clinic[0])
    row = allergies.record_allergy(db, nurse, visit.id, {"kind": "drug", "item_id": item.id})
    assert (row.code, row.item_id, row.category) == ("93001019", item.id, "medication")
    with pytest.raises(ValidationFailed) as caught:
        allergies.record_allergy(db, nurse, visit.id, {"kind": "drug", "item_id": item.id})
    assert "sudah tercatat" in caught.value.errors["item_id"]
    other = _drug(db, make_branch(db, name="Cabang Lain"))
    with pytest.raises(ValidationFailed):
        allergies.record_allergy(db, nurse, visit.id, {"kind": "drug", "item_id": other.id})


def test_none_gives_way_to_an_allergy_and_is_refused_while_allergies_are_active(db, visit, nurse):
    none = allergies.record_allergy(db, nurse, visit.id, {"kind": "none"})
    assert none.code == "716186003"
    assert allergies.record_allergy(db, nurse, visit.id, {"kind": "none"}).id == none.id
    shown = allergies.patient_allergies(db, nurse, visit.patient_id)
    assert allergies.status_of(shown) == allergies.STATUS_NONE
    allergies.record_allergy(db, nurse, visit.id, {"kind": "substance", "allergen": "telur"})
    db.commit()
    db.refresh(none)
    assert not none.active
    with pytest.raises(ValidationFailed) as caught:
        allergies.record_allergy(db, nurse, visit.id, {"kind": "none"})
    assert "Telur" in caught.value.errors["kind"]


def test_withdrawing_needs_a_reason_and_is_audited(db, visit, nurse):
    row = allergies.record_allergy(db, nurse, visit.id, {"kind": "substance", "allergen": "lateks"})
    db.commit()
    with pytest.raises(ValidationFailed):
        allergies.withdraw_allergy(db, nurse, row.id, "  ")
    allergies.withdraw_allergy(db, nurse, row.id, "Salah pasien")
    db.commit()
    assert allergies.patient_allergies(db, nurse, visit.patient_id) == []
    assert allergies.status_of([]) == allergies.STATUS_UNKNOWN
    audit = db.exec(select(AuditLog).where(AuditLog.action == "allergy_withdraw")).one()
    assert "Salah pasien" in str(audit.after)
    assert db.get(PatientAllergy, row.id).active is False


def test_permissions_and_branch(db, clinic, visit, nurse):
    cashier = _actor(db, clinic[0], Duty.KASIR)
    with pytest.raises(PermissionDenied):
        allergies.record_allergy(db, cashier, visit.id, {"kind": "none"})
    with pytest.raises(PermissionDenied):
        allergies.patient_allergies(db, cashier, visit.patient_id)
    pharmacist = _actor(db, clinic[0], Duty.APOTEKER)
    allergies.record_allergy(db, pharmacist, visit.id, {"kind": "none"})
    elsewhere = make_branch(db, name="Cabang Lain")
    stranger = Actor(nurse.user_id, nurse.username, nurse.full_name, nurse.duty, elsewhere.id)
    with pytest.raises(NotFound):
        allergies.record_allergy(db, stranger, visit.id, {"kind": "none"})
