"""What the Pemeriksaan page reads of one visit."""

from __future__ import annotations

import pytest

from klinikita.models.enums import Duty
from klinikita.services import examination as exam
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound
from klinikita.services.examination_view import visit_record
from tests.factories import make_branch, make_clinic, make_user, make_visit


def test_the_record_shows_values_as_staff_type_them(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_visit(db, branch, unit, room, doctor, patient, queue_number=7)
    user = make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    exam.save_vitals(db, actor, visit.id, {"temperature": "36,5", "weight": "70"})
    exam.add_diagnosis(db, actor, visit.id, "E11.9")
    exam.add_diagnosis(db, actor, visit.id, "I10")
    exam.add_prescription(db, actor, visit.id, {"medicine": "Metformin 500 mg", "quantity": "0,5"})
    db.commit()
    record = visit_record(db, branch.id, visit.id)
    assert record.queue_number == 7 and record.patient_name == patient.name
    assert record.status_label == "diperiksa" and record.exam_started_time
    assert record.vitals["temperature"] == "36,5" and record.vitals["weight"] == "70"
    assert record.vitals["systolic"] == ""
    assert [(d["code"], d["primary"]) for d in record.diagnoses] == [("E11.9", "1"), ("I10", "")]
    assert record.prescriptions[0]["quantity"] == "0,5"
    assert record.age.endswith("th") and record.sex_label == "Laki-laki"


def test_a_visit_of_another_branch_is_not_shown(db):
    clinic = make_clinic(db)
    visit = make_visit(db, *clinic)
    other = make_branch(db, "Cabang Lain")
    with pytest.raises(NotFound):
        visit_record(db, other.id, visit.id)
